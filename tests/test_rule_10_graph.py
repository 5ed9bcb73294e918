"""Rule 10: the social graph's lists, and the fields a profile page needs.

`followers` and `following` are the owner's content (rule 1); each entry is a profile
(rule 6); only APPROVED edges count. `followRequests`, `sentFollowRequests` and
`blockedAccounts` are the account's own: null, with no error, for anyone else. In the
persona world (tests/world.py), newest edge first:
    alice   followers dora, bob; following bob; blocked mallory
    bob     followers alice; following alice; a PENDING request from carol
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import error_codes
from tests.world import BOB_CLIP, POPULAR, World

LISTS = """
query($h: String!, $first: Int, $after: String) {
  account(handle: $h) {
    followers(first: $first, after: $after) { ...Page }
    following(first: $first, after: $after) { ...Page }
    followRequests(first: $first, after: $after) { ...Page }
    sentFollowRequests(first: $first, after: $after) { ...Page }
    blockedAccounts(first: $first, after: $after) { ...Page }
  }
}
fragment Page on AccountConnection {
  edges { cursor node { handle } }
  pageInfo { hasNextPage endCursor }
}
"""
OWN_LISTS = ("followRequests", "sentFollowRequests", "blockedAccounts")


async def lists_of(world: World, handle: str, *, as_: str) -> dict[str, list[str] | None]:
    """Each of `handle`'s graph lists as `as_` sees it: the handles, or None for a null."""
    result = await world(LISTS, {"h": handle, "first": 100}, as_=as_)
    assert "errors" not in result, result
    account = result["data"]["account"]
    assert account is not None, f"{as_} cannot see {handle}'s profile"
    return {
        name: None if page is None else [e["node"]["handle"] for e in page["edges"]]
        for name, page in account.items()
    }


async def page(
    world: World, handle: str, field: str, first: int, after: str | None, *, as_: str
) -> dict[str, Any]:
    query = (
        "query($h: String!, $first: Int, $after: String) { account(handle: $h) {"
        f" {field}(first: $first, after: $after)"
        " { edges { cursor node { handle } } pageInfo { hasNextPage endCursor } } } }"
    )
    result = await world(query, {"h": handle, "first": first, "after": after}, as_=as_)
    return result


async def test_followers_and_following_of_a_public_account_are_for_everyone(
    world: World,
) -> None:
    for viewer in ("anon", "alice", "bob", "carol", "erin"):
        lists = await lists_of(world, "alice", as_=viewer)
        assert lists["followers"] == ["dora", "bob"], viewer  # newest edge first
        assert lists["following"] == ["bob"], viewer


async def test_a_private_accounts_graph_is_for_itself_and_its_approved_followers(
    world: World,
) -> None:
    for viewer in ("bob", "alice"):  # bob himself; alice follows him
        lists = await lists_of(world, "bob", as_=viewer)
        assert (lists["followers"], lists["following"]) == (["alice"], ["alice"]), viewer
    # carol's request is PENDING (grants nothing); dora was removed; erin, anon are strangers.
    for viewer in ("carol", "dora", "erin", "anon"):
        lists = await lists_of(world, "bob", as_=viewer)
        assert (lists["followers"], lists["following"]) == ([], []), viewer


async def test_only_approved_edges_are_listed_and_a_pending_request_is_its_own_list(
    world: World,
) -> None:
    bob = await lists_of(world, "bob", as_="bob")
    assert bob["followers"] == ["alice"]
    assert bob["followRequests"] == ["carol"]
    carol = await lists_of(world, "carol", as_="carol")
    assert carol["following"] == []
    assert carol["sentFollowRequests"] == ["bob"]


async def test_the_approve_flow_moves_a_request_into_followers(world: World) -> None:
    assert await world.must("approveFollower", "carol", as_="bob") == "APPROVED"
    bob = await lists_of(world, "bob", as_="bob")
    assert (bob["followRequests"], bob["followers"]) == ([], ["carol", "alice"])
    carol = await lists_of(world, "carol", as_="carol")
    assert (carol["sentFollowRequests"], carol["following"]) == ([], ["bob"])


async def test_turning_public_approves_the_pending_requests_in_the_lists(world: World) -> None:
    await world.set_privacy(False, as_="bob")
    bob = await lists_of(world, "bob", as_="erin")  # public now: erin sees his graph
    # carol's request became a follow; the edge keeps its place (she asked after alice).
    assert bob["followers"] == ["carol", "alice"]
    assert (await lists_of(world, "bob", as_="bob"))["followRequests"] == []


async def test_entries_across_a_blocked_pair_with_the_viewer_are_left_out(world: World) -> None:
    # dora blocks erin: erin no longer sees dora among alice's followers, others still do.
    assert await world.must("block", "erin", as_="dora") is True
    assert (await lists_of(world, "alice", as_="erin"))["followers"] == ["bob"]
    assert (await lists_of(world, "alice", as_="carol"))["followers"] == ["dora", "bob"]
    # mallory follows erin (public); erin's followers hold mallory, except for alice.
    assert await world.must("follow", "erin", as_="mallory") == "APPROVED"
    assert (await lists_of(world, "erin", as_="anon"))["followers"] == ["mallory"]
    assert (await lists_of(world, "erin", as_="alice"))["followers"] == []


