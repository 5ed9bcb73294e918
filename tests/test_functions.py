"""The like's generated PostgreSQL function (models/functions.py): named by its text,
created at start-up or by the first like that finds it missing, once however many ask."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime

import pytest

from api import likes
from models.functions import plpgsql
from models.sql import Sql
from tests.conftest import ENGINE, Gql

LIKE = "mutation($v: ID!) { likeVideo(videoId: $v) { likeCount } }"


def test_a_function_is_named_by_its_body_and_argument_types() -> None:
    body = "PERFORM 1; RETURN TRUE;"
    same = plpgsql("likegraph_like", "boolean", body, [1, datetime.now(UTC)])
    assert same == plpgsql("likegraph_like", "boolean", body, [2, datetime(2020, 1, 1, tzinfo=UTC)])
    assert same.name.startswith("likegraph_like_")
    assert same.call(2) == f"{same.name}($1, $2)"
    others = [
        plpgsql("likegraph_like", "boolean", "PERFORM 2; RETURN TRUE;", [1, datetime.now(UTC)]),
        plpgsql("likegraph_like", "boolean", body, [True, datetime.now(UTC)]),
        plpgsql("likegraph_like", "boolean", body, ["1", datetime.now(UTC)]),
        plpgsql("likegraph_like", "integer", body, [1, datetime.now(UTC)]),
    ]
    assert len({same.name, *(f.name for f in others)}) == 5
    with pytest.raises(TypeError):
        plpgsql("likegraph_like", "boolean", body, [1.5])
    with pytest.raises(ValueError):
        plpgsql("likegraph_like", "boolean", "RETURN $likegraph_function$;", [])


postgres_only = pytest.mark.skipif(
    ENGINE != "postgres", reason="the generated functions exist on PostgreSQL only"
)


async def _like_functions() -> list[str]:
    rows = await Sql().rows(
        "SELECT proname FROM pg_proc WHERE proname LIKE 'likegraph\\_like\\_%' ORDER BY proname"
    )
    return [r["proname"] for r in rows]


async def _drop_like_functions() -> None:
    for name in await _like_functions():
        await Sql().execute(f"DROP FUNCTION {name}")


@postgres_only
async def test_the_function_made_at_start_up_is_the_one_every_like_calls(gql: Gql) -> None:
    await _drop_like_functions()
    await likes.create_functions()
    made = await _like_functions()
    assert len(made) == 1

    await gql.sign_up("alice")
    await gql.sign_up("bob", private=True)
    video = await gql.ok('mutation { createVideo(caption: "a") { id } }', as_="alice")
    for liker in ("alice", "bob"):  # the viewer's own video, and a private viewer
        await gql.ok(LIKE, {"v": video["createVideo"]["id"]}, as_=liker)
    assert await _like_functions() == made


@postgres_only
async def test_likes_arriving_together_create_a_missing_function_once(gql: Gql) -> None:
    """A database restored without it, or made by an older version: the first likes find
    it missing, create it one at a time, and all land."""
    await gql.sign_up("author")
    video = await gql.ok('mutation { createVideo(caption: "a") { id } }', as_="author")
    fans = [f"fan{n}" for n in range(20)]
    for fan in fans:
        await gql.sign_up(fan)
    await _drop_like_functions()

    answers = await asyncio.gather(
        *(gql.ok(LIKE, {"v": video["createVideo"]["id"]}, as_=fan) for fan in fans)
    )

    assert sorted(a["likeVideo"]["likeCount"] for a in answers)[-1] == len(fans)
    assert len(await _like_functions()) == 1


@postgres_only
async def test_likegraph_migrate_creates_the_function(database_url: str) -> None:
    await _drop_like_functions()
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api", "migrate", env={**os.environ, "DATABASE_URL": database_url}
    )
    assert await migrate.wait() == 0
    assert len(await _like_functions()) == 1
