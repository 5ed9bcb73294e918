"""`likegraph demo`: idempotent, its printed logins work, and its story holds."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

import httpx
import pytest

from api import db
from api.app import create_app
from api.demo import LIKES, POPULAR, DemoError, load_demo
from api.demo_insights import FANS
from api.settings import Settings
from models import Account, Block, Follow, Like, Video
from tests.conftest import SECRET, Gql

LOGIN = re.compile(
    r"^(?P<handle>[a-z]+)  password: (?P<password>\S+)  (?P<privacy>public|private)\n"
    r"  role: .+\n"
    r"  headers: (?P<headers>\{.+\})$",
    re.MULTILINE,
)
POPULAR_ID = re.compile(r"^Popular video .*: (?P<id>\S+)$", re.MULTILINE)

LIKERS = """
query Likers($id: ID!) {
  video(id: $id) { likeCount likers(first: 100) { edges { node { handle } } } }
}
"""


async def _load(settings: Settings, *, only_if_empty: bool = False) -> str:
    """Runs the command's coroutine and reconnects, since it closes the database as it ends."""
    out = io.StringIO()
    try:
        await load_demo(settings, only_if_empty=only_if_empty, out=out)
    finally:
        await db.connect(settings.database_url)
    return out.getvalue()


async def _counts() -> dict[str, int]:
    return {
        "accounts": await Account.all().count(),
        "videos": await Video.all().count(),
        "follows": await Follow.all().count(),
        "likes": await Like.all().count(),
        "blocks": await Block.all().count(),
        "like_count_sum": sum(await Video.all().values_list("like_count", flat=True)),
    }


def _logins(output: str) -> dict[str, dict[str, str]]:
    return {m["handle"]: m.groupdict() for m in LOGIN.finditer(output)}


def _popular_id(output: str) -> str:
    match = POPULAR_ID.search(output)
    assert match is not None, output
    return match["id"]


async def _likers_as(gql: Gql, video_id: str, headers: dict[str, str]) -> tuple[int, set[str]]:
    response = await gql.raw(LIKERS, {"id": video_id}, headers=headers)
    video = response.json()["data"]["video"]
    return video["likeCount"], {e["node"]["handle"] for e in video["likers"]["edges"]}


async def test_loading_twice_gives_the_same_counts(settings: Settings) -> None:
    first = await _load(settings)
    after_first = await _counts()
    second = await _load(settings)

    assert await _counts() == after_first
    assert after_first == {
        "accounts": 7 + FANS,
        "videos": 6,
        "follows": 5,
        "likes": len(LIKES) + FANS,
        "blocks": 1,
        "like_count_sum": len(LIKES) + FANS,
    }
    assert (
        "created 7 accounts, 6 videos, 5 follows, 2 approvals, 10 likes, 1 block,"
        f" {FANS} fans, {FANS} past likes." in first
    )
    assert "nothing changed" in second


async def test_every_account_is_printed_with_a_token_that_names_it(
    settings: Settings, gql: Gql
) -> None:
    logins = _logins(await _load(settings))

    assert {h: (v["password"], v["privacy"]) for h, v in logins.items()} == {
        "alice": ("password123", "public"),
        "bob": ("password123", "private"),
        "carol": ("password123", "private"),
        "dave": ("password123", "private"),
        "erin": ("password123", "public"),
        "frank": ("password123", "public"),
        "mallory": ("password123", "public"),
    }
    for handle, login in logins.items():
        response = await gql.raw(
            "{ viewer { handle isPrivate } }", headers=json.loads(login["headers"])
        )
        assert response.json() == {
            "data": {"viewer": {"handle": handle, "isPrivate": login["privacy"] == "private"}}
        }


async def test_printed_passwords_log_in(settings: Settings, gql: Gql) -> None:
    logins = _logins(await _load(settings))

    for handle, login in logins.items():
        data = await gql.ok(
            "mutation($h: String!, $p: String!) { logIn(handle: $h, password: $p)"
            " { account { handle } } }",
            {"h": handle, "p": login["password"]},
        )
        assert data["logIn"]["account"]["handle"] == handle


async def test_the_popular_video_tells_the_story_to_each_viewer(
    settings: Settings, gql: Gql
) -> None:
    output = await _load(settings)
    logins = _logins(output)
    video_id = _popular_id(output)
    made = sum(1 for _, video in LIKES if video == POPULAR)

    def as_(handle: str) -> dict[str, str]:
        headers: dict[str, str] = json.loads(logins[handle]["headers"])
        return headers

    # Rule 3: every viewer sees the same likeCount, hidden likers included.
    # Rule 4: the anonymous viewer sees public likers only.
    assert await _likers_as(gql, video_id, {}) == (made, {"erin", "frank"})
    # The author gets no exception: bob (followed) yes; carol (PENDING), dave (not
    # followed) no.
    assert await _likers_as(gql, video_id, as_("alice")) == (made, {"bob", "erin", "frank"})
    # A private liker sees the public likers, itself, and dave whom it follows.
    assert await _likers_as(gql, video_id, as_("bob")) == (
        made,
        {"bob", "dave", "erin", "frank"},
    )
    assert await _likers_as(gql, video_id, as_("carol")) == (made, {"carol", "erin", "frank"})
    assert made == 5
    # Rule 2: across the block, the video does not exist for mallory.
    response = await gql.raw(LIKERS, {"id": video_id}, headers=as_("mallory"))
    assert response.json() == {"data": {"video": None}}


