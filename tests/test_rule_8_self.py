"""Rule 8: the viewer always sees the viewer's own content and own likes of visible videos."""

from __future__ import annotations

from tests.world import BOB_CLIP, POPULAR, World


async def test_a_private_liker_sees_her_own_like_in_likers_and_in_her_likes(
    world: World,
) -> None:
    # dora is private and nobody follows her: she alone sees her like of POPULAR.
    assert await world.likers(POPULAR, as_="dora") == ["erin", "dora"]
    assert await world.liked_captions("dora", as_="dora") == [POPULAR]
    others = {
        "alice": ["erin", "bob"],
        "bob": ["erin", "bob"],
        "erin": ["erin"],
        "anon": ["erin"],
    }
    for viewer, likers in others.items():
        assert await world.likers(POPULAR, as_=viewer) == likers, viewer
        assert await world.liked_captions("dora", as_=viewer) == [], viewer


async def test_a_private_account_sees_its_own_videos(world: World) -> None:
    assert await world.video_captions("bob", as_="bob") == [BOB_CLIP]
    await world.create_video("carol: diary", as_="carol")
    assert await world.video_captions("carol", as_="carol") == ["carol: diary"]
    assert await world.video_captions("carol", as_="bob") == []  # carol has no followers


async def test_the_viewer_sees_her_own_like_of_her_own_private_video(world: World) -> None:
    assert "errors" not in await world.like(BOB_CLIP, as_="bob")
    assert await world.likers(BOB_CLIP, as_="bob") == ["bob", "alice"]
    # alice follows bob, so she sees bob's like too; dora cannot see the video at all
    assert await world.likers(BOB_CLIP, as_="alice") == ["bob", "alice"]
    assert await world.likers(BOB_CLIP, as_="dora") is None


async def test_a_like_of_a_video_she_can_no_longer_see_counts_but_is_listed_nowhere_for_her(
    world: World,
) -> None:
    # dora liked BOB_CLIP while she followed bob; bob then removed her as a follower.
    assert await world.video(BOB_CLIP, as_="dora") is None
    assert await world.liked_captions("dora", as_="dora") == [POPULAR]
    bob_view = await world.video(BOB_CLIP, as_="bob")
    assert bob_view is not None
    assert bob_view["likeCount"] == 2  # alice's like and dora's
    assert await world.likers(BOB_CLIP, as_="bob") == ["alice"]  # bob does not follow dora
    # she cannot even take the like back: the video is NOT_FOUND to her (rule 2)
    result = await world.like(BOB_CLIP, as_="dora", unlike=True)
    assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"]
    bob_view = await world.video(BOB_CLIP, as_="bob")
    assert bob_view is not None
    assert bob_view["likeCount"] == 2


async def test_the_like_is_listed_again_once_she_may_see_the_video_again(world: World) -> None:
    assert await world.must("follow", "bob", as_="dora") == "PENDING"
    assert await world.liked_captions("dora", as_="dora") == [POPULAR]  # pending: nothing
    assert await world.must("approveFollower", "dora", as_="bob") == "APPROVED"
    assert await world.liked_captions("dora", as_="dora") == [BOB_CLIP, POPULAR]
    video = await world.video(BOB_CLIP, as_="dora")
    assert video is not None
    assert video["viewerHasLiked"] is True
    assert [e["node"]["handle"] for e in video["likers"]["edges"]] == ["dora", "alice"]


async def test_the_viewer_field_is_the_viewers_own_account_and_null_for_anonymous(
    world: World,
) -> None:
    for handle in ("bob", "mallory"):
        data = await world.ok("{ viewer { handle isPrivate } }", as_=handle)
        assert data["viewer"]["handle"] == handle
    assert await world.ok("{ viewer { handle } }", as_="anon") == {"viewer": None}


async def test_a_blocked_viewer_still_sees_her_own_profile_and_content(world: World) -> None:
    await world.create_video("mallory: clip", as_="mallory")
    assert await world.video_captions("mallory", as_="mallory") == ["mallory: clip"]
    assert await world.video_captions("mallory", as_="erin") == ["mallory: clip"]
    assert await world.account("mallory", as_="alice") is None
