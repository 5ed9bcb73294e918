"""Rule 1: who may see an account's content (its videos, and which videos it liked)."""

from __future__ import annotations

from tests.world import BOB_CLIP, FIRST_STEPS, POPULAR, World


async def test_private_videos_are_for_the_owner_and_approved_followers(world: World) -> None:
    assert await world.video_captions("bob", as_="bob") == [BOB_CLIP]
    assert await world.video_captions("bob", as_="alice") == [BOB_CLIP]  # approved follower
    for outsider in ("anon", "erin", "carol", "dora"):
        assert await world.video_captions("bob", as_=outsider) == [], outsider


async def test_a_pending_request_grants_nothing_until_approved(world: World) -> None:
    assert await world.video(BOB_CLIP, as_="carol") is None
    assert await world.video_captions("bob", as_="carol") == []
    assert await world.must("approveFollower", "carol", as_="bob") == "APPROVED"
    assert await world.video_captions("bob", as_="carol") == [BOB_CLIP]
    assert await world.liked_captions("bob", as_="carol") == [POPULAR]


async def test_public_content_is_for_everyone_including_anonymous(world: World) -> None:
    for viewer in ("anon", "erin", "carol", "bob", "dora"):
        assert await world.video_captions("alice", as_=viewer) == [POPULAR, FIRST_STEPS], viewer
        assert await world.liked_captions("erin", as_=viewer) == [POPULAR], viewer


async def test_the_anonymous_viewer_sees_public_content_only(world: World) -> None:
    assert await world.video(POPULAR, as_="anon") is not None
    assert await world.video(BOB_CLIP, as_="anon") is None
    assert await world.video(BOB_CLIP, as_="alice") is not None  # a follower of bob may


async def test_a_blocked_pair_hides_public_content_from_the_blocked(world: World) -> None:
    # alice blocked mallory: mallory may not see alice's public videos; erin may.
    assert await world.video(POPULAR, as_="mallory") is None
    assert await world.video(FIRST_STEPS, as_="mallory") is None
    assert await world.video(POPULAR, as_="erin") is not None


async def test_a_blocked_pair_hides_content_from_the_blocker_too(world: World) -> None:
    # Block in the other direction: mallory blocks erin, so neither sees the other's content.
    clip = "mallory: clip"
    await world.create_video(clip, as_="mallory")
    assert await world.video(clip, as_="erin") is not None
    assert await world.liked_captions("erin", as_="mallory") == []  # POPULAR is hidden anyway
    assert await world.must("block", "erin", as_="mallory") is True
    assert await world.video(clip, as_="erin") is None
    assert await world.video(clip, as_="bob") is not None
    assert await world.account("mallory", as_="erin") is None
    assert await world.account("erin", as_="mallory") is None


async def test_a_block_hides_content_even_between_mutual_followers(world: World) -> None:
    # bob follows alice and alice follows bob; once bob blocks alice neither sees the other.
    assert await world.video(BOB_CLIP, as_="alice") is not None
    assert await world.must("block", "alice", as_="bob") is True
    assert await world.video(BOB_CLIP, as_="alice") is None
    assert await world.video(POPULAR, as_="bob") is None
    # and a new follow request across the pair is refused as if alice did not exist
    result = await world.follow_mutation("follow", "bob", as_="alice")
    assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"]
