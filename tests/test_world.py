"""The persona world every test starts from: replayed from the rows the session saved,
it must be as good as one built now, whatever the clock did in between."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

import tests.world as persona_world
from api.rows import to_datetime
from models.sql import Sql
from tests.conftest import Gql
from tests.world import POPULAR, TABLES, World, world_for_test

DAY = timedelta(days=1)


def _a_day_earlier(saved: persona_world._Saved) -> persona_world._Saved:
    """The saved world as a session that began yesterday would hold it."""
    rows = {
        table: [
            {
                column: to_datetime(value) - DAY if column.endswith("_at") and value else value
                for column, value in row.items()
            }
            for row in table_rows
        ]
        for table, table_rows in saved.rows.items()
    }
    return dataclasses.replace(saved, rows=rows, began=saved.began - DAY)


async def test_a_world_saved_before_midnight_is_replayed_as_made_now(
    world: World, gql: Gql, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI once ran across midnight UTC: the tests after it got the world's videos posted
    yesterday, and insights found a closed day of theirs to release."""
    saved = _a_day_earlier(persona_world._SAVED[0])
    monkeypatch.setattr(persona_world, "_SAVED", [saved])
    sql = Sql()
    for table in reversed(TABLES):
        await sql.execute(f"DELETE FROM {table}")

    before = datetime.now(UTC)
    replayed = await world_for_test(gql)
    after = datetime.now(UTC)

    # Every row is made while the replay ran, as if the world had just been built there.
    made = [
        to_datetime(value)
        for table in TABLES
        for row in await sql.rows(f"SELECT * FROM {table}")
        for column, value in row.items()
        if column in ("created_at", "liked_at")
    ]
    assert len(made) > 20
    assert all(before - saved.took <= at <= after for at in made), (before, after, made)
    assert replayed.day == min(made).date()
    # The likes keep their order (newest first), and the saved tokens still log in.
    assert await replayed.likers(POPULAR, as_="alice") == ["erin", "bob"]
    liked = await sql.rows("SELECT liked_at FROM video_like ORDER BY id")
    assert [r["liked_at"] for r in liked] == sorted(r["liked_at"] for r in liked)
