"""Sessions (CONTRACT section 5): a token names a stored session, and stops working on
the very next request once its session or its account is gone."""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import jwt
import pytest

from api import deletion
from api.app import create_app
from api.settings import Settings
from auth import endings, sessions
from auth.tokens import INVALID_TOKEN
from models.sql import Sql
from tests.conftest import SECRET, Gql, GqlResult, error_codes
from tests.test_query_count import counting_statements
from tests.world import World

VIEWER = "{ viewer { handle } }"
LOG_IN = "mutation($h: String!, $p: String!) { logIn(handle: $h, password: $p) { token } }"
CHANGE = (
    "mutation($c: String!, $n: String!) {"
    " changePassword(currentPassword: $c, newPassword: $n) { token account { handle } } }"
)


async def viewer_as(gql: Gql, token: str) -> httpx.Response:
    return await gql.raw(VIEWER, headers={"Authorization": f"Bearer {token}"})


async def assert_refused(gql: Gql, token: str) -> None:
    """HTTP 401 UNAUTHENTICATED with no data: never the anonymous viewer."""
    response = await viewer_as(gql, token)
    assert response.status_code == 401, response.text
    body: GqlResult = response.json()
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == INVALID_TOKEN
    assert "data" not in body


async def assert_works(gql: Gql, token: str, handle: str) -> None:
    response = await viewer_as(gql, token)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"viewer": {"handle": handle}}}


async def log_in(gql: Gql, handle: str, password: str = "password123") -> GqlResult:
    return await gql(LOG_IN, {"h": handle, "p": password})


async def new_token(gql: Gql, handle: str) -> str:
    result = await log_in(gql, handle)
    assert "errors" not in result, result
    token: str = result["data"]["logIn"]["token"]
    return token


async def test_log_out_ends_this_token_and_no_other(gql: Gql, world: World) -> None:
    phone, laptop = await new_token(gql, "alice"), await new_token(gql, "alice")
    await assert_works(gql, phone, "alice")

    out = await gql.raw("mutation { logOut }", headers={"Authorization": f"Bearer {phone}"})
    assert out.json() == {"data": {"logOut": True}}
    await assert_refused(gql, phone)
    await assert_works(gql, laptop, "alice")  # alice's other session lives on
    # The ended token cannot log out again, or do anything else.
    again = await gql.raw("mutation { logOut }", headers={"Authorization": f"Bearer {phone}"})
    assert again.status_code == 401


async def test_log_out_everywhere_ends_every_session_of_the_viewer_only(
    gql: Gql, world: World
) -> None:
    first, second = await new_token(gql, "bob"), await new_token(gql, "bob")
    carol = await new_token(gql, "carol")
    for token in (first, second):
        await assert_works(gql, token, "bob")

    result = await gql.raw(
        "mutation { logOutEverywhere }", headers={"Authorization": f"Bearer {first}"}
    )
    assert result.json() == {"data": {"logOutEverywhere": True}}
    for token in (first, second, world.gql.tokens["bob"]):
        await assert_refused(gql, token)
    await assert_works(gql, carol, "carol")
    await assert_works(gql, world.gql.tokens["carol"], "carol")
    # bob can still log in, and that new session works.
    await assert_works(gql, await new_token(gql, "bob"), "bob")


async def test_change_password_ends_every_older_session_and_returns_a_working_token(
    gql: Gql, world: World
) -> None:
    other = await new_token(gql, "dora")
    changed = await gql.raw(
        CHANGE,
        {"c": "password123", "n": "a new password"},
        headers={"Authorization": f"Bearer {gql.tokens['dora']}"},
    )
    payload = changed.json()["data"]["changePassword"]
    assert payload["account"] == {"handle": "dora"}
    await assert_works(gql, payload["token"], "dora")
    await assert_refused(gql, other)
    await assert_refused(gql, gql.tokens["dora"])  # the token that asked is older too
    await assert_works(gql, gql.tokens["erin"], "erin")

    old = await log_in(gql, "dora", "password123")
    assert error_codes(old) == ["UNAUTHENTICATED"]
    assert "errors" not in await log_in(gql, "dora", "a new password")


