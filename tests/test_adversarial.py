"""Adversarial inputs: what a client trying to learn hidden identities, or to break the
server, would send; each gets the answer the contract gives it, and no answer ever
betrays the server's internals (every response body of this module is checked).

The personas are those of tests/world.py: alice (public creator, blocked mallory),
bob (private, alice follows him), carol (private, pending request to bob), dora
(private, removed by bob), erin (public stranger), mallory (public, blocked by alice).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from api.ids import Kind, decode_id, encode_id
from auth.tokens import issue_token
from tests.conftest import SECRET, Gql, GqlResult, error_codes
from tests.world import BOB_CLIP, FIRST_STEPS, MISSING_VIDEO, POPULAR, World

# Substrings that would betray internals: a trace, SQL, a file path, a driver, a class name.
# (`.py` followed by a word character or `-` is base64url, as in a token: not a path.)
TELLTALES = re.compile(
    r"Traceback|\bSELECT\b|\bINSERT\b|\bUPDATE\b|\bDELETE FROM\b|\.py(?![-\w])|sqlite|asyncpg|"
    r"tortoise|strawberry|Error\(|Exception|site-packages|/work/|File \"|NoneType|KeyError|"
    r"AccountRow|VideoRow|LikeRow|Relationship|PageRequest|ListKey",
    re.IGNORECASE,
)

LIKERS = """
query($id: ID!, $first: Int, $after: String) {
  video(id: $id) { likers(first: $first, after: $after) {
    edges { cursor node { handle } } pageInfo { hasNextPage endCursor } } }
}
"""
LIKES = """
query($h: String!, $first: Int, $after: String) {
  account(handle: $h) { likes(first: $first, after: $after) {
    edges { cursor node { video { id } } } pageInfo { hasNextPage endCursor } } }
}
"""
VIDEOS = """
query($h: String!, $first: Int, $after: String) {
  account(handle: $h) { videos(first: $first, after: $after) {
    edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }
}
"""


@pytest.fixture(autouse=True)
async def no_answer_betrays_internals(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Records every response body this module's tests receive, and checks each one."""
    bodies: list[str] = []
    original = Gql.raw

    async def recording(self: Gql, *args: Any, **kwargs: Any) -> httpx.Response:
        response = await original(self, *args, **kwargs)
        bodies.append(response.text)
        return response

    monkeypatch.setattr(Gql, "raw", recording)
    yield
    leaks = [body for body in bodies if TELLTALES.search(body)]
    assert not leaks, leaks


# -- aliases and fragments --------------------------------------------------------------------


async def test_aliases_and_fragments_asking_twice_for_hidden_data_get_nothing(world: World) -> None:
    """carol's request to bob is pending: however she asks, his clip and likes stay hidden."""
    query = """
    query($clip: ID!, $bob: ID!) {
      a: video(id: $clip) { ...V }
      b: video(id: $clip) { id likers { edges { node { handle } } } }
      c: node(id: $clip) { ...V ... on Video { likeCount } }
      d: node(id: $clip) { id }
      e: account(handle: "bob") { ...A }
      f: node(id: $bob) { ... on Account { ...A } }
      g: account(handle: "BOB") { likes(first: 100) { edges { node { video { id } } } } }
    }
    fragment V on Video { caption likeCount likers(first: 100) { edges { node { handle } } } }
    fragment A on Account {
      handle
      likes { edges { node { video { id caption } } } pageInfo { hasNextPage } }
      videos { edges { node { id } } pageInfo { hasNextPage } }
    }
    """
    variables = {"clip": world.video_ids[BOB_CLIP], "bob": world.account_ids["bob"]}
    data = await world.ok(query, variables, as_="carol")
    assert data["a"] is data["b"] is data["c"] is data["d"] is None
    empty: dict[str, Any] = {"edges": [], "pageInfo": {"hasNextPage": False}}
    for alias in ("e", "f"):
        assert data[alias] == {"handle": "bob", "likes": empty, "videos": empty}
    assert data["g"] == {"likes": {"edges": []}}


async def test_aliases_of_one_likers_list_all_hide_the_same_likers(world: World) -> None:
    """alice sees erin and bob among POPULAR's likers, through every alias and fragment,
    and never mallory (a blocked pair), dora or carol (private, not followed by her)."""
    query = """
    query($id: ID!) {
      a: video(id: $id) { likers { edges { node { handle } } } }
      b: video(id: $id) { ...L }
      c: node(id: $id) { ... on Video { ...L } }
      d: node(id: $id) { ...L }
      e: video(id: $id) { x: likers(first: 1) { edges { node { handle } } }
                          y: likers(first: 100) { edges { node { handle } } } }
    }
    fragment L on Video { likers(first: 100) { edges { node { handle } } } }
    """
    data = await world.ok(query, {"id": world.video_ids[POPULAR]}, as_="alice")

    def handles(connection: dict[str, Any]) -> list[str]:
        return [e["node"]["handle"] for e in connection["edges"]]

    for alias in "abcd":
        assert handles(data[alias]["likers"]) == ["erin", "bob"], alias
    assert handles(data["e"]["x"]) == ["erin"]
    assert handles(data["e"]["y"]) == ["erin", "bob"]


# -- tokens -----------------------------------------------------------------------------------


def forged_tokens(alice_id: int) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": str(alice_id), "iss": "likegraph", "iat": now, "exp": now + 3600}
    other_secret = "another-secret-of-the-same-length-01234567"
    header, payload, signature = issue_token(alice_id, SECRET, 3600).split(".")
    bob_claims = dict(claims, sub=str(alice_id + 1))
    return {
        "signed with another key": jwt.encode(claims, other_secret, algorithm="HS256"),
        "unsigned (alg none)": jwt.encode(claims, key=None, algorithm="none"),
        "expired": issue_token(alice_id, SECRET, 60, now=now - 3600),
        "payload swapped": ".".join(
            [
                header,
                base64.urlsafe_b64encode(json.dumps(bob_claims).encode()).decode().rstrip("="),
                signature,
            ]
        ),
        "signature dropped": f"{header}.{payload}.",
        "garbage": "garbage",
        "three dots": "...",
        "not ascii": "tökén",
        "another issuer": jwt.encode(dict(claims, iss="someone"), SECRET, algorithm="HS256"),
        "no expiry": jwt.encode({"sub": str(alice_id), "iss": "likegraph"}, SECRET),
    }


@pytest.mark.parametrize(
    "case",
    [
        "signed with another key",
        "unsigned (alg none)",
        "expired",
        "payload swapped",
        "signature dropped",
        "garbage",
        "three dots",
        "not ascii",
        "another issuer",
        "no expiry",
    ],
)
async def test_a_forged_garbage_or_expired_token_is_unauthenticated_never_anonymous(
    world: World, case: str
) -> None:
    _, alice_id = decode_id(world.account_ids["alice"])
    token = forged_tokens(alice_id)[case]
    # A query the anonymous viewer could answer: it must still be refused, with no data.
    # (Sent as bytes: an HTTP header may carry any octet, not only ASCII.)
    response = await world.gql.client.post(
        "/graphql",
        json={"query": 'query { account(handle: "alice") { handle } }'},
        headers={"Authorization": f"Bearer {token}".encode()},  # type: ignore[dict-item]
    )
    assert not TELLTALES.search(response.text), response.text
    assert response.status_code == 401
    body = response.json()
    assert "data" not in body or body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]


