"""Fixtures: a fresh real database per test, the real ASGI app, and named personas."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from tortoise import Tortoise

from api import db
from api.app import create_app
from api.settings import Settings
from models.sql import Sql
from tests.world import SECRET as SECRET
from tests.world import World, world_for_test

_TEMPLATE: dict[str, Path] = {}

# `LIKEGRAPH_TEST_ENGINE=postgres` runs the suite on PostgreSQL (make test-postgres):
# each test gets a database of its own, copied from a migrated template.
ENGINE = os.environ.get("LIKEGRAPH_TEST_ENGINE", "sqlite")
PG_SERVER = os.environ.get("LIKEGRAPH_TEST_PG", "postgres://postgres@127.0.0.1:5432")
# One template per test process: sessions run side by side must not drop each other's.
PG_TEMPLATE = f"likegraph_test_template_{os.getpid()}"

# `make test-postgres` skips, loudly, when no PostgreSQL server answers; .ci/run sets
# LIKEGRAPH_REQUIRE_POSTGRES=1 so that a missing server fails CI instead.
REQUIRE_POSTGRES = os.environ.get("LIKEGRAPH_REQUIRE_POSTGRES", "") not in ("", "0")
_PG_MISSING: list[str] = []

_COUNTER = itertools.count()
_PG_SPARE: list[str] = []  # emptied test databases, ready for the next test

GqlResult = dict[str, Any]


async def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty database, made once per session and copied for each test."""
    if "path" not in _TEMPLATE:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        await db.migrate(f"sqlite://{path}")
        await db.close()
        _TEMPLATE["path"] = path
    return _TEMPLATE["path"]


async def _pg_admin(statement: str) -> None:
    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _pg_template() -> None:
    if "pg" not in _TEMPLATE:
        await _pg_admin(f"DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)")
        await _pg_admin(f"CREATE DATABASE {PG_TEMPLATE}")
        await db.migrate(f"{PG_SERVER}/{PG_TEMPLATE}")
        await db.close()
        _TEMPLATE["pg"] = Path(PG_TEMPLATE)


async def new_database(directory: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a fresh migrated database, not yet connected, copied from the template.

    Importable so that tests which cannot use a function-scoped fixture per example (the
    Hypothesis state machine) make their databases the same way.
    """
    if ENGINE == "postgres":
        if _PG_SPARE:
            return _PG_SPARE.pop()
        await _pg_template()
        name = f"likegraph_test_{os.getpid()}_{next(_COUNTER)}"
        await _pg_admin(f"CREATE DATABASE {name} TEMPLATE {PG_TEMPLATE}")
        return f"{PG_SERVER}/{name}"
    path = directory / "likegraph.sqlite3"
    shutil.copy(await _template_db(tmp_path_factory), path)
    return f"sqlite://{path}"


async def drop_database(url: str) -> None:
    """Gives back a PostgreSQL database made by `new_database` (a SQLite file is just a file).

    A DROP DATABASE waits for a checkpoint (about a second here), emptying a test's few
    rows takes milliseconds: the tables are emptied, their sequences restarted, and the
    database handed to the next `new_database` as good as a fresh copy of the template.
    (DELETE, not TRUNCATE: on tables this small it skips making new files.) Spare
    databases are dropped at session end.
    """
    if ENGINE != "postgres":
        return
    try:
        conn = await asyncpg.connect(url)
        try:
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'tortoise_migrations'"
            )
            sequences = await conn.fetch(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            )
            await conn.execute(
                # Foreign keys would make the order of the DELETEs matter: not for this session.
                # A session a test left holding locks makes this fail: the DROP below follows.
                "SET session_replication_role = replica; SET lock_timeout = '2s';"
                + "".join(f' DELETE FROM "{t["tablename"]}";' for t in tables)
                + "".join(f' ALTER SEQUENCE "{q["sequencename"]}" RESTART;' for q in sequences)
            )
        finally:
            await conn.close()
    except (OSError, asyncpg.PostgresError):
        await _pg_admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    else:
        _PG_SPARE.append(url)


@pytest.fixture
async def database_url(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    url = await new_database(tmp_path, tmp_path_factory)
    await db.connect(url)
    yield url
    await Tortoise.close_connections()
    await drop_database(url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The suite runs as one long process: a session checked in one test is trusted until
    # the process forgets it, so that counting a request's statements never depends on
    # how long ago its token was last checked. tests/test_sessions.py sets its own.
    return Settings(database_url=database_url, secret=SECRET, token_ttl=3600, session_recheck=3600)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


class Gql:
    """Posts GraphQL documents as a named persona: `await gql(query, as_="bob")`."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    async def raw(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"Accept": "application/graphql-response+json"}
        if as_ is not None:
            sent["Authorization"] = f"Bearer {self.tokens[as_]}"
        sent.update(headers or {})
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None
    ) -> GqlResult:
        response = await self.raw(query, variables, as_=as_)
        result: GqlResult = response.json()
        return result

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None
    ) -> dict[str, Any]:
        """The `data` of a request that must succeed with no errors."""
        result = await self(query, variables, as_=as_)
        assert "errors" not in result, result
        data: dict[str, Any] = result["data"]
        return data

    async def sign_up(self, handle: str, *, private: bool = False) -> str:
        data = await self.ok(
            "mutation($h: String!, $p: Boolean) {"
            ' signUp(handle: $h, password: "password123", isPrivate: $p)'
            " { token account { id } } }",
            {"h": handle, "p": private},
        )
        self.tokens[handle] = data["signUp"]["token"]
        account_id: str = data["signUp"]["account"]["id"]
        return account_id


