"""The limits a document meets before it runs: nodes, depth, aliases, repeated fields.

Validation must stay linear in the document whatever its fragments. Nothing here times
anything: the work of a validation is the number of Python function calls it makes,
counted with a profile hook, for documents of growing size N.
"""

from __future__ import annotations

import functools
import itertools
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import httpx
import pytest
from graphql import parse, specified_rules

from api.app import create_app
from api.limits import MAX_OVERLAPS, MAX_SELECTIONS, NodeCounts
from api.schema import schema, validated
from api.settings import Settings, SettingsError, load_settings
from tests.conftest import SECRET, Gql, error_codes
from tests.test_query_count import counting_statements
from tests.world import POPULAR, World

SIZES = (5, 10, 20, 40)
RULES = tuple(specified_rules)


class TooMuchWork(Exception):
    """Raised from the profile hook: an exponential walk fails the test instead of hanging."""


def calls(work: Callable[[], Any], budget: int = 2_000_000) -> int:
    count = 0

    def profile(_frame: FrameType, event: str, _arg: Any) -> None:
        nonlocal count
        if event == "call":
            count += 1
            if count > budget:
                raise TooMuchWork

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


def validation_calls(document: str) -> int:
    parsed = parse(document)
    return calls(lambda: validated(schema._schema, parsed, RULES))


def assert_linear(work: list[int]) -> None:
    """Each doubling of N at most doubles the work, give or take: 2^N paths would multiply
    it by 2^N, pairs of fields by 4."""
    for smaller, larger in itertools.pairwise(work):
        assert larger <= 2.5 * smaller, work


def doubling_chain(n: int) -> str:
    """Issue 9's document: each fragment spreads the next one twice (2^n paths)."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n))
    return f"{{ ...F0 }} {chain} fragment F{n} on Query {{ viewer {{ handle }} }}"


def single_chain(n: int) -> str:
    """A valid chain: each fragment spreads the next once, all the way to one field."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(n))
    return f"{{ ...F0 }} {chain} fragment F{n} on Query {{ viewer {{ handle }} }}"


def test_validating_a_doubling_fragment_chain_is_linear_in_its_length() -> None:
    work = [validation_calls(doubling_chain(n)) for n in SIZES]
    assert_linear(work)


def test_a_doubling_fragment_chain_is_refused_for_its_expanded_size() -> None:
    n = 20
    # F{n} selects `viewer` and `handle`; each fragment above, its two spreads and twice
    # the one below; the operation, its spread and F0.
    selections = 2
    for _ in range(n):
        selections = 2 + 2 * selections
    selections += 1
    errors = validated(schema._schema, parse(doubling_chain(n)), RULES)
    assert [e.message for e in errors] == [
        f"The operation selects {selections:,} fields and fragments once its fragments"
        f" are expanded; the maximum is {MAX_SELECTIONS:,}."
    ]


def test_a_doubling_chain_closed_into_a_cycle_is_refused_in_linear_work() -> None:
    def cycle(n: int) -> str:
        return doubling_chain(n).replace("{ viewer { handle } }", "{ ...F0 viewer { handle } }")

    errors = validated(schema._schema, parse(cycle(20)), RULES)
    assert errors and all("within itself" in e.message for e in errors)
    assert_linear([validation_calls(cycle(n)) for n in SIZES])


def test_validating_a_valid_fragment_chain_is_linear_and_passes() -> None:
    assert validated(schema._schema, parse(single_chain(40)), RULES) == []
    assert_linear([validation_calls(single_chain(n)) for n in SIZES])


def copies(n: int, field: str = "viewer { handle }") -> str:
    return "{ " + " ".join(field for _ in range(n)) + " }"


def test_repeating_one_field_costs_linear_work_and_is_refused_past_the_limit() -> None:
    # graphql-core compares every pair of same-named fields: 600 copies took it 2.7 s.
    # n copies of `viewer { handle }` make n(n-1)/2 pairs of `viewer`, as many of `handle`.
    within = max(n for n in range(100) if n * (n - 1) <= MAX_OVERLAPS)
    assert validated(schema._schema, parse(copies(within)), RULES) == []
    (error,) = validated(schema._schema, parse(copies(within + 1)), RULES)
    pairs = (within + 1) * within
    assert error.message == (
        f"Fields selected more than once at the same place make {pairs:,} pairs to compare"
        f" (`viewer` alone is selected {within + 1} times); the maximum is"
        f" {MAX_OVERLAPS:,} pairs."
    )
    assert_linear([validation_calls(copies(n)) for n in (100, 200, 400, 800)])


