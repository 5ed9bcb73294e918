"""`likegraph generate`: a synthetic data set that obeys the app's invariants.

The command runs as a real subprocess (`python -m api generate`) against the test's own
database, as an operator would run it; the test then reads the rows back and uses the
API on them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from api.generate import GenerateError, Options, like_counts
from api.ids import Kind, decode_id
from api.rows import to_datetime
from models.sql import Sql
from tests.conftest import SECRET, Gql, drop_database, new_database

SMALL = ["--accounts", "200", "--videos", "50", "--likes", "2000"]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, Any]:
        last = self.stdout.strip().splitlines()[-1]
        parsed: dict[str, Any] = json.loads(last)
        return parsed


async def _generate(database_url: str, cwd: Path, *args: str) -> Run:
    env = {**os.environ, "DATABASE_URL": database_url, "LIKEGRAPH_SECRET": SECRET}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api",
        "generate",
        *args,
        cwd=cwd,  # no stray .env from the repository
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


async def _value(text: str) -> Any:
    rows = await Sql().rows(text)
    return next(iter(rows[0].values()))


async def test_generate_fills_an_empty_database_with_consistent_data(
    database_url: str, tmp_path: Path
) -> None:
    run = await _generate(database_url, tmp_path, *SMALL, "--seed", "7")
    assert run.code == 0, run.stderr
    summary = run.summary
    assert {k: summary[k] for k in ("accounts", "videos", "likes")} == {
        "accounts": 200,
        "videos": 50,
        "likes": 2000,
    }
    assert "video_like" in run.stderr and "2,000/2,000" in run.stderr  # the progress display

    assert await _value("SELECT COUNT(*) FROM account") == 200
    handles = {r["handle"] for r in await Sql().rows("SELECT handle FROM account")}
    assert handles == {f"user{i}" for i in range(1, 201)}
    assert await _value("SELECT COUNT(*) FROM account WHERE is_private") == 60
    assert await _value("SELECT COUNT(*) FROM video") == 50
    assert await _value("SELECT COUNT(*) FROM video_like") == 2000
    # An account likes a video at most once.
    assert (
        await _value(
            "SELECT COUNT(*) FROM (SELECT DISTINCT video_id, account_id FROM video_like) d"
        )
        == 2000
    )
    # likeCount is the stored counter: it must equal the like rows of every video.
    assert (
        await _value(
            "SELECT COUNT(*) FROM video v WHERE v.like_count <>"
            " (SELECT COUNT(*) FROM video_like l WHERE l.video_id = v.id)"
        )
        == 0
    )
    # The copy of the liker's privacy on each like row agrees with the account.
    assert (
        await _value(
            "SELECT COUNT(*) FROM video_like l JOIN account a ON a.id = l.account_id"
            " WHERE l.liker_public = a.is_private"
        )
        == 0
    )
    # Lists order likes by id: ids must grow with liked_at.
    likes = await Sql().rows("SELECT liked_at FROM video_like ORDER BY id")
    stamps = [to_datetime(r["liked_at"]) for r in likes]
    assert stamps == sorted(stamps)

    kind, hottest = decode_id(summary["hottestVideoId"])
    assert kind is Kind.VIDEO
    sql = Sql()
    video = (
        await sql.rows(
            "SELECT v.like_count, a.handle, a.is_private FROM video v"
            f" JOIN account a ON a.id = v.author_id WHERE v.id = {sql.p(hottest)}"
        )
    )[0]
    # A tenth of 2,000 likes is 200, one like from every account.
    assert video["like_count"] == summary["hottestVideoLikes"] == 200
    assert await _value("SELECT MAX(like_count) FROM video") == 200
    assert video["handle"] == summary["hottestVideoAuthor"]
    assert not video["is_private"]

    follows = await _value("SELECT COUNT(*) FROM follow")
    assert follows == summary["follows"]
    assert 8 * 200 <= follows <= 12 * 200  # 10 per account on average
    assert await _value("SELECT COUNT(*) FROM follow WHERE follower_id = followee_id") == 0
    pending_to = await Sql().rows(
        "SELECT a.is_private, COUNT(*) AS n FROM follow f JOIN account a ON a.id = f.followee_id"
        " WHERE f.status = 'PENDING' GROUP BY a.is_private"
    )
    # Only requests to private accounts wait for approval, and some of them do.
    assert [(bool(r["is_private"]), r["n"] > 0) for r in pending_to] == [(True, True)]


async def test_generated_accounts_log_in_and_the_api_writes_after_the_generated_ids(
    database_url: str, tmp_path: Path, gql: Gql
) -> None:
    run = await _generate(database_url, tmp_path, *SMALL, "--seed", "3")
    assert run.code == 0, run.stderr
    data = await gql.ok(
        'mutation { logIn(handle: "user1", password: "password123") { token account { handle } } }'
    )
    assert data["logIn"]["account"]["handle"] == "user1"
    gql.tokens["user1"] = data["logIn"]["token"]
    # New rows take ids after the generated ones (PostgreSQL sequences were moved on).
    new_id = await gql.sign_up("newcomer")
    assert decode_id(new_id) == (Kind.ACCOUNT, 201)
    hottest = run.summary["hottestVideoId"]
    liked = await gql.ok(
        "mutation($v: ID!) { unlikeVideo(videoId: $v) { likeCount } }", {"v": hottest}, as_="user1"
    )
    assert liked["unlikeVideo"]["likeCount"] == 199
    again = await gql.ok(
        "mutation($v: ID!) { likeVideo(videoId: $v) { likeCount likers(first: 1)"
        " { edges { node { handle } } } } }",
        {"v": hottest},
        as_="user1",
    )
    # The new like is the newest: its id comes after the 2,000 generated ones.
    assert again["likeVideo"]["likeCount"] == 200
    assert again["likeVideo"]["likers"]["edges"] == [{"node": {"handle": "user1"}}]


async def test_generate_refuses_a_database_that_is_not_empty(
    database_url: str, tmp_path: Path, gql: Gql
) -> None:
    await gql.sign_up("alice")
    run = await _generate(database_url, tmp_path, *SMALL)
    assert run.code != 0
    assert "not empty" in run.stderr
    assert run.stdout == ""
    assert await _value("SELECT COUNT(*) FROM account") == 1
    assert await _value("SELECT COUNT(*) FROM video") == 0


async def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every generated row, but the password hash (argon2 salts it at random)."""
    queries = {
        "account": "SELECT id, handle, display_name, is_private, created_at FROM account",
        "video": "SELECT id, author_id, caption, created_at, like_count FROM video",
        "follow": "SELECT id, follower_id, followee_id, status, created_at FROM follow",
        "video_like": "SELECT id, account_id, video_id, liked_at, liker_public FROM video_like",
    }
    dump: dict[str, list[tuple[Any, ...]]] = {}
    if url.startswith("sqlite://"):
        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            for table, query in queries.items():
                dump[table] = [tuple(r) for r in conn.execute(query + " ORDER BY id")]
        finally:
            conn.close()
    else:
        pg = await asyncpg.connect(url)
        try:
            for table, query in queries.items():
                dump[table] = [tuple(r) for r in await pg.fetch(query + " ORDER BY id")]
        finally:
            await pg.close()
    return dump


