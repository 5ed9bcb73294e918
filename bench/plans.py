"""Prints the query plans of the list pages, as docs/likers-query.md shows them.

    .venv/bin/python bench/plans.py DATABASE_URL

It runs real GraphQL requests in-process against a generated database (any made by
`likegraph generate`), captures every SQL statement they send through Tortoise's
`tortoise.db_client` logger, and explains each one: `EXPLAIN QUERY PLAN` on SQLite;
on PostgreSQL `EXPLAIN (ANALYZE)` under both a custom plan and the generic plan that a
prepared statement switches to after five runs (asyncpg prepares every statement).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from api import db
from api.context import Context
from api.cursors import CursorCodec
from api.ids import Kind, configure, encode_id
from api.schema import schema
from api.settings import Settings
from auth.viewer import Viewer
from models.sql import is_postgres

SECRET = "plans-only-secret-0123456789abcdef0123456789"
LIKERS = (
    "query($id: ID!) { video(id: $id) { likeCount"
    " likers(first: 20) { edges { node { handle } } } } }"
)
ACCOUNT = (
    "query($h: String!) { account(handle: $h) {"
    " videos(first: 20) { edges { node { caption } } }"
    " likes(first: 20) { edges { node { likedAt video { caption } } } } } }"
)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s" and isinstance(record.args, tuple):
            self.statements.append((str(record.args[0]), list(record.args[1] or [])))


async def statements_of(
    url: str, viewer: int | None, query: str, variables: dict[str, Any]
) -> list[tuple[str, list[Any]]]:
    capture = Capture()
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(capture)
    try:
        context = Context(
            viewer=Viewer.anonymous() if viewer is None else Viewer.of(viewer),
            settings=Settings(url, SECRET, 3600),
            cursors=CursorCodec(SECRET),
        )
        result = await schema.execute(query, variable_values=variables, context_value=context)
        assert not result.errors, result.errors
    finally:
        logger.removeHandler(capture)
        logger.setLevel(logging.NOTSET)
    return capture.statements


async def explain(url: str, text: str, values: list[Any]) -> list[str]:
    conn = db.conn()
    if not is_postgres(conn):
        rows = await conn.execute_query_dict("EXPLAIN QUERY PLAN " + text, values)
        depth = {0: -1}
        lines = []
        for row in rows:
            depth[row["id"]] = depth.get(row["parent"], -1) + 1
            lines.append("  " * depth[row["id"]] + row["detail"])
        return lines
    import asyncpg  # type: ignore[import-untyped]

    raw = await asyncpg.connect(url.replace("asyncpg://", "postgresql://"), statement_cache_size=0)
    lines = []
    try:
        args = ", ".join(repr(v) for v in values)
        for mode in ("force_custom_plan", "force_generic_plan"):
            await raw.execute(f"SET plan_cache_mode = {mode}")
            await raw.execute("DEALLOCATE ALL")
            await raw.execute("PREPARE page AS " + text)
            lines.append(f"-- {mode}")
            explained = await raw.fetch(
                f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE page({args})"
            )
            lines += [r[0] for r in explained]
    finally:
        await raw.close()
    return lines


async def main(url: str) -> None:
    configure(SECRET)  # the IDs of the cases below, and of the in-process requests
    await db.connect(url)
    conn = db.conn()
    try:
        hottest = (
            await conn.execute_query_dict("SELECT id FROM video ORDER BY like_count DESC LIMIT 1")
        )[0]["id"]
        viewer = (
            await conn.execute_query_dict(
                "SELECT follower_id FROM follow WHERE status = 'APPROVED' GROUP BY follower_id"
                " HAVING COUNT(*) BETWEEN 9 AND 11 ORDER BY follower_id LIMIT 1"
            )
        )[0]["follower_id"]
        hidden_owner = (
            await conn.execute_query_dict(
                "SELECT a.handle FROM account a WHERE a.is_private AND a.id NOT IN"
                " (SELECT followee_id FROM follow WHERE follower_id = "
                f"{int(viewer)} AND status = 'APPROVED')"
                " AND EXISTS (SELECT 1 FROM video_like l WHERE l.account_id = a.id)"
                " ORDER BY a.id LIMIT 1"
            )
        )[0]["handle"]
        cases = [
            ("likers, anonymous", None, LIKERS, {"id": encode_id(Kind.VIDEO, hottest)}),
            (f"likers, viewer {viewer}", viewer, LIKERS, {"id": encode_id(Kind.VIDEO, hottest)}),
            (f"account pages, viewer {viewer}", viewer, ACCOUNT, {"h": f"user{viewer}"}),
            (f"hidden account ({hidden_owner})", viewer, ACCOUNT, {"h": hidden_owner}),
        ]
        for title, who, query, variables in cases:
            print(f"\n=== {title}")
            for text, values in await statements_of(url, who, query, variables):
                print(f"\n{text}\n  params: {values}")
                for line in await explain(url, text, values):
                    print(f"  {line}")
    finally:
        await db.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