async def test_the_follow_states_of_the_story(settings: Settings, gql: Gql) -> None:
    logins = _logins(await _load(settings))
    headers = json.loads(logins["alice"]["headers"])

    query = "query($h: String!) { account(handle: $h) { viewerFollowStatus } }"
    statuses = {}
    for handle in ("bob", "carol", "dave", "erin", "mallory"):
        response = await gql.raw(query, {"h": handle}, headers=headers)
        account = response.json()["data"]["account"]
        statuses[handle] = None if account is None else account["viewerFollowStatus"]

    assert statuses == {
        "bob": "APPROVED",
        "carol": "PENDING",
        "dave": "NONE",
        "erin": "NONE",
        "mallory": None,  # the other side of a blocked pair gets no profile
    }


async def test_if_empty_loads_an_empty_database(settings: Settings) -> None:
    output = await _load(settings, only_if_empty=True)

    assert output.startswith("The database has no accounts: loading the demo.")
    assert (await _counts())["accounts"] == 7 + FANS


async def test_if_empty_leaves_a_database_with_accounts_alone(settings: Settings, gql: Gql) -> None:
    await gql.sign_up("zed")

    output = await _load(settings, only_if_empty=True)

    assert "already has 1 account(s): demo not loaded" in output
    assert _logins(output) == {}
    assert await _counts() == {
        "accounts": 1,
        "videos": 0,
        "follows": 0,
        "likes": 0,
        "blocks": 0,
        "like_count_sum": 0,
    }


async def test_if_empty_on_the_demo_database_prints_fresh_logins(
    settings: Settings, gql: Gql
) -> None:
    await _load(settings)
    before = await _counts()

    output = await _load(settings, only_if_empty=True)

    assert "demo not loaded" in output
    assert set(_logins(output)) == {"alice", "bob", "carol", "dave", "erin", "frank", "mallory"}
    assert await _counts() == before


async def test_a_foreign_account_with_a_demo_handle_stops_the_demo(
    settings: Settings, gql: Gql
) -> None:
    await gql.ok('mutation { signUp(handle: "alice", password: "not-the-demo-one") { token } }')

    with pytest.raises(DemoError, match="not a demo account"):
        await _load(settings)

    assert (await _counts())["accounts"] == 1


async def test_the_served_app_answers_the_demo_logins_from_outside_its_lifespan_task(
    tmp_path: Path,
) -> None:
    """As under uvicorn (`make run`): the lifespan runs in one task, each request in another.

    The other tests share one task with the database fixture; this one does not use it.
    """
    settings = Settings(
        database_url=f"sqlite://{tmp_path / 'served.sqlite3'}", secret=SECRET, token_ttl=3600
    )
    out = io.StringIO()
    await asyncio.create_task(load_demo(settings, only_if_empty=True, out=out))
    logins, video_id = _logins(out.getvalue()), _popular_id(out.getvalue())
    app = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.router.lifespan_context(app):
            started.set()
            await stop.wait()

    server = asyncio.create_task(lifespan())
    await started.wait()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            health = await http.get("/healthz")
            answers = {}
            for handle in (None, "alice", "bob"):
                headers = {} if handle is None else json.loads(logins[handle]["headers"])
                response = await http.post(
                    "/graphql",
                    json={"query": LIKERS, "variables": {"id": video_id}},
                    headers=headers,
                )
                video = response.json()["data"]["video"]
                answers[handle] = {e["node"]["handle"] for e in video["likers"]["edges"]}
    finally:
        stop.set()
        await server

    assert health.status_code == 200
    assert answers == {
        None: {"erin", "frank"},
        "alice": {"bob", "erin", "frank"},
        "bob": {"bob", "dave", "erin", "frank"},
    }


async def test_alices_insights_show_her_fans_past_likes(settings: Settings, gql: Gql) -> None:
    """The walk-through's insights query: alice sees released days above the threshold;
    bob, logged in with his printed headers, gets FORBIDDEN."""
    logins = _logins(await _load(settings))
    query = (
        "{ viewer { insights { likesByDay(days: 7) { day count withheld }"
        " audience(dimension: REGION, days: 7) { key count withheld } } } }"
    )
    alice = await gql.raw(query, headers=json.loads(logins["alice"]["headers"]))
    insights = alice.json()["data"]["viewer"]["insights"]
    shown = [point for point in insights["likesByDay"] if not point["withheld"]]
    assert len(shown) >= 2, insights["likesByDay"]  # 24 likes on each of two days
    assert next(b for b in insights["audience"] if b["key"] == "NO")["count"] >= 10
    of_alice = query.replace("viewer", 'account(handle: "alice")')
    bob = await gql.raw(of_alice, headers=json.loads(logins["bob"]["headers"]))
    assert bob.json()["data"]["account"]["insights"] is None
    assert [e["extensions"]["code"] for e in bob.json()["errors"]] == ["FORBIDDEN"]


async def test_carol_approves_alices_pending_request_and_alice_sees_her_like(
    settings: Settings, gql: Gql
) -> None:
    output = await _load(settings)
    logins = _logins(output)
    video_id = _popular_id(output)
    carol, alice = (json.loads(logins[h]["headers"]) for h in ("carol", "alice"))
    assert "approveFollower" in output  # the demo says how to try it

    approve = 'mutation { approveFollower(handle: "alice") }'
    response = await gql.raw(approve, headers=carol)
    assert response.json() == {"data": {"approveFollower": "APPROVED"}}
    # Rule 4: alice now follows carol, so carol's like joins the likers alice sees.
    assert await _likers_as(gql, video_id, alice) == (5, {"bob", "carol", "erin", "frank"})
