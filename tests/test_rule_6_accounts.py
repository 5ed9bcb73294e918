"""Rule 6: profiles for everyone but the other side of a blocked pair; mutations across one."""

from __future__ import annotations

import pytest

from tests.world import MISSING_VIDEO, POPULAR, World

PROFILE = """
query($h: String!) {
  account(handle: $h) { handle displayName isPrivate followerCount followingCount }
}
"""
FOLLOW_MUTATIONS = ("follow", "unfollow", "approveFollower", "removeFollower")


def codes(result: dict[str, object]) -> list[str]:
    errors = result.get("errors") or []
    assert isinstance(errors, list)
    return [e["extensions"]["code"] for e in errors]


async def test_any_profile_is_visible_to_anyone_outside_a_blocked_pair(world: World) -> None:
    # A private account's profile fields are public; only its content is not.
    for viewer in ("anon", "erin", "carol", "alice", "bob"):
        data = await world.ok(PROFILE, {"h": "bob"}, as_=viewer)
        assert data["account"] == {
            "handle": "bob",
            "displayName": "bob",
            "isPrivate": True,
            "followerCount": 1,
            "followingCount": 1,
        }, viewer


@pytest.mark.parametrize(("viewer", "other"), [("alice", "mallory"), ("mallory", "alice")])
async def test_a_blocked_pair_gets_null_for_each_others_profile_both_ways(
    world: World, viewer: str, other: str
) -> None:
    # alice blocked mallory: each side gets what a missing handle gives; others see both.
    hidden = await world.gql.raw(PROFILE, {"h": other}, as_=viewer)
    missing = await world.gql.raw(PROFILE, {"h": "nobody_here"}, as_=viewer)
    assert hidden.content == missing.content
    assert hidden.json() == {"data": {"account": None}}
    for third in ("erin", "anon"):
        seen = await world.ok(PROFILE, {"h": other}, as_=third)
        assert seen["account"]["handle"] == other, third


@pytest.mark.parametrize("variant", ["ALICE", "Alice", "aLiCe"])
async def test_handles_are_looked_up_without_regard_to_case(world: World, variant: str) -> None:
    data = await world.ok(
        "query($h: String!) { account(handle: $h) { id handle } }", {"h": variant}, as_="erin"
    )
    assert data["account"] == {"id": world.account_ids["alice"], "handle": "alice"}
    assert await world.must("follow", variant, as_="erin") == "APPROVED"
    assert (await _follow_status(world, "alice", as_="erin")) == "APPROVED"
    assert await world.must("unfollow", variant, as_="erin") == "NONE"
    assert (await _follow_status(world, "alice", as_="erin")) == "NONE"
    # across the blocked pair alice is missing for mallory, however it is spelled
    assert (await world.ok(PROFILE, {"h": variant}, as_="mallory"))["account"] is None
    assert codes(await world.follow_mutation("follow", variant, as_="mallory")) == ["NOT_FOUND"]


async def _follow_status(world: World, handle: str, *, as_: str) -> str:
    data = await world.ok(
        "query($h: String!) { account(handle: $h) { viewerFollowStatus } }", {"h": handle}, as_=as_
    )
    status: str = data["account"]["viewerFollowStatus"]
    return status


async def test_lists_the_viewer_may_not_see_are_empty_not_errors(world: World) -> None:
    for viewer in ("carol", "anon"):
        account = await world.account("bob", as_=viewer)
        assert account is not None
        assert account["videos"] == {"edges": [], "pageInfo": {"hasNextPage": False}}
        assert account["likes"] == {"edges": [], "pageInfo": {"hasNextPage": False}}
    account = await world.account("bob", as_="alice")
    assert account is not None
    assert account["videos"]["edges"] != []


@pytest.mark.parametrize("name", FOLLOW_MUTATIONS)
@pytest.mark.parametrize(("actor", "other"), [("alice", "mallory"), ("mallory", "alice")])
async def test_follow_mutations_across_a_blocked_pair_are_not_found_like_a_missing_handle(
    world: World, name: str, actor: str, other: str
) -> None:
    across = await world.follow_mutation(name, other, as_=actor)
    missing = await world.follow_mutation(name, "nobody_here", as_=actor)
    assert codes(across) == codes(missing) == ["NOT_FOUND"]
    assert across == missing  # same message, path and location: nothing to tell them apart
    # the same mutation on an account outside the pair works
    assert "errors" not in await world.follow_mutation(name, "erin", as_=actor)


@pytest.mark.parametrize("unlike", [False, True])
async def test_liking_across_a_blocked_pair_is_not_found_like_a_missing_video(
    world: World, unlike: bool
) -> None:
    # mallory liked POPULAR before the block, so even unliking it is now NOT_FOUND.
    name = "unlikeVideo" if unlike else "likeVideo"
    document = f"mutation($id: ID!) {{ {name}(videoId: $id) {{ likeCount }} }}"
    across = await world.gql.raw(document, {"id": world.video_ids[POPULAR]}, as_="mallory")
    missing = await world.gql.raw(document, {"id": MISSING_VIDEO}, as_="mallory")
    assert across.content == missing.content
    assert codes(across.json()) == ["NOT_FOUND"]
    allowed = await world(document, {"id": world.video_ids[POPULAR]}, as_="erin")
    assert "errors" not in allowed