# -- cursors ----------------------------------------------------------------------------------


async def first_page(world: World, query: str, variables: dict[str, Any], as_: str) -> str:
    """The endCursor of a one-item first page (the list must have a second item)."""
    data = await world.ok(query, {**variables, "first": 1}, as_=as_)
    (connection,) = [v for v in next(iter(data.values())).values()]
    assert connection["pageInfo"]["hasNextPage"] is True
    cursor: str = connection["pageInfo"]["endCursor"]
    return cursor


@pytest.mark.parametrize(
    "cursor",
    ["", "x", "====", "\u00e9t\u00e9", "A" * 5000, base64.urlsafe_b64encode(b"[1,2,3]").decode()],
)
async def test_a_garbage_cursor_is_bad_user_input_on_every_list(world: World, cursor: str) -> None:
    for query, variables in (
        (LIKERS, {"id": world.video_ids[POPULAR]}),
        (LIKES, {"h": "erin"}),
        (VIDEOS, {"h": "alice"}),
    ):
        result = await world(query, {**variables, "first": 1, "after": cursor}, as_="erin")
        assert error_codes(result) == ["BAD_USER_INPUT"], (query, result)


async def test_a_cursor_from_another_list_is_bad_user_input(world: World) -> None:
    """A likers cursor of POPULAR, replayed on FIRST_STEPS' likers or on a likes list."""
    cursor = await first_page(world, LIKERS, {"id": world.video_ids[POPULAR]}, "bob")
    elsewhere = [
        (LIKERS, {"id": world.video_ids[FIRST_STEPS]}),
        (LIKES, {"h": "erin"}),
        (VIDEOS, {"h": "alice"}),
    ]
    for query, variables in elsewhere:
        result = await world(query, {**variables, "first": 1, "after": cursor}, as_="bob")
        assert error_codes(result) == ["BAD_USER_INPUT"], (query, result)


