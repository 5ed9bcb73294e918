"""models/sqlite_reads.py: plain reads on SQLite skip aiosqlite's thread, and only those.

These run on a SQLite file of their own whatever LIKEGRAPH_TEST_ENGINE says: the inline
reads exist on SQLite only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from api import db
from models import Account
from models.sql import Sql
from models.sqlite_reads import InlineReads, inline_reads_for

HANDLES = "SELECT handle FROM account ORDER BY handle"


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "reads.sqlite3"
    await db.migrate(f"sqlite://{path}")
    yield path
    await db.close()


async def _handles(client: BaseDBAsyncClient | None = None) -> list[str]:
    return [row["handle"] for row in await Sql(client).rows(HANDLES)]


async def _add(handle: str, client: BaseDBAsyncClient | None = None) -> None:
    await Account.create(handle=handle, display_name=handle, password_hash="-", using_db=client)


async def test_a_plain_read_skips_tortoises_client_and_sees_committed_writes(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = db.conn()
    assert inline_reads_for(client) is not None

    async def not_here(*_: object) -> None:
        raise AssertionError("a plain read went through aiosqlite's thread")

    monkeypatch.setattr(client, "execute_query_dict", not_here)
    await _add("alice")  # a write on Tortoise's own connection, committed at once
    assert await _handles() == ["alice"]


async def test_a_read_inside_a_transaction_sees_its_own_writes_and_no_other_read_does(
    sqlite_file: Path,
) -> None:
    base = db.conn()
    await _add("alice")
    with pytest.raises(RuntimeError, match="undo"):
        async with in_transaction() as conn:
            await _add("bob", conn)
            assert inline_reads_for(conn) is None  # the transaction reads on its own
            assert await _handles(conn) == ["alice", "bob"]
            assert await _handles() == ["alice", "bob"]  # Sql() in the block is the transaction
            assert await _handles(base) == ["alice"]  # nothing uncommitted leaks out
            raise RuntimeError("undo")
    assert await _handles() == ["alice"]


def test_the_reader_gives_up_at_once_on_a_busy_database(tmp_path: Path) -> None:
    # A database in rollback-journal mode, held by a writer: readers are kept out. (In
    # WAL mode a reader is only kept out by recovery, which cannot be staged here.)
    path = tmp_path / "journal.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    reads = InlineReads(cast(BaseDBAsyncClient, None), str(path))
    try:
        # No busy timeout: it must not sleep on the lock in the event loop.
        assert reads.rows("PRAGMA busy_timeout", []) == [{"timeout": 0}]
        assert reads.rows("SELECT x FROM t", []) is None  # "send it the ordinary way"
        holder.execute("COMMIT")
        assert reads.rows("SELECT x FROM t", []) == []
    finally:
        reads.close()
        holder.close()


async def test_a_read_the_reader_gives_up_on_is_answered_by_tortoises_client(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _add("alice")
    sent: list[str] = []
    client = db.conn()
    ordinary = client.execute_query_dict

    async def recording(query: str, values: list[object] | None = None) -> list[dict[str, Any]]:
        sent.append(query)
        return await ordinary(query, values)

    monkeypatch.setattr(InlineReads, "rows", lambda *_: None)
    monkeypatch.setattr(client, "execute_query_dict", recording)
    assert await _handles() == ["alice"]
    assert sent == [HANDLES]
