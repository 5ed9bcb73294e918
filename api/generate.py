"""`likegraph generate`: bulk-fills an empty database with a synthetic social graph.

The data obeys the same invariants as data written through the API, so a generated
database is served like any other: `video.like_count` equals the video's like rows,
`video_like.liker_public` is NOT the liker's `is_private`, and like ids grow with
`liked_at` (lists order likes by id). It is written in streamed batches straight to
the driver (executemany on SQLite, COPY on PostgreSQL): memory stays bounded by the
number of accounts and videos, never by the number of likes or follows.

Every account's password is `password123`. argon2 is deliberately slow (tens of
milliseconds a hash), so the password is hashed ONCE and that hash is stored for every
account; logging in still verifies it the usual way.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import sqlite3
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from api import db
from api.ids import Kind, encode_id
from api.settings import sqlite_path
from auth.passwords import hash_password
from auth.policy import FOLLOWER_STATE, follow_state_on_request
from models import FollowState

PASSWORD = "password123"
# A share of the follow edges to private accounts left as requests the account has not
# approved ("partly pending"): they must grant nothing, so the data set exercises that.
PENDING_SHARE = 0.3
# The likes per video fall as 1 / rank**ZIPF_EXPONENT below the hottest video.
ZIPF_EXPONENT = 1.0
BATCH_ROWS = 50_000
# The generated history spans the HISTORY_DAYS closed UTC days before today: accounts,
# then videos, then follows one second apart; the likes spread evenly over the rest, like
# id after like id, so every like is in a closed day, and likes made later through the API
# come after them in id order. Likes are drawn video after video, so each video's likes
# fill a stretch of days after it was posted, as long as its share of all likes.
HISTORY_DAYS = 120
SECONDS_PER_DAY = 86_400
TABLES = ("account", "video", "follow", "video_like", "block", "audience_profile")
# Audience profiles (CONTRACT section 7): the share of accounts that declare each field,
# a dozen regions and languages drawn with skewed weights, birth years 1950 to 2012.
DECLARED_SHARE = 0.8
REGIONS = ("US", "BR", "IN", "ID", "MX", "JP", "DE", "FR", "GB", "NG", "PH", "KR")
LANGUAGES = ("en", "es", "pt", "hi", "id", "ja", "de", "fr", "ar", "ko", "tl", "yo")
BIRTH_YEARS = (1950, 2012)


def history_start() -> datetime:
    """Midnight UTC, HISTORY_DAYS ago: the same for every run of one day (seeded runs
    match), and nothing generated falls on today, the day still open."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=HISTORY_DAYS)


class GenerateError(Exception):
    """Arguments that cannot describe a data set, or a database that is not empty."""


@dataclass(frozen=True)
class Options:
    accounts: int
    videos: int
    likes: int
    private_ratio: float = 0.3
    follows_per_account: float = 10.0
    seed: int | None = None

    def check(self) -> None:
        if self.accounts < 1 or self.videos < 1 or self.likes < 0:
            raise GenerateError("--accounts and --videos must be at least 1, --likes at least 0.")
        if self.likes > self.accounts * self.videos:
            raise GenerateError(
                "an account likes a video at most once: --likes must be at most"
                f" accounts x videos = {self.accounts * self.videos:,}."
            )
        if not 0.0 <= self.private_ratio <= 1.0:
            raise GenerateError("--private-ratio must be between 0 and 1.")
        if self.follows_per_account < 0:
            raise GenerateError("--follows-per-account must be at least 0.")