async def test_the_blocker_cannot_like_the_blocked_sides_videos_either(world: World) -> None:
    await world.create_video("mallory: clip", as_="mallory")
    result = await world.like("mallory: clip", as_="alice")
    assert codes(result) == ["NOT_FOUND"]
    assert "errors" not in await world.like("mallory: clip", as_="erin")


async def test_block_and_unblock_work_on_any_existing_handle_across_a_blocked_pair(
    world: World,
) -> None:
    # alice already blocked mallory: a repeat makes nothing new.
    assert await world.must("block", "mallory", as_="alice") is False
    # mallory, on the blocked side, may block alice too (a second block of the pair).
    assert await world.must("block", "alice", as_="mallory") is True
    assert await world.must("block", "alice", as_="mallory") is False
    # unblocking removes only the viewer's own block: the pair stays blocked by the other.
    assert await world.must("unblock", "mallory", as_="alice") is True
    assert await world.must("unblock", "mallory", as_="alice") is False
    assert (await world.ok(PROFILE, {"h": "mallory"}, as_="alice"))["account"] is None
    assert await world.must("unblock", "alice", as_="mallory") is True
    assert (await world.ok(PROFILE, {"h": "mallory"}, as_="alice"))["account"] is not None
    # block a handle never met, and unblock one never blocked
    assert await world.must("unblock", "erin", as_="carol") is False
    assert await world.must("block", "erin", as_="carol") is True


@pytest.mark.parametrize("name", ["block", "unblock"])
async def test_block_and_unblock_of_a_missing_handle_are_not_found(world: World, name: str) -> None:
    assert codes(await world.follow_mutation(name, "nobody_here", as_="alice")) == ["NOT_FOUND"]


@pytest.mark.parametrize("name", [*FOLLOW_MUTATIONS, "block", "unblock"])
@pytest.mark.parametrize("spelling", ["alice", "ALICE"])
async def test_a_follow_or_block_mutation_naming_the_viewer_is_bad_user_input(
    world: World, name: str, spelling: str
) -> None:
    assert codes(await world.follow_mutation(name, spelling, as_="alice")) == ["BAD_USER_INPUT"]


async def test_approve_follower_without_a_pending_request_returns_the_current_status(
    world: World,
) -> None:
    # bob already follows alice; erin has no edge to alice; carol's request to bob is pending.
    assert await world.must("approveFollower", "bob", as_="alice") == "APPROVED"
    assert await world.must("approveFollower", "erin", as_="alice") == "NONE"
    assert await world.must("approveFollower", "carol", as_="bob") == "APPROVED"
    assert await world.must("approveFollower", "carol", as_="bob") == "APPROVED"
    # it changed nothing for erin: she still does not follow alice
    data = await world.ok('{ account(handle: "alice") { viewerFollowStatus } }', as_="erin")
    assert data["account"]["viewerFollowStatus"] == "NONE"


async def test_a_like_after_a_block_in_the_same_request_is_not_found_and_writes_nothing(
    world: World,
) -> None:
    # The first mutation loads POPULAR as visible; the block hides it; the like that follows
    # in the same document must be judged afresh, not from what the request saw before.
    document = """
    mutation($id: ID!) {
      a: unlikeVideo(videoId: $id) { likeCount }
      b: block(handle: "alice")
      c: likeVideo(videoId: $id) { likeCount }
    }
    """
    result = await world(document, {"id": world.video_ids[POPULAR]}, as_="erin")
    assert codes(result) == ["NOT_FOUND"]
    assert [e["path"] for e in result["errors"]] == [["c"]]
    assert await world.liked_captions("erin", as_="bob") == []  # the unlike stood, no new like
    video = await world.video(POPULAR, as_="bob")
    assert video is not None
    assert video["likeCount"] == 3
    # the other way round: an unlike after the block is NOT_FOUND, and the block itself
    # took bob's like of alice's video away (rule 11)
    result = await world(
        "mutation($id: ID!) { a: likeVideo(videoId: $id) { likeCount }"
        ' b: block(handle: "alice") c: unlikeVideo(videoId: $id) { likeCount } }',
        {"id": world.video_ids[POPULAR]},
        as_="bob",
    )
    assert codes(result) == ["NOT_FOUND"]
    assert [e["path"] for e in result["errors"]] == [["c"]]
    video = await world.video(POPULAR, as_="dora")
    assert video is not None
    assert video["likeCount"] == 2
    assert await world.liked_captions("bob", as_="bob") == []


async def test_a_follow_mutation_after_a_block_in_the_same_request_is_not_found(
    world: World,
) -> None:
    document = """
    mutation {
      a: approveFollower(handle: "carol")
      b: block(handle: "carol")
      c: approveFollower(handle: "carol")
    }
    """
    result = await world(document, as_="bob")
    assert codes(result) == ["NOT_FOUND"]
    assert [e["path"] for e in result["errors"]] == [["c"]]
    assert (await world.ok(PROFILE, {"h": "carol"}, as_="bob"))["account"] is None
