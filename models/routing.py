"""Which server answers a read: the primary, or a streaming replica that has applied every
privacy-narrowing change acknowledged before the request began (docs/scaling.md, section 3).

The one rule, in `replica_rows`: a plain read (a SELECT outside any transaction) of a
GraphQL query may go to a replica whose replay position has reached the watermark, the
primary's WAL position recorded after the latest narrowing change (`narrowed()`). Writes,
reads inside a transaction, every statement of a mutation request and anything outside a
request go to the primary. With no replica configured nothing here runs a statement.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
from tortoise.backends.base.client import BaseDBAsyncClient

log = logging.getLogger("likegraph.replicas")

# A replica behind the watermark is asked again every POLL seconds, for at most WAIT in
# all: a request then goes to the primary rather than wait out a lagging replica.
REPLICA_WAIT_SECONDS = 0.05
REPLICA_POLL_SECONDS = 0.005
# A replica that did not catch up within the wait is not waited for again this long: a
# replica that stays behind must not add the wait to every request.
REPLICA_BEHIND_SECONDS = 1.0
# A replica that refused a connection, dropped one or did not answer is left alone this long.
REPLICA_DOWN_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2.0
STATEMENT_TIMEOUT_SECONDS = 5.0  # a replica that hangs costs one request this, then is down
DEFAULT_POOL_SIZE = 5

# The byte positions of WAL locations, as plain numbers: bigint columns on both engines.
# Without its row (emptied by hand), the watermark is everything written so far: strict.
READ_WATERMARK = (
    "SELECT COALESCE((SELECT lsn FROM replica_watermark WHERE id = 1),"
    " pg_current_wal_insert_lsn() - '0/0'::pg_lsn) AS lsn"
)
RAISE_WATERMARK = (
    "INSERT INTO replica_watermark (id, lsn)"
    " VALUES (1, pg_current_wal_insert_lsn() - '0/0'::pg_lsn)"
    " ON CONFLICT (id) DO UPDATE SET lsn = GREATEST(replica_watermark.lsn, EXCLUDED.lsn)"
)
REPLAY_POSITION = "SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn AS lsn"


@dataclass
class Replica:
    url: str
    pool: asyncpg.Pool
    # The highest replay position seen: it only grows, so a request whose watermark is
    # below it needs no statement to know the replica is fresh enough.
    replayed: int = -1
    down_until: float = 0.0
    behind_until: float = 0.0
    reads: int = 0  # statements answered, for tests and bench/

    def up(self, now: float) -> bool:
        return now >= self.down_until

    def mark_down(self, exc: BaseException) -> None:
        self.down_until = time.monotonic() + REPLICA_DOWN_SECONDS
        log.warning(
            "replica %s failed (%s): reads go to the primary for %.0f s",
            _safe(self.url),
            type(exc).__name__,
            REPLICA_DOWN_SECONDS,
        )

    async def replay_position(self) -> int | None:
        """Where the replica's replay is, or None if it is not a replica in recovery."""
        value = await self.pool.fetchval(REPLAY_POSITION)
        if value is None:
            return None
        self.replayed = max(self.replayed, int(value))
        return self.replayed


class Router:
    def __init__(self, primary: BaseDBAsyncClient, replicas: list[Replica]) -> None:
        self.primary = primary
        self.replicas = replicas
        self._turn = itertools.cycle(range(len(replicas)))
        self.primary_fallbacks = 0  # requests that wanted a replica and got the primary

    async def watermark(self) -> int:
        rows = await self.primary.execute_query_dict(READ_WATERMARK)
        return int(rows[0]["lsn"]) if rows else 0

    def candidates(self) -> list[Replica]:
        """The replicas that are up, starting with the next one in turn."""
        now = time.monotonic()
        first = next(self._turn)
        ordered = self.replicas[first:] + self.replicas[:first]
        return [replica for replica in ordered if replica.up(now)]

    async def fresh_replica(self) -> Replica | None:
        """A replica that has replayed up to the watermark, waiting for one briefly."""
        candidates = self.candidates()
        if not candidates:
            return None
        watermark = await self.watermark()
        now = time.monotonic()
        patient = any(now >= replica.behind_until for replica in candidates)
        deadline = now + (REPLICA_WAIT_SECONDS if patient else 0.0)
        while True:
            for replica in list(candidates):
                if replica.replayed >= watermark:
                    return replica
                try:
                    position = await replica.replay_position()
                except Exception as exc:  # a dead replica: the primary answers
                    replica.mark_down(exc)
                    candidates.remove(replica)
                    continue
                if position is None:  # promoted, or not a replica at all: never fresh
                    candidates.remove(replica)
                elif position >= watermark:
                    return replica
            if not candidates or time.monotonic() >= deadline:
                for replica in candidates:
                    replica.behind_until = time.monotonic() + REPLICA_BEHIND_SECONDS
                return None
            await asyncio.sleep(REPLICA_POLL_SECONDS)


