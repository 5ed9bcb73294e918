"""The HTTP surface of contract section 2: credentials, methods, limits, health, errors."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tortoise import Tortoise
from tortoise.exceptions import OperationalError

from api import db, queries
from api.errors import INTERNAL_MESSAGE
from api.http import GRAPHQL_RESPONSE, MAX_BODY_BYTES, negotiate
from api.ids import Kind, decode_id
from api.limits import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from auth.sessions import start_session
from auth.tokens import issue_token
from tests.conftest import ENGINE, SECRET, Gql, error_codes

VIEWER = "{ viewer { handle } }"
FORGER_SECRET = "not-the-server-secret-but-long-enough-for-hs256"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE}


def _account_pk(global_id: str) -> int:
    kind, pk = decode_id(global_id)
    assert kind is Kind.ACCOUNT
    return pk


async def _bad_credentials(gql: Gql) -> dict[str, str]:
    """Each way an Authorization header can be wrong, for a real, existing account."""
    await gql.sign_up("alice")
    return {
        "forged signature": f"Bearer {issue_token(FORGER_SECRET, 3600)}",
        "expired token": f"Bearer {issue_token(SECRET, 60, now=time.time() - 3600)}",
        "garbage": "Bearer this-is-not-a-token",
        "another scheme": "Basic YWxpY2U6cGFzc3dvcmQxMjM=",
        "empty bearer token": "Bearer ",
        "scheme alone": "Bearer",
    }


@pytest.mark.parametrize(
    "case",
    [
        "forged signature",
        "expired token",
        "garbage",
        "another scheme",
        "empty bearer token",
        "scheme alone",
    ],
)
async def test_a_bad_authorization_header_is_401_unauthenticated_with_no_data(
    gql: Gql, case: str
) -> None:
    header = (await _bad_credentials(gql))[case]
    response = await gql.raw(VIEWER, headers={"Authorization": header})

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert "data" not in body
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"]


async def test_a_bad_token_is_refused_even_for_a_mutation_that_needs_no_viewer(
    gql: Gql,
) -> None:
    response = await gql.raw(
        'mutation { signUp(handle: "mallory", password: "password123") { token } }',
        headers={"Authorization": "Bearer forged"},
    )
    assert response.status_code == 401
    # Nothing ran: the handle is still free.
    data = await gql.ok('{ account(handle: "mallory") { handle } }')
    assert data == {"account": None}


async def test_no_authorization_header_is_the_anonymous_viewer(gql: Gql) -> None:
    response = await gql.raw(VIEWER)
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_a_valid_bearer_token_names_its_account(gql: Gql) -> None:
    await gql.sign_up("alice")
    assert await gql.ok(VIEWER, as_="alice") == {"viewer": {"handle": "alice"}}


async def test_a_token_accepted_before_is_refused_once_it_expires(
    gql: Gql, monkeypatch: pytest.MonkeyPatch
) -> None:
    # auth/tokens.py remembers tokens that passed verification: expiry is still checked.
    now = time.time()
    alice = _account_pk(await gql.sign_up("alice"))
    header = {"Authorization": f"Bearer {await start_session(alice, SECRET, 60, now=now)}"}
    accepted = await gql.raw(VIEWER, headers=header)
    assert accepted.json() == {"data": {"viewer": {"handle": "alice"}}}

    monkeypatch.setattr("auth.tokens.time.time", lambda: now + 60)
    refused = await gql.raw(VIEWER, headers=header)
    assert refused.status_code == 401
    assert error_codes(refused.json()) == ["UNAUTHENTICATED"]


async def test_a_query_can_be_sent_with_get(client: httpx.AsyncClient, gql: Gql) -> None:
    await gql.sign_up("alice")
    response = await client.get(
        "/graphql",
        params={
            "query": "query($h: String!) { account(handle: $h) { handle } }",
            "variables": json.dumps({"h": "alice"}),
        },
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"account": {"handle": "alice"}}}


async def test_a_mutation_sent_with_get_is_405_and_does_not_run(
    client: httpx.AsyncClient, gql: Gql
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": 'mutation { signUp(handle: "alice", password: "password123") { token } }'},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "data" not in response.json()
    assert await gql.ok('{ account(handle: "alice") { handle } }') == {"account": None}


def _padded_body(size: int) -> bytes:
    """A valid GraphQL request of exactly `size` bytes (the padding is a comment)."""
    head, tail = b'{"query": "{ viewer { handle } } #', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


async def test_a_body_at_the_size_limit_is_served(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=_padded_body(MAX_BODY_BYTES), headers=JSON_HEADERS
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_a_body_over_the_size_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=_padded_body(MAX_BODY_BYTES + 1), headers=JSON_HEADERS
    )
    assert response.status_code == 413
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_a_streamed_body_over_the_size_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the limit must hold while the body is read.
        body = _padded_body(MAX_BODY_BYTES + 1)
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await client.post("/graphql", content=chunks(), headers=JSON_HEADERS)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_a_body_that_is_not_utf8_json_is_415(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": VIEWER}),
        headers={"Content-Type": content_type, "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 415
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b"{not json", headers=JSON_HEADERS)
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


DEEP = 100_000  # levels of nesting: json's decoder recurses once per level


async def test_a_body_nested_too_deeply_is_400_not_500(client: httpx.AsyncClient) -> None:
    body = b'{"query": "{ viewer { handle } }", "variables": {"x": ' + b"[" * DEEP
    body += b"]" * DEEP + b"}}"
    response = await client.post("/graphql", content=body, headers=JSON_HEADERS)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"message": "The JSON is nested too deeply.", "extensions": {"code": "BAD_USER_INPUT"}}
        ]
    }


async def test_variables_nested_too_deeply_in_a_get_are_400(client: httpx.AsyncClient) -> None:
    deep = 5_000  # fits in a URL, and is still five times the interpreter's recursion limit
    response = await client.get(
        "/graphql",
        params={"query": "{ viewer { handle } }", "variables": "[" * deep + "]" * deep},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


SIGN_UP_THEN_READ = (
    'mutation M { signUp(handle: "alice", password: "password123") { token } }'
    ' query Q { account(handle: "alice") { handle } }'
)
SEVERAL_OPERATIONS = (
    "The document holds several operations: name the one to run in `operationName`."
)


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_several_operations_without_a_name_run_none_of_them(
    client: httpx.AsyncClient, gql: Gql, accept: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": SIGN_UP_THEN_READ}, headers={"Accept": accept}
    )
    # A request error: 400 with the GraphQL media type, 200 for legacy JSON clients.
    assert response.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)
    assert response.json() == {
        "errors": [{"message": SEVERAL_OPERATIONS, "extensions": {"code": "BAD_USER_INPUT"}}]
    }
    # The mutation, first in the document, did not run.
    assert await gql.ok('{ account(handle: "alice") { handle } }') == {"account": None}
    named = await client.post(
        "/graphql",
        json={"query": SIGN_UP_THEN_READ, "operationName": "M"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert "token" in named.json()["data"]["signUp"]


@pytest.mark.parametrize(
    "query", [SIGN_UP_THEN_READ, "query A { __typename } query B { viewer { handle } }"]
)
async def test_several_operations_without_a_name_in_a_get_are_a_request_error(
    client: httpx.AsyncClient, gql: Gql, query: str
) -> None:
    # Not a 405 for the mutation that comes first: no operation was chosen at all.
    response = await client.get(
        "/graphql", params={"query": query}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == SEVERAL_OPERATIONS
    assert "data" not in response.json()
    assert await gql.ok('{ account(handle: "alice") { handle } }') == {"account": None}


async def test_two_authorization_headers_are_401_even_when_both_are_valid(
    client: httpx.AsyncClient, gql: Gql
) -> None:
    await gql.sign_up("alice")
    await gql.sign_up("bob")
    for second in ("alice", "bob"):
        response = await client.post(
            "/graphql",
            json={"query": VIEWER},
            headers=[
                ("Accept", GRAPHQL_RESPONSE),
                ("Authorization", f"Bearer {gql.tokens['alice']}"),
                ("Authorization", f"Bearer {gql.tokens[second]}"),
            ],
        )
        assert response.status_code == 401
        body = response.json()
        assert "data" not in body
        assert error_codes(body) == ["UNAUTHENTICATED"]
    one = await gql.ok(VIEWER, as_="bob")
    assert one == {"viewer": {"handle": "bob"}}


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
        ("text/html, */*;q=0.8", "application/json"),
        (f"*/*, {GRAPHQL_RESPONSE};q=0", "application/json"),
        ("text/plain", None),
        ("application/json;q=0", None),
    ],
)
def test_the_response_media_type_follows_the_accept_header(
    accept: str, media_type: str | None
) -> None:
    assert negotiate(accept) == media_type


async def test_an_unacceptable_accept_header_is_406(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Accept": "text/plain"}
    )
    assert response.status_code == 406


async def test_responses_are_utf8_in_the_negotiated_media_type(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": VIEWER}, headers=JSON_HEADERS)
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"


async def test_healthz_is_200_while_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_healthz_is_503_when_the_database_does_not_answer(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await Tortoise.close_connections()
    if ENGINE == "postgres":
        # The server answers, but the database the app is configured for is gone.
        await db.connect(database_url.rsplit("/", 1)[0] + "/likegraph_no_such_database")
        response = await client.get("/healthz")
    else:
        # A SQLite file that cannot be opened: aiosqlite's worker thread would outlive
        # the test's event loop, so the failure is raised where the app meets it.
        class Unreachable:
            async def execute_query(self, *_: Any) -> None:
                raise OperationalError("unable to open database file")

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(db, "conn", Unreachable)
            response = await client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


async def test_an_unexpected_resolver_failure_is_masked_as_internal(
    gql: Gql, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_lookup(*_: Any) -> None:
        # A real database error, whose message carries SQL and table names.
        await db.conn().execute_query("SELECT secret FROM no_such_table")

    monkeypatch.setattr(queries, "visible_account", failing_lookup)
    response = await gql.raw('{ account(handle: "alice") { handle } }')

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"account": None}
    assert body["errors"] == [
        {
            "message": INTERNAL_MESSAGE,
            "locations": [{"line": 1, "column": 3}],
            "path": ["account"],
            "extensions": {"code": "INTERNAL"},
        }
    ]


async def test_a_failure_outside_graphql_execution_is_masked_as_internal(
    gql: Gql, monkeypatch: pytest.MonkeyPatch
) -> None:
    class BrokenSchema:
        async def execute(self, *_: Any, **__: Any) -> None:
            raise RuntimeError("connection to /srv/db.sqlite3 lost in SELECT * FROM account")

    monkeypatch.setattr("api.http.schema", BrokenSchema())
    response = await gql.raw(VIEWER)

    assert response.status_code == 500
    assert response.json() == {
        "errors": [{"message": INTERNAL_MESSAGE, "extensions": {"code": "INTERNAL"}}]
    }


async def test_a_document_that_does_not_parse_is_graphql_parse_failed(gql: Gql) -> None:
    response = await gql.raw("{ viewer { handle ")
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert error_codes(body) == ["GRAPHQL_PARSE_FAILED"]


async def test_a_document_that_does_not_validate_is_graphql_validation_failed(
    gql: Gql,
) -> None:
    response = await gql.raw("{ viewer { passwordHash } }")
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_request_errors_are_200_for_legacy_application_json_clients(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ nope }"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert error_codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


# The depth limiter counts a top-level field as depth 0, so a leaf sits at the number
# of selection sets around it minus the operation's own.
DEPTH_9 = (
    "{ viewer { videos(first: 1) { edges { node { author {"
    " videos(first: 1) { edges { node { author { handle } } } } } } } } } }"
)
DEPTH_11 = (
    "{ viewer { videos(first: 1) { edges { node { author {"
    " videos(first: 1) { edges { node { author {"
    " videos(first: 1) { edges { cursor } } } } } } } } } } } }"
)


def _depth(document: str) -> int:
    nesting = deepest = 0
    for char in document:
        nesting += {"{": 1, "}": -1}.get(char, 0)
        deepest = max(deepest, nesting)
    return deepest - 1


async def test_a_query_deeper_than_the_limit_is_a_validation_error(gql: Gql) -> None:
    assert _depth(DEPTH_11) == MAX_DEPTH + 1
    response = await gql.raw(DEPTH_11)
    assert response.status_code == 400
    assert error_codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    # It names the limit, not the operation: "'anonymous' exceeds..." read as "log in".
    assert response.json()["errors"][0]["message"] == (
        f"Fields are nested {MAX_DEPTH + 1} levels deep; the maximum depth is {MAX_DEPTH}."
    )


async def test_a_query_within_the_depth_limit_runs(gql: Gql) -> None:
    assert _depth(DEPTH_9) == MAX_DEPTH - 1
    assert await gql.ok(DEPTH_9) == {"viewer": None}


async def test_more_aliases_than_the_limit_is_a_validation_error(gql: Gql) -> None:
    def aliases(count: int) -> str:
        return "{ " + " ".join(f"a{i}: viewer {{ handle }}" for i in range(count)) + " }"

    assert "errors" not in await gql(aliases(MAX_ALIASES))
    result = await gql(aliases(MAX_ALIASES + 1))
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in result["errors"][0]["message"]


def _operations(count: int) -> str:
    """A valid document of 5 * count tokens whose validation stays small: operations are
    validated one by one (side-by-side fragments would be compared pairwise)."""
    return " ".join(f"query q{i} {{ __typename }}" for i in range(count))


async def test_a_document_over_the_token_limit_is_refused_unparsed(
    client: httpx.AsyncClient,
) -> None:
    async def post(document: str) -> httpx.Response:
        return await client.post(
            "/graphql",
            json={"query": document, "operationName": "q0"},
            headers={"Accept": GRAPHQL_RESPONSE},
        )

    # The parser stops counting at the limit, before the document exists: a parse failure.
    within = MAX_TOKENS // 5
    assert (await post(_operations(within))).json() == {"data": {"__typename": "Query"}}
    response = await post(_operations(within + 1))
    assert response.status_code == 400
    assert error_codes(response.json()) == ["GRAPHQL_PARSE_FAILED"]
    assert "tokens" in response.json()["errors"][0]["message"]


async def test_an_operation_name_that_names_no_operation_is_bad_user_input(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "query A { __typename } query B { __typename }", "operationName": "C"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert error_codes(body) == ["BAD_USER_INPUT"]