def test_repeats_under_repeated_parents_are_counted_where_they_merge() -> None:
    # Each `viewer` holds 7 `videos`, no more than one place of the document repeats a
    # field 7 times; but the response merges all 210 `viewer.videos` (1.7 s of pairs).
    videos = " ".join("videos(first: 1) { edges { cursor } }" for _ in range(7))
    (error,) = validated(schema._schema, parse(copies(30, f"viewer {{ {videos} }}")), RULES)
    assert "(`viewer.videos` alone is selected 210 times)" in error.message
    assert_linear([validation_calls(copies(n, f"viewer {{ {videos} }}")) for n in (5, 10, 20, 40)])


def test_counting_nodes_visits_each_fragment_once() -> None:
    def chain(n: int) -> str:
        links = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n))
        leaf = "viewer { videos(first: 2) { edges { cursor } } }"
        return f"{{ ...F0 }} {links} fragment F{n} on Query {{ {leaf} }}"

    def count(n: int) -> None:
        nodes = NodeCounts(size=1).count(schema._schema, parse(chain(n)), chain(n), None, None)
        assert nodes == 2 * 2**n  # every path counts: the worst case is honest

    assert_linear([calls(functools.partial(count, n)) for n in SIZES])


# -- through HTTP ------------------------------------------------------------------------

FEED = """
query Feed($videos: Int, $likers: Int) {
  account(handle: "alice") {
    videos(first: $videos) { edges { node { caption likers(first: $likers) {
      edges { node { handle } } } } } }
  }
}
"""


async def test_an_ordinary_feed_of_50_videos_and_10_likers_each_is_allowed(world: World) -> None:
    data = await world.gql.ok(FEED, {"videos": 50, "likers": 10}, as_="bob")
    captions = [e["node"]["caption"] for e in data["account"]["videos"]["edges"]]
    assert POPULAR in captions


async def test_nodes_over_the_limit_are_refused_with_the_figure_and_the_limit(
    world: World,
) -> None:
    # 100 videos + 100 x 100 likers = 10,100 nodes; 100 + 100 x 99 = 10,000 is the limit.
    assert "errors" not in await world.gql(FEED, {"videos": 100, "likers": 99}, as_="bob")
    response = await world.gql.raw(FEED, {"videos": 100, "likers": 100}, as_="bob")
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert body["errors"][0]["message"] == (
        "This query could return up to 10,100 nodes; the maximum is 10,000."
        " Ask for fewer items with `first`."
    )
    # Counts are kept by the values of the variables `first` uses: not by the text alone.
    assert "errors" not in await world.gql(FEED, {"videos": 100, "likers": 99}, as_="bob")


async def test_a_connection_without_first_counts_its_default_page(world: World) -> None:
    # Omitted variables leave `first` to its default: 20 + 20 x 20 = 420 nodes, allowed;
    # 100 videos with default likers pages are 100 + 100 x 20 = 2,100.
    assert "errors" not in await world.gql(FEED, {}, as_="bob")
    deep = (
        '{ account(handle: "alice") { videos(first: 100) { edges { node {'
        + " ".join(f"l{i}: likers {{ edges {{ cursor }} }}" for i in range(5))
        + " } } } } }"
    )
    # 100 + 100 x (5 x 20) = 10,100: the default of 20 is counted for each likers list.
    result = await world.gql(deep, as_="bob")
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "10,100 nodes" in result["errors"][0]["message"]


DEFAULTED = """
query($n: Int = 100) { account(handle: "alice") { videos(first: $n) { edges { node {
  likers(first: $n) { edges { node { likes(first: $n) { edges { cursor } } } } } } } } } }
"""