async def test_a_cursor_minted_for_one_viewer_is_refused_for_another_like_garbage(
    world: World,
) -> None:
    """carol's cursor of POPULAR's likers would tell anyone where she was in her own view of
    the list: replayed by bob or the anonymous viewer it is the same error as garbage."""
    variables = {"id": world.video_ids[POPULAR], "first": 1}
    cursor = await first_page(world, LIKERS, {"id": world.video_ids[POPULAR]}, "carol")
    own = await world(LIKERS, {**variables, "after": cursor}, as_="carol")
    assert "errors" not in own
    for other in ("bob", "anon"):
        replayed = await world.gql.raw(
            LIKERS, {**variables, "after": cursor}, as_=None if other == "anon" else other
        )
        garbage = await world.gql.raw(
            LIKERS, {**variables, "after": "garbage"}, as_=None if other == "anon" else other
        )
        assert error_codes(replayed.json()) == ["BAD_USER_INPUT"]
        assert replayed.content == garbage.content


# -- page sizes -------------------------------------------------------------------------------


@pytest.mark.parametrize("first", [-1, 101, 2**31 - 1, -(2**31)])
async def test_first_out_of_range_is_bad_user_input_on_every_list(world: World, first: int) -> None:
    for query, variables in (
        (LIKERS, {"id": world.video_ids[POPULAR]}),
        (LIKES, {"h": "erin"}),
        (VIDEOS, {"h": "alice"}),
    ):
        result = await world(query, {**variables, "first": first}, as_="bob")
        assert error_codes(result) == ["BAD_USER_INPUT"], (query, first, result)


async def test_first_beyond_a_32_bit_int_is_refused_before_any_resolver_runs(
    world: World,
) -> None:
    as_variable = await world(LIKERS, {"id": world.video_ids[POPULAR], "first": 2**31}, as_="bob")
    assert error_codes(as_variable) == ["BAD_USER_INPUT"]
    assert "data" not in as_variable
    literal = await world(
        "query($id: ID!) { video(id: $id) { likers(first: 2147483648) { edges { cursor } } } }",
        {"id": world.video_ids[POPULAR]},
        as_="bob",
    )
    assert error_codes(literal) == ["GRAPHQL_VALIDATION_FAILED"]


# -- over-long and odd text -------------------------------------------------------------------


