"""The input rules of contract sections 2 and 3, each with its `extensions.code`."""

from __future__ import annotations

import pytest

from tests.conftest import Gql, error_codes
from tests.world import POPULAR, World

SIGN_UP = """
mutation($h: String!, $p: String!) {
  signUp(handle: $h, password: $p) { token account { handle } }
}
"""
LOG_IN = "mutation($h: String!, $p: String!) { logIn(handle: $h, password: $p) { token } }"
PASSWORD = "password123"


@pytest.mark.parametrize(
    "handle",
    [
        "ab",  # too short
        "a" * 31,  # too long
        "",
        "bad-dash",
        "has space",
        "émile",
        "bob!",
        "semi;colon",
    ],
)
async def test_a_handle_outside_the_rules_is_bad_user_input(gql: Gql, handle: str) -> None:
    result = await gql(SIGN_UP, {"h": handle, "p": PASSWORD})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result.get("data") is None


@pytest.mark.parametrize("handle", ["abc", "a" * 30, "under_score", "dot.ted", "x9_.z"])
async def test_a_handle_inside_the_rules_is_accepted(gql: Gql, handle: str) -> None:
    data = await gql.ok(SIGN_UP, {"h": handle, "p": PASSWORD})
    assert data["signUp"]["account"]["handle"] == handle


async def test_a_taken_handle_is_conflict_without_regard_to_case(gql: Gql) -> None:
    await gql.sign_up("alice")
    for taken in ("alice", "Alice", "ALICE"):
        result = await gql(SIGN_UP, {"h": taken, "p": PASSWORD})
        assert error_codes(result) == ["CONFLICT"], taken
    data = await gql.ok(SIGN_UP, {"h": "Alicia", "p": PASSWORD})
    assert data["signUp"]["account"]["handle"] == "alicia"  # stored lower-cased


@pytest.mark.parametrize("length", [7, 257])
async def test_a_password_outside_8_to_256_characters_is_bad_user_input(
    gql: Gql, length: int
) -> None:
    result = await gql(SIGN_UP, {"h": "newcomer", "p": "p" * length})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    # nothing was created: the handle is still free
    assert await gql.ok('{ account(handle: "newcomer") { handle } }') == {"account": None}


@pytest.mark.parametrize("length", [8, 256])
async def test_a_password_of_8_or_256_characters_is_accepted(gql: Gql, length: int) -> None:
    await gql.ok(SIGN_UP, {"h": "newcomer", "p": "p" * length})
    data = await gql.ok(LOG_IN, {"h": "newcomer", "p": "p" * length})
    assert data["logIn"]["token"]


async def test_a_caption_over_2200_characters_is_bad_user_input(world: World) -> None:
    create = "mutation($c: String!) { createVideo(caption: $c) { caption } }"
    result = await world(create, {"c": "x" * 2201}, as_="erin")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    data = await world.ok(create, {"c": "x" * 2200}, as_="erin")
    assert len(data["createVideo"]["caption"]) == 2200
    assert await world.video_captions("erin", as_="erin") == ["x" * 2200]


LIST_FIELDS = {
    "likers": "query($id: ID!, $f: Int, $a: String) {"
    " video(id: $id) { likers(first: $f, after: $a) { edges { cursor } } } }",
    "videos": "query($f: Int, $a: String) {"
    ' account(handle: "alice") { videos(first: $f, after: $a) { edges { cursor } } } }',
    "likes": "query($f: Int, $a: String) {"
    ' account(handle: "bob") { likes(first: $f, after: $a) { edges { cursor } } } }',
}


@pytest.mark.parametrize("field", sorted(LIST_FIELDS))
@pytest.mark.parametrize("first", [-1, 101])
async def test_first_outside_0_to_100_is_bad_user_input(
    world: World, field: str, first: int
) -> None:
    variables = {"id": world.video_ids[POPULAR], "f": first}
    result = await world(LIST_FIELDS[field], variables, as_="bob")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    for fine in (0, 100):
        assert "errors" not in await world(LIST_FIELDS[field], {**variables, "f": fine}, as_="bob")


