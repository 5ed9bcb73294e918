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

from api.ids import decode_id
from auth.tokens import issue_token
from tests.conftest import SECRET, Gql, error_codes
from tests.world import BOB_CLIP, FIRST_STEPS, POPULAR, World

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


# -- tokens -----------------------------------------------------------------------------------


def forged_tokens(alice_id: int) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": str(alice_id), "iss": "likegraph", "iat": now, "exp": now + 3600}
    other_secret = "another-secret-of-the-same-length-01234567"
    header, payload, signature = issue_token(SECRET, 3600).split(".")
    bob_claims = dict(claims, sub=str(alice_id + 1))
    return {
        "signed with another key": jwt.encode(claims, other_secret, algorithm="HS256"),
        "unsigned (alg none)": jwt.encode(claims, key=None, algorithm="none"),
        "expired": issue_token(SECRET, 60, now=now - 3600),
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


# -- cursors and page sizes ------------------------------------------------------------------------


async def first_page(world: World, query: str, variables: dict[str, Any], as_: str) -> str:
    """The endCursor of a one-item first page (the list must have a second item)."""
    data = await world.ok(query, {**variables, "first": 1}, as_=as_)
    (connection,) = [v for v in next(iter(data.values())).values()]
    assert connection["pageInfo"]["hasNextPage"] is True
    cursor: str = connection["pageInfo"]["endCursor"]
    return cursor


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