def like_counts(likes: int, accounts: int, videos: int) -> list[int]:
    """Likes per video by popularity rank: a tenth on the hottest, then a Zipf-like tail.

    The hottest video holds a tenth of the likes, or one like from every account when
    accounts are fewer. The others share the rest in proportion to 1 / rank, each held
    below the hottest (and so below the number of accounts); a share over that cap is
    capped and its excess spread over the next ranks ("water filling").
    """
    hot = min(max(round(likes / 10), 1 if likes else 0), accounts)
    hot = max(hot, math.ceil(likes / videos))  # the rest must fit under the cap
    rest = likes - hot
    others = videos - 1
    cap = hot - 1 if rest <= others * (hot - 1) else hot
    weights = [1.0 / (rank**ZIPF_EXPONENT) for rank in range(2, videos + 1)]
    suffix = [*itertools.accumulate(reversed(weights))][::-1]
    suffix.append(0.0)
    capped = 0
    while capped < others and (rest - capped * cap) * weights[capped] / suffix[capped] > cap:
        capped += 1
    counts = [cap] * capped
    left = rest - capped * cap
    tail_weight = suffix[capped] if capped < others else 1.0
    counts += [int(left * w / tail_weight) for w in weights[capped:]]
    leftover = rest - sum(counts)
    rank = capped
    while leftover > 0:  # the rounding remainder, one more like for the top of the tail
        if counts[rank] < cap:
            counts[rank] += 1
            leftover -= 1
        rank = rank + 1 if rank + 1 < others else capped
    return [hot, *counts]


@dataclass
class World:
    """What the rows are drawn from: small (accounts + videos), never the likes."""

    options: Options
    seed: int
    private: bytearray  # private[account_id] is 1 for a private account (index 0 unused)
    video_author: array[int]  # video_author[video_id]
    video_likes: array[int]  # video_likes[video_id]
    hottest_video: int
    password_hash: str

    @classmethod
    def draw(cls, options: Options, password_hash: str) -> World:
        options.check()
        seed = options.seed if options.seed is not None else random.SystemRandom().getrandbits(32)
        rng = random.Random(seed)
        n_accounts, n_videos = options.accounts, options.videos
        by_rank = like_counts(options.likes, n_accounts, n_videos)
        video_ids = list(range(1, n_videos + 1))
        rng.shuffle(video_ids)  # the hottest video is any video, not always the first
        video_likes = array("i", bytes(4 * (n_videos + 1)))
        for video_id, count in zip(video_ids, by_rank, strict=True):
            video_likes[video_id] = count
        # Authors are skewed too: a few prolific creators (the k-th most prolific posts
        # about 1/k as much as the first), so some accounts have pages of videos.
        creators = list(range(1, n_accounts + 1))
        rng.shuffle(creators)
        creator_weights = list(itertools.accumulate(1.0 / k for k in range(1, n_accounts + 1)))
        video_author = array("i", [0])
        video_author.extend(rng.choices(creators, cum_weights=creator_weights, k=n_videos))
        del creators, creator_weights
        hottest = video_ids[0]
        # Exactly round(R x N) private accounts, but the hottest video's author is public.
        n_private = min(round(options.private_ratio * n_accounts), n_accounts - 1)
        private = bytearray(n_accounts + 1)
        for account_id in rng.sample(range(1, n_accounts + 1), n_private):
            private[account_id] = 1
        author = video_author[hottest]
        if private[author]:
            swap = rng.choice([a for a in range(1, n_accounts + 1) if not private[a]])
            private[author], private[swap] = 0, 1
        return cls(options, seed, private, video_author, video_likes, hottest, password_hash)

    def summary(self, follows: int, pending: int) -> dict[str, Any]:
        return {
            "accounts": self.options.accounts,
            "privateAccounts": sum(self.private),
            "videos": self.options.videos,
            "likes": self.options.likes,
            "follows": follows,
            "pendingFollows": pending,
            "hottestVideoId": encode_id(Kind.VIDEO, self.hottest_video),
            "hottestVideoAuthor": handle(self.video_author[self.hottest_video]),
            "hottestVideoLikes": self.video_likes[self.hottest_video],
            "seed": self.seed,
        }


def handle(account_id: int) -> str:
    return f"user{account_id}"


Stamp = Callable[[int], Any]  # seconds after EPOCH -> the engine's timestamp value


