"""Reads on SQLite, run on the event loop's own thread through a connection of their own.

Tortoise runs every statement on aiosqlite's worker thread. The reads of a page are index
walks that SQLite answers in tens of microseconds; handing each one to that thread and
back costs more than the read itself, and more again under load, when the two threads
trade the GIL (bench/README.md has the figures). So plain reads, outside any
transaction, run here instead, synchronously. In WAL mode a reader never waits for a
writer, so such a read cannot stall the loop on a lock. A read that finds the database
busy anyway (a database not in WAL mode, or WAL recovery after a crash) goes the
ordinary way, to wait in the worker thread. Writes, and every read inside a
transaction, stay on Tortoise's connection.

Each statement is its own read transaction (autocommit), so it sees every write
committed before it began: a request reads its own mutation's effects.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError, OperationalError

# Tortoise logs every statement on this logger as "%s: %s" (sql, values); these reads do
# too, so the SQL log and the statement counts (tests/test_query_count.py) see them all.
log = logging.getLogger("tortoise.db_client")

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class InlineReads:
    """A query-only SQLite connection for the reads of one Tortoise client."""

    def __init__(self, client: BaseDBAsyncClient, path: str) -> None:
        self.client = client
        # No busy timeout: a read that cannot start at once must not sleep in the loop.
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=0)
        self._conn.execute("PRAGMA query_only = ON")
        self._thread = threading.get_ident()

    def rows(self, text: str, params: Sequence[Any]) -> list[dict[str, Any]] | None:
        """The statement's rows; None when it must be sent the ordinary way instead."""
        if threading.get_ident() != self._thread:
            return None  # sqlite3 connections belong to the thread that opened them
        log.debug("%s: %s", text, params)
        try:
            cursor = self._conn.execute(text, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF in _BUSY:
                return None
            raise OperationalError(exc) from exc  # as Tortoise's own client translates it
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(exc) from exc

    def close(self) -> None:
        self._conn.close()


_open: InlineReads | None = None


def open_inline_reads(client: BaseDBAsyncClient, path: str) -> None:
    """Serve the plain reads of `client` (a SQLite client on the file `path`) inline."""
    global _open
    close_inline_reads()
    _open = InlineReads(client, path)


def close_inline_reads() -> None:
    global _open
    if _open is not None:
        _open.close()
        _open = None


def inline_reads_for(client: BaseDBAsyncClient) -> InlineReads | None:
    """The inline reads of this very client: never of a transaction, which is another
    client object (Tortoise's transaction wrapper) with uncommitted writes of its own."""
    return _open if _open is not None and _open.client is client else None
