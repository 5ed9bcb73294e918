"""Rule 9: cursors, errors, node(id:), aliases, fragments and page sizes leak nothing."""

from __future__ import annotations

import base64

import pytest

from api.ids import Kind, encode_id
from tests.world import BOB_CLIP, FIRST_STEPS, MISSING_VIDEO, POPULAR, World

MISSING_ACCOUNT = encode_id(Kind.ACCOUNT, 987_654)
LIKERS_PAGE = """
query($id: ID!, $first: Int, $after: String) {
  video(id: $id) {
    likers(first: $first, after: $after) {
      edges { node { handle } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


def codes(result: dict[str, object]) -> list[str]:
    errors = result.get("errors") or []
    assert isinstance(errors, list)
    return [e["extensions"]["code"] for e in errors]


@pytest.mark.parametrize("viewer", ["mallory", "alice"])
async def test_node_of_a_blocked_pairs_account_is_byte_identical_to_a_missing_one(
    world: World, viewer: str
) -> None:
    other = "alice" if viewer == "mallory" else "mallory"
    query = (
        "query($id: ID!) {"
        " node(id: $id) { id ... on Account { handle likes { edges { cursor } } } } }"
    )
    hidden = await world.gql.raw(query, {"id": world.account_ids[other]}, as_=viewer)
    missing = await world.gql.raw(query, {"id": MISSING_ACCOUNT}, as_=viewer)
    assert hidden.content == missing.content
    assert hidden.json() == {"data": {"node": None}}
    seen = await world.ok(query, {"id": world.account_ids[other]}, as_="erin")
    assert seen["node"]["handle"] == other


async def test_aliases_and_fragments_see_what_the_plain_query_sees(world: World) -> None:
    query = """
    fragment L on Video { likers { edges { node { handle } } } }
    query($p: ID!, $c: ID!, $m: ID!) {
      popular: video(id: $p) { ...L again: likers(first: 1) { edges { node { handle } } } }
      clip: video(id: $c) { ...L }
      missing: video(id: $m) { ...L }
      asNode: node(id: $p) { ... on Video { ...L } }
      spread: node(id: $p) { ...L }
      both: video(id: $p) { x: likers(first: 1) { edges { node { handle } } }
                            y: likers(first: 100) { edges { node { handle } } } }
      author: account(handle: "bob") { videos { edges { node { ...L } } } }
    }
    """
    ids = {"p": world.video_ids[POPULAR], "c": world.video_ids[BOB_CLIP], "m": MISSING_VIDEO}

    def handles(video: dict[str, object] | None) -> list[str] | None:
        if video is None:
            return None
        edges = video["likers"]["edges"]  # type: ignore[index]
        return [edge["node"]["handle"] for edge in edges]

    def listed(connection: dict[str, list[dict[str, dict[str, str]]]]) -> list[str]:
        return [edge["node"]["handle"] for edge in connection["edges"]]

    erin = await world.ok(query, ids, as_="erin")
    assert handles(erin["popular"]) == handles(erin["asNode"]) == ["erin"]
    assert handles(erin["spread"]) == ["erin"]
    assert (listed(erin["both"]["x"]), listed(erin["both"]["y"])) == (["erin"], ["erin"])
    assert erin["popular"]["again"]["edges"] == [{"node": {"handle": "erin"}}]
    assert erin["clip"] is None
    assert erin["missing"] is None
    assert erin["author"]["videos"]["edges"] == []

    alice = await world.ok(query, ids, as_="alice")
    assert handles(alice["popular"]) == handles(alice["asNode"]) == ["erin", "bob"]
    assert handles(alice["spread"]) == ["erin", "bob"]
    assert (listed(alice["both"]["x"]), listed(alice["both"]["y"])) == (["erin"], ["erin", "bob"])
    assert alice["missing"] is None
    assert handles(alice["clip"]) == ["alice"]
    assert [handles(e["node"]) for e in alice["author"]["videos"]["edges"]] == [["alice"]]


async def test_nested_paths_to_the_same_list_give_the_same_answer(world: World) -> None:
    # alice's likes hold only BOB_CLIP: hidden from anon however the list is reached.
    query = """
    query($p: ID!) {
      video(id: $p) {
        author { likes { edges { node { video { caption } } } } }
        likers { edges { node { handle likes { edges { node { video { caption } } } } } } }
      }
      account(handle: "alice") { likes { edges { node { video { caption } } } } }
    }
    """
    # Each liker the viewer sees, with the likes listed under it: the same as that liker's
    # own likes list shows the viewer (bob: his own too).
    likers_likes = {
        "anon": {"erin": [POPULAR]},
        "bob": {"erin": [POPULAR], "bob": [POPULAR]},
    }
    for viewer, alice_likes in (("anon", []), ("bob", [BOB_CLIP])):
        data = await world.ok(query, {"p": world.video_ids[POPULAR]}, as_=viewer)
        via_author = data["video"]["author"]["likes"]["edges"]
        direct = data["account"]["likes"]["edges"]
        assert via_author == direct
        assert [e["node"]["video"]["caption"] for e in direct] == alice_likes, viewer
        nested = {
            edge["node"]["handle"]: [
                like["node"]["video"]["caption"] for like in edge["node"]["likes"]["edges"]
            ]
            for edge in data["video"]["likers"]["edges"]
        }
        assert nested == likers_likes[viewer], viewer
        for handle, captions in nested.items():
            assert await world.liked_captions(handle, as_=viewer) == captions, (viewer, handle)


async def test_a_tampered_cursor_is_bad_user_input(world: World) -> None:
    page = await world.ok(LIKERS_PAGE, {"id": world.video_ids[POPULAR], "first": 1}, as_="bob")
    cursor = page["video"]["likers"]["pageInfo"]["endCursor"]
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-2] ^= 1  # change the position the cursor names, keep its MAC
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    result = await world(
        LIKERS_PAGE, {"id": world.video_ids[POPULAR], "first": 1, "after": forged}, as_="bob"
    )
    assert codes(result) == ["BAD_USER_INPUT"]
    fine = await world(
        LIKERS_PAGE, {"id": world.video_ids[POPULAR], "first": 1, "after": cursor}, as_="bob"
    )
    assert codes(fine) == []


async def test_a_cursor_error_is_the_same_whatever_made_the_cursor_wrong(world: World) -> None:
    # A cursor of bob's walk replayed by carol, one of another video, and garbage: one answer.
    bob_page = await world.ok(LIKERS_PAGE, {"id": world.video_ids[POPULAR], "first": 1}, as_="bob")
    assert "errors" not in await world.like(FIRST_STEPS, as_="carol")
    carol_other_video = await world.ok(
        LIKERS_PAGE, {"id": world.video_ids[FIRST_STEPS], "first": 1}, as_="carol"
    )
    carol_page = await world.ok(
        LIKERS_PAGE, {"id": world.video_ids[POPULAR], "first": 1}, as_="carol"
    )
    cursors = {
        "another viewer's": bob_page["video"]["likers"]["pageInfo"]["endCursor"],
        "another video's": carol_other_video["video"]["likers"]["pageInfo"]["endCursor"],
        "garbage": "not-a-cursor",
    }
    answers = set()
    for cursor in cursors.values():
        response = await world.gql.raw(
            LIKERS_PAGE,
            {"id": world.video_ids[POPULAR], "first": 1, "after": cursor},
            as_="carol",
        )
        assert codes(response.json()) == ["BAD_USER_INPUT"]
        answers.add(response.content)
    assert len(answers) == 1
    own = carol_page["video"]["likers"]["pageInfo"]["endCursor"]
    result = await world(
        LIKERS_PAGE, {"id": world.video_ids[POPULAR], "first": 1, "after": own}, as_="carol"
    )
    assert codes(result) == []


async def test_a_hidden_videos_cursor_is_useless_once_the_video_is_hidden(world: World) -> None:
    # carol is approved, takes a cursor on BOB_CLIP's likers, then bob removes her.
    assert await world.must("approveFollower", "carol", as_="bob") == "APPROVED"
    page = await world.ok(LIKERS_PAGE, {"id": world.video_ids[BOB_CLIP], "first": 1}, as_="carol")
    cursor = page["video"]["likers"]["pageInfo"]["endCursor"]
    assert cursor is not None
    assert await world.must("removeFollower", "carol", as_="bob") == "NONE"
    hidden = await world.gql.raw(
        LIKERS_PAGE,
        {"id": world.video_ids[BOB_CLIP], "first": 1, "after": cursor},
        as_="carol",
    )
    missing = await world.gql.raw(
        LIKERS_PAGE, {"id": MISSING_VIDEO, "first": 1, "after": cursor}, as_="carol"
    )
    assert hidden.content == missing.content
    assert hidden.json() == {"data": {"video": None}}


async def test_videos_pages_are_full_until_the_last(world: World) -> None:
    query = """
    query($h: String!, $after: String) {
      account(handle: $h) {
        videos(first: 1, after: $after) {
          edges { node { caption } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
    """
    for viewer in ("anon", "bob"):
        first = await world.ok(query, {"h": "alice"}, as_=viewer)
        page = first["account"]["videos"]
        assert [e["node"]["caption"] for e in page["edges"]] == [POPULAR]
        assert page["pageInfo"]["hasNextPage"] is True
        after = page["pageInfo"]["endCursor"]
        second = await world.ok(query, {"h": "alice", "after": after}, as_=viewer)
        page = second["account"]["videos"]
        assert [e["node"]["caption"] for e in page["edges"]] == [FIRST_STEPS]
        assert page["pageInfo"]["hasNextPage"] is False
    hidden = await world.ok(query, {"h": "bob"}, as_="carol")
    assert hidden["account"]["videos"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }


async def test_errors_carry_no_internal_detail(world: World) -> None:
    result = await world(
        "mutation($id: ID!) { likeVideo(videoId: $id) { id } }", {"id": MISSING_VIDEO}, as_="bob"
    )
    (error,) = result["errors"]
    assert error["message"] == "No video with that ID."
    assert set(error) == {"message", "locations", "path", "extensions"}
    assert error["extensions"] == {"code": "NOT_FOUND"}


# Who sees which video, and how many of its likers: FIRST_STEPS has no like, BOB_CLIP is
# hidden from anon, dora and erin (None).
VISIBLE_LIKERS = {
    (POPULAR, "anon"): 1,
    (POPULAR, "alice"): 2,
    (POPULAR, "bob"): 2,
    (POPULAR, "dora"): 2,
    (POPULAR, "erin"): 1,
    (BOB_CLIP, "alice"): 1,
    (BOB_CLIP, "bob"): 1,
    (BOB_CLIP, "anon"): None,
    (BOB_CLIP, "dora"): None,
    (BOB_CLIP, "erin"): None,
    **{(FIRST_STEPS, viewer): 0 for viewer in ("anon", "alice", "bob", "dora", "erin")},
}


@pytest.mark.parametrize(("caption", "viewer"), sorted(VISIBLE_LIKERS))
async def test_an_empty_page_says_whether_visible_likers_follow(
    world: World, viewer: str, caption: str
) -> None:
    """`first: 0` returns no edge, and hasNextPage is true exactly when visible likers exist."""
    count = VISIBLE_LIKERS[caption, viewer]
    likers = await world.likers(caption, as_=viewer)
    assert likers is None if count is None else len(likers) == count, likers
    data = await world.ok(
        "query($v: ID!) { video(id: $v) { likers(first: 0) { edges { cursor }"
        " pageInfo { hasNextPage } } } }",
        {"v": world.video_ids[caption]},
        as_=viewer,
    )
    if count is None:  # a hidden video stays null, whatever the page size
        assert data["video"] is None
    else:
        empty_page = {"edges": [], "pageInfo": {"hasNextPage": count > 0}}
        assert data["video"]["likers"] == empty_page