@pytest.mark.parametrize("field", sorted(LIST_FIELDS))
async def test_a_garbage_cursor_is_bad_user_input(world: World, field: str) -> None:
    for cursor in ("garbage", "", "AAAA", "eyJraW5kIjoibGlrZXJzIn0"):  # the last: bare JSON
        variables = {"id": world.video_ids[POPULAR], "f": 5, "a": cursor}
        result = await world(LIST_FIELDS[field], variables, as_="bob")
        assert error_codes(result) == ["BAD_USER_INPUT"], cursor


@pytest.mark.parametrize(
    "document",
    [
        "query($id: ID!) { video(id: $id) { id } }",
        "query($id: ID!) { node(id: $id) { id } }",
        "mutation($id: ID!) { likeVideo(videoId: $id) { id } }",
        "mutation($id: ID!) { unlikeVideo(videoId: $id) { id } }",
    ],
)
async def test_a_garbage_id_is_bad_user_input(world: World, document: str) -> None:
    # Plain garbage, "Video:-1", "Video:abc" and "Nope:1" are no IDs of ours.
    for global_id in ("garbage", "", "VmlkZW86LTE", "VmlkZW86YWJj", "Tm9wZTox"):
        result = await world(document, {"id": global_id}, as_="bob")
        assert error_codes(result) == ["BAD_USER_INPUT"], global_id


async def test_a_wrong_password_and_an_unknown_handle_get_the_same_error(gql: Gql) -> None:
    await gql.sign_up("alice")
    wrong_password = await gql.raw(LOG_IN, {"h": "alice", "p": "not-the-password"})
    unknown_handle = await gql.raw(LOG_IN, {"h": "nobody_here", "p": PASSWORD})
    impossible_handle = await gql.raw(LOG_IN, {"h": "x!", "p": PASSWORD})
    assert wrong_password.status_code == unknown_handle.status_code
    assert wrong_password.content == unknown_handle.content == impossible_handle.content
    assert error_codes(wrong_password.json()) == ["UNAUTHENTICATED"]
    ok = await gql.ok(LOG_IN, {"h": "Alice", "p": PASSWORD})  # handles ignore case
    assert ok["logIn"]["token"]


MUTATIONS_NEEDING_A_VIEWER = {
    "setPrivacy": "mutation { setPrivacy(isPrivate: true) { handle } }",
    "createVideo": 'mutation { createVideo(caption: "hi") { id } }',
    "likeVideo": "mutation($id: ID!) { likeVideo(videoId: $id) { id } }",
    "unlikeVideo": "mutation($id: ID!) { unlikeVideo(videoId: $id) { id } }",
    "follow": 'mutation { follow(handle: "alice") }',
    "unfollow": 'mutation { unfollow(handle: "alice") }',
    "approveFollower": 'mutation { approveFollower(handle: "alice") }',
    "removeFollower": 'mutation { removeFollower(handle: "alice") }',
    "block": 'mutation { block(handle: "alice") }',
    "unblock": 'mutation { unblock(handle: "alice") }',
}


@pytest.mark.parametrize("name", sorted(MUTATIONS_NEEDING_A_VIEWER))
async def test_every_mutation_but_sign_up_and_log_in_needs_a_viewer(
    world: World, name: str
) -> None:
    document = MUTATIONS_NEEDING_A_VIEWER[name]
    variables = {"id": world.video_ids[POPULAR]} if "$id" in document else {}
    result = await world(document, variables, as_="anon")
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["data"] is None
    # nothing changed: alice's public video still has its 4 likes, alice is still public
    video = await world.video(POPULAR, as_="anon")
    assert video is not None
    assert video["likeCount"] == 4
    # the same mutation with a token is accepted
    assert "errors" not in await world(document, variables, as_="erin")
