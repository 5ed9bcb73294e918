"""Deleting a video or an account with every row it owns, in short write transactions.

A like row and its video's `like_count` always change in the same transaction (rule 3),
so a deletion lowers the counters of the videos whose likes it removes. An account can
hold a million likes: removing them in one transaction would hold the write lock (all
of SQLite, the touched rows of PostgreSQL) for many seconds while every other writer
waits. So likes go in batches of LIKE_BATCH, each batch its own short transaction that
removes its likes and lowers their counters exactly. The account's videos follow,
walked in id order: each group's likes in such batches, then the group itself. The
rest (follows, blocks, the account row, and any video or like made meanwhile) goes in
one last transaction. bench/deletion.py measures the longest transaction.

Until that last transaction commits, the account is still there: a reader may see its
likes disappear batch by batch, never a counter that disagrees with the likes stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tortoise.backends.base.client import BaseDBAsyncClient

from api.db import write_transaction
from models.sql import Sql, is_postgres

# About 10 ms of work per transaction on SQLite on a quiet machine (bench/README.md).
LIKE_BATCH = 1000

# A subquery of the ids of (up to `limit`) likes to remove, given the statement's Sql.
Selector = Callable[[Sql, int], str]


def likes_made_by(account_id: int) -> Selector:
    return lambda sql, limit: (
        f"SELECT id FROM video_like WHERE account_id = {sql.p(account_id)}"
        f" ORDER BY id LIMIT {sql.p(limit)}"
    )


def likes_of_video(video_id: int) -> Selector:
    return lambda sql, limit: (
        f"SELECT id FROM video_like WHERE video_id = {sql.p(video_id)} LIMIT {sql.p(limit)}"
    )


def likes_of_videos_by(author_id: int) -> Selector:
    return lambda sql, limit: (
        "SELECT id FROM video_like WHERE video_id IN"
        f" (SELECT id FROM video WHERE author_id = {sql.p(author_id)}) LIMIT {sql.p(limit)}"
    )


async def remove_likes(conn: BaseDBAsyncClient, select: Selector, limit: int) -> int:
    """Removes up to `limit` likes and lowers their videos' counters by as many, in the
    caller's transaction; the number removed."""
    if is_postgres(conn):
        # One statement: the counters are lowered by exactly the rows this DELETE removed,
        # whatever commits meanwhile (READ COMMITTED re-reads between statements).
        sql = Sql(conn)
        rows = await sql.rows(
            f"WITH gone AS (DELETE FROM video_like WHERE id IN ({select(sql, limit)})"
            " RETURNING video_id),"
            " counted AS (SELECT video_id, COUNT(*) AS n FROM gone GROUP BY video_id),"
            " lowered AS (UPDATE video SET like_count = video.like_count - counted.n"
            " FROM counted WHERE video.id = counted.video_id RETURNING 1)"
            " SELECT CAST(COALESCE(SUM(n), 0) AS INTEGER) AS n FROM counted"
        )
        removed: int = rows[0]["n"]
        return removed
    # SQLite runs one writer at a time: nothing changes between these statements. The ids
    # are read first so that the count and the delete name the very same rows.
    sql = Sql(conn)
    ids = [r["id"] for r in await sql.rows(select(sql, limit))]
    if not ids:
        return 0
    sql = Sql(conn)
    await sql.execute(
        "UPDATE video SET like_count = like_count - g.n FROM (SELECT video_id, COUNT(*) AS n"
        f" FROM video_like WHERE id IN ({sql.ps(ids)}) GROUP BY video_id) AS g"
        " WHERE video.id = g.video_id"
    )
    sql = Sql(conn)
    await sql.execute(f"DELETE FROM video_like WHERE id IN ({sql.ps(ids)})")
    return len(ids)


async def remove_likes_in_batches(select: Selector) -> int:
    """Every like `select` names, LIKE_BATCH per transaction; the number removed."""
    total = 0
    while True:
        removed = await write_transaction(lambda conn: remove_likes(conn, select, LIKE_BATCH))
        total += removed
        if removed < LIKE_BATCH:
            return total
        await asyncio.sleep(0)  # let this process's other requests write between batches


