"""The input rules of contract sections 2 and 3, each with its `extensions.code`."""

from __future__ import annotations

import pytest

from api.ids import Kind, encode_id
from tests.conftest import Gql, error_codes
from tests.world import FIRST_STEPS, POPULAR, World

SIGN_UP = """
mutation($h: String!, $p: String!) {
  signUp(handle: $h, password: $p) { token account { handle } }
}
"""
LOG_IN = "mutation($h: String!, $p: String!) { logIn(handle: $h, password: $p) { token } }"
PASSWORD = "password123"
HANDLE_RULE = (
    "A handle is 3 to 30 characters of a-z, 0-9, '_' and '.', with at least one"
    " letter or digit: choose another."
)


@pytest.mark.parametrize(
    "handle",
    [
        "ab",  # too short
        "a" * 31,  # too long
        "a" * 10_000,
        "",
        "bad-dash",
        "has space",
        "émile",
        "bob!",
        "semi;colon",
        "alice\x00",
        "\u212aate",  # the Kelvin sign, which lower-cases to an ASCII k
    ],
)
async def test_a_handle_outside_the_rules_is_bad_user_input_and_missing_elsewhere(
    world: World, handle: str
) -> None:
    result = await world(SIGN_UP, {"h": handle, "p": PASSWORD}, as_="anon")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["message"] == HANDLE_RULE
    assert result.get("data") is None
    # No account can have it: looking it up finds nothing, following or blocking it neither.
    looked_up = await world.ok(
        "query($h: String!) { account(handle: $h) { handle } }", {"h": handle}, as_="erin"
    )
    assert looked_up == {"account": None}
    for name in ("follow", "block"):
        result = await world.follow_mutation(name, handle, as_="erin")
        assert error_codes(result) == ["NOT_FOUND"], (name, result)


@pytest.mark.parametrize("handle", ["abc", "a" * 30, "under_score", "dot.ted", "x9_.z"])
async def test_a_handle_inside_the_rules_is_accepted(gql: Gql, handle: str) -> None:
    data = await gql.ok(SIGN_UP, {"h": handle, "p": PASSWORD})
    assert data["signUp"]["account"]["handle"] == handle


async def test_a_taken_handle_is_conflict_without_regard_to_case(gql: Gql) -> None:
    await gql.sign_up("alice")
    for taken in ("alice", "Alice", "ALICE", "aLiCe"):
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


async def test_a_caption_over_2200_characters_is_bad_user_input_and_makes_no_video(
    world: World,
) -> None:
    create = "mutation($c: String!) { createVideo(caption: $c) { caption } }"
    for caption in ("x" * 2201, "é" * 2201, "x" * 100_000):  # characters, not bytes
        result = await world(create, {"c": caption}, as_="erin")
        assert error_codes(result) == ["BAD_USER_INPUT"], len(caption)
    assert await world.video_captions("erin", as_="erin") == []
    for caption in ("x" * 2200, "é" * 2200):
        data = await world.ok(create, {"c": caption}, as_="erin")
        assert data["createVideo"]["caption"] == caption
    assert await world.video_captions("erin", as_="erin") == ["é" * 2200, "x" * 2200]


LIST_FIELDS = {
    "likers": "query($id: ID!, $f: Int, $a: String) {"
    " video(id: $id) { likers(first: $f, after: $a) { edges { cursor } } } }",
    "videos": "query($f: Int, $a: String) {"
    ' account(handle: "alice") { videos(first: $f, after: $a) { edges { cursor } } } }',
    "likes": "query($f: Int, $a: String) {"
    ' account(handle: "bob") { likes(first: $f, after: $a) { edges { cursor } } } }',
}


@pytest.mark.parametrize("field", sorted(LIST_FIELDS))
@pytest.mark.parametrize("first", [-1, 101, 2**31 - 1, -(2**31)])
async def test_first_outside_0_to_100_is_bad_user_input(
    world: World, field: str, first: int
) -> None:
    variables = {"id": world.video_ids[POPULAR], "f": first}
    result = await world(LIST_FIELDS[field], variables, as_="bob")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    for fine in (0, 100):
        assert "errors" not in await world(LIST_FIELDS[field], {**variables, "f": fine}, as_="bob")


GARBAGE_CURSORS = (
    "garbage",
    "",
    "x",
    "AAAA",
    "====",
    "été",
    "A" * 5000,
    "eyJraW5kIjoibGlrZXJzIn0",  # bare JSON: {"kind":"likers"}
    "WzEsMiwzXQ==",  # base64 of [1,2,3]
)


