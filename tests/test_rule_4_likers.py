"""Rule 4: the likers of a visible video are the accounts whose content the viewer may see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.world import BOB_CLIP, POPULAR, World

# Likes of POPULAR, newest first: erin (public), bob, carol, dora (private); mallory's went
# with alice's block (rule 11). Each viewer's list, and why, is in tests/world.py.
EXPECTED_LIKERS = {
    "anon": ["erin"],
    "alice": ["erin", "bob"],
    "bob": ["erin", "bob"],
    "carol": ["erin", "carol"],
    "dora": ["erin", "dora"],
    "erin": ["erin"],
}

FRESH = "alice: fresh"

PAGE = """
query($id: ID!, $first: Int, $after: String) {
  video(id: $id) {
    likers(first: $first, after: $after) {
      edges { cursor node { handle } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


async def _page(
    world: World, viewer: str, first: int, after: str | None, caption: str = POPULAR
) -> dict[str, Any]:
    data = await world.ok(
        PAGE, {"id": world.video_ids[caption], "first": first, "after": after}, as_=viewer
    )
    likers: dict[str, Any] = data["video"]["likers"]
    return likers


@pytest.mark.parametrize("viewer", sorted(EXPECTED_LIKERS))
async def test_each_viewer_sees_exactly_the_likers_whose_content_they_may_see(
    world: World, viewer: str
) -> None:
    assert await world.likers(POPULAR, as_=viewer) == EXPECTED_LIKERS[viewer]


async def test_the_author_sees_a_private_liker_only_if_she_follows_that_liker(
    world: World,
) -> None:
    # alice follows bob, not dora: her own video gives her no exception.
    assert await world.likers(POPULAR, as_="alice") == ["erin", "bob"]
    assert await world.must("follow", "dora", as_="alice") == "PENDING"
    assert await world.likers(POPULAR, as_="alice") == ["erin", "bob"]  # pending: nothing yet
    assert await world.must("approveFollower", "alice", as_="dora") == "APPROVED"
    assert await world.likers(POPULAR, as_="alice") == ["erin", "bob", "dora"]
    # alice's follow is hers alone: erin, who does not follow dora, still does not see her
    assert await world.likers(POPULAR, as_="erin") == ["erin"]


async def test_the_blocked_side_is_not_listed_to_the_blocker(world: World) -> None:
    # carol blocks erin; erin is public, so everyone else still lists her. (Her like is of
    # alice's video, not carol's: rule 11 leaves it.)
    assert await world.must("block", "erin", as_="carol") is True
    assert await world.likers(POPULAR, as_="carol") == ["carol"]
    assert await world.likers(POPULAR, as_="dora") == ["erin", "dora"]
    # the block alone hid her: once carol lifts it, carol lists erin's like again
    assert await world.must("unblock", "erin", as_="carol") is True
    assert await world.likers(POPULAR, as_="carol") == ["erin", "carol"]


async def test_a_viewer_blocked_by_a_liker_does_not_see_that_liker(world: World) -> None:
    # The other direction: the liker (erin) blocks the viewer (bob).
    assert await world.likers(POPULAR, as_="bob") == ["erin", "bob"]
    assert await world.must("block", "bob", as_="erin") is True
    assert await world.likers(POPULAR, as_="bob") == ["bob"]
    assert await world.likers(POPULAR, as_="carol") == ["erin", "carol"]


async def test_liked_at_is_the_time_of_each_like_newest_first(world: World) -> None:
    await world.create_video(FRESH, as_="alice")
    times = [datetime.now(UTC)]
    for liker in ("erin", "bob", "carol"):  # carol is private: bob may not list her
        assert "errors" not in await world.like(FRESH, as_=liker)
        times.append(datetime.now(UTC))
    data = await world.ok(
        "query($id: ID!) { video(id: $id) { likers { edges { likedAt node { handle } } } } }",
        {"id": world.video_ids[FRESH]},
        as_="bob",
    )
    edges = data["video"]["likers"]["edges"]
    assert [edge["node"]["handle"] for edge in edges] == ["bob", "erin"]
    bob_at, erin_at = (datetime.fromisoformat(edge["likedAt"]) for edge in edges)
    # each like's time lies between the moments just before and just after it was made
    assert times[0] <= erin_at <= times[1] <= bob_at <= times[2], (times, erin_at, bob_at)
    # the world's own likes are listed newest first too
    data = await world.ok(
        "query($id: ID!) { video(id: $id) { likers { edges { likedAt } } } }",
        {"id": world.video_ids[POPULAR]},
        as_="bob",
    )
    stamps = [datetime.fromisoformat(edge["likedAt"]) for edge in data["video"]["likers"]["edges"]]
    assert len(stamps) == 2
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize("first", [1, 2])
@pytest.mark.parametrize("viewer", sorted(EXPECTED_LIKERS))
async def test_pages_are_full_until_the_last_and_has_next_page_counts_visible_likers_only(
    world: World, viewer: str, first: int
) -> None:
    expected = EXPECTED_LIKERS[viewer]
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await _page(world, viewer, first, after)
        handles = [edge["node"]["handle"] for edge in page["edges"]]
        seen += handles
        pages += 1
        more = len(seen) < len(expected)
        # A page holds `first` items unless it is the last; hasNextPage only when more
        # *visible* likers follow (hidden likers trail every list here: carol, dora...).
        assert len(handles) == (first if more else len(expected) - first * (pages - 1))
        assert page["pageInfo"]["hasNextPage"] is more
        assert page["pageInfo"]["hasPreviousPage"] is False
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not more:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    assert pages == -(-len(expected) // first)


async def test_a_page_of_zero_is_empty_with_no_cursors(world: World) -> None:
    page = await _page(world, "alice", 0, None)
    assert page["edges"] == []
    assert page["pageInfo"]["startCursor"] is None
    assert page["pageInfo"]["endCursor"] is None


OTHER_LISTS = {
    "another video's likers": "query($id: ID!, $after: String) {"
    " video(id: $id) { likers(first: 1, after: $after) { edges { cursor } } } }",
    "an account's likes": "query($after: String) {"
    ' account(handle: "erin") { likes(first: 1, after: $after) { edges { cursor } } } }',
    "an account's videos": "query($after: String) {"
    ' account(handle: "alice") { videos(first: 1, after: $after) { edges { cursor } } } }',
}


async def test_a_likers_cursor_on_any_other_list_is_bad_user_input(world: World) -> None:
    page = await _page(world, "alice", 1, None)
    cursor = page["pageInfo"]["endCursor"]
    assert page["pageInfo"]["hasNextPage"] is True
    for name, document in OTHER_LISTS.items():
        variables = {"after": cursor}
        if "$id" in document:
            variables["id"] = world.video_ids[BOB_CLIP]
        result = await world(document, variables, as_="alice")
        assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"], name
    # the same cursor is fine on its own list
    rest = await _page(world, "alice", 1, cursor)
    assert [edge["node"]["handle"] for edge in rest["edges"]] == ["bob"]


async def test_a_cursor_replayed_by_another_viewer_is_refused_like_garbage(world: World) -> None:
    # bob's cursor after "erin" would let anyone resume bob's walk past bob's own like.
    page = await _page(world, "bob", 1, None)
    cursor = page["pageInfo"]["endCursor"]
    variables = {"id": world.video_ids[POPULAR], "first": 1}
    for other in ("erin", "anon", "carol"):
        as_ = None if other == "anon" else other
        replayed = await world.gql.raw(PAGE, {**variables, "after": cursor}, as_=as_)
        garbage = await world.gql.raw(PAGE, {**variables, "after": "garbage"}, as_=as_)
        codes = [e["extensions"]["code"] for e in replayed.json()["errors"]]
        assert codes == ["BAD_USER_INPUT"], other
        assert replayed.content == garbage.content, other
    following = await _page(world, "bob", 1, cursor)
    assert [edge["node"]["handle"] for edge in following["edges"]] == ["bob"]