def likes_of_videos(video_ids: list[int]) -> Selector:
    return lambda sql, limit: (
        f"SELECT id FROM video_like WHERE video_id IN ({sql.ps(video_ids)}) LIMIT {sql.p(limit)}"
    )


async def delete_videos_in_batches(author_id: int) -> None:
    """The author's videos, LIKE_BATCH at a time in id order: first their likes (counters
    lowered, in batches), then the videos themselves in one short transaction.

    The walk goes forward by video id: a search over all the author's videos for the
    likes still left would step over more and more emptied videos, batch after batch.
    """
    after = 0
    while True:
        sql = Sql()
        ids = [
            r["id"]
            for r in await sql.rows(
                f"SELECT id FROM video WHERE author_id = {sql.p(author_id)}"
                f" AND id > {sql.p(after)} ORDER BY id LIMIT {sql.p(LIKE_BATCH)}"
            )
        ]
        if not ids:
            return
        await remove_likes_in_batches(likes_of_videos(ids))

        async def remove(conn: BaseDBAsyncClient, ids: list[int] = ids) -> None:
            # A like made since goes with its video: no counter is left to lower.
            for table, column in (("video_like", "video_id"), ("video", "id")):
                sql = Sql(conn)
                await sql.execute(f"DELETE FROM {table} WHERE {column} IN ({sql.ps(ids)})")

        await write_transaction(remove)
        after = ids[-1]
        await asyncio.sleep(0)


async def _drain(conn: BaseDBAsyncClient, select: Selector) -> None:
    """Inside the last transaction: the few likes made since the batches ran."""
    while await remove_likes(conn, select, LIKE_BATCH) == LIKE_BATCH:
        pass


async def delete_video(video_id: int, author_id: int) -> bool:
    """Rule 12: the video and its likes. False when it was no longer there."""
    await remove_likes_in_batches(likes_of_video(video_id))

    async def finish(conn: BaseDBAsyncClient) -> bool:
        await _drain(conn, likes_of_video(video_id))
        sql = Sql(conn)
        deleted = await sql.rows(
            f"DELETE FROM video WHERE id = {sql.p(video_id)} AND author_id = {sql.p(author_id)}"
            " RETURNING id"
        )
        return bool(deleted)

    return await write_transaction(finish)


async def delete_account(account_id: int) -> bool:
    """Rule 12: the account and everything it owns. False when it was no longer there."""
    # Likes the account made lower others' counters; likes of its own videos lower the
    # counters of videos about to go, kept exact all the same until they do.
    await remove_likes_in_batches(likes_made_by(account_id))
    await delete_videos_in_batches(account_id)

    async def finish(conn: BaseDBAsyncClient) -> bool:
        me = account_id
        if is_postgres(conn):
            # likeVideo and follow share-lock the account rows they name: from here on
            # none of them can add a row of this account, so the drain below is the last.
            sql = Sql(conn)
            await sql.execute(f"SELECT id FROM account WHERE id = {sql.p(me)} FOR UPDATE")
        await _drain(conn, likes_made_by(me))
        await _drain(conn, likes_of_videos_by(me))
        statements = (
            "DELETE FROM video WHERE author_id = {me}",
            "DELETE FROM follow WHERE follower_id = {me}",
            "DELETE FROM follow WHERE followee_id = {me}",
            "DELETE FROM block WHERE blocker_id = {me}",
            "DELETE FROM block WHERE blocked_id = {me}",
        )
        for statement in statements:
            sql = Sql(conn)
            await sql.execute(statement.format(me=sql.p(me)))
        sql = Sql(conn)
        deleted = await sql.rows(f"DELETE FROM account WHERE id = {sql.p(me)} RETURNING id")
        return bool(deleted)

    return await write_transaction(finish)