async def test_an_over_long_caption_is_refused_and_makes_no_video(world: World) -> None:
    create = "mutation($c: String!) { createVideo(caption: $c) { caption } }"
    for caption in ("x" * 2201, "é" * 2201, "x" * 100_000):
        result = await world(create, {"c": caption}, as_="erin")
        assert error_codes(result) == ["BAD_USER_INPUT"]
    assert await world.video_captions("erin", as_="erin") == []
    done = await world.ok(create, {"c": "é" * 2200}, as_="erin")
    assert done["createVideo"]["caption"] == "é" * 2200


async def raw_json(gql: Gql, query: str, variables: dict[str, Any], as_: str | None) -> GqlResult:
    """Posts a body that may hold a lone surrogate (escaped, as JSON allows)."""
    headers = {"Content-Type": "application/json", "Accept": "application/graphql-response+json"}
    if as_ is not None:
        headers["Authorization"] = f"Bearer {gql.tokens[as_]}"
    body = json.dumps({"query": query, "variables": variables})  # ensure_ascii escapes it
    response = await gql.client.post("/graphql", content=body.encode(), headers=headers)
    assert not TELLTALES.search(response.text), response.text
    result: GqlResult = response.json()
    return result


@pytest.mark.parametrize(
    "handle",
    ["a" * 31, "a" * 10_000, "\u212aate", "ab", "al ice", "alice\x00", "ålice"],
    ids=["31-chars", "10k-chars", "kelvin-sign", "2-chars", "space", "nul", "non-ascii"],
)
async def test_an_impossible_handle_is_bad_user_input_at_sign_up_and_missing_elsewhere(
    world: World, handle: str
) -> None:
    sign_up = await raw_json(
        world.gql,
        'mutation($h: String!) { signUp(handle: $h, password: "password123") { token } }',
        {"h": handle},
        None,
    )
    assert error_codes(sign_up) == ["BAD_USER_INPUT"]
    looked_up = await world.ok(
        "query($h: String!) { account(handle: $h) { handle } }", {"h": handle}, as_="erin"
    )
    assert looked_up == {"account": None}
    for name in ("follow", "block"):
        result = await world.follow_mutation(name, handle, as_="erin")
        assert error_codes(result) == ["NOT_FOUND"], (name, result)


@pytest.mark.parametrize("variant", ["ALICE", "Alice", "aLiCe"])
async def test_a_handle_in_another_case_is_the_same_account_everywhere(
    world: World, variant: str
) -> None:
    sign_up = await world.gql(
        'mutation($h: String!) { signUp(handle: $h, password: "password123") { token } }',
        {"h": variant},
    )
    assert error_codes(sign_up) == ["CONFLICT"]
    found = await world.ok(
        "query($h: String!) { account(handle: $h) { id handle } }", {"h": variant}, as_="erin"
    )
    assert found["account"] == {"id": world.account_ids["alice"], "handle": "alice"}
    assert await world.must("follow", variant, as_="erin") == "APPROVED"
    assert await world.must("unfollow", variant.lower(), as_="erin") == "NONE"
    # mallory is blocked by alice: alice in any case is NOT_FOUND for mallory.
    blocked = await world.follow_mutation("follow", variant, as_="mallory")
    assert error_codes(blocked) == ["NOT_FOUND"]
    log_in = await world.gql(
        'mutation($h: String!) { logIn(handle: $h, password: "password123")'
        " { account { handle } } }",
        {"h": variant},
    )
    assert log_in["data"]["logIn"]["account"] == {"handle": "alice"}


# -- batching ---------------------------------------------------------------------------------