async def test_generate_with_the_same_seed_makes_the_same_data(
    database_url: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    (tmp_path / "second").mkdir()
    second = await new_database(tmp_path / "second", tmp_path_factory)
    try:
        first_run = await _generate(database_url, tmp_path, *SMALL, "--seed", "11")
        second_run = await _generate(second, tmp_path, *SMALL, "--seed", "11")
        assert first_run.code == second_run.code == 0, first_run.stderr + second_run.stderr
        assert first_run.summary == second_run.summary
        first_rows, second_rows = await _dump(database_url), await _dump(second)
        assert [len(rows) for rows in first_rows.values()] == [
            200,
            50,
            first_run.summary["follows"],
            2000,
        ]
        assert first_rows == second_rows
    finally:
        await drop_database(second)


@pytest.mark.parametrize("average", ["0.2", "1.2"])
async def test_a_fractional_follows_per_account_is_the_average_made(
    database_url: str, tmp_path: Path, average: str
) -> None:
    """`--follows-per-account 0.2` once made no follow at all, 1.2 about one per account."""
    run = await _generate(
        database_url, tmp_path, "--accounts", "2000", "--videos", "10", "--likes", "100",
        "--follows-per-account", average, "--seed", "7",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    made = run.summary["follows"] / 2000
    assert abs(made - float(average)) < 0.05, made


def test_likes_fall_off_by_rank_with_a_tenth_on_the_hottest_video() -> None:
    counts = like_counts(1_000_000, 100_000, 20_000)
    assert sum(counts) == 1_000_000
    assert counts[0] == 100_000  # a tenth of the likes, and one from every account
    assert all(a >= b for a, b in itertools.pairwise(counts))
    assert max(counts[1:]) < counts[0]
    # Skewed: the top 1% of videos hold most of the likes, and there are ~100-like videos.
    assert sum(counts[:200]) > 500_000
    assert any(90 <= c <= 110 for c in counts)


def test_the_hottest_video_has_every_account_when_accounts_are_fewer_than_a_tenth() -> None:
    counts = like_counts(2_000, 150, 50)
    assert sum(counts) == 2_000
    assert counts[0] == 150
    assert max(counts[1:]) <= 150
    assert like_counts(2_000, 5_000, 50)[0] == 200


def test_generate_rejects_more_likes_than_accounts_times_videos() -> None:
    with pytest.raises(GenerateError, match="at most once"):
        Options(accounts=10, videos=5, likes=51).check()
