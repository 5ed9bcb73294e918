"""Released daily aggregates (CONTRACT rules 15 and 16): computed once, read ever after.

A video's closed UTC day is released at most once: its true counts (the day's likes,
and per dimension the likes by bucket) come from one statement of GROUP BYs over that
day's likes, OpenDP adds noise to every count of every bucket, figures under the
threshold are dropped, and the rest are stored beside a marker row whose uniqueness
(video, day) decides which of two racing releases wins. Reads sum stored figures only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from api.audience import AGE_BANDS, BUCKETS, OLDEST_BAND, UNKNOWN, Dimension
from api.db import conn as default_conn
from api.db import write_transaction
from api.noise import noised
from api.rows import to_datetime
from auth.policy import FOLLOWER_STATE, state_sql
from models.sql import Sql, is_postgres

TOTAL = "TOTAL"  # the dimension of a day's total likes, in one bucket
ALL = "ALL"
# Dimensions of a few buckets get noise on every bucket, zeros included. REGION and
# LANGUAGE have about 250 and 185 buckets, nearly all empty on any day: noising each would
# cost a dozen milliseconds per video and day (OpenDP's exact sampler takes ~30 us a
# draw), so only their non-empty buckets are noised and the rest withheld. That is the
# thresholded sparse histogram: (epsilon, delta)-DP, delta the chance that noise lifts
# one like's new bucket to the threshold (docs/insights.md).
SPARSE = frozenset({Dimension.REGION.value, Dimension.LANGUAGE.value})
DENSE_SLOTS: tuple[tuple[str, str], ...] = (
    (TOTAL, ALL),
    *(
        (dim.value, bucket)
        for dim, buckets in BUCKETS.items()
        if dim.value not in SPARSE
        for bucket in buckets
    ),
)
# How many released counts one like moves (by one each): its day's total and one bucket
# per dimension. The privacy loss of a like is this many times epsilon.
COUNTS_PER_LIKE = 1 + len(BUCKETS)
# Videos released together by `likegraph insights release`, bounding its memory.
RELEASE_CHUNK_VIDEOS = 200


def today() -> date:
    """The UTC day still open: nothing of it, or after it, is ever released."""
    return datetime.now(UTC).date()


def last_closed_day() -> date:
    return today() - timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """The closed days [first, last] a read covers, newest last."""

    first: date
    last: date

    @classmethod
    def ending_yesterday(cls, days: int) -> Window:
        last = last_closed_day()
        return cls(last - timedelta(days=days - 1), last)

    def days_newest_first(self) -> list[date]:
        span = (self.last - self.first).days
        return [self.last - timedelta(days=i) for i in range(span + 1)]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _day_param(sql: Sql, day: date) -> str:
    # asyncpg binds a date; SQLite stores a DateField as its ISO text.
    return sql.p(day if is_postgres(sql.client) else day.isoformat())


def _midnight(sql: Sql, day: date) -> str:
    """The start of a UTC day as a bound on a stored timestamp: a timestamptz on
    PostgreSQL; on SQLite the day's ISO text, which sorts before every stored stamp of
    that day ('2026-12-01' < '2026-12-01 00:00:00...') and after those of the day before."""
    if is_postgres(sql.client):
        return sql.p(datetime.combine(day, datetime.min.time(), tzinfo=UTC))
    return sql.p(day.isoformat())


def _day_expr(client: BaseDBAsyncClient, column: str) -> str:
    """The UTC day of a stored timestamp, as 'YYYY-MM-DD' text on both engines."""
    if is_postgres(client):
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"substr({column}, 1, 10)"  # stored in UTC as ISO text


def _age_band_sql(year: str) -> str:
    """AGE_BAND from the birth year, at the end of the day's year: an account born in
    1990 is 35_44 all through 2026 (only the year is declared)."""
    cases = " ".join(
        f"WHEN {year} - p.birth_year < {upper} THEN '{name}'" for upper, name in AGE_BANDS
    )
    return f"CASE WHEN p.birth_year IS NULL THEN '{UNKNOWN}' {cases} ELSE '{OLDEST_BAND}' END"


async def true_counts(
    client: BaseDBAsyncClient, video_ids: Sequence[int], first: date, last: date
) -> dict[tuple[int, date], dict[tuple[str, str], int]]:
    """Every non-zero count of these videos' days in [first, last], in one statement of
    GROUP BYs over those days' likes. RELATIONSHIP and ACCOUNT_PRIVACY are read as they
    are now (the release time)."""
    sql = Sql(client)
    day = _day_expr(client, "l.liked_at")
    year = (
        "CAST(EXTRACT(YEAR FROM l.liked_at AT TIME ZONE 'UTC') AS INTEGER)"
        if is_postgres(client)
        else "CAST(substr(l.liked_at, 1, 4) AS INTEGER)"
    )
    likes = (
        f"SELECT l.video_id AS video_id, {day} AS day,"
        f" {_age_band_sql(year)} AS age_band,"
        f" COALESCE(p.region, '{UNKNOWN}') AS region,"
        f" COALESCE(p.language, '{UNKNOWN}') AS language,"
        " CASE WHEN f.id IS NULL THEN 'NON_FOLLOWER' ELSE 'FOLLOWER' END AS relationship,"
        " CASE WHEN l.liker_public THEN 'PUBLIC' ELSE 'PRIVATE' END AS account_privacy"
        " FROM video_like l JOIN video v ON v.id = l.video_id"
        " LEFT JOIN audience_profile p ON p.account_id = l.account_id"
        " LEFT JOIN follow f ON f.follower_id = l.account_id AND f.followee_id = v.author_id"
        f" AND f.status = {state_sql(FOLLOWER_STATE)}"
        f" WHERE l.video_id IN ({sql.ps(video_ids)})"
        # A range of liked_at, so the index (video_id, liked_at) holds just those days.
        f" AND l.liked_at >= {_midnight(sql, first)}"
        f" AND l.liked_at < {_midnight(sql, last + timedelta(days=1))}"
    )
    groupings = [
        f"SELECT video_id, day, '{TOTAL}' AS dim, '{ALL}' AS bucket, COUNT(*) AS n"
        " FROM likes GROUP BY video_id, day"
    ]
    for dim in BUCKETS:
        column = dim.value.lower()
        groupings.append(
            f"SELECT video_id, day, '{dim.value}', {column}, COUNT(*)"
            f" FROM likes GROUP BY video_id, day, {column}"
        )
    rows = await sql.rows(f"WITH likes AS MATERIALIZED ({likes}) " + " UNION ALL ".join(groupings))
    counts: dict[tuple[int, date], dict[tuple[str, str], int]] = {}
    for row in rows:
        key = (int(row["video_id"]), _day(row["day"]))
        counts.setdefault(key, {})[(str(row["dim"]), str(row["bucket"]))] = int(row["n"])
    return counts


async def _released_days(
    client: BaseDBAsyncClient, video_ids: Sequence[int], first: date, last: date
) -> set[tuple[int, date]]:
    sql = Sql(client)
    rows = await sql.rows(
        f"SELECT video_id, day FROM insights_release WHERE video_id IN ({sql.ps(video_ids)})"
        f" AND day BETWEEN {_day_param(sql, first)} AND {_day_param(sql, last)}"
    )
    return {(int(r["video_id"]), _day(r["day"])) for r in rows}


@dataclass(frozen=True)
class VideoDays:
    """A video, its author (whose account sums its figures), and the first day it can
    have likes on (the day it was posted)."""

    video_id: int
    author_id: int
    posted: date


def posted_day(created_at: Any) -> date:
    return to_datetime(created_at).astimezone(UTC).date()


def _due(videos: Iterable[VideoDays], first: date, last: date) -> list[tuple[int, date]]:
    due = []
    for video in videos:
        day = max(first, video.posted)
        while day <= last:
            due.append((video.video_id, day))
            day += timedelta(days=1)
    return due


async def ensure_released(
    videos: Sequence[VideoDays], first: date, last: date, epsilon: float, min_count: int
) -> int:
    """Releases every closed day in [first, last] of these videos that has no release
    yet; returns how many this call released (a racing caller may have won others)."""
    last = min(last, last_closed_day())
    if not videos or first > last:
        return 0
    ids = [v.video_id for v in videos]
    client = default_conn()
    done = await _released_days(client, ids, first, last)
    missing = [key for key in _due(videos, first, last) if key not in done]
    if not missing:
        return 0
    days = [day for _, day in missing]
    counts = await true_counts(client, sorted({v for v, _ in missing}), min(days), max(days))
    slots = [(key, slot) for key in missing for slot in _slots(counts.get(key, {}))]
    released = noised([counts.get(key, {}).get(slot, 0) for key, slot in slots], epsilon)
    figures: dict[tuple[int, date], list[tuple[str, str, int]]] = {key: [] for key in missing}
    for (key, (dim, bucket)), value in zip(slots, released, strict=True):
        if value >= min_count:  # withheld figures are not stored: post-processing
            figures[key].append((dim, bucket, value))

    authors = {v.video_id: v.author_id for v in videos}

    async def store(conn: BaseDBAsyncClient) -> int:
        won = await _claim(conn, missing)
        rows = [(v, d, *figure) for (v, d) in won for figure in figures[(v, d)]]
        await _insert_figures(conn, rows)
        await _add_to_accounts(conn, rows, authors)
        return len(won)

    return await write_transaction(store)


def _slots(counts: dict[tuple[str, str], int]) -> list[tuple[str, str]]:
    """The counts of one video's day that get noise: none for a day without likes (all
    withheld), else every bucket of the small dimensions and the non-empty buckets of
    REGION and LANGUAGE."""
    if not counts:
        return []
    sparse = sorted(slot for slot, n in counts.items() if slot[0] in SPARSE and n > 0)
    return [*DENSE_SLOTS, *sparse]


async def _claim(
    conn: BaseDBAsyncClient, keys: Sequence[tuple[int, date]]
) -> list[tuple[int, date]]:
    """Insert-if-absent of the release markers: the days this transaction now owns. A
    racing release that committed first keeps its own (PostgreSQL waits for it to end)."""
    won: list[tuple[int, date]] = []
    now = datetime.now(UTC)
    for start in range(0, len(keys), 500):  # bounded statements, far below any limit
        chunk = keys[start : start + 500]
        sql = Sql(conn)
        values = ", ".join(f"({sql.p(v)}, {_day_param(sql, d)}, {sql.p(now)})" for v, d in chunk)
        rows = await sql.rows(
            f"INSERT INTO insights_release (video_id, day, released_at) VALUES {values}"
            " ON CONFLICT (video_id, day) DO NOTHING RETURNING video_id, day"
        )
        won.extend((int(r["video_id"]), _day(r["day"])) for r in rows)
    return won


async def _insert_figures(
    conn: BaseDBAsyncClient, rows: Sequence[tuple[int, date, str, str, int]]
) -> None:
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        sql = Sql(conn)
        values = ", ".join(
            f"({sql.p(v)}, {_day_param(sql, d)}, {sql.p(dim)}, {sql.p(bucket)}, {sql.p(n)})"
            for v, d, dim, bucket, n in chunk
        )
        await sql.execute(
            f"INSERT INTO insights_figure (video_id, day, dimension, bucket, count) VALUES {values}"
        )


async def _add_to_accounts(
    conn: BaseDBAsyncClient,
    rows: Sequence[tuple[int, date, str, str, int]],
    authors: Mapping[int, int],
) -> None:
    """Adds the figures just released to their authors' sums, which `Account.insights`
    reads: a video deleted later takes its own figures with it, not its account's."""
    totals: defaultdict[tuple[int, date, str, str], int] = defaultdict(int)
    for video_id, day, dimension, bucket, count in rows:
        totals[(authors[video_id], day, dimension, bucket)] += count
    keys = list(totals)
    for start in range(0, len(keys), 500):
        sql = Sql(conn)
        values = ", ".join(
            f"({sql.p(a)}, {_day_param(sql, d)}, {sql.p(dim)}, {sql.p(b)},"
            f" {sql.p(totals[a, d, dim, b])})"
            for a, d, dim, b in keys[start : start + 500]
        )
        await sql.execute(
            "INSERT INTO insights_account_figure (account_id, day, dimension, bucket, count)"
            f" VALUES {values} ON CONFLICT (account_id, dimension, day, bucket)"
            " DO UPDATE SET count = insights_account_figure.count + excluded.count"
        )


