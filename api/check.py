"""`likegraph check`: the stored counters and copies against the rows they stand for.

likegraph keeps things that repeat what other rows already say, each written in the
same transaction as the rows it summarises: `video.like_count` (the number of
`video_like` rows), `video_like.liker_public` (NOT the liker's `is_private`), and what
the write-side rules of auth/policy.py leave behind: no follow edge and no like across a
block (rules 7 and 11), no PENDING request to a public account (rule 7). Drift means a
bug or a hand-made change, never a crash: this command finds it, and `--repair` fixes
all of it in one transaction and says what it fixed.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import OperationalError

from api import db
from api.settings import sqlite_path
from auth.policy import (
    blocked_pair_sql,
    requests_approved_on_turning_public_sql,
    state_sql,
)
from models.entities import FollowState
from models.sql import is_postgres

EXAMPLES = 5


@dataclass(frozen=True)
class Invariant:
    name: str
    what: str  # what a drifted row is, for the report
    find: str  # SELECT of the drifted rows, with the columns the report shows
    repair: str | tuple[str, ...]  # the statements, in order, that fix every drifted row


LIKE_COUNT = Invariant(
    name="like_count",
    what="videos whose like_count is not their number of likes",
    find=(
        "SELECT v.id AS video_id, v.like_count, COALESCE(c.likes, 0) AS likes FROM video v"
        " LEFT JOIN (SELECT video_id, COUNT(*) AS likes FROM video_like GROUP BY video_id) c"
        " ON c.video_id = v.id WHERE v.like_count <> COALESCE(c.likes, 0) ORDER BY v.id"
    ),
    repair=(
        "UPDATE video SET like_count ="
        " (SELECT COUNT(*) FROM video_like l WHERE l.video_id = video.id)"
        " WHERE like_count <> (SELECT COUNT(*) FROM video_like l WHERE l.video_id = video.id)"
    ),
)

LIKER_PUBLIC = Invariant(
    name="liker_public",
    what="likes whose liker_public is not NOT the liker's is_private",
    find=(
        "SELECT l.id AS like_id, l.account_id, l.video_id, l.liker_public FROM video_like l"
        " JOIN account a ON a.id = l.account_id WHERE l.liker_public = a.is_private"
        " ORDER BY l.id"
    ),
    repair=(
        "UPDATE video_like SET liker_public ="
        " NOT (SELECT a.is_private FROM account a WHERE a.id = video_like.account_id)"
        " WHERE liker_public ="
        " (SELECT a.is_private FROM account a WHERE a.id = video_like.account_id)"
    ),
)

FOLLOW_ACROSS_BLOCK = Invariant(
    name="follow_across_block",
    what="follow edges between a blocked pair (rule 7: a block removes them)",
    find=(
        "SELECT f.id AS follow_id, f.follower_id, f.followee_id, f.status FROM follow f"
        f" WHERE {blocked_pair_sql('f.follower_id', 'f.followee_id')} ORDER BY f.id"
    ),
    repair=(
        f"DELETE FROM follow WHERE {blocked_pair_sql('follow.follower_id', 'follow.followee_id')}"
    ),
)

_LIKE_ACROSS_BLOCK = blocked_pair_sql(
    "{l}.account_id", "(SELECT v.author_id FROM video v WHERE v.id = {l}.video_id)"
)

LIKE_ACROSS_BLOCK = Invariant(
    name="like_across_block",
    what="likes between a blocked pair (rule 11: a block removes them)",
    find=(
        "SELECT l.id AS like_id, l.account_id, l.video_id FROM video_like l"
        f" WHERE {_LIKE_ACROSS_BLOCK.format(l='l')} ORDER BY l.id"
    ),
    # The counters first, while the likes they lose are still there to count.
    repair=(
        "UPDATE video SET like_count = like_count - (SELECT COUNT(*) FROM video_like l"
        f" WHERE l.video_id = video.id AND {_LIKE_ACROSS_BLOCK.format(l='l')})"
        # Only the videos that lose likes: no write to (nor lock on) any other.
        f" WHERE id IN (SELECT l.video_id FROM video_like l"
        f" WHERE {_LIKE_ACROSS_BLOCK.format(l='l')})",
        f"DELETE FROM video_like WHERE {_LIKE_ACROSS_BLOCK.format(l='video_like')}",
    ),
)

_PENDING = state_sql(FollowState.PENDING)

PENDING_TO_PUBLIC = Invariant(
    name="pending_to_public",
    what="PENDING requests to a public account (rule 7: it approves them)",
    find=(
        "SELECT f.id AS follow_id, f.follower_id, f.followee_id FROM follow f"
        " JOIN account a ON a.id = f.followee_id"
        f" WHERE f.status = {_PENDING} AND NOT a.is_private ORDER BY f.id"
    ),
    repair=requests_approved_on_turning_public_sql(
        "followee_id IN (SELECT id FROM account WHERE NOT is_private)"
    ),
)

# Blocks first: an edge across a block is deleted, not approved, when both apply.
# like_count before like_across_block, whose repair lowers exact counters by what it removes.
INVARIANTS: tuple[Invariant, ...] = (
    LIKE_COUNT,
    LIKER_PUBLIC,
    LIKE_ACROSS_BLOCK,
    FOLLOW_ACROSS_BLOCK,
    PENDING_TO_PUBLIC,
)


@dataclass(frozen=True)
class Finding:
    invariant: Invariant
    count: int
    examples: list[dict[str, Any]]

    def line(self) -> str:
        if not self.count:
            return f"{self.invariant.name}: ok"
        shown = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in self.examples)
        more = ", ..." if self.count > len(self.examples) else ""
        return f"{self.invariant.name}: {self.count} {self.invariant.what} ({shown}{more})"


async def find_drift(conn: BaseDBAsyncClient | None = None) -> list[Finding]:
    """Every invariant with its drifted rows (count and a few examples), in order."""
    client = conn or db.conn()
    findings = []
    for invariant in INVARIANTS:
        rows = [dict(r) for r in await client.execute_query_dict(invariant.find)]
        findings.append(Finding(invariant, len(rows), rows[:EXAMPLES]))
    return findings


async def repair_drift() -> list[Finding]:
    """Finds and fixes every drift in one transaction; returns what it found and fixed."""

    async def repair(conn: BaseDBAsyncClient) -> list[Finding]:
        if is_postgres(conn):
            # Writers of these tables wait until the repair commits, and the repair waits
            # for those in flight: no like can land between a count and its fix. The
            # order (block, video_like, follow) is the order in which the mutations touch
            # them, so the repair cannot deadlock with one. (SQLite: one writer at a time.)
            await conn.execute_query(
                "LOCK TABLE block, video_like, follow IN SHARE ROW EXCLUSIVE MODE"
            )
        found = await find_drift(conn)
        for finding in found:
            if finding.count:
                repair = finding.invariant.repair
                for statement in (repair,) if isinstance(repair, str) else repair:
                    await conn.execute_query(statement)
        left = [f for f in await find_drift(conn) if f.count]
        if left:  # a repair statement that misses a case is a bug: undo everything
            raise RuntimeError("drift left after repair: " + "; ".join(f.line() for f in left))
        return found

    return await db.write_transaction(repair)


async def run(database_url: str, *, repair: bool, out: TextIO = sys.stdout) -> int:
    """The command: 0 when nothing drifted (or all of it was repaired), 1 on drift, 2
    when the database cannot be read."""
    # No migration: a check only reads (so it also runs on a read replica), and one of an
    # unmigrated database says so below. Nor does it create a database: SQLite would
    # make an empty file at a mistyped path, and the check would then report on nothing.
    path = sqlite_path(database_url)
    if path is not None and not Path(path).is_file():
        out.write(f"likegraph check: there is no database file at {path}.\n")
        out.write("Check DATABASE_URL: it must name an existing likegraph database.\n")
        return 2
    await db.connect(database_url)
    try:
        findings = await (repair_drift() if repair else find_drift())
    except OperationalError as exc:
        out.write(f"likegraph check: cannot read the likegraph tables ({exc}).\n")
        out.write("Is this a likegraph database? `likegraph migrate` creates the tables.\n")
        return 2
    finally:
        await db.close()
    for finding in findings:
        out.write(finding.line() + "\n")
    drifted = sum(f.count for f in findings)
    if not drifted:
        out.write("likegraph check: no drift: every counter and copy equals its rows.\n")
        return 0
    if repair:
        out.write(f"likegraph check: repaired {drifted} drifted rows in one transaction.\n")
        return 0
    out.write(f"likegraph check: {drifted} drifted rows; `likegraph check --repair` fixes them.\n")
    return 1


def main(database_url: str, *, repair: bool) -> int:
    return asyncio.run(run(database_url, repair=repair))