@dataclass
class Table:
    name: str
    columns: tuple[str, ...]
    total: int
    rows: Callable[[Stamp], Iterator[tuple[Any, ...]]]


class FollowCounter:
    """Follow rows are drawn as they are written; this keeps their counts for the summary."""

    def __init__(self) -> None:
        self.total = 0
        self.pending = 0


def tables(world: World, follows: FollowCounter) -> list[Table]:
    opts = world.options
    n_accounts, n_videos = opts.accounts, opts.videos
    videos_from = n_accounts
    activity_from = videos_from + n_videos
    # Each table draws from its own generator, so the rows do not depend on batch sizes.
    follow_rng = random.Random(world.seed * 31 + 1)
    like_rng = random.Random(world.seed * 31 + 2)
    profile_rng = random.Random(world.seed * 31 + 3)
    # Out-degrees are uniform on 0..m, averaging m / 2; m is 2F, or for a fractional 2F
    # its floor or ceiling by the fraction, so that they average F (0.2 too, not 0).
    spread = min(2 * opts.follows_per_account, n_accounts - 1)
    whole, fraction = int(spread), spread - int(spread)

    def accounts(stamp: Stamp) -> Iterator[tuple[Any, ...]]:
        for i in range(1, n_accounts + 1):
            yield (
                i,
                handle(i),
                f"User {i}",
                world.password_hash,
                bool(world.private[i]),
                stamp(i),
            )

    def videos(stamp: Stamp) -> Iterator[tuple[Any, ...]]:
        for v in range(1, n_videos + 1):
            author = world.video_author[v]
            caption = f"Clip {v} by {handle(author)}"
            yield (v, author, caption, stamp(videos_from + v), world.video_likes[v])

    def follow_rows(stamp: Stamp) -> Iterator[tuple[Any, ...]]:
        # Followees distinct, never oneself.
        edge = 0
        private, rng = world.private, follow_rng
        for follower in range(1, n_accounts + 1):
            most = whole + (fraction > 0 and rng.random() < fraction)
            degree = rng.randint(0, most)
            if degree == 0:
                continue
            chosen = rng.sample(range(1, n_accounts + 1), degree + 1)
            for followee in chosen[:degree] if follower not in chosen else chosen:
                if followee == follower:
                    continue
                edge += 1
                # The state a request starts in (the policy's rule 7); most requests to
                # a private account have been approved since, PENDING_SHARE still wait.
                requested = follow_state_on_request(bool(private[followee]))
                pending = requested is FollowState.PENDING and rng.random() < PENDING_SHARE
                follows.pending += pending
                state = requested if pending else FOLLOWER_STATE
                yield (edge, follower, followee, state.value, stamp(activity_from + edge))
        follows.total = edge

    likes_from = activity_from + 1
    likes_span = max(HISTORY_DAYS * SECONDS_PER_DAY - likes_from - 1, 1)

    def likes(stamp: Stamp) -> Iterator[tuple[Any, ...]]:
        # One video after another; like ids, and liked_at with them, only ever grow.
        like_id = 0
        private, rng = world.private, like_rng
        per_like = likes_span / max(opts.likes, 1)
        for v in range(1, n_videos + 1):
            for account in rng.sample(range(1, n_accounts + 1), world.video_likes[v]):
                like_id += 1
                at = likes_from + int(like_id * per_like)
                yield (like_id, account, v, stamp(at), not private[account])

    def profiles(stamp: Stamp) -> Iterator[tuple[Any, ...]]:
        rng = profile_rng
        low, high = BIRTH_YEARS
        for i in range(1, n_accounts + 1):
            declared = [rng.random() < DECLARED_SHARE for _ in range(3)]
            year = round(rng.triangular(low, high, 1997)) if declared[0] else None
            region = rng.choices(REGIONS, cum_weights=_ZIPF_12)[0] if declared[1] else None
            language = rng.choices(LANGUAGES, cum_weights=_ZIPF_12)[0] if declared[2] else None
            yield (i, i, year, region, language)

    expected_follows = round(n_accounts * spread / 2)
    return [
        Table(
            "account",
            ("id", "handle", "display_name", "password_hash", "is_private", "created_at"),
            n_accounts,
            accounts,
        ),
        Table(
            "video", ("id", "author_id", "caption", "created_at", "like_count"), n_videos, videos
        ),
        Table(
            "follow",
            ("id", "follower_id", "followee_id", "status", "created_at"),
            expected_follows,
            follow_rows,
        ),
        Table(
            "video_like",
            ("id", "account_id", "video_id", "liked_at", "liker_public"),
            opts.likes,
            likes,
        ),
        Table(
            "audience_profile",
            ("id", "account_id", "birth_year", "region", "language"),
            n_accounts,
            profiles,
        ),
    ]