# Reads: sums of stored figures over a window, never a look at the likes.


@dataclass(frozen=True)
class Figures:
    """Whose released figures a read sums: one video's, or one account's (its videos'
    together, as released, deleted videos included: rule 15)."""

    table: str
    owner_column: str
    owner_id: int

    @classmethod
    def of_video(cls, video_id: int) -> Figures:
        return cls("insights_figure", "video_id", video_id)

    @classmethod
    def of_account(cls, account_id: int) -> Figures:
        return cls("insights_account_figure", "account_id", account_id)


async def released_sums(
    figures: Figures, window: Window, dimension: str, by_day: bool
) -> dict[Any, int]:
    """The sum of released figures of one dimension over the window, per day or per
    bucket: one range of the table's (owner, dimension, day) index."""
    sql = Sql(default_conn())
    key = "day" if by_day else "bucket"
    rows = await sql.rows(
        f"SELECT {key} AS k, SUM(count) AS n FROM {figures.table}"
        f" WHERE {figures.owner_column} = {sql.p(figures.owner_id)}"
        f" AND dimension = {sql.p(dimension)}"
        f" AND day BETWEEN {_day_param(sql, window.first)} AND {_day_param(sql, window.last)}"
        f" GROUP BY {key}"
    )
    return {(_day(r["k"]) if by_day else str(r["k"])): int(r["n"]) for r in rows}


async def release_all(
    days: int, epsilon: float, min_count: int, progress: Callable[[int, int, int], None]
) -> tuple[int, int]:
    """`likegraph insights release`: every closed day of the last `days` of every video,
    in chunks of videos; `progress(videos_done, videos, days_released)` after each chunk.
    Returns (videos, video-days released by this run)."""
    window = Window.ending_yesterday(days)
    sql = Sql(default_conn())
    rows = await sql.rows("SELECT id, author_id, created_at FROM video ORDER BY id")
    videos = [
        VideoDays(int(r["id"]), int(r["author_id"]), posted_day(r["created_at"])) for r in rows
    ]
    released = 0
    for start in range(0, len(videos), RELEASE_CHUNK_VIDEOS):
        chunk = videos[start : start + RELEASE_CHUNK_VIDEOS]
        released += await ensure_released(chunk, window.first, window.last, epsilon, min_count)
        progress(start + len(chunk), len(videos), released)
    return len(videos), released