@pytest.mark.parametrize("first", [{"n": None}, {}], ids=["null first", "left out first"])
async def test_a_variable_left_out_and_one_sent_as_null_are_counted_apart(
    world: World, first: dict[str, None]
) -> None:
    """Left out, `$n` takes its default of 100 (1,010,100 nodes); sent as null, it asks
    for the default page of 20 (8,420). A count kept for one once served the other, so
    that sending null first let the defaulted query through."""
    second = {} if first else {"n": None}
    answers = [
        await world.gql.raw(DEFAULTED, variables, as_="bob") for variables in (first, second)
    ]
    by_variables = {bool(v): a for v, a in zip((first, second), answers, strict=True)}
    assert by_variables[True].status_code == 200, by_variables[True].text  # null: 8,420
    refused = by_variables[False]
    assert refused.status_code == 400
    assert "1,010,100 nodes" in refused.json()["errors"][0]["message"]


LOG_IN_ALICE = 'logIn(handle: "alice", password: "password123") { token }'
SIGN_UP = 'signUp(handle: "{0}", password: "password123") {{ token }}'


@pytest.mark.parametrize(
    "document",
    [
        f"mutation {{ a: {LOG_IN_ALICE} b: {LOG_IN_ALICE} }}",
        "mutation { ...Two } fragment Two on Mutation {"
        f" a: {SIGN_UP.format('ann')} ... on Mutation {{ b: {SIGN_UP.format('ben')} }} }}",
        f'mutation {{ {LOG_IN_ALICE} deleteAccount(password: "password123") }}',
    ],
    ids=["two aliased logIns", "two signUps through fragments", "logIn and deleteAccount"],
)
async def test_a_document_runs_at_most_one_mutation_that_hashes_a_password(
    world: World, document: str
) -> None:
    """Each checks or hashes a password with argon2 (about 0.1 s of CPU): 30 aliased
    signUps held one request for 4 to 7 s. Refused before any field runs."""
    with counting_statements() as counter:
        response = await world.gql.raw(document, as_="alice")
    body = response.json()
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"], body
    assert "data" not in body
    assert "runs 2 of changePassword, deleteAccount, logIn, signUp" in body["errors"][0]["message"]
    # Only the token's session may have been looked up: no field ran.
    assert [s for s in counter.statements if "FROM account_session" not in s] == []
    assert await world.account("ann", as_="anon") is None  # no account was made


async def test_one_password_mutation_with_other_fields_runs(world: World) -> None:
    document = f'mutation {{ {LOG_IN_ALICE} follow(handle: "erin") }}'
    data = await world.gql.ok(document, as_="alice")
    assert data["follow"] == "APPROVED" and data["logIn"]["token"]


async def test_thirty_aliases_of_nested_pages_of_100_are_refused_before_anything_runs(
    world: World,
) -> None:
    nested = (
        'account(handle: "alice") { videos(first: 100) { edges { node { author {'
        " videos(first: 100) { edges { node { caption } } } } } } } }"
    )
    document = "{ " + " ".join(f"a{i}: {nested}" for i in range(30)) + " }"
    with counting_statements() as counter:
        response = await world.gql.raw(document, as_="bob")
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "303,000 nodes" in body["errors"][0]["message"]  # 30 x (100 + 100 x 100)
    assert counter.statements == []  # refused before any field ran


async def test_the_node_limit_follows_the_setting(database_url: str, world: World) -> None:
    settings = Settings(database_url=database_url, secret=SECRET, token_ttl=3600, max_nodes=549)
    transport = httpx.ASGITransport(app=create_app(settings, apply_migrations=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        strict = Gql(http)
        strict.tokens = world.gql.tokens
        result = await strict(FEED, {"videos": 50, "likers": 10}, as_="bob")
        assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
        assert "550 nodes; the maximum is 549." in result["errors"][0]["message"]
        assert "errors" not in await strict(FEED, {"videos": 49, "likers": 10}, as_="bob")


@pytest.mark.parametrize("value", ["0", "-5", "many", "1.5"])
def test_a_node_limit_that_is_not_a_positive_whole_number_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LIKEGRAPH_SECRET", SECRET)
    monkeypatch.setenv("LIKEGRAPH_MAX_NODES", value)
    with pytest.raises(SettingsError, match="LIKEGRAPH_MAX_NODES"):
        load_settings(env_file=None)


def test_the_node_limit_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIKEGRAPH_SECRET", SECRET)
    monkeypatch.setenv("LIKEGRAPH_MAX_NODES", "500")
    assert load_settings(env_file=None).max_nodes == 500
    monkeypatch.delenv("LIKEGRAPH_MAX_NODES")
    assert load_settings(env_file=None).max_nodes == 10_000