async def test_likers_of_many_videos_in_one_query_equal_each_fetched_alone(world: World) -> None:
    """One batched statement serves every aliased likers list: none may borrow another's
    rows, filters or page cut, whatever the page sizes and cursors in the batch."""
    for extra in range(3):
        await world.create_video(f"erin {extra}", as_="erin")
    for liker in ("alice", "bob", "carol", "dora", "mallory"):
        for extra in range(3):
            result = await world.like(f"erin {extra}", as_=liker)
            assert "errors" not in result
    captions = [FIRST_STEPS, POPULAR, BOB_CLIP, "erin 0", "erin 1", "erin 2"]
    for viewer in ("anon", "alice", "bob", "carol", "dora", "erin", "mallory"):
        for first in (1, 2, 100):
            alone: dict[str, Any] = {}
            for n, caption in enumerate(captions):
                data = await world.ok(
                    LIKERS, {"id": world.video_ids[caption], "first": first}, as_=viewer
                )
                alone[f"v{n}"] = data["video"]
            parts = " ".join(
                f"v{n}: video(id: $v{n}) {{ likers(first: {first}) {{"
                " edges { cursor node { handle } } pageInfo { hasNextPage endCursor } } }"
                for n in range(len(captions))
            )
            declared = ", ".join(f"$v{n}: ID!" for n in range(len(captions)))
            batched = await world.ok(
                f"query({declared}) {{ {parts} }}",
                {f"v{n}": world.video_ids[c] for n, c in enumerate(captions)},
                as_=viewer,
            )
            assert batched == alone, (viewer, first)


async def test_second_pages_in_one_batch_equal_second_pages_fetched_alone(world: World) -> None:
    for extra in range(2):
        await world.create_video(f"erin {extra}", as_="erin")
        for liker in ("alice", "carol", "mallory", "dora"):
            assert "errors" not in await world.like(f"erin {extra}", as_=liker)
    ids = [world.video_ids[c] for c in (POPULAR, "erin 0", "erin 1")]
    viewer = "carol"
    cursors = [await first_page(world, LIKERS, {"id": i}, viewer) for i in ids]
    alone = [
        (await world.ok(LIKERS, {"id": i, "first": 1, "after": c}, as_=viewer))["video"]
        for i, c in zip(ids, cursors, strict=True)
    ]
    parts = " ".join(
        f"v{n}: video(id: $v{n}) {{ likers(first: 1, after: $c{n}) {{"
        " edges { cursor node { handle } } pageInfo { hasNextPage endCursor } } }"
        for n in range(len(ids))
    )
    declared = ", ".join(f"$v{n}: ID!, $c{n}: String!" for n in range(len(ids)))
    variables = {f"v{n}": i for n, i in enumerate(ids)} | {
        f"c{n}": c for n, c in enumerate(cursors)
    }
    batched = await world.ok(f"query({declared}) {{ {parts} }}", variables, as_=viewer)
    assert [batched[f"v{n}"] for n in range(len(ids))] == alone


# -- no cache outlives its request ------------------------------------------------------------


async def test_a_block_shows_in_the_very_next_read(world: World) -> None:
    before = await world.video(POPULAR, as_="erin")
    assert before is not None
    assert await world.must("block", "erin", as_="alice") is True
    assert await world.video(POPULAR, as_="erin") is None
    assert await world.likers(POPULAR, as_="alice") == ["bob"]
    assert await world.account("alice", as_="erin") is None
    assert await world.must("unblock", "erin", as_="alice") is True
    # The block took erin's like of alice's video away (rule 11); the unblock restores none.
    assert await world.likers(POPULAR, as_="alice") == ["bob"]
    assert await world.video(POPULAR, as_="erin") == await world.video(POPULAR, as_="anon")


async def test_an_unfollow_shows_in_the_very_next_read(world: World) -> None:
    assert await world.likers(BOB_CLIP, as_="alice") == ["alice"]
    assert await world.likers(POPULAR, as_="alice") == ["erin", "bob"]
    assert await world.must("unfollow", "bob", as_="alice") == "NONE"
    assert await world.video(BOB_CLIP, as_="alice") is None
    assert await world.likers(POPULAR, as_="alice") == ["erin"]


