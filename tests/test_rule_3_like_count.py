"""Rule 3: likeCount counts every like, private and blocked ones too, the same for everyone."""

from __future__ import annotations

from tests.world import BOB_CLIP, POPULAR, World

# Everyone who may see POPULAR; mallory (blocked by its author) may not.
POPULAR_VIEWERS = ("anon", "alice", "bob", "carol", "dora", "erin")
COUNTS = """
query($h: String!) {
  account(handle: $h) {
    videos { edges { node { caption likeCount } } }
    likes { edges { node { video { caption likeCount } } } }
  }
}
"""


async def test_like_count_is_the_same_for_every_viewer_and_counts_hidden_likes(
    world: World,
) -> None:
    # POPULAR has 4 likes: erin (public), bob and dora and carol (private); mallory's went
    # with alice's block (rule 11).
    counts = {}
    for viewer in POPULAR_VIEWERS:
        video = await world.video(POPULAR, as_=viewer)
        assert video is not None, viewer
        counts[viewer] = video["likeCount"]
    assert counts == dict.fromkeys(POPULAR_VIEWERS, 4)
    # anonymous sees only 1 liker of the 4, alice 2: the count is not the list.
    assert await world.likers(POPULAR, as_="anon") == ["erin"]
    assert await world.video(POPULAR, as_="mallory") is None


async def test_like_count_is_the_same_in_every_place_a_video_appears(world: World) -> None:
    for viewer in ("anon", "bob"):
        data = await world.ok(COUNTS, {"h": "alice"}, as_=viewer)
        videos = {
            e["node"]["caption"]: e["node"]["likeCount"] for e in data["account"]["videos"]["edges"]
        }
        assert videos[POPULAR] == 4
        data = await world.ok(COUNTS, {"h": "erin"}, as_=viewer)
        liked = [e["node"]["video"] for e in data["account"]["likes"]["edges"]]
        assert liked == [{"caption": POPULAR, "likeCount": 4}]


async def test_a_private_video_counts_a_like_its_viewers_cannot_list(world: World) -> None:
    # BOB_CLIP: liked by alice and by dora, whom bob later removed as a follower.
    for viewer in ("bob", "alice"):
        video = await world.video(BOB_CLIP, as_=viewer)
        assert video is not None
        assert video["likeCount"] == 2
        assert await world.likers(BOB_CLIP, as_=viewer) == ["alice"]
    assert await world.video(BOB_CLIP, as_="erin") is None


async def test_a_block_between_a_viewer_and_a_liker_keeps_the_like_counted(
    world: World,
) -> None:
    # bob blocks erin: erin's like of alice's POPULAR stays counted (rule 11 removes only
    # likes of the pair's own videos), though bob can no longer list erin.
    assert await world.must("block", "erin", as_="bob") is True
    video = await world.video(POPULAR, as_="bob")
    assert video is not None
    assert video["likeCount"] == 4
    assert await world.likers(POPULAR, as_="bob") == ["bob"]
    assert await world.likers(POPULAR, as_="anon") == ["erin"]


async def test_liking_twice_keeps_one_like_and_the_first_liked_at(world: World) -> None:
    likers_with_time = """
    query($id: ID!) { video(id: $id) { likeCount likers { edges { node { handle } likedAt } } } }
    """
    before = await world.ok(likers_with_time, {"id": world.video_ids[POPULAR]}, as_="erin")
    again = await world.like(POPULAR, as_="erin")
    assert again["data"]["likeVideo"] == {"likeCount": 4, "viewerHasLiked": True}
    after = await world.ok(likers_with_time, {"id": world.video_ids[POPULAR]}, as_="erin")
    assert after == before


async def test_like_and_unlike_move_the_count_by_one_and_are_idempotent(world: World) -> None:
    first = await world.like(POPULAR, as_="alice")
    assert first["data"]["likeVideo"] == {"likeCount": 5, "viewerHasLiked": True}
    undone = await world.like(POPULAR, as_="alice", unlike=True)
    assert undone["data"]["unlikeVideo"] == {"likeCount": 4, "viewerHasLiked": False}
    again = await world.like(POPULAR, as_="alice", unlike=True)
    assert again["data"]["unlikeVideo"] == {"likeCount": 4, "viewerHasLiked": False}
    # a private liker's unlike lowers the count for everyone, though few could list her
    gone = await world.like(POPULAR, as_="dora", unlike=True)
    assert gone["data"]["unlikeVideo"] == {"likeCount": 3, "viewerHasLiked": False}
    for viewer in ("anon", "erin"):
        video = await world.video(POPULAR, as_=viewer)
        assert video is not None
        assert video["likeCount"] == 3


async def test_viewer_has_liked_is_true_only_for_the_viewers_own_like(world: World) -> None:
    liked = {}
    for viewer in ("anon", "alice", "bob", "carol", "dora", "erin"):
        video = await world.video(POPULAR, as_=viewer)
        assert video is not None
        liked[viewer] = video["viewerHasLiked"]
    assert liked == {
        "anon": False,
        "alice": False,
        "bob": True,
        "carol": True,
        "dora": True,
        "erin": True,
    }
