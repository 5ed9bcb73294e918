"""Database connection, migrations and the small raw-SQL helpers the list queries use."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import OperationalError
from tortoise.migrations.api import migrate as run_migrations
from tortoise.transactions import in_transaction

from api.settings import sqlite_path
from models import routing
from models.sql import is_postgres
from models.sqlite_reads import close_inline_reads, open_inline_reads

SQLITE_BUSY_TIMEOUT_MS = 10_000
# A write transaction refused for a lock conflict is run again from the start, this many
# times at most, after a short random pause that doubles each time (at most ~2.5 s in all).
WRITE_RETRIES = 8
RETRY_PAUSE_SECONDS = 0.01

T = TypeVar("T")


def tortoise_config(database_url: str, *, keep_sessions: bool = False) -> dict[str, Any]:
    """`keep_sessions`: PostgreSQL connections go back to the pool without asyncpg's
    reset (see `routing.nothing_to_reset`): the server sets no session state, so the
    round trip it makes on every release would buy nothing. Migrations keep it."""
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://").split("?", 1)[0]
        credentials: dict[str, Any] = {
            "file_path": path,
            "journal_mode": "WAL",
            "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            "synchronous": "NORMAL",
            "foreign_keys": "ON",
        }
        connection: Any = {"engine": "tortoise.backends.sqlite", "credentials": credentials}
    else:
        connection = expand_db_url(
            database_url.replace("postgresql://", "postgres://", 1).replace(
                "postgres://", "asyncpg://", 1
            )
        )
        if keep_sessions:
            connection["credentials"]["reset"] = routing.nothing_to_reset
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": ["models.entities"],
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(
    database_url: str, *, for_all_tasks: bool = False, replica_urls: Sequence[str] = ()
) -> None:
    """Apply pending migrations; leaves Tortoise initialised on that database."""
    await run_migrations(config=tortoise_config(database_url))
    await connect(database_url, for_all_tasks=for_all_tasks, replica_urls=replica_urls)


async def connect(
    database_url: str, *, for_all_tasks: bool = False, replica_urls: Sequence[str] = ()
) -> None:
    """Initialise Tortoise for this task and the tasks it starts.

    `for_all_tasks` also makes it the process-wide fallback: a server's lifespan runs
    in a task of its own, and its requests, in other tasks, cannot see its context var.
    """
    config = tortoise_config(database_url, keep_sessions=True)
    await Tortoise.init(config=config, _enable_global_fallback=for_all_tasks)
    # Plain reads of a SQLite file skip aiosqlite's thread (models/sqlite_reads.py). Not
    # for :memory:, where a second connection would open a second, empty database.
    path = sqlite_path(database_url)
    if path is not None:
        open_inline_reads(conn(), path)
    # Read replicas (models/routing.py): only for plain reads of GraphQL queries.
    await routing.open_replicas(replica_urls, conn())


async def close() -> None:
    await routing.close_replicas()
    close_inline_reads()
    await Tortoise.close_connections()


def conn() -> BaseDBAsyncClient:
    client: BaseDBAsyncClient = connections.get("default")
    return client


def _lock_conflict(exc: BaseException) -> bool:
    """The database refused the transaction for a lock conflict and undid all of it.

    SQLite: `database is locked` once the busy timeout is over, or at once when a
    transaction that has read must write after another process committed (WAL cannot
    upgrade a stale snapshot). PostgreSQL: a deadlock or serialization failure.
    """
    # SQLSTATE class 40, transaction rollback: 40001 serialization failure, 40P01 deadlock
    # (asyncpg's errors pass through Tortoise untranslated and carry `sqlstate`).
    if str(getattr(exc, "sqlstate", "")).startswith("40"):
        return True
    # Tortoise translates statement errors; a refused COMMIT comes as sqlite3's own.
    sqlite_error = isinstance(exc, OperationalError | sqlite3.OperationalError)
    return sqlite_error and "database is locked" in str(exc)


async def write_transaction(
    work: Callable[[BaseDBAsyncClient], Awaitable[T]], *, one_statement: bool = False
) -> T:
    """Runs `work(conn)` in one transaction, run again from the start on a lock conflict.

    So `database is locked` never reaches a client. A retry cannot double-count: the
    refused attempt was rolled back whole, and every write of the mutations is
    idempotent anyway (a repeated like inserts nothing and bumps nothing).

    `one_statement`: on PostgreSQL `work` makes its change in one statement, which is
    then its own transaction, without the two round trips of BEGIN and COMMIT (a like's
    may first find its function missing and create it: models/functions.py).
    """
    routing.pin_to_primary()  # the request reads its own writes from now on
    for attempt in range(WRITE_RETRIES + 1):
        try:
            if one_statement and is_postgres(conn()):
                return await work(conn())
            async with in_transaction() as transaction:
                return await work(transaction)
        except Exception as exc:
            if attempt == WRITE_RETRIES or not _lock_conflict(exc):
                raise
        await asyncio.sleep(random.uniform(0.5, 1.0) * RETRY_PAUSE_SECONDS * 2**attempt)
    raise AssertionError("unreachable")  # the loop returns or raises
