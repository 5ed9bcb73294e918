"""App tokens (CONTRACT section 7, rule 17): made and revoked by their account, read like
the anonymous viewer plus their owner's `viewer` and insights, and never an identity."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
)

from api import app_token_mutations
from api.app import create_app
from api.ids import Kind, encode_id
from api.schema import schema
from api.settings import Settings
from auth import app_tokens, sessions
from auth.policy import can_read_insights
from auth.viewer import Viewer
from models.sql import Sql
from tests.conftest import Gql, GqlResult, error_codes
from tests.test_app_tokens_walk import guarded_identity_fields
from tests.test_query_count import counting_statements
from tests.world import ANON, BOB_CLIP, FIRST_STEPS, POPULAR, World

CREATE = """
mutation($name: String!, $scopes: [AppScope!]!) {
  createAppToken(name: $name, scopes: $scopes) {
    token appToken { id name scopes createdAt lastUsedAt }
  }
}
"""
TOKENS = "query($h: String!) { account(handle: $h) { appTokens { id name scopes lastUsedAt } } }"
INSIGHTS_READ = ["INSIGHTS_READ"]


async def create_token(world: World, owner: str, name: str = "Stats app") -> dict[str, Any]:
    """alice's (or another persona's) new token; usable as the persona `<owner>-app`."""
    data = await world.ok(CREATE, {"name": name, "scopes": INSIGHTS_READ}, as_=owner)
    created: dict[str, Any] = data["createAppToken"]
    world.gql.tokens[f"{owner}-app"] = created["token"]
    return created


async def _row_of(token: str) -> dict[str, Any]:
    sql = Sql()
    digest = hashlib.sha256(token.encode()).hexdigest()
    rows = await sql.rows(f"SELECT * FROM app_token WHERE token_hash = {sql.p(digest)}")
    assert len(rows) == 1
    return rows[0]


def forbidden_at(result: GqlResult) -> list[tuple[str, ...]]:
    """The paths of the FORBIDDEN errors of a result (every error must be one)."""
    assert error_codes(result) and set(error_codes(result)) == {"FORBIDDEN"}, result
    return [tuple(str(p) for p in e["path"]) for e in result["errors"]]


# Making, listing and revoking


async def test_a_token_is_shown_once_with_its_prefix_and_stored_as_a_hash_only(
    world: World,
) -> None:
    created = await create_token(world, "alice")
    token = created["token"]
    assert token.startswith("lgapp_") and len(token) > 40
    # A session token is a JWT: the two kinds cannot be mistaken for each other.
    assert world.gql.tokens["alice"].startswith("eyJ")
    assert created["appToken"]["name"] == "Stats app"
    assert created["appToken"]["scopes"] == INSIGHTS_READ
    assert created["appToken"]["lastUsedAt"] is None
    row = await _row_of(token)
    assert token not in {str(v) for v in row.values()}
    # The list shows the token's facts, never the token (no field holds it).
    listed = (await world.ok(TOKENS, {"h": "alice"}, as_="alice"))["account"]["appTokens"]
    assert listed == [
        {
            "id": created["appToken"]["id"],
            "name": "Stats app",
            "scopes": INSIGHTS_READ,
            "lastUsedAt": None,
        }
    ]


async def test_app_tokens_are_listed_to_their_account_only_newest_first(world: World) -> None:
    first = await create_token(world, "alice", "first")
    second = await create_token(world, "alice", "second")
    listed = (await world.ok(TOKENS, {"h": "alice"}, as_="alice"))["account"]["appTokens"]
    assert [t["id"] for t in listed] == [second["appToken"]["id"], first["appToken"]["id"]]
    for other in ("bob", "erin", ANON, "alice-app"):
        # Null with no error, for another account, the anonymous viewer and alice's app.
        assert (await world.ok(TOKENS, {"h": "alice"}, as_=other))["account"]["appTokens"] is None
    assert (await world.ok(TOKENS, {"h": "bob"}, as_="bob"))["account"]["appTokens"] == []


@pytest.mark.parametrize(
    ("name", "scopes"),
    [
        ("", INSIGHTS_READ),
        ("   ", INSIGHTS_READ),
        ("x" * 101, INSIGHTS_READ),
        ("two\nlines", INSIGHTS_READ),
        ("nul\x00", INSIGHTS_READ),
        ("Stats", []),
    ],
)
async def test_a_token_needs_a_name_and_a_scope(world: World, name: str, scopes: list[str]) -> None:
    result = await world(CREATE, {"name": name, "scopes": scopes}, as_="alice")
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    assert result["errors"][0]["message"].endswith(".")
    assert (await world.ok(TOKENS, {"h": "alice"}, as_="alice"))["account"]["appTokens"] == []


async def test_a_name_of_100_characters_is_kept_trimmed(world: World) -> None:
    created = await create_token(world, "alice", "  " + "n" * 100 + " ")
    assert created["appToken"]["name"] == "n" * 100


async def test_an_account_holds_a_bounded_number_of_tokens(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Account.appTokens lists them all, so their number is capped (50; 2 here)."""
    monkeypatch.setattr(app_token_mutations, "MAX_TOKENS", 2)
    await create_token(world, "alice", "one")
    await create_token(world, "alice", "two")
    third = await world(CREATE, {"name": "three", "scopes": INSIGHTS_READ}, as_="alice")
    assert error_codes(third) == ["BAD_USER_INPUT"]
    assert third["errors"][0]["message"] == (
        "An account holds at most 2 app tokens: revoke one first."
    )
    # bob's count is his own.
    await create_token(world, "bob", "one")


