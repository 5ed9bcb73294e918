"""How long `deleteAccount` holds the write lock, and how long another writer waits.

    DATABASE_URL=sqlite://bench/data/deletion.sqlite3 .venv/bin/likegraph generate \\
        --accounts 20 --videos 100000 --likes 1000000 --seed 4
    .venv/bin/python bench/deletion.py sqlite://bench/data/deletion.sqlite3

It deletes, with `api.deletion.delete_account` (what the mutation runs after checking
the password), the account that made the most likes, on a copy you can afford to lose
(it changes the database). Meanwhile another task of the same process likes and unlikes
videos that account liked, as `likeVideo` and `unlikeVideo` do (a like row and its
counter bump in one transaction), and times each of those transactions: on SQLite they
queue behind the deletion's batches for the one write lock; on PostgreSQL they wait for
the counter rows a batch holds. Every transaction of the deletion is timed too. At the
end it checks that every `like_count` equals its likes. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient

from api import db, deletion
from api.check import find_drift
from models.sql import Sql

T = TypeVar("T")


def timed(
    durations: list[float], write: Callable[..., Awaitable[T]]
) -> Callable[..., Awaitable[T]]:
    async def run(work: Callable[[BaseDBAsyncClient], Awaitable[T]]) -> T:
        started = time.perf_counter()
        try:
            return await write(work)
        finally:
            durations.append(time.perf_counter() - started)

    return run


async def toggle(conn: BaseDBAsyncClient, account_id: int, video: int, liking: bool) -> None:
    """likeVideo's or unlikeVideo's writes: the like row and its counter, together."""
    sql = Sql(conn)
    if liking:
        changed = await sql.rows(
            "INSERT INTO video_like (account_id, video_id, liked_at, liker_public)"
            f" SELECT a.id, {sql.p(video)}, {sql.p(datetime.now(UTC))},"
            f" NOT a.is_private FROM account a WHERE a.id = {sql.p(account_id)}"
            " ON CONFLICT (video_id, account_id) DO NOTHING RETURNING id"
        )
    else:
        changed = await sql.rows(
            f"DELETE FROM video_like WHERE video_id = {sql.p(video)}"
            f" AND account_id = {sql.p(account_id)} RETURNING id"
        )
    if changed:
        sql = Sql(conn)
        await sql.execute(
            f"UPDATE video SET like_count = like_count + {sql.p(1 if liking else -1)}"
            f" WHERE id = {sql.p(video)}"
        )


async def writer(
    account_id: int, videos: list[int], stop: asyncio.Event, waits: list[float]
) -> None:
    """likeVideo then unlikeVideo by another account, over and over, each timed."""
    while not stop.is_set():
        video = random.choice(videos)
        for liking in (True, False):
            started = time.perf_counter()
            await db.write_transaction(
                functools.partial(toggle, account_id=account_id, video=video, liking=liking)
            )
            waits.append(time.perf_counter() - started)
        await asyncio.sleep(0.005)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def main(database_url: str) -> dict[str, Any]:
    await db.connect(database_url)
    try:
        top = await Sql().rows(
            "SELECT account_id, COUNT(*) AS n FROM video_like GROUP BY account_id"
            " ORDER BY n DESC LIMIT 1"
        )
        victim, likes_made = top[0]["account_id"], top[0]["n"]
        received = await Sql().rows(
            "SELECT COUNT(*) AS n FROM video_like l JOIN video v ON v.id = l.video_id"
            f" WHERE v.author_id = {victim}"
        )
        other = await Sql().rows(f"SELECT id FROM account WHERE id <> {victim} LIMIT 1")
        liked = await Sql().rows(
            "SELECT l.video_id FROM video_like l JOIN video v ON v.id = l.video_id"
            f" WHERE l.account_id = {victim} AND v.author_id <> {victim} LIMIT 500"
        )
        transactions: list[float] = []
        waits: list[float] = []
        deletion_write = deletion.write_transaction
        deletion.write_transaction = timed(transactions, deletion_write)  # type: ignore[assignment]
        stop = asyncio.Event()
        background = asyncio.create_task(
            writer(other[0]["id"], [r["video_id"] for r in liked], stop, waits)
        )
        await asyncio.sleep(0.5)  # the writer's figures before the deletion starts
        quiet = list(waits)
        started = time.perf_counter()
        deleted = await deletion.delete_account(victim)
        elapsed = time.perf_counter() - started
        stop.set()
        await background
        deletion.write_transaction = deletion_write  # type: ignore[assignment]
        during = waits[len(quiet) :]
        drift = [f.line() for f in await find_drift() if f.count]
        return {
            "database": database_url.split("://", 1)[0],
            "deleted": deleted,
            "likesMade": likes_made,
            "likesReceived": received[0]["n"],
            "batch": deletion.LIKE_BATCH,
            "seconds": round(elapsed, 2),
            "transactions": len(transactions),
            "longestTransactionMs": ms(max(transactions)),
            "medianTransactionMs": ms(statistics.median(transactions)),
            "lastTransactionMs": ms(transactions[-1]),
            "otherWriterBeforeMedianMs": ms(statistics.median(quiet)) if quiet else None,
            "otherWriterWrites": len(during),
            "otherWriterMedianMs": ms(statistics.median(during)) if during else None,
            "otherWriterLongestMs": ms(max(during)) if during else None,
            "drift": drift,
        }
    finally:
        await db.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(json.dumps(asyncio.run(main(sys.argv[1])), indent=2))