async def test_a_privacy_change_shows_in_the_very_next_read(world: World) -> None:
    assert await world.likers(POPULAR, as_="anon") == ["erin"]
    await world.set_privacy(True, as_="erin")
    assert await world.likers(POPULAR, as_="anon") == []
    assert await world.likers(POPULAR, as_="erin") == ["erin"]
    await world.set_privacy(False, as_="erin")
    assert await world.likers(POPULAR, as_="anon") == ["erin"]


async def test_a_mutation_after_a_block_in_the_same_document_sees_the_block(world: World) -> None:
    """In one document erin likes POPULAR (so the request has loaded it), blocks its
    author alice, then unlikes it: NOT_FOUND, and the block took her like (rule 11)."""
    liked = await world.like(POPULAR, as_="erin", unlike=False)
    assert liked["data"]["likeVideo"] == {"likeCount": 4, "viewerHasLiked": True}
    result = await world(
        "mutation($id: ID!) { l: likeVideo(videoId: $id) { likeCount }"
        ' b: block(handle: "alice") u: unlikeVideo(videoId: $id) { likeCount } }',
        {"id": world.video_ids[POPULAR]},
        as_="erin",
    )
    assert error_codes(result) == ["NOT_FOUND"]
    after = await world.video(POPULAR, as_="bob")
    assert after is not None and after["likeCount"] == 3


# -- hidden and missing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "query($id: ID!) { video(id: $id) { id caption likeCount } }",
        "query($id: ID!) { node(id: $id) { id ... on Video { caption } } }",
        "query($id: ID!) { a: video(id: $id) { id } b: node(id: $id) { id } }",
        "mutation($id: ID!) { likeVideo(videoId: $id) { id } }",
        "mutation($id: ID!) { unlikeVideo(videoId: $id) { id } }",
    ],
)
async def test_a_hidden_video_and_a_missing_one_give_byte_identical_answers(
    world: World, query: str
) -> None:
    """BOB_CLIP is hidden from carol (pending), dora (removed) and erin (stranger);
    POPULAR from mallory (blocked pair). Each sees exactly what a missing ID gives."""
    for viewer, caption in (
        ("carol", BOB_CLIP),
        ("dora", BOB_CLIP),
        ("erin", BOB_CLIP),
        ("mallory", POPULAR),
        ("mallory", FIRST_STEPS),
    ):
        hidden = await world.gql.raw(query, {"id": world.video_ids[caption]}, as_=viewer)
        missing = await world.gql.raw(query, {"id": MISSING_VIDEO}, as_=viewer)
        assert hidden.status_code == missing.status_code
        assert hidden.content == missing.content, (viewer, caption)


async def test_odd_ids_are_bad_user_input_or_null_never_internal(world: World) -> None:
    odd = [
        encode_id(Kind.VIDEO, 2**31),
        encode_id(Kind.VIDEO, 0),
        base64.urlsafe_b64encode(b"Video:-1").decode(),
        base64.urlsafe_b64encode(b"Video:1e3").decode(),
        base64.urlsafe_b64encode(b"Like:1").decode(),
        base64.urlsafe_b64encode(b"Video:\xff").decode(),
        "",
        "%%%",
        "A" * 10_000,
    ]
    for global_id in odd:
        result = await world(
            "query($id: ID!) { video(id: $id) { id } node(id: $id) { id } }",
            {"id": global_id},
            as_="erin",
        )
        assert set(error_codes(result)) <= {"BAD_USER_INPUT"}, (global_id, result)
        assert result["data"] == {"video": None, "node": None}
    # An account's ID is no video: video(id:) gives null, node(id:) the account.
    data = await world.ok(
        "query($id: ID!) { video(id: $id) { id } node(id: $id) { id } }",
        {"id": world.account_ids["erin"]},
        as_="erin",
    )
    assert data == {"video": None, "node": {"id": world.account_ids["erin"]}}