async def test_only_a_logged_in_account_makes_or_revokes_tokens(world: World) -> None:
    variables = {"name": "x", "scopes": INSIGHTS_READ}
    assert error_codes(await world(CREATE, variables, as_=ANON)) == ["UNAUTHENTICATED"]
    created = await create_token(world, "alice")
    revoke = "mutation($id: ID!) { revokeAppToken(id: $id) }"
    token_id = {"id": created["appToken"]["id"]}
    assert error_codes(await world(revoke, token_id, as_=ANON)) == ["UNAUTHENTICATED"]
    # An app cannot make itself a sibling, nor revoke itself or another.
    assert forbidden_at(await world(CREATE, variables, as_="alice-app")) == [("createAppToken",)]
    assert forbidden_at(await world(revoke, token_id, as_="alice-app")) == [("revokeAppToken",)]


async def test_revocation_refuses_the_token_from_the_next_request(world: World) -> None:
    created = await create_token(world, "alice")
    viewer = "{ viewer { handle } }"
    assert await world.ok(viewer, as_="alice-app") == {"viewer": {"handle": "alice"}}
    revoke = "mutation($id: ID!) { revokeAppToken(id: $id) }"
    assert await world.ok(revoke, {"id": created["appToken"]["id"]}, as_="alice") == {
        "revokeAppToken": True
    }
    response = await world.gql.raw(viewer, as_="alice-app")
    assert response.status_code == 401
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
    assert "data" not in response.json()
    # Revoked is revoked: a second revocation finds nothing.
    again = await world(revoke, {"id": created["appToken"]["id"]}, as_="alice")
    assert error_codes(again) == ["NOT_FOUND"]


async def test_another_account_s_token_is_not_found_exactly_as_a_missing_one(
    world: World,
) -> None:
    created = await create_token(world, "alice")
    revoke = "mutation($id: ID!) { revokeAppToken(id: $id) }"
    answers = [
        await world(revoke, {"id": global_id}, as_="bob")
        for global_id in (
            created["appToken"]["id"],  # alice's
            encode_id(Kind.APP_TOKEN, 987_654),  # no such token
            world.video_ids[POPULAR],  # not a token at all
        )
    ]
    assert answers[0] == answers[1] == answers[2]
    assert error_codes(answers[0]) == ["NOT_FOUND"]
    assert answers[0]["errors"][0]["message"] == "No app token with that ID."
    # alice's token still works.
    assert await world.ok("{ viewer { handle } }", as_="alice-app") == {
        "viewer": {"handle": "alice"}
    }


async def test_an_app_token_id_is_no_node(world: World) -> None:
    """`node(id:)` with an app token's ID is null: not the account with the same row id."""
    created = await create_token(world, "alice")
    data = await world.ok(
        "query($id: ID!) { node(id: $id) { id } }", {"id": created["appToken"]["id"]}, as_="alice"
    )
    assert data == {"node": None}


# Authentication


@pytest.mark.parametrize(
    "header", ["Bearer lgapp_", "Bearer lgapp_not-a-token", "Bearer lgapp_" + "A" * 43]
)
async def test_an_unknown_app_token_is_a_401(world: World, header: str) -> None:
    response = await world.gql.raw("{ viewer { handle } }", headers={"Authorization": header})
    assert response.status_code == 401
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]