@dataclass
class ReadScope:
    """What one request decided: which replica serves its reads, if any."""

    may_use_replica: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    decided: bool = False
    replica: Replica | None = None


_router: Router | None = None
_scope: ContextVar[ReadScope | None] = ContextVar("likegraph_read_scope", default=None)


def active() -> bool:
    """Whether any replica is configured (else every read goes to the primary as before)."""
    return _router is not None


def router() -> Router | None:
    return _router


def _pool_options(url: str) -> tuple[str, dict[str, int]]:
    """An asyncpg DSN and pool options from a replica URL: `?maxsize=N` and
    `?statement_cache_size=N` mean what they mean on DATABASE_URL (docs/scaling.md)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    options = {"max_size": int(query.pop("maxsize", DEFAULT_POOL_SIZE))}
    if "statement_cache_size" in query:
        options["statement_cache_size"] = int(query.pop("statement_cache_size"))
    query.pop("minsize", None)
    return urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), "")), options


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}"


async def open_replicas(urls: Sequence[str], primary: BaseDBAsyncClient) -> None:
    """Route this process's reads over `urls`. Connects lazily: a replica that is down
    at start-up is only a replica to skip, never a server that fails to start."""
    global _router
    await close_replicas()
    if not urls:
        return
    replicas = []
    for url in urls:
        dsn, options = _pool_options(url)
        pool = await asyncpg.create_pool(
            dsn,
            min_size=0,
            **options,
            timeout=CONNECT_TIMEOUT_SECONDS,
            command_timeout=STATEMENT_TIMEOUT_SECONDS,
            reset=nothing_to_reset,
        )
        replicas.append(Replica(url=url, pool=pool))
    _router = Router(primary, replicas)


async def nothing_to_reset(_: asyncpg.Connection) -> None:
    """A pool's reset for the server's connections, primary and replicas: no statement
    of the server leaves a SET, LISTEN, advisory lock or open cursor behind it, so the
    round trip asyncpg's default reset makes on every release (`RESET ALL` and friends)
    would buy nothing. asyncpg still rolls back a transaction left open."""


async def close_replicas() -> None:
    global _router
    if _router is None:
        return
    replicas, _router = _router.replicas, None
    for replica in replicas:
        replica.pool.terminate()


@contextmanager
def request_reads() -> Iterator[None]:
    """The scope of one request's reads: all on the primary until `allow_replica_reads`."""
    token = _scope.set(ReadScope())
    try:
        yield
    finally:
        _scope.reset(token)


def allow_replica_reads() -> None:
    """This request is a query: its plain reads may go to a fresh replica."""
    scope = _scope.get()
    if scope is not None and not scope.decided:
        scope.may_use_replica = True


def pin_to_primary() -> None:
    """The rest of this request reads from the primary (it wrote: it reads its writes)."""
    scope = _scope.get()
    if scope is not None:
        scope.may_use_replica = False


async def narrowed() -> None:
    """Call after a privacy-narrowing change commits, before it is acknowledged.

    Raises the watermark to the primary's WAL position, which is past the change's
    commit: from then on a replica serves a request only once it has replayed the change.
    One statement on the primary, and none when no replica is configured.
    """
    current = _router
    if current is None:
        return
    pin_to_primary()
    await current.primary.execute_query(RAISE_WATERMARK)


def _plain_read(text: str) -> bool:
    return text.lstrip()[:6].upper() == "SELECT"


async def replica_rows(
    client: BaseDBAsyncClient, text: str, params: Sequence[Any]
) -> list[dict[str, Any]] | None:
    """The rows of a read answered by a fresh replica; None when the primary must answer.

    `client` is the connection the statement would otherwise use: any other object than
    the primary's own client is a transaction, which never leaves the primary.
    """
    current, scope = _router, _scope.get()
    if (
        current is None
        or scope is None
        or not scope.may_use_replica
        or client is not current.primary
        or not _plain_read(text)
    ):
        return None
    async with scope.lock:  # one decision per request, shared by its concurrent loaders
        if not scope.decided:
            scope.decided = True
            scope.replica = await current.fresh_replica()
            if scope.replica is None:
                current.primary_fallbacks += 1
    replica = scope.replica
    if replica is None or not scope.may_use_replica:
        return None
    try:
        records = await replica.pool.fetch(text, *params)
    except Exception as exc:  # the primary answers instead
        if not isinstance(exc, asyncpg.PostgresError) or isinstance(
            exc, asyncpg.OperatorInterventionError
        ):
            replica.mark_down(exc)  # unreachable, shutting down or restarting
        scope.replica = None
        return None
    replica.reads += 1
    return [dict(record) for record in records]