@pytest.mark.parametrize("field", sorted(LIST_FIELDS))
async def test_a_garbage_cursor_is_bad_user_input(world: World, field: str) -> None:
    messages = set()
    for cursor in GARBAGE_CURSORS:
        variables = {"id": world.video_ids[POPULAR], "f": 5, "a": cursor}
        result = await world(LIST_FIELDS[field], variables, as_="bob")
        assert error_codes(result) == ["BAD_USER_INPUT"], cursor
        messages.add(result["errors"][0]["message"])
    assert len(messages) == 1, messages  # one wording, whatever is wrong with the cursor


GARBAGE_IDS = (
    "garbage",
    "",
    "%%%",
    "A" * 10_000,
    "VmlkZW86LTE",  # Video:-1
    "VmlkZW86YWJj",  # Video:abc
    "VmlkZW86MWUz",  # Video:1e3
    "Tm9wZTox",  # Nope:1
    "TGlrZTox",  # Like:1, not a kind with IDs
    "VmlkZW86_w",  # Video: and a byte that is no ASCII
    encode_id(Kind.VIDEO, 0),
    encode_id(Kind.VIDEO, 2**31),  # beyond a 32-bit key
)


@pytest.mark.parametrize(
    ("document", "fields"),
    [
        ("query($id: ID!) { video(id: $id) { id } }", ["video"]),
        ("query($id: ID!) { node(id: $id) { id } }", ["node"]),
        ("query($id: ID!) { video(id: $id) { id } node(id: $id) { id } }", ["video", "node"]),
        ("mutation($id: ID!) { likeVideo(videoId: $id) { id } }", None),
        ("mutation($id: ID!) { unlikeVideo(videoId: $id) { id } }", None),
    ],
)
async def test_a_garbage_id_is_bad_user_input(
    world: World, document: str, fields: list[str] | None
) -> None:
    for global_id in GARBAGE_IDS:
        result = await world(document, {"id": global_id}, as_="bob")
        assert error_codes(result) == ["BAD_USER_INPUT"] * len(fields or [None]), global_id
        # a query's fields are null beside their errors; a mutation's data is null
        expected = None if fields is None else dict.fromkeys(fields)
        assert result.get("data") == expected, global_id


async def test_an_account_id_is_no_video_id(world: World) -> None:
    data = await world.ok(
        "query($id: ID!) { video(id: $id) { id } node(id: $id) { id } }",
        {"id": world.account_ids["erin"]},
        as_="erin",
    )
    assert data == {"video": None, "node": {"id": world.account_ids["erin"]}}


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
    # nothing changed: alice is still public with her followers and videos, and her
    # popular video still has its 4 likes (mallory's went with alice's block, rule 11)
    alice = await world.account("alice", as_="anon")
    assert alice is not None
    assert (alice["isPrivate"], alice["followerCount"], alice["followingCount"]) == (False, 2, 1)
    assert [edge["node"] for edge in alice["videos"]["edges"]] == [
        {"caption": POPULAR, "likeCount": 4},
        {"caption": FIRST_STEPS, "likeCount": 0},
    ]
    erin = await world.account("erin", as_="erin")
    assert erin is not None
    assert [edge["node"]["video"]["caption"] for edge in erin["likes"]["edges"]] == [POPULAR]
    assert (erin["followerCount"], erin["followingCount"]) == (0, 0)
    # the same mutation with a token is accepted
    assert "errors" not in await world(document, variables, as_="erin")


@pytest.mark.parametrize("handle", ["...", "___", "._.", "_" * 30])
async def test_a_handle_without_a_letter_or_digit_is_bad_user_input(gql: Gql, handle: str) -> None:
    result = await gql(SIGN_UP, {"h": handle, "p": PASSWORD})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "letter or digit" in result["errors"][0]["message"]
    assert await gql.ok("query($h: String!) { account(handle: $h) { handle } }", {"h": handle}) == {
        "account": None
    }


@pytest.mark.parametrize("caption", ["", " ", "   \t\n ", "\u200b\u200d", "\u3000\u00a0"])
async def test_a_caption_with_nothing_visible_is_bad_user_input(world: World, caption: str) -> None:
    result = await world(
        "mutation($c: String!) { createVideo(caption: $c) { id } }", {"c": caption}, as_="erin"
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["message"].endswith(".")
    assert await world.video_captions("erin", as_="erin") == []


@pytest.mark.parametrize("caption", ["a", "  spaced out  ", "\u200bzero-width then text", "🎬"])
async def test_a_caption_with_a_visible_character_is_kept_as_written(
    world: World, caption: str
) -> None:
    await world.create_video(caption, as_="erin")
    assert await world.video_captions("erin", as_="erin") == [caption]