_ZIPF_12 = list(itertools.accumulate(1.0 / k for k in range(1, 13)))


def batches(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class Progress:
    """A one-line progress display on stderr (a line per step when stderr is not a tty)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last = 0.0

    def _write(self, text: str, final: bool) -> None:
        if self.tty:
            self.stream.write(f"\r\x1b[K{text}" + ("\n" if final else ""))
        elif final:
            self.stream.write(text + "\n")
        self.stream.flush()

    def step(self, name: str, done: int, total: int, table_started: float, final: bool) -> None:
        now = time.monotonic()
        if not final and now - self._last < 0.2:
            return
        self._last = now
        rate = done / max(now - table_started, 1e-9)
        share = f" ({100 * done / total:3.0f}%)" if total else ""
        self._write(
            f"generate: {name:<10} {done:>11,}/{total:,}{share}  {rate:,.0f} rows/s"
            f"  [{now - self.started:5.1f}s]",
            final,
        )

    def note(self, text: str) -> None:
        self._write(f"generate: {text}  [{time.monotonic() - self.started:5.1f}s]", True)


def _sqlite_stamp(start: datetime) -> Stamp:
    def stamp(seconds: int) -> str:
        # The text Tortoise writes for a DatetimeField on SQLite, microseconds always shown.
        return (start + timedelta(seconds=seconds)).isoformat(" ", "microseconds")

    return stamp


def _pg_stamp(start: datetime) -> Stamp:
    def stamp(seconds: int) -> datetime:
        return start + timedelta(seconds=seconds)

    return stamp


def _sqlite_fill(path: str, world: World, progress: Progress) -> FollowCounter:
    follows = FollowCounter()
    start = history_start()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        counts = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES]
        _refuse_if_not_empty(counts)
        # Bulk-load settings for this connection only. The database is empty and nobody
        # else writes while it fills: a crash here leaves a database to delete, not data
        # to save, so journaling and fsyncs buy nothing. WAL comes back at the end.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=OFF")  # the generator writes only valid keys
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache: memory stays bounded
        # Secondary indexes are built once at the end from a sort instead of row by row
        # (measured: a few seconds less on a million likes, with half the page cache
        # that row-by-row inserts need to stay fast). They are recreated from the very text
        # the migration stored in sqlite_master, so the schema ends as migrations made it.
        # Unique indexes are table constraints: they stay, and check every row as it lands.
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for table in tables(world, follows):
            started = time.monotonic()
            done = 0
            insert = (
                f'INSERT INTO "{table.name}" ({", ".join(table.columns)})'
                f" VALUES ({', '.join('?' for _ in table.columns)})"
            )
            conn.execute("BEGIN")
            for batch in batches(table.rows(_sqlite_stamp(start)), BATCH_ROWS):
                conn.executemany(insert, batch)
                done += len(batch)
                progress.step(table.name, done, max(table.total, done), started, False)
            conn.execute("COMMIT")
            progress.step(table.name, done, done, started, True)
        for _, create in indexes:
            conn.execute(create)
        progress.note(f"{len(indexes)} indexes built")
        # Statistics, as a database in use would have; the list queries are shaped so their
        # plans do not depend on them (docs/likers-query.md), but other queries may.
        conn.execute("ANALYZE")
        progress.note("analyzed")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return follows


def _refuse_if_not_empty(counts: list[int]) -> None:
    if any(counts):
        found = ", ".join(f"{n:,} {t}" for t, n in zip(TABLES, counts, strict=True) if n)
        raise GenerateError(
            f"the database is not empty ({found}); generate only fills an empty database:"
            " point DATABASE_URL at a new file or database."
        )


async def _pg_drop_rebuildable(conn: Any) -> list[str]:
    """Drops the plain indexes and foreign keys of TABLES; returns the statements to remake them."""
    indexes = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = current_schema() AND tablename = ANY($1::text[])"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        list(TABLES),
    )
    foreign_keys = await conn.fetch(
        "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def"
        " FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY($1::text[])",
        list(TABLES),
    )
    for fk in foreign_keys:
        await conn.execute(f'ALTER TABLE {fk["tbl"]} DROP CONSTRAINT "{fk["conname"]}"')
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index["indexname"]}"')
    return [i["indexdef"] for i in indexes] + [
        f'ALTER TABLE {fk["tbl"]} ADD CONSTRAINT "{fk["conname"]}" {fk["def"]}'
        for fk in foreign_keys
    ]


async def _pg_fill(url: str, world: World, progress: Progress) -> FollowCounter:
    import asyncpg  # type: ignore[import-untyped]

    follows = FollowCounter()
    start = history_start()
    dsn = url.split("?", 1)[0].replace("asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        counts = [await conn.fetchval(f"SELECT COUNT(*) FROM {t}") for t in TABLES]
        _refuse_if_not_empty(counts)
        async with conn.transaction():
            # As on SQLite, secondary indexes and foreign keys are dropped and made again
            # at the end from their own definitions (pg_indexes, pg_get_constraintdef):
            # one sort and one join instead of a probe per row. It is one transaction, so
            # a failure leaves the schema untouched. Unique constraints stay in place.
            rebuild = await _pg_drop_rebuildable(conn)
            for table in tables(world, follows):
                started = time.monotonic()
                done = 0
                for batch in batches(table.rows(_pg_stamp(start)), BATCH_ROWS):
                    await conn.copy_records_to_table(
                        table.name, records=batch, columns=list(table.columns)
                    )
                    done += len(batch)
                    progress.step(table.name, done, max(table.total, done), started, False)
                progress.step(table.name, done, done, started, True)
                # Rows came with explicit ids: move the sequence past them for the API.
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                    f" COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                )
            for statement in rebuild:
                await conn.execute(statement)
            progress.note(f"{len(rebuild)} indexes and foreign keys built")
        await conn.execute("ANALYZE")
        progress.note("analyzed")
    finally:
        await conn.close()
    return follows


async def generate(
    database_url: str, options: Options, progress: Progress | None = None
) -> dict[str, Any]:
    """Fills the (empty) database and returns the summary printed as the last line."""
    progress = progress or Progress()
    options.check()
    await db.migrate(database_url)  # also creates a missing SQLite file
    await db.close()
    progress.note("migrations applied")
    world = World.draw(options, hash_password(PASSWORD))  # one hash, shared by every account
    if database_url.startswith("sqlite://"):
        path = sqlite_path(database_url)
        if path is None:
            raise GenerateError(
                "generate needs a database file, not sqlite://:memory:: set DATABASE_URL to"
                " sqlite://PATH."
            )
        follows = await asyncio.to_thread(_sqlite_fill, path, world, progress)
    else:
        follows = await _pg_fill(database_url, world, progress)
    progress.note("done")
    return world.summary(follows.total, follows.pending)


def main(database_url: str, options: Options) -> int:
    try:
        summary = asyncio.run(generate(database_url, options))
    except GenerateError as exc:
        print(f"likegraph generate: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0
