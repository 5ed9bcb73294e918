"""likeVideo and unlikeVideo: a like row and its video's counter, written together.

Rule 3: the counter moves in the like's own transaction, so it never drifts. Rule 2:
the video must be visible to the viewer, judged by the policy inside the write itself,
so a block or a switch to private that commits between the request's start and its
write cannot let a like through. Whatever changed nothing (a repeat, a hidden video, a
missing one) is answered by a fresh read: NOT_FOUND alike for hidden and missing.

Each round trip to PostgreSQL costs the worker ~0.1 ms of CPU (bench/README.md, "A
cheaper write path"), so each write on PostgreSQL is one statement, its own transaction:
the change and the counter (which also returns the video to answer with). A like's
change is a call of a generated function (`models/functions.py`) that takes a share
lock on the liker and the author and then inserts, each with a snapshot of its own;
an unlike's is a DELETE.

On SQLite the lookup comes first (an inline read: a hidden or missing video takes no
write lock), then BEGIN, the change, the counter, COMMIT.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient

from api import db
from api.context import Context
from api.db import write_transaction
from api.lookups import fresh_visible_video, require_visible_video, video_pk
from api.rows import VideoRow
from auth.policy import Owner, video_visible_sql
from auth.viewer import Viewer
from models import functions
from models.functions import Function, plpgsql
from models.sql import Sql, is_postgres


class Target(NamedTuple):
    id: int
    found: VideoRow | None  # the lookup's row (SQLite); None where the write judges it


async def like(ctx: Context, global_id: str) -> VideoRow:
    me = ctx.account_id_or_raise()
    target = await _target(ctx, global_id)

    def insert(sql: Sql) -> str:
        return _insert(ctx.viewer, sql, me, target.id)

    async def work(conn: BaseDBAsyncClient) -> VideoRow | None:
        if not is_postgres(conn):
            return await _counted_sqlite(conn, target, +1, insert)
        sql = Sql(conn)
        function = _like_after_lock(ctx.viewer, sql, me, target.id)
        changed = f"SELECT 1 WHERE {function.call(len(sql.params))}"
        return await functions.creating(
            conn, function, _counted_postgres(sql, target.id, +1, changed)
        )

    # On PostgreSQL the work is one statement, atomic on its own.
    return await _answer(ctx, target, await write_transaction(work, one_statement=True))


async def create_functions() -> None:
    """On PostgreSQL, creates the like's function now if the database lacks it, so that
    a server whose role may not create functions fails at start-up, not at its first
    like. (A like also creates it when missing: `functions.creating`.)"""
    conn = db.conn()
    if is_postgres(conn):
        # The body's text does not depend on the ids, only its arguments do.
        await functions.create(conn, _like_after_lock(Viewer.of(0), Sql(conn), 0, 0))


def _insert(viewer: Viewer, sql: Sql, me: int, video_id: int) -> str:
    # The liker's privacy is copied onto the row in the same statement; setPrivacy
    # rewrites these copies in its own transaction. On PostgreSQL (READ COMMITTED) the
    # copy is read under a share lock on the account row: a concurrent setPrivacy either
    # commits first, and the lock wait re-reads its new value, or waits for this like to
    # commit and then rewrites its copy. (SQLite runs one writer at a time.)
    lock = " FOR SHARE OF a" if is_postgres(sql.client) else ""
    return (
        "INSERT INTO video_like (account_id, video_id, liked_at, liker_public)"
        f" SELECT a.id, {sql.p(video_id)}, {sql.p(datetime.now(UTC))}, NOT a.is_private"
        f" FROM account a WHERE a.id = {sql.p(me)} AND {_visible(viewer, sql, video_id)}"
        f"{lock} ON CONFLICT (video_id, account_id) DO NOTHING"
    )


def _like_after_lock(viewer: Viewer, sql: Sql, me: int, video_id: int) -> Function:
    """PostgreSQL: the like's insert after a share lock on the liker and the author.

    A block between the two that is under way holds both rows: the lock waits for it,
    and the insert, a statement of its own and so a fresh snapshot, sees the block (rule
    11: no like can land across a block once it commits). A function runs both in one
    round trip; it returns whether it inserted.
    """
    return plpgsql(
        "likegraph_like",
        "boolean",
        f"PERFORM id FROM account WHERE {_liker_or_author(sql, me, video_id)}"
        f" ORDER BY id FOR SHARE; {_insert(viewer, sql, me, video_id)}; RETURN FOUND;",
        sql.params,
    )


async def unlike(ctx: Context, global_id: str) -> VideoRow:
    me = ctx.account_id_or_raise()
    target = await _target(ctx, global_id)

    def delete(sql: Sql) -> str:
        # Only from a video the viewer may see, as a like: a hidden video's like stays.
        return (
            f"DELETE FROM video_like WHERE video_id = {sql.p(target.id)}"
            f" AND account_id = {sql.p(me)} AND {_visible(ctx.viewer, sql, target.id)}"
        )

    async def work(conn: BaseDBAsyncClient) -> VideoRow | None:
        if not is_postgres(conn):
            return await _counted_sqlite(conn, target, -1, delete)
        sql = Sql(conn)
        changed = f"{delete(sql)} RETURNING 1"
        return await _counted_postgres(sql, target.id, -1, changed)()

    # On PostgreSQL the work is one statement, atomic on its own.
    return await _answer(ctx, target, await write_transaction(work, one_statement=True))


def _visible(viewer: Viewer, sql: Sql, video_id: int) -> str:
    """Rule 2 for the one video a like names, as a condition: the policy's, over its
    author. A like's insert and an unlike's delete change a row only when it holds."""
    visible = video_visible_sql(viewer, sql, Owner.account("au"))
    return (
        "EXISTS (SELECT 1 FROM video v JOIN account au ON au.id = v.author_id"
        f" WHERE v.id = {sql.p(video_id)} AND {visible})"
    )


async def _target(ctx: Context, global_id: str) -> Target:
    if is_postgres(db.conn()):
        return Target(video_pk(global_id), None)
    found = await require_visible_video(ctx, global_id)
    return Target(found.id, found)


def _liker_or_author(sql: Sql, me: int, video_id: int) -> str:
    """The liker's and the author's account rows, to be locked in id order, as every
    locker of two accounts takes them (no deadlock); the author found by the video, so a
    missing video locks the liker alone."""
    return f"id = {sql.p(me)} OR id = (SELECT author_id FROM video WHERE id = {sql.p(video_id)})"


def _counted_postgres(
    sql: Sql, video_id: int, delta: int, changed: str
) -> Callable[[], Awaitable[VideoRow | None]]:
    """One statement: `changed` (a query that returns a row when it inserted or deleted
    a like) and the counter, moved only if it did; the statement returns the video with
    its new count, or no row.

    A change is made only while the viewer may see the video (`_visible`, judged by the
    change itself: for a like, inside its function after the lock), so a video returned
    here is one the viewer may see; the counter does not judge it again. The statement
    is built once and returned as a call, which `functions.creating` may make twice.
    """
    text = (
        f"WITH changed AS ({changed})"
        f" UPDATE video v SET like_count = v.like_count + {sql.p(delta)} FROM account au"
        f" WHERE v.id = {sql.p(video_id)} AND au.id = v.author_id"
        f" AND EXISTS (SELECT 1 FROM changed) RETURNING {VideoRow.columns('v', 'au')}"
    )

    async def run() -> VideoRow | None:
        rows = await sql.rows(text)
        return VideoRow.of(rows[0]) if rows else None

    return run


async def _counted_sqlite(
    conn: BaseDBAsyncClient, target: Target, delta: int, change: Callable[[Sql], str]
) -> VideoRow | None:
    """`change` (the insert or delete of one like) and, if it changed a row, the counter,
    in the write transaction no other writer can interleave; the video with its new
    count, or None. The lookup found the video visible, and `change` re-judges it."""
    sql = Sql(conn)
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
