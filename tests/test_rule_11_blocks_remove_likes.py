"""Rule 11: a block removes, in its own transaction, each side's likes of the other's videos
(their likeCounts drop, exactly), as well as the pair's follow edges; an unblock restores
none of it. Likes of third parties' videos stay.

In the persona world erin (public) liked alice's POPULAR (likeCount 4), and alice liked
bob's BOB_CLIP (likeCount 2, alice follows bob).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import error_codes
from tests.test_check import likegraph_check
from tests.world import BOB_CLIP, FIRST_STEPS, POPULAR, World

COUNT = "query($id: ID!) { video(id: $id) { likeCount } }"


async def like_count(world: World, caption: str, *, as_: str = "anon") -> int:
    data = await world.ok(COUNT, {"id": world.video_ids[caption]}, as_=as_)
    assert data["video"] is not None, (caption, as_)
    count: int = data["video"]["likeCount"]
    return count


async def test_blocking_a_liker_removes_her_like_and_lowers_the_count(world: World) -> None:
    assert await like_count(world, POPULAR) == 4
    assert await world.must("block", "erin", as_="alice") is True
    assert await like_count(world, POPULAR) == 3  # the same for every viewer (rule 3)
    assert await like_count(world, POPULAR, as_="bob") == 3
    assert await world.likers(POPULAR, as_="bob") == ["bob"]
    assert await world.liked_captions("erin", as_="erin") == []


async def test_a_block_removes_the_blockers_likes_of_the_blocked_sides_videos(
    world: World,
) -> None:
    # Either side may block: bob blocks alice, and alice's like of his clip goes too.
    assert await like_count(world, BOB_CLIP, as_="bob") == 2
    assert await world.must("block", "alice", as_="bob") is True
    assert await like_count(world, BOB_CLIP, as_="bob") == 1
    assert (
        await world.likers(BOB_CLIP, as_="bob") == []
    )  # dora's like: bob does not follow her (rule 4)
    assert await world.liked_captions("alice", as_="alice") == []


async def test_the_blocked_side_is_not_stuck_with_a_like_it_cannot_remove(world: World) -> None:
    # The case: after una blocks vic, vic's like no longer counts, and vic's
    # unlike is the NOT_FOUND of a video that does not exist for her, with nothing left.
    assert await world.must("block", "erin", as_="alice") is True
    unliked = await world.like(POPULAR, as_="erin", unlike=True)
    assert error_codes(unliked) == ["NOT_FOUND"]
    assert await like_count(world, POPULAR) == 3


async def test_an_unblock_restores_no_like(world: World) -> None:
    assert await world.must("block", "erin", as_="alice") is True
    assert await world.must("unblock", "erin", as_="alice") is True
    assert await like_count(world, POPULAR) == 3
    video = await world.video(POPULAR, as_="erin")
    assert video is not None and video["viewerHasLiked"] is False
    # She may like it again: a new like, counted once.
    liked = await world.like(POPULAR, as_="erin")
    assert liked["data"]["likeVideo"] == {"likeCount": 4, "viewerHasLiked": True}


async def test_likes_of_third_parties_videos_stay(world: World) -> None:
    # carol blocks erin: erin's like of alice's POPULAR is neither side's video: it stays.
    assert await world.must("block", "erin", as_="carol") is True
    assert await like_count(world, POPULAR) == 4
    assert await world.liked_captions("erin", as_="anon") == [POPULAR]


async def test_a_repeated_block_removes_likes_made_since_none_twice(world: World) -> None:
    # alice blocks erin twice; in between nothing could be liked across the block.
    assert await world.must("block", "erin", as_="alice") is True
    assert await world.must("block", "erin", as_="alice") is False
    assert await like_count(world, POPULAR) == 3
    assert await like_count(world, FIRST_STEPS) == 0


async def test_check_finds_no_like_across_a_block_after_the_mutations(
    world: World, database_url: str, tmp_path: Path
) -> None:
    assert await world.must("block", "erin", as_="alice") is True
    assert await world.must("block", "alice", as_="bob") is True
    code, output = likegraph_check(database_url, tmp_path)
    assert code == 0, output
    assert "like_across_block: ok" in output
    assert "like_count: ok" in output
