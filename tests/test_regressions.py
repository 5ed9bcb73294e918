"""One fixed test per bug the privacy suite found (stateful, policy-pair and adversarial
tests), named after the bug, so that each stays fixed even if those searches stop
reaching it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Gql, GqlResult, error_codes


async def post_escaped(gql: Gql, query: str, variables: dict[str, Any]) -> GqlResult:
    """Posts JSON with every non-ASCII character escaped, as a client may: `\\ud800` is
    valid JSON, yet decodes to a lone surrogate, a str with no UTF-8 form."""
    body = json.dumps({"query": query, "variables": variables})
    response = await gql.client.post(
        "/graphql",
        content=body.encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {gql.tokens['alice']}",
        },
    )
    result: GqlResult = response.json()
    return result


CREATE_VIDEO = "mutation($t: String!) { createVideo(caption: $t) { caption } }"
SIGN_UP_NAMED = (
    'mutation($t: String) { signUp(handle: "bobby", password: "password123",'
    " displayName: $t) { account { handle } } }"
)


@pytest.mark.parametrize("query", [CREATE_VIDEO, SIGN_UP_NAMED], ids=["caption", "displayName"])
async def test_bug_a_nul_in_a_caption_or_display_name_was_internal_on_postgresql(
    gql: Gql, query: str
) -> None:
    """PostgreSQL text refuses NUL: the insert failed and the answer was INTERNAL, while
    SQLite stored it. Both engines now refuse it as input."""
    await gql.sign_up("alice")
    result = await post_escaped(gql, query, {"t": "before\x00after"})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["data"] is None


@pytest.mark.parametrize("query", [CREATE_VIDEO, SIGN_UP_NAMED], ids=["caption", "displayName"])
async def test_bug_a_lone_surrogate_in_a_caption_or_display_name_was_internal(
    gql: Gql, query: str
) -> None:
    """Encoding the text for the database raised UnicodeEncodeError: INTERNAL on both engines."""
    await gql.sign_up("alice")
    result = await post_escaped(gql, query, {"t": "half a pair \ud83d"})
    assert error_codes(result) == ["BAD_USER_INPUT"]


async def test_bug_a_lone_surrogate_password_was_internal_at_sign_up_and_log_in(
    gql: Gql,
) -> None:
    """argon2 encodes the password as UTF-8 and raised: signUp now refuses it as input, and
    logIn answers it as the wrong password it is (the same error for any handle)."""
    await gql.sign_up("alice")
    sign_up = await post_escaped(
        gql,
        'mutation($p: String!) { signUp(handle: "bobby", password: $p) { token } }',
        {"p": "password\udc00"},
    )
    assert error_codes(sign_up) == ["BAD_USER_INPUT"]
    for handle in ("alice", "nobody"):
        log_in = await post_escaped(
            gql,
            "mutation($h: String!, $p: String!) { logIn(handle: $h, password: $p) { token } }",
            {"h": handle, "p": "password\udc00"},
        )
        assert error_codes(log_in) == ["UNAUTHENTICATED"]


async def test_bug_the_kelvin_sign_was_accepted_as_the_ascii_k_of_a_handle(gql: Gql) -> None:
    """`"\\u212aate".lower()` is "kate": a handle outside a-z passed the check made after
    lower-casing, and signed up as "kate"."""
    result = await gql(
        'mutation($h: String!) { signUp(handle: $h, password: "password123") { token } }',
        {"h": "\u212aate"},
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert await gql.ok('query { account(handle: "kate") { handle } }') == {"account": None}


@pytest.mark.parametrize(
    "query",
    [
        "query($d: AudienceDimension!) { viewer { insights { audience(dimension: $d) { key } } } }",
        'mutation($d: [AppScope!]!) { createAppToken(name: "x", scopes: $d) { token } }',
    ],
    ids=["audience dimension", "app scopes"],
)
async def test_bug_a_lone_surrogate_enum_variable_was_a_plain_text_500(
    gql: Gql, query: str
) -> None:
    """graphql-core quotes a refused enum value in its message; orjson cannot write a
    lone surrogate, and the answer was `500 Internal Server Error` in plain text."""

    async def post(value: str) -> httpx.Response:
        body = json.dumps({"query": query, "variables": {"d": value}})
        headers = {"Content-Type": "application/json"}
        return await gql.client.post("/graphql", content=body.encode(), headers=headers)

    response, control = await post("\ud800"), await post("NOPE")
    assert response.status_code == control.status_code, response.text  # as any bad value
    assert error_codes(response.json()) == error_codes(control.json()) == ["BAD_USER_INPUT"]
    assert "\\ud800" in response.text  # the value as the client sent it, escaped