async def test_a_blocked_pair_sees_none_of_each_others_graph(world: World) -> None:
    # alice blocked mallory: the profile itself is null (rule 6), lists and all.
    data = await world.ok(LISTS, {"h": "alice"}, as_="mallory")
    assert data == {"account": None}
    # and erin, who blocks bob, gets bob's profile as null too, so no lists.
    assert await world.must("block", "bob", as_="erin") is True
    assert await world.ok(LISTS, {"h": "bob"}, as_="erin") == {"account": None}


@pytest.mark.parametrize("viewer", ["anon", "bob", "erin", "mallory"])
async def test_the_self_only_lists_are_null_without_error_for_anyone_else(
    world: World, viewer: str
) -> None:
    owner = "erin" if viewer == "mallory" else "alice"  # mallory cannot see alice at all
    lists = await lists_of(world, owner, as_=viewer)
    assert [lists[name] for name in OWN_LISTS] == [None, None, None]
    assert lists["followers"] is not None


async def test_blocked_accounts_lists_the_blocks_made_never_the_blocks_received(
    world: World,
) -> None:
    assert (await lists_of(world, "alice", as_="alice"))["blockedAccounts"] == ["mallory"]
    assert (await lists_of(world, "mallory", as_="mallory"))["blockedAccounts"] == []
    assert await world.must("block", "erin", as_="alice") is True
    assert (await lists_of(world, "alice", as_="alice"))["blockedAccounts"] == ["erin", "mallory"]
    assert await world.must("unblock", "mallory", as_="alice") is True
    assert (await lists_of(world, "alice", as_="alice"))["blockedAccounts"] == ["erin"]


async def test_blocked_accounts_shows_the_profiles_but_none_of_their_content(
    world: World,
) -> None:
    data = await world.ok(
        "{ viewer { blockedAccounts { edges { node { handle viewerHasBlocked followsViewer"
        " videos { edges { node { id } } } followers { edges { node { handle } } } } } } } }",
        as_="alice",
    )
    (edge,) = data["viewer"]["blockedAccounts"]["edges"]
    assert edge["node"] == {
        "handle": "mallory",
        "viewerHasBlocked": True,
        "followsViewer": False,  # the block removed her follow (rule 7)
        "videos": {"edges": []},
        "followers": {"edges": []},
    }


async def test_graph_pages_are_full_until_the_last_and_cursors_are_bound(world: World) -> None:
    first = await page(world, "alice", "followers", 1, None, as_="erin")
    assert [e["node"]["handle"] for e in first["data"]["account"]["followers"]["edges"]] == ["dora"]
    info = first["data"]["account"]["followers"]["pageInfo"]
    assert info["hasNextPage"] is True
    rest = await page(world, "alice", "followers", 1, info["endCursor"], as_="erin")
    followers = rest["data"]["account"]["followers"]
    assert [e["node"]["handle"] for e in followers["edges"]] == ["bob"]
    assert followers["pageInfo"]["hasNextPage"] is False
    # The cursor belongs to erin's walk of alice's followers: another list, owner or viewer
    # gets the same error as garbage.
    cursor = info["endCursor"]
    for handle, field, viewer in [
        ("alice", "following", "erin"),
        ("bob", "followers", "erin"),
        ("alice", "followers", "carol"),
        ("alice", "followers", "anon"),
    ]:
        replayed = await page(world, handle, field, 1, cursor, as_=viewer)
        assert error_codes(replayed) == ["BAD_USER_INPUT"], (handle, field, viewer)


async def test_follows_viewer_is_an_approved_edge_to_the_viewer_only(world: World) -> None:
    query = "query($h: String!) { account(handle: $h) { followsViewer viewerHasBlocked } }"

    async def follows(handle: str, as_: str) -> bool:
        data = await world.ok(query, {"h": handle}, as_=as_)
        return bool(data["account"]["followsViewer"])

    assert await follows("bob", "alice") is True  # approved
    assert await follows("dora", "alice") is True
    assert await follows("carol", "bob") is False  # pending
    assert await follows("bob", "anon") is False
    assert await follows("alice", "alice") is False  # self
    assert await follows("alice", "erin") is False


async def test_viewer_has_blocked_is_the_viewers_own_block_only(world: World) -> None:
    query = "query($h: String!) { account(handle: $h) { viewerHasBlocked } }"
    assert await world.must("block", "bob", as_="carol") is True
    assert await world.must("block", "carol", as_="erin") is True
    # carol blocked bob: true for her; bob gets no profile of carol, and erin's block of
    # carol is erin's, not carol's.
    data = await world.ok(
        "{ viewer { blockedAccounts { edges { node { handle viewerHasBlocked } } } } }",
        as_="carol",
    )
    assert data["viewer"]["blockedAccounts"]["edges"] == [
        {"node": {"handle": "bob", "viewerHasBlocked": True}}
    ]
    for handle, viewer in [("dora", "carol"), ("alice", "anon"), ("erin", "alice")]:
        seen = await world.ok(query, {"h": handle}, as_=viewer)
        assert seen["account"] == {"viewerHasBlocked": False}, (handle, viewer)


async def test_viewer_is_author_is_true_for_the_author_alone(world: World) -> None:
    query = "query($id: ID!) { video(id: $id) { viewerIsAuthor } }"
    expected = {
        (POPULAR, "alice"): True,
        (POPULAR, "bob"): False,
        (POPULAR, "anon"): False,
        (BOB_CLIP, "bob"): True,
        (BOB_CLIP, "alice"): False,
    }
    for (caption, viewer), is_author in expected.items():
        data = await world.ok(query, {"id": world.video_ids[caption]}, as_=viewer)
        assert data["video"] == {"viewerIsAuthor": is_author}, (caption, viewer)