async def test_change_password_wants_the_current_password_and_a_valid_new_one(
    gql: Gql, world: World
) -> None:
    token = gql.tokens["erin"]
    cases = {
        ("wrong password", "a new password"): "FORBIDDEN",
        ("password123", "short"): "BAD_USER_INPUT",
    }
    for (current, new), code in cases.items():
        response = await gql.raw(
            CHANGE, {"c": current, "n": new}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200  # the token is fine: a GraphQL error, no 401
        body = response.json()
        assert error_codes(body) == [code], body
        assert body["data"] is None
    # Nothing changed: the old password and the same token still work.
    await assert_works(gql, token, "erin")
    assert "errors" not in await log_in(gql, "erin", "password123")
    assert error_codes(await gql(CHANGE, {"c": "password123", "n": "whatever1"})) == [
        "UNAUTHENTICATED"
    ]


async def test_session_mutations_need_a_viewer(gql: Gql, world: World) -> None:
    for mutation in ("logOut", "logOutEverywhere"):
        assert error_codes(await gql(f"mutation {{ {mutation} }}")) == ["UNAUTHENTICATED"]


async def test_a_token_of_a_deleted_account_is_refused(
    gql: Gql, world: World, settings: Settings
) -> None:
    """Deleting the account deletes its sessions (a foreign key); deleteAccount then calls
    end_all_sessions, and this process refuses the token on the next request."""
    await assert_works(gql, gql.tokens["mallory"], "mallory")
    mallory = await _account_id("mallory")
    sql = Sql()
    await sql.execute(f"DELETE FROM account WHERE id = {sql.p(mallory)}")
    sql = Sql()
    assert (
        await sql.rows(f"SELECT id FROM account_session WHERE account_id = {sql.p(mallory)}") == []
    )
    assert await sessions.end_all_sessions(mallory) == 0  # the rows went with the account
    await assert_refused(gql, gql.tokens["mallory"])
    await assert_works(gql, gql.tokens["alice"], "alice")


@pytest.fixture
async def other_process(settings: Settings) -> AsyncIterator[Gql]:
    """Another server on the same database that checks every session it is sent, as a
    second process does once LIKEGRAPH_SESSION_RECHECK has passed."""
    transport = httpx.ASGITransport(app=create_app(replace(settings, session_recheck=0.0)))
    async with httpx.AsyncClient(transport=transport, base_url="http://other") as client:
        yield Gql(client)


async def test_another_process_refuses_a_session_ended_elsewhere_once_it_rechecks(
    gql: Gql, world: World, other_process: Gql
) -> None:
    token = gql.tokens["carol"]
    await assert_works(other_process, token, "carol")
    # Deleted behind this process's back: nothing here told it to forget the session.
    carol = await _account_id("carol")
    sql = Sql()
    await sql.execute(f"DELETE FROM account WHERE id = {sql.p(carol)}")
    await assert_refused(other_process, token)


async def test_a_known_session_costs_no_statement_and_a_recheck_costs_one(
    gql: Gql, world: World, other_process: Gql
) -> None:
    token = await new_token(gql, "alice")
    for server, expected in ((gql, 0), (other_process, 1)):
        with counting_statements() as counter:
            await assert_works(server, token, "alice")
        checks = [s for s in counter.statements if "account_session" in s]
        assert len(checks) == expected, counter.statements


async def test_the_database_holds_a_hash_of_each_token_never_the_token(
    gql: Gql, world: World
) -> None:
    token = await new_token(gql, "erin")
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    rows = await Sql().rows("SELECT * FROM account_session")
    assert len(rows) >= 2  # erin's sign-up and this log-in, among the others
    stored = " ".join(str(value) for row in rows for value in row.values())
    assert token not in stored
    assert jti not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def _remembered(verdicts: sessions._Verdicts, digest: str) -> int | None:
    """The account a cache would serve this token's session as, without a lookup."""
    found = verdicts.found(digest, 3600)
    return None if found is None else found.account_id


async def test_a_check_under_way_when_a_session_ends_does_not_bring_it_back() -> None:
    verdicts = sessions._Verdicts()
    mark = verdicts.mark()  # a request starts asking the database about "d1"...
    verdicts.forget_account(7)  # ...while account 7 logs out everywhere
    verdicts.keep("d1", 7, mark)  # the answer read before the logout arrives
    assert _remembered(verdicts, "d1") is None
    verdicts.keep("d1", 7, verdicts.mark())
    assert _remembered(verdicts, "d1") == 7


def _sibling_workers() -> tuple[sessions._Verdicts, sessions._Verdicts]:
    """Two workers' caches on one board, as `serve --workers 2` gives them."""
    board = endings.Board(multiprocessing.get_context("spawn"), workers=2)
    first, second = sessions._Verdicts(), sessions._Verdicts()
    first.board = board.writing_to(0)
    second.board = board.writing_to(1)
    return first, second


D1, D2, D3 = (hashlib.sha256(name).hexdigest() for name in (b"d1", b"d2", b"d3"))


async def test_a_session_a_sibling_worker_ends_is_refused_by_the_other_at_once() -> None:
    first, second = _sibling_workers()
    for digest, account in ((D1, 7), (D2, 7), (D3, 8)):
        second.keep(digest, account, second.mark())
    first.forget(D1)  # logOut in the first worker
    assert _remembered(second, D1) is None
    assert _remembered(second, D2) == 7  # the account's other session lives on
    first.forget_account(7)  # logOutEverywhere, changePassword, deleteAccount
    assert _remembered(second, D2) is None
    assert _remembered(second, D3) == 8  # and other accounts' sessions too
    mark = second.mark()  # the second worker starts asking the database about D3...
    first.forget(D3)  # ...while the first ends it
    second.keep(D3, 8, mark)  # the answer read before the ending arrives
    assert _remembered(second, D3) is None


async def test_a_worker_a_ring_behind_asks_the_database_again() -> None:
    first, second = _sibling_workers()
    second.keep(D1, 7, second.mark())
    for account in range(100, 100 + endings.RING_SLOTS - 1):
        first.forget_account(account)
    assert _remembered(second, D1) == 7  # every ending since is still on the ring: not D1
    second.keep(D2, 7, second.mark())
    for account in range(100, 100 + endings.RING_SLOTS):
        first.forget_account(account)
    assert _remembered(second, D2) is None  # a ring's length since: it cannot tell


async def _account_id(handle: str) -> int:
    sql = Sql()
    rows: list[dict[str, Any]] = await sql.rows(
        f"SELECT id FROM account WHERE handle = {sql.p(handle)}"
    )
    account_id: int = rows[0]["id"]
    return account_id


async def test_a_new_session_clears_the_account_s_expired_ones(gql: Gql, world: World) -> None:
    erin = await _account_id("erin")
    expired = await sessions.start_session(erin, SECRET, 60, now=time.time() - 3600)
    await assert_refused(gql, expired)  # its token expired long ago
    live = gql.tokens["erin"]

    await new_token(gql, "erin")
    sql = Sql()
    stored = {
        row["token_hash"]
        for row in await sql.rows(
            f"SELECT token_hash FROM account_session WHERE account_id = {sql.p(erin)}"
        )
    }
    assert hashlib.sha256(expired.encode()).hexdigest() not in stored
    assert hashlib.sha256(live.encode()).hexdigest() in stored


async def test_a_session_started_while_the_account_was_being_deleted_is_refused_after(
    gql: Gql, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big account's deletion runs batches for a while; a logIn meanwhile made a session
    that went with the account, yet this process remembered it, and the token was read as
    the anonymous viewer instead of a 401."""
    delete_account = deletion.delete_account
    made: list[str] = []

    async def with_a_log_in_meanwhile(account_id: int) -> bool:
        made.append(await new_token(gql, "erin"))
        return await delete_account(account_id)

    monkeypatch.setattr(deletion, "delete_account", with_a_log_in_meanwhile)
    result = await gql.ok('mutation { deleteAccount(password: "password123") }', as_="erin")
    assert result == {"deleteAccount": True}
    await assert_refused(gql, made[0])