@pytest.fixture
def gql(client: httpx.AsyncClient) -> Gql:
    return Gql(client)


def error_codes(result: GqlResult) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


async def until_waiting_for_locks(waiting: int = 1) -> None:
    """Until `waiting` statements wait for a lock: on PostgreSQL read from pg_locks; on
    SQLite, where a held write transaction makes every other writer wait inside
    aiosqlite's thread, out of sight, a moment for each."""
    if ENGINE != "postgres":
        await asyncio.sleep(0.2 * waiting)
        return
    for _ in range(500):
        rows = await Sql().rows("SELECT count(*) AS n FROM pg_locks WHERE NOT granted")
        if rows[0]["n"] >= waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never {waiting} statements waiting for a lock")


@pytest.fixture
async def world(gql: Gql) -> World:
    """The named personas of tests/world.py, in this test's own fresh database."""
    return await world_for_test(gql)


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_databases() -> Iterator[None]:
    """At the end of the session, drop this process's PostgreSQL test databases."""
    yield
    names = [url.rsplit("/", 1)[1] for url in _PG_SPARE]
    if ENGINE == "postgres" and "pg" in _TEMPLATE:
        names.append(PG_TEMPLATE)
    for name in names:
        asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _postgres_problem() -> str | None:
    """Why the PostgreSQL server does not answer, or None when it does."""

    async def probe() -> None:
        conn = await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ENGINE != "postgres" or not items:
        return
    problem = _postgres_problem()
    if problem is None:
        return
    banner = f"NO POSTGRESQL SERVER ANSWERS at {PG_SERVER} ({problem})"
    if REQUIRE_POSTGRES:
        pytest.exit(f"{banner}: LIKEGRAPH_REQUIRE_POSTGRES is set, failing.", returncode=3)
    _PG_MISSING.append(banner)
    skip = pytest.mark.skip(reason=f"{banner}: the PostgreSQL half is SKIPPED")
    for item in items:
        item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for banner in _PG_MISSING:
        terminalreporter.write_sep("!", "THE POSTGRESQL HALF OF THE SUITE WAS SKIPPED", red=True)
        terminalreporter.write_line(banner, red=True, bold=True)
        terminalreporter.write_line(
            "Start PostgreSQL (or set LIKEGRAPH_TEST_PG) to run it; .ci/run requires it.",
            red=True,
        )
        terminalreporter.write_sep("!", red=True)