async def test_a_token_of_a_deleted_account_is_a_401(world: World) -> None:
    """Deleting the account deletes its tokens (a foreign key); deleteAccount then tells
    this process to forget the account, as it does for sessions."""
    await create_token(world, "erin")
    assert await world.ok("{ viewer { handle } }", as_="erin-app") == {"viewer": {"handle": "erin"}}
    erin = (await Sql().rows("SELECT id FROM account WHERE handle = 'erin'"))[0]["id"]
    sql = Sql()
    await sql.execute(f"DELETE FROM account WHERE id = {sql.p(erin)}")
    sessions.forget_account(erin)
    response = await world.gql.raw("{ viewer { handle } }", as_="erin-app")
    assert response.status_code == 401


async def test_last_used_is_kept_to_the_minute_without_a_write_per_request(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await create_token(world, "alice")
    token = created["token"]
    assert (await _row_of(token))["last_used_at"] is None
    await world.ok("{ viewer { handle } }", as_="alice-app")
    first = (await _row_of(token))["last_used_at"]
    assert first is not None
    with counting_statements() as counter:
        await world.ok("{ viewer { handle } }", as_="alice-app")
    assert not [s for s in counter.statements if "app_token" in s], counter.statements
    assert (await _row_of(token))["last_used_at"] == first
    listed = (await world.ok(TOKENS, {"h": "alice"}, as_="alice"))["account"]["appTokens"]
    assert listed[0]["lastUsedAt"] is not None
    # Once the period has passed, the next request writes it again.
    monkeypatch.setattr(app_tokens, "LAST_USED_PERIOD", 0.0)
    with counting_statements() as counter:
        await world.ok("{ viewer { handle } }", as_="alice-app")
    assert len([s for s in counter.statements if "UPDATE app_token" in s]) == 1


@pytest.fixture
async def other_process(settings: Settings) -> AsyncIterator[Gql]:
    """A second server on the same database that checks every token it is sent, as
    another process does once LIKEGRAPH_SESSION_RECHECK has passed."""
    transport = httpx.ASGITransport(app=create_app(replace(settings, session_recheck=0.0)))
    async with httpx.AsyncClient(transport=transport, base_url="http://other") as client:
        yield Gql(client)


async def test_another_process_refuses_a_revoked_token_once_it_rechecks(
    world: World, other_process: Gql
) -> None:
    created = await create_token(world, "alice")
    other_process.tokens["app"] = created["token"]
    assert await other_process.ok("{ viewer { handle } }", as_="app") == {
        "viewer": {"handle": "alice"}
    }
    revoke = "mutation($id: ID!) { revokeAppToken(id: $id) }"
    await world.ok(revoke, {"id": created["appToken"]["id"]}, as_="alice")
    response = await other_process.raw("{ viewer { handle } }", as_="app")
    assert response.status_code == 401


# Rule 17: what an app reads


async def test_an_app_s_viewer_is_its_owner(world: World) -> None:
    await create_token(world, "bob")
    data = await world.ok(
        "{ viewer { handle isPrivate audienceProfile { region } } }", as_="bob-app"
    )
    # The owner's profile; the owner's audience profile is the owner's alone (rule 14).
    assert data == {"viewer": {"handle": "bob", "isPrivate": True, "audienceProfile": None}}


CONTENT_QUERIES = [
    # (document, variables): what the anonymous viewer reads, as each persona's app.
    (
        "query($id: ID!) { video(id: $id) { caption likeCount viewerHasLiked"
        " author { handle viewerFollowStatus } } }",
        {"caption": BOB_CLIP},
    ),
    (
        "query($id: ID!) { video(id: $id) { caption likeCount viewerHasLiked } }",
        {"caption": POPULAR},
    ),
    (
        "query($id: ID!) { node(id: $id) { id ... on Video { caption } } }",
        {"caption": BOB_CLIP},
    ),
    (
        "query($h: String!) { account(handle: $h) { handle followerCount viewerFollowStatus"
        " videos { edges { node { caption } } pageInfo { hasNextPage } } } }",
        {"handle": "bob"},
    ),
    (
        "query($h: String!) { account(handle: $h) { handle viewerFollowStatus"
        " videos { edges { node { caption } } } } }",
        {"handle": "alice"},
    ),
    (
        "query($h: String!) { account(handle: $h) { handle viewerFollowStatus } }",
        {"handle": "mallory"},
    ),
]


def _variables(world: World, given: dict[str, str]) -> dict[str, str]:
    if "caption" in given:
        return {"id": world.video_ids[given["caption"]]}
    return {"h": given["handle"]}


@pytest.mark.parametrize("owner", ["alice", "bob", "mallory"])
async def test_an_app_reads_content_exactly_as_the_anonymous_viewer(
    world: World, owner: str
) -> None:
    """alice follows bob (private): alice sees BOB_CLIP and bob's videos, her app sees
    neither, as for anon; mallory is on the other side of a block with alice: her app still
    sees alice's public content, as anon does. Follow edges and likes of the owner show
    nowhere (viewerFollowStatus NONE, viewerHasLiked false)."""
    await create_token(world, owner)
    for document, given in CONTENT_QUERIES:
        variables = _variables(world, given)
        as_app = await world.ok(document, variables, as_=f"{owner}-app")
        assert as_app == await world.ok(document, variables, as_=ANON), (owner, document)
    # The owner's own session does see more, so the equality above is not vacuous.
    owned = await world.ok(
        CONTENT_QUERIES[0][0], _variables(world, CONTENT_QUERIES[0][1]), as_="alice"
    )
    assert owned["video"]["caption"] == BOB_CLIP


async def test_a_private_owner_s_app_does_not_see_the_owner_s_content(world: World) -> None:
    await create_token(world, "bob")
    data = await world.ok(
        "{ viewer { handle videos { edges { node { caption } } } } }", as_="bob-app"
    )
    assert data == {"viewer": {"handle": "bob", "videos": {"edges": []}}}
    assert await world.ok(
        "query($id: ID!) { video(id: $id) { caption } }",
        {"id": world.video_ids[BOB_CLIP]},
        as_="bob-app",
    ) == {"video": None}


IDENTITY_QUERIES = [
    # (document, the path of the FORBIDDEN error, the data left)
    (
        "query($id: ID!) { video(id: $id) { likeCount likers { edges { node { handle } } } } }",
        ("video", "likers"),
        {"video": None},
    ),
    (
        '{ account(handle: "erin") { handle likes { edges { node { likedAt } } } } }',
        ("account", "likes"),
        {"account": None},
    ),
    ("{ viewer { likes { edges { node { likedAt } } } } }", ("viewer", "likes"), {"viewer": None}),
    (
        "query($id: ID!) { node(id: $id) { ... on Video { likers { edges { cursor } } } } }",
        ("node", "likers"),
        {"node": None},
    ),
    (
        '{ account(handle: "alice") { videos { edges { node { caption'
        " likers { edges { node { handle } } } } } } } }",
        ("account", "videos", "edges", "0", "node", "likers"),
        {"account": None},
    ),
]


@pytest.mark.parametrize(("document", "path", "left"), IDENTITY_QUERIES)
async def test_every_identity_list_is_forbidden_to_an_app(
    world: World, document: str, path: tuple[str, ...], left: dict[str, Any]
) -> None:
    await create_token(world, "alice")
    variables = {"id": world.video_ids[POPULAR]}
    result = await world(document, variables, as_="alice-app")
    assert forbidden_at(result) == [path]
    assert result["data"] == left
    # The same document as alice's session, and as anon, is answered.
    assert "errors" not in await world(document, variables, as_="alice")
    assert "errors" not in await world(document, variables, as_=ANON)


async def test_each_guarded_field_of_the_schema_is_forbidden_to_an_app(world: World) -> None:
    """Behind the walk (tests/test_app_tokens_walk.py): every field that carries the
    identity-list guard, on Account and Video, answers FORBIDDEN when an app reads it;
    a list added later (followers, following, ...) is covered without a change here."""
    await create_token(world, "alice")
    fields = guarded_identity_fields()
    assert {("Video", "likers"), ("Account", "likes")} <= fields
    reached = {
        "Account": ('{ parent: account(handle: "alice") { %s { __typename } } }', None),
        "Video": ("query($id: ID!) { parent: video(id: $id) { %s { __typename } } }", POPULAR),
    }
    for type_name, field_name in sorted(fields):
        document, caption = reached[type_name]
        variables = {"id": world.video_ids[caption]} if caption else None
        result = await world(document % field_name, variables, as_="alice-app")
        assert forbidden_at(result) == [("parent", field_name)], (type_name, field_name)
        # alice herself reads every one of them (self-only lists included).
        assert "errors" not in await world(document % field_name, variables, as_="alice")


def _literal(type_: GraphQLInputType, world: World) -> str:
    """A value of the argument's type, of no consequence (no mutation runs anyway)."""
    if isinstance(type_, GraphQLNonNull):
        return _literal(type_.of_type, world)
    if isinstance(type_, GraphQLList):
        return f"[{_literal(type_.of_type, world)}]"
    if isinstance(type_, GraphQLEnumType):
        return str(next(iter(type_.values)))
    return {
        "String": '"erin"',
        "ID": f'"{world.video_ids[POPULAR]}"',
        "Boolean": "true",
        "Int": "1",
    }[get_named_type(type_).name]


async def test_every_mutation_is_forbidden_to_an_app_and_changes_nothing(world: World) -> None:
    await create_token(world, "alice")
    mutation = schema._schema.mutation_type
    assert mutation is not None
    before = await world.video(POPULAR, as_="alice")
    for name, field in mutation.fields.items():
        args = ", ".join(
            f"{arg_name}: {_literal(arg.type, world)}" for arg_name, arg in field.args.items()
        )
        call = f"{name}({args})" if args else name
        selection = (
            " { __typename }" if isinstance(get_named_type(field.type), GraphQLObjectType) else ""
        )
        result = await world(f"mutation {{ {call}{selection} }}", as_="alice-app")
        assert forbidden_at(result) == [(name,)], (name, result)
        assert result["data"] is None
    assert await world.video(POPULAR, as_="alice") == before
    # Still liked by nobody new, still followed by the same: a session reads the same world.
    assert await world.likers(FIRST_STEPS, as_="alice") == []


# Rule 17: insights

ACCOUNT_INSIGHTS = "{ viewer { insights { likesByDay(days: 2) { day withheld } } } }"
VIDEO_INSIGHTS = (
    "query($id: ID!) { video(id: $id) { insights { likeCount"
    " audience(dimension: REGION, days: 2) { key withheld } } } }"
)


async def test_an_app_reads_its_owner_s_insights_with_insights_read(world: World) -> None:
    await create_token(world, "alice")
    own = await world.ok(ACCOUNT_INSIGHTS, as_="alice-app")
    assert own == await world.ok(ACCOUNT_INSIGHTS, as_="alice")
    assert len(own["viewer"]["insights"]["likesByDay"]) == 2
    video = await world.ok(VIDEO_INSIGHTS, {"id": world.video_ids[POPULAR]}, as_="alice-app")
    assert video["video"]["insights"]["likeCount"] == 4


async def test_an_app_reads_no_one_else_s_insights(world: World) -> None:
    await create_token(world, "bob")
    result = await world(VIDEO_INSIGHTS, {"id": world.video_ids[POPULAR]}, as_="bob-app")
    assert forbidden_at(result) == [("video", "insights")]
    result = await world(
        '{ account(handle: "alice") { insights { likesByDay { day } } } }', as_="bob-app"
    )
    assert forbidden_at(result) == [("account", "insights")]


async def test_a_token_without_insights_read_reads_no_insights(world: World) -> None:
    """Every token made today holds INSIGHTS_READ (the only scope, and one is required):
    a token of a scope to come is written directly, as one would be made then."""
    created = await create_token(world, "alice")
    sql = Sql()
    await sql.execute(
        f"UPDATE app_token SET scopes = '' WHERE token_hash = {sql.p(app_tokens_digest(created))}"
    )
    sessions.forget_app_token(app_tokens_digest(created))
    result = await world(ACCOUNT_INSIGHTS, as_="alice-app")
    assert forbidden_at(result) == [("viewer", "insights")]
    result = await world(VIDEO_INSIGHTS, {"id": world.video_ids[POPULAR]}, as_="alice-app")
    assert forbidden_at(result) == [("video", "insights")]
    # Its viewer is still alice: only the scope is missing.
    assert await world.ok("{ viewer { handle } }", as_="alice-app") == {
        "viewer": {"handle": "alice"}
    }


def app_tokens_digest(created: dict[str, Any]) -> str:
    return hashlib.sha256(created["token"].encode()).hexdigest()


def test_the_insights_rule_for_apps_over_scopes_and_owners() -> None:
    """Rule 17 in the policy's boolean form: the owner's app with the scope, no other."""
    alice, bob = 1, 2
    assert can_read_insights(Viewer.app(alice, frozenset({"INSIGHTS_READ"})), alice)
    assert not can_read_insights(Viewer.app(alice, frozenset()), alice)
    assert not can_read_insights(Viewer.app(bob, frozenset({"INSIGHTS_READ"})), alice)
    assert not can_read_insights(Viewer.anonymous(), alice)
    assert can_read_insights(Viewer.of(alice), alice)
    assert not can_read_insights(Viewer.of(bob), alice)
    # An app is the anonymous viewer to every content rule.
    assert Viewer.app(alice, frozenset({"INSIGHTS_READ"})).is_anonymous
