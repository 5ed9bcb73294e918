"""likeVideo and unlikeVideo: a like row and its video's counter, written together.

Rule 3: the counter moves in the like's own transaction, so it never drifts. Rule 2:
the video must be visible to the viewer, judged by the policy inside the write itself,
so a block or a switch to private that commits between the request's start and its
write cannot let a like through. Whatever changed nothing (a repeat, a hidden video, a
missing one) is answered by a fresh read: NOT_FOUND alike for hidden and missing.

Each round trip to PostgreSQL costs the worker ~0.1 ms of CPU (bench/README.md, "A
cheaper write path"), so the writes are shaped to make few:

- a PostgreSQL like is BEGIN, a share lock on the liker and the author, one statement
  for the insert and the counter (which also returns the video to answer with), COMMIT;
- a PostgreSQL unlike is that one statement, its own transaction;
- on SQLite the lookup comes first (an inline read: a hidden or missing video takes no
  write lock), then BEGIN, the change, the counter, COMMIT.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient

from api import db
from api.context import Context
from api.db import write_transaction
from api.lookups import fresh_visible_video, require_visible_video, video_pk
from api.rows import VideoRow
from auth.policy import Owner, video_visible_sql
from models.sql import Sql, is_postgres


class Target(NamedTuple):
    id: int
    found: VideoRow | None  # the lookup's row (SQLite); None where the write judges it


async def like(ctx: Context, global_id: str) -> VideoRow:
    me = ctx.account_id_or_raise()
    target = await _target(ctx, global_id)

    async def work(conn: BaseDBAsyncClient) -> VideoRow | None:
        postgres = is_postgres(conn)
        if postgres:
            # A block between the liker and the author that is under way holds both
            # rows: wait for it, so the statement below, a fresh snapshot, sees the
            # block (rule 11: no like can land across a block once it commits).
            await _share_lock_liker_and_author(conn, me, target.id)
        # The liker's privacy is copied onto the row in the same statement; setPrivacy
        # rewrites these copies in its own transaction. On PostgreSQL (READ COMMITTED)
        # the copy is read under a share lock on the account row: a concurrent
        # setPrivacy either commits first, and the lock wait re-reads its new value, or
        # waits for this like to commit and then rewrites its copy. (SQLite runs one
        # writer at a time.)
        lock = " FOR SHARE OF a" if postgres else ""

        def insert(sql: Sql) -> str:
            return (
                "INSERT INTO video_like (account_id, video_id, liked_at, liker_public)"
                f" SELECT a.id, {sql.p(target.id)}, {sql.p(datetime.now(UTC))}, NOT a.is_private"
                f" FROM account a WHERE a.id = {sql.p(me)} AND {_visible(ctx, sql, target.id)}"
                f"{lock} ON CONFLICT (video_id, account_id) DO NOTHING"
            )

        return await _counted(ctx, conn, target, +1, insert)

    return await _answer(ctx, target, await write_transaction(work))


async def unlike(ctx: Context, global_id: str) -> VideoRow:
    me = ctx.account_id_or_raise()
    target = await _target(ctx, global_id)

    def delete(sql: Sql) -> str:
        # Only from a video the viewer may see, as a like: a hidden video's like stays.
        return (
            f"DELETE FROM video_like WHERE video_id = {sql.p(target.id)}"
            f" AND account_id = {sql.p(me)} AND {_visible(ctx, sql, target.id)}"
        )

    async def work(conn: BaseDBAsyncClient) -> VideoRow | None:
        return await _counted(ctx, conn, target, -1, delete)

    # On PostgreSQL the work is one statement (below), atomic on its own.
    return await _answer(ctx, target, await write_transaction(work, one_statement=True))


def _visible(ctx: Context, sql: Sql, video_id: int) -> str:
    """Rule 2 for the one video a like names, as a condition: the policy's, over its
    author. A like's insert and an unlike's delete change a row only when it holds."""
    visible = video_visible_sql(ctx.viewer, sql, Owner.account("au"))
    return (
        "EXISTS (SELECT 1 FROM video v JOIN account au ON au.id = v.author_id"
        f" WHERE v.id = {sql.p(video_id)} AND {visible})"
    )


async def _target(ctx: Context, global_id: str) -> Target:
    if is_postgres(db.conn()):
        return Target(video_pk(global_id), None)
    found = await require_visible_video(ctx, global_id)
    return Target(found.id, found)


async def _share_lock_liker_and_author(conn: BaseDBAsyncClient, me: int, video_id: int) -> None:
    """Both rows in id order, as every locker of two accounts takes them (no deadlock);
    the author found by the video, so a missing video locks the liker alone."""
    sql = Sql(conn)
    await sql.execute(
        f"SELECT id FROM account WHERE id = {sql.p(me)}"
        f" OR id = (SELECT author_id FROM video WHERE id = {sql.p(video_id)})"
        " ORDER BY id FOR SHARE"
    )


async def _counted(
    ctx: Context, conn: BaseDBAsyncClient, target: Target, delta: int, change: Callable[[Sql], str]
) -> VideoRow | None:
    """Runs `change` (the insert or delete of one like) and, if it changed a row, moves
    the counter in the same transaction; returns the video with its new count, else None.

    A change is made only while the viewer may see the video (`_visible`), and the counter
    reads what the change saw: on PostgreSQL the same statement and snapshot, on SQLite
    the same write transaction, which no other writer can interleave. So a video returned
    here is one the viewer may see.
    """
    sql = Sql(conn)
    if is_postgres(conn):
        # One statement: the counter moves only if the change returned a row.
        rows = await sql.rows(
            f"WITH changed AS ({change(sql)} RETURNING 1)"
            f" UPDATE video v SET like_count = v.like_count + {sql.p(delta)} FROM account au"
            f" WHERE v.id = {sql.p(target.id)} AND au.id = v.author_id"
            f" AND EXISTS (SELECT 1 FROM changed) RETURNING {VideoRow.columns('v', 'au')}"
        )
        return VideoRow.of(rows[0]) if rows else None
    if not await sql.rows(f"{change(sql)} RETURNING 1"):
        return None
    sql = Sql(conn)
    rows = await sql.rows(
        f"UPDATE video SET like_count = like_count + {sql.p(delta)} WHERE id = {sql.p(target.id)}"
        " RETURNING like_count"
    )
    if not rows or target.found is None:
        return None
    return target.found._replace(like_count=rows[0]["like_count"])


async def _answer(ctx: Context, target: Target, written: VideoRow | None) -> VideoRow:
    """The video as the write left it; read afresh when the write changed nothing (a
    repeat) or could not (hidden, missing: NOT_FOUND)."""
    if written is None:
        return await fresh_visible_video(ctx, target.id)
    # The answer's own selections (a nested list that shows the video again, say) read
    # it anew, not as an earlier lookup of the request left it in the loaders.
    ctx.loaders.forget_video(target.id)
    return written
