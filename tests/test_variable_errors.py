"""Variables the request got wrong are BAD_USER_INPUT, never INTERNAL (contract section 3).

graphql-core 3.3 wraps the value's own error as `original_error` of the variable error;
these were once masked to INTERNAL (found by following the README's GraphiQL walk-through
with an empty Variables tab).
"""

from __future__ import annotations

from tests.conftest import Gql, error_codes

VIDEO = "query($id: ID!) { video(id: $id) { likeCount } }"
VIDEOS = 'query($n: Int) { account(handle: "alice") { videos(first: $n) { edges { cursor } } } }'


async def test_a_missing_required_variable_is_bad_user_input(gql: Gql) -> None:
    result = await gql(VIDEO, {})

    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "$id" in result["errors"][0]["message"]
    assert result.get("data") is None


async def test_a_variable_of_the_wrong_type_is_bad_user_input(gql: Gql) -> None:
    await gql.sign_up("alice")

    result = await gql(VIDEOS, {"n": "ten"}, as_="alice")

    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "$n" in result["errors"][0]["message"]
    assert result.get("data") is None
