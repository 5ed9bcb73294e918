"""Every figure of issue 4 in one run: `.venv/bin/python bench/run.py` (see bench/README.md).

Datasets are made with `likegraph generate` under bench/data/ (gitignored) and reused
when present. Servers are real `likegraph serve` processes on loopback; the load comes
from bench/load.py in a process of its own. Nothing here is a test: it prints figures,
target ratios and PASS/FAIL, and writes them to bench/data/results-*.json.

`--engine postgres` (and `--pages` on SQLite) measures issue 5's likers pages instead:
the hottest video's 20-liker page at ~20%, 95% and 99.9% hidden, per `--workers` count,
on PostgreSQL databases of its own named likegraph_bench_* (made once, then reused).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
PYTHON = sys.executable
SECRET = "bench-only-secret-" + "0123456789abcdef" * 3
SEED = 4
HIDDEN_RATIOS = {"public": 0.0, "hidden95": 0.95, "hidden999": 0.999}
BASE_RATIO = 0.3  # generate's default


@dataclass(frozen=True)
class Scale:
    accounts: int
    videos: int
    likes: int


FULL = Scale(100_000, 20_000, 1_000_000)
QUICK = Scale(10_000, 2_000, 100_000)

LIKERS_PAGE = (
    "query($id: ID!) { video(id: $id) { likers(first: 20) {"
    " edges { cursor likedAt node { handle displayName } } pageInfo { hasNextPage endCursor } } } }"
)
FEED = (
    "query($h: String!, $n: Int!) { account(handle: $h) { videos(first: $n) { edges { node {"
    " likeCount viewerHasLiked author { handle }"
    " likers(first: 10) { edges { node { handle } } } } } } } }"
)
MIXED = {
    # label: (weight, query, variable kind)
    "likers": (30, LIKERS_PAGE, "video"),
    "video": (
        20,
        "query($id: ID!) { video(id: $id) { caption likeCount viewerHasLiked"
        " author { handle isPrivate } } }",
        "video",
    ),
    "profile": (
        20,
        "query($h: String!) { account(handle: $h) { handle displayName followerCount"
        " followingCount viewerFollowStatus videos(first: 10) { edges { node { caption"
        " likeCount } } } } }",
        "account",
    ),
    "likes": (
        15,
        "query($h: String!) { account(handle: $h) { likes(first: 10) { edges { node {"
        " likedAt video { caption likeCount } } } } } }",
        "account",
    ),
    "feed": (
        15,
        "query($h: String!) { account(handle: $h) { videos(first: 10) { edges { node {"
        " likeCount viewerHasLiked author { handle }"
        " likers(first: 10) { edges { node { handle } } } } } } } }",
        "creator",
    ),
}
LIKE = "mutation($v: ID!) { likeVideo(videoId: $v) { likeCount } }"


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- datasets


@dataclass
class Dataset:
    name: str
    path: Path
    summary: dict[str, Any]
    generate_seconds: float
    generate_peak_mb: float
    database_url: str | None = None  # set for PostgreSQL; `path` is then its .json

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite://{self.path}"


def dataset(name: str, private_ratio: float, scale: Scale) -> Dataset:
    """The dataset's database, made with `likegraph generate` unless already there."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{name}-{scale.likes}.sqlite3"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        saved = json.loads(meta.read_text())
        log(f"reusing {path.name} (made in {saved['generate_seconds']:.1f} s)")
        return Dataset(name, path, **saved)
    for leftover in DATA.glob(path.name + "*"):
        leftover.unlink()
    log(f"generating {path.name}: private ratio {private_ratio}")
    saved = _generate(f"sqlite://{path}", private_ratio, scale)
    meta.write_text(json.dumps(saved, indent=2))
    return Dataset(name, path, **saved)


def _generate(url: str, private_ratio: float, scale: Scale) -> dict[str, Any]:
    """Runs `likegraph generate` in a child process: its summary, wall time and peak RSS."""
    command = [
        PYTHON,
        "-m",
        "api",
        "generate",
        f"--accounts={scale.accounts}",
        f"--videos={scale.videos}",
        f"--likes={scale.likes}",
        f"--private-ratio={private_ratio}",
        f"--seed={SEED}",
    ]
    env = {**os.environ, "DATABASE_URL": url, "LIKEGRAPH_SECRET": SECRET}
    began = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE)
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - began
    if process.returncode != 0:
        raise SystemExit(f"generate failed ({process.returncode})")
    return {
        "summary": json.loads(out.decode().strip().splitlines()[-1]),
        "generate_seconds": seconds,
        "generate_peak_mb": usage.ru_maxrss / 1024,  # KiB on Linux
    }


def scratch_copy(source: Dataset) -> Dataset:
    """A throwaway copy for the phases that write, so the dataset itself stays as made."""
    target = DATA / f"scratch-{source.path.name}"
    for leftover in DATA.glob(target.name + "*"):
        leftover.unlink()
    with sqlite3.connect(source.path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(source.path, target)
    return Dataset(
        source.name, target, source.summary, source.generate_seconds, source.generate_peak_mb
    )


# PostgreSQL: the bench makes and reuses its own databases, all named likegraph_bench_*,
# and never touches any other database on the server.
PG_SERVER = os.environ.get("LIKEGRAPH_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_PREFIX = "likegraph_bench_"
PG_RATIOS = {"hidden20": 0.2, "hidden95": 0.95, "hidden999": 0.999}


def _pg_admin(*statements: str) -> list[str]:
    """Runs statements on the server's `postgres` database; the names of the bench's DBs."""
    import asyncpg  # type: ignore[import-untyped]

    async def run() -> list[str]:
        conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            for statement in statements:
                await conn.execute(statement)
            rows = await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1", PG_PREFIX + "%"
            )
            return [r["datname"] for r in rows]
        finally:
            await conn.close()

    return asyncio.run(run())


def pg_dataset(name: str, private_ratio: float, scale: Scale) -> Dataset:
    """A PostgreSQL database `likegraph_bench_<name>_<likes>` made by generate, reused."""
    DATA.mkdir(parents=True, exist_ok=True)
    database = f"{PG_PREFIX}{name}_{scale.likes}"
    meta = DATA / f"pg-{database}.json"
    url = f"{PG_SERVER}/{database}"
    present = database in _pg_admin()
    if present and meta.exists():
        saved = json.loads(meta.read_text())
        log(f"reusing PostgreSQL database {database} (made in {saved['generate_seconds']:.1f} s)")
        return Dataset(name, meta, **saved, database_url=url)
    meta.unlink(missing_ok=True)
    # A bench database without its record is a generate that did not finish: remake it.
    # The name is always ours (PG_PREFIX), never one of another user's databases.
    assert database.startswith(PG_PREFIX)
    _pg_admin(*([f"DROP DATABASE {database}"] if present else []), f"CREATE DATABASE {database}")
    log(f"generating PostgreSQL database {database}: private ratio {private_ratio}")
    saved = _generate(url, private_ratio, scale)
    meta.write_text(json.dumps(saved, indent=2))
    return Dataset(name, meta, **saved, database_url=url)


class _Reader:
    """Read-only queries on a dataset, SQLite or PostgreSQL, written with `?` placeholders."""

    def __init__(self, data: Dataset) -> None:
        self.pg = data.database_url is not None
        if self.pg:
            import asyncpg

            self.loop = asyncio.new_event_loop()
            self.conn = self.loop.run_until_complete(asyncpg.connect(data.url))
        else:
            self.conn = sqlite3.connect(f"file:{data.path}?mode=ro", uri=True)

    def all(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        if not self.pg:
            return list(self.conn.execute(query, args))
        parts = query.split("?")
        numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
        return [tuple(r) for r in self.loop.run_until_complete(self.conn.fetch(numbered, *args))]

    def close(self) -> None:
        if self.pg:
            self.loop.run_until_complete(self.conn.close())
            self.loop.close()
        else:
            self.conn.close()


@dataclass
class Picks:
    """Who asks for what, chosen from the data."""

    hottest: int
    hottest_likes: int
    small: int
    small_likes: int
    viewer: int
    viewer_follows: int
    viewer_follows_likers: int
    creator: str
    creator_videos: int
    public_videos: list[int]
    handles: list[str]
    top_videos: list[int]
    accounts: int


def picks(data: Dataset) -> Picks:
    from api.ids import decode_id

    _, hottest = decode_id(data.summary["hottestVideoId"])
    conn = _Reader(data)
    try:

        def one(query: str, *args: Any) -> Any:
            return conn.all(query, *args)[0]

        small, small_likes = one(
            "SELECT v.id, v.like_count FROM video v JOIN account a ON a.id = v.author_id"
            " WHERE NOT a.is_private ORDER BY ABS(v.like_count - 100), v.id LIMIT 1"
        )
        # A viewer who follows about ten accounts: few of the hottest video's likers.
        viewer, follows = one(
            "SELECT follower_id, COUNT(*) FROM follow WHERE status = 'APPROVED'"
            " GROUP BY follower_id HAVING COUNT(*) BETWEEN 9 AND 11 ORDER BY follower_id LIMIT 1"
        )
        (followed_likers,) = one(
            "SELECT COUNT(*) FROM follow f JOIN video_like l ON l.account_id = f.followee_id"
            " WHERE f.follower_id = ? AND f.status = 'APPROVED' AND l.video_id = ?",
            viewer,
            hottest,
        )
        creator, creator_videos = one(
            "SELECT a.handle, COUNT(*) FROM account a JOIN video v ON v.author_id = a.id"
            " WHERE NOT a.is_private GROUP BY a.id ORDER BY COUNT(*) DESC LIMIT 1"
        )
        rng = random.Random(SEED)
        public_videos = [
            r[0]
            for r in conn.all(
                "SELECT v.id FROM video v JOIN account a ON a.id = v.author_id"
                " WHERE NOT a.is_private ORDER BY v.id"
            )
        ]
        top = [r[0] for r in conn.all("SELECT id FROM video ORDER BY like_count DESC LIMIT 50")]
        (accounts,) = one("SELECT COUNT(*) FROM account")
        handles = [f"user{rng.randint(1, accounts)}" for _ in range(500)]
        return Picks(
            hottest,
            data.summary["hottestVideoLikes"],
            small,
            small_likes,
            viewer,
            follows,
            followed_likers,
            creator,
            creator_videos,
            rng.sample(public_videos, min(2000, len(public_videos))),
            handles,
            top,
            accounts,
        )
    finally:
        conn.close()


# ---------------------------------------------------------------- servers and load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """`likegraph serve` on loopback, on one dataset."""

    def __init__(
        self,
        data: Dataset,
        workers: int = 1,
        command: list[str] | None = None,
        code: Path = ROOT,
    ) -> None:
        """`command`, given, runs instead of `serve`, with `{port}` in it replaced; `code`:
        the tree whose `api` package serves (bench/timing.py --compare)."""
        self.data = data
        self.port = free_port()
        self.log_file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        env = {**os.environ, "DATABASE_URL": data.url, "LIKEGRAPH_SECRET": SECRET}
        if command is not None:
            command = [part.replace("{port}", str(self.port)) for part in command]
        else:
            command = [PYTHON, "-m", "api", "serve", "--port", str(self.port)]
            if workers > 1:
                command += ["--workers", str(workers)]
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=code,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"server on {data.path.name} did not start") from None
                time.sleep(0.2)
        _SERVED.append(data)  # its server has applied the migrations

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used, all its threads and worker processes
        (`serve --workers N` runs the workers as children of a supervisor)."""
        return sum(_process_cpu(pid) for pid in _process_tree(self.process.pid))

    def memory_mb(self) -> tuple[float, float]:
        """(current RSS, peak RSS) of the server process, in MiB."""
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            fields[name] = value.strip()
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += _process_tree(int(child))
    return found


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process on the machine (backends, WAL writer, ...).
    On a shared machine this includes other users' sessions: read it as an upper bound."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            total += _process_cpu(int(stat.parent.name))
    return total


def machine_busy_seconds() -> float:
    """Non-idle CPU seconds of the whole machine, all cores (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(data: Dataset) -> Iterator[Server]:
    server = Server(data)
    try:
        yield server
    finally:
        server.stop()


def measured(server: Server, spec: dict[str, Any]) -> dict[str, Any]:
    """A load phase, with the server's CPU time per request: on a shared machine the
    requests per second move with the neighbours' load, the CPU cost per request far less."""
    before = server.cpu_seconds()
    result = load(spec)
    spent = server.cpu_seconds() - before
    done = sum(g["all"]["n"] for g in result["groups"].values())
    result["server_cpu_ms_per_request"] = 1000 * spent / max(done, 1)
    result["server_cpu_share"] = spent / result["seconds"]
    return result


def interleaved(
    server: Server, specs: dict[str, dict[str, Any]], rounds: int
) -> dict[str, dict[str, Any]]:
    """Load phases measured in turns, each `duration / rounds` seconds at a time.

    This machine's speed drifts by 10-15% from one minute to the next (other tenants of
    its host), and phases run one after the other would each get their own minutes: a
    ratio of their rates would measure the drift as much as the server. In turns (the
    order reversed every round, so a steady drift favours neither), both phases see the
    same minutes. The figures of each phase are the sums over its turns.
    """
    turns: dict[str, list[dict[str, Any]]] = {name: [] for name in specs}
    for turn in range(rounds):
        order = list(specs) if turn % 2 == 0 else list(reversed(specs))
        for name in order:
            spec = specs[name]
            turns[name].append(measured(server, {**spec, "duration": spec["duration"] / rounds}))
    return {name: _summed(parts) for name, parts in turns.items()}


def _summed(turns: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = sum(t["seconds"] for t in turns)
    groups: dict[str, Any] = {}
    for group in turns[0]["groups"]:
        alls = [t["groups"][group]["all"] for t in turns]
        n = sum(a["n"] for a in alls)
        groups[group] = {
            "all": {
                "n": n,
                "errors": sum(a["errors"] for a in alls),
                "rps": n / seconds,
                # Latency is not what these phases are for: the median turn's figures.
                "p50_ms": statistics.median(a["p50_ms"] for a in alls),
                "p99_ms": statistics.median(a["p99_ms"] for a in alls),
            }
        }
    done = sum(g["all"]["n"] for g in groups.values())
    spent_ms = sum(
        t["server_cpu_ms_per_request"] * sum(g["all"]["n"] for g in t["groups"].values())
        for t in turns
    )
    return {
        "seconds": seconds,
        "groups": groups,
        "turns": turns,
        "server_cpu_ms_per_request": spent_ms / max(done, 1),
        "server_cpu_share": spent_ms / 1000 / seconds,
        "client_cpu_s": sum(t["client_cpu_s"] for t in turns),
    }


PROFILE_BUCKETS = {
    # first match wins, in this order
    "validation": ("validate_document (", "_run_validation ("),
    "parse": ("_parse_operation_document (",),
    "execution (resolvers, completion)": ("Schema._execute_operation (",),
    "SQLite worker thread (aiosqlite)": ("_connection_worker_thread (",),
    "response serialization": ("GraphQLEndpoint._result_response",),
}


PG_PROFILE_BUCKETS = {
    "validation": PROFILE_BUCKETS["validation"],
    "parse": PROFILE_BUCKETS["parse"],
    # before execution: resolvers await the driver, so its frames sit under theirs
    "asyncpg and Tortoise (protocol, records, pool)": ("asyncpg", "tortoise/backends"),
    "execution (resolvers, completion)": PROFILE_BUCKETS["execution (resolvers, completion)"],
    "response serialization": PROFILE_BUCKETS["response serialization"],
}


def profiled(
    server: Server, spec: dict[str, Any], buckets: dict[str, tuple[str, ...]] = PROFILE_BUCKETS
) -> dict[str, float]:
    """Where the server's time goes under this load: py-spy samples, in buckets (%)."""
    spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as handle:
        raw = Path(handle.name)
    command = [spy, "record", "-p", str(server.process.pid), "-d", str(int(spec["duration"]))]
    command += ["-r", "250", "-f", "raw", "--threads", "-o", str(raw)]
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        load(spec)
    finally:
        sampler.wait()
    shares: dict[str, float] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        bucket = next(
            (name for name, keys in buckets.items() if any(k in stack for k in keys)),
            "HTTP, Starlette, uvicorn, loaders, event loop",
        )
        shares[bucket] = shares.get(bucket, 0) + int(count)
    raw.unlink()
    return {
        name: 100 * n / max(total, 1) for name, n in sorted(shares.items(), key=lambda x: -x[1])
    }


def load(spec: dict[str, Any]) -> dict[str, Any]:
    _store_sessions()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"host": "127.0.0.1", **spec}, handle)
    try:
        process = subprocess.Popen(
            [PYTHON, str(ROOT / "bench" / "load.py"), handle.name], stdout=subprocess.PIPE
        )
        assert process.stdout is not None
        out = process.stdout.read()
        # wait4 for the load generator's own CPU time: it shares the cores with the server.
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("the load generator failed")
    finally:
        os.unlink(handle.name)
    result: dict[str, Any] = json.loads(out)
    result["client_cpu_s"] = usage.ru_utime + usage.ru_stime
    return result


# A token names a session row (auth/sessions.py): tokens made here are written to the
# database of every server started, before each load runs (`load` calls _store_sessions).
_TOKENS: dict[int, str] = {}
_SERVED: list[Dataset] = []
_STORED: set[tuple[str, str]] = set()  # (dataset URL, token)
TOKEN_TTL = 24 * 3600


def token(account_id: int) -> str:
    from auth.tokens import issue_token

    if account_id not in _TOKENS:
        _TOKENS[account_id] = issue_token(SECRET, TOKEN_TTL)
    return _TOKENS[account_id]


def _store_sessions() -> None:
    for data in _SERVED:
        missing = [(a, t) for a, t in _TOKENS.items() if (data.url, t) not in _STORED]
        if missing:
            asyncio.run(_insert_sessions(data.url, missing))
            _STORED.update((data.url, t) for _, t in missing)


async def _insert_sessions(url: str, tokens: list[tuple[int, str]]) -> None:
    from api import db
    from auth.tokens import token_digest
    from models.sql import Sql

    await db.connect(url)
    try:
        expires = datetime.fromtimestamp(time.time() + TOKEN_TTL, UTC)
        for account_id, text in tokens:
            sql = Sql()
            await sql.execute(
                "INSERT INTO account_session (account_id, token_hash, created_at, expires_at)"
                f" VALUES ({sql.p(account_id)}, {sql.p(token_digest(text))},"
                f" {sql.p(datetime.now(UTC))}, {sql.p(expires)})"
            )
    finally:
        await db.close()


def body(query: str, **variables: Any) -> str:
    return json.dumps({"query": query, "variables": variables})


def likers_request(video_id: int, viewer: int | None, label: str) -> dict[str, Any]:
    from api.ids import Kind, encode_id

    return {
        "label": label,
        "body": body(LIKERS_PAGE, id=encode_id(Kind.VIDEO, video_id)),
        "token": token(viewer) if viewer else None,
    }


def mixed_requests(p: Picks, count: int = 3000) -> list[dict[str, Any]]:
    """A read mix: likers pages, videos, profiles, likes, feeds; 30% anonymous viewers."""
    from api.ids import Kind, encode_id

    rng = random.Random(SEED + 1)
    viewers: list[int | None] = [rng.randint(1, p.accounts) for _ in range(100)]
    tokens = {v: token(v) for v in viewers if v}
    labels = list(MIXED)
    weights = [MIXED[label][0] for label in labels]
    out = []
    for _ in range(count):
        label = rng.choices(labels, weights)[0]
        _, query, kind = MIXED[label]
        if kind == "video":
            video = rng.choice(p.top_videos) if rng.random() < 0.3 else rng.choice(p.public_videos)
            text = body(query, id=encode_id(Kind.VIDEO, video))
        elif kind == "account":
            text = body(query, h=rng.choice(p.handles))
        else:
            text = body(query, h=p.creator)
        viewer = None if rng.random() < 0.3 else rng.choice(viewers)
        out.append({"label": label, "body": text, "token": tokens.get(viewer)})
    return out


def like_requests(p: Picks, count: int = 20_000) -> list[dict[str, Any]]:
    """Likes by random public accounts of random public videos: almost all new likes."""
    from api.ids import Kind, encode_id

    rng = random.Random(SEED + 2)
    tokens = [token(rng.randint(1, p.accounts)) for _ in range(1000)]
    return [
        {
            "label": "like",
            "body": body(LIKE, v=encode_id(Kind.VIDEO, rng.choice(p.public_videos))),
            "token": rng.choice(tokens),
        }
        for _ in range(count)
    ]


# ---------------------------------------------------------------- statements per request


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s":  # a statement; connection events have other formats
            self.count += 1


async def _feed_statements(data: Dataset, p: Picks) -> dict[str, int]:
    import httpx

    from api import db
    from api.app import create_app
    from api.settings import Settings
    from auth.sessions import start_session

    await db.migrate(data.url)
    app = create_app(Settings(data.url, SECRET, 3600), apply_migrations=False)
    # A session made in this process is known to it: requests count no session check,
    # as on a server whose clients send their tokens again within the recheck period.
    viewer_token = await start_session(p.viewer, SECRET, 3600)
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    results = {}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            for viewer in ("anonymous", "viewer"):
                headers = (
                    {} if viewer == "anonymous" else {"Authorization": f"Bearer {viewer_token}"}
                )
                for first in (5, 50):
                    counter = _Counter()
                    logger.addHandler(counter)
                    response = await client.post(
                        "/graphql",
                        json={"query": FEED, "variables": {"h": p.creator, "n": first}},
                        headers=headers,
                    )
                    logger.removeHandler(counter)
                    edges = response.json()["data"]["account"]["videos"]["edges"]
                    assert len(edges) == first, response.text
                    results[f"{viewer} first={first}"] = counter.count
    finally:
        logger.setLevel(logging.NOTSET)
        await db.close()
    return results


# ---------------------------------------------------------------- the run


@dataclass
class Target:
    name: str
    value: float
    limit: str
    passed: bool


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "date": subprocess.run(["date"], capture_output=True, text=True).stdout.strip(),
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "cpu": cpu,
        "memory": subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# ---------------------------------------------------------------- PostgreSQL

# PostGraphile 5 over PostgreSQL with row-level security, as issue 5 reports it on this
# machine type (16 connections, one Node process, 1,000,000 likes): requests/s of the
# 20-liker page of the hottest video. At 99.9% hidden it reads every like of the video:
# 267 ms for 122,000 rows, so two cores give it at most 2 / 0.267 = 7.5 pages/s.
POSTGRAPHILE_RPS = {"hidden20": 1000.0, "hidden95": 720.0, "hidden999": 2 / 0.267}
POSTGRAPHILE_999_MS = 267.0


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    except OSError:  # gone meanwhile
        pass
    return inodes


def connections_per_worker(servers: list[Server]) -> list[int]:
    """How many of the client's connections each worker holds right now (the process
    that accepted a connection owns its socket), most first."""
    ports = {s.port for s in servers}
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) in ports:
                established.add(fields[9])
    counts = [len(_socket_inodes(pid) & established) for pid in _worker_pids(servers)]
    return sorted(counts, reverse=True)


def _worker_pids(servers: list[Server]) -> list[int]:
    """The processes that serve requests: each server itself, or the workers under a
    `serve --workers N` supervisor (not multiprocessing's resource tracker)."""
    pids = []
    for server in servers:
        tree = _process_tree(server.process.pid)
        if len(tree) == 1:
            pids += tree
            continue
        for pid in tree[1:]:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in command:
                pids.append(pid)
    return pids


def pg_measured(servers: list[Server], spec: dict[str, Any]) -> dict[str, Any]:
    """A load phase on a set of servers, with where the machine's CPU went per request:
    the servers, PostgreSQL, the load generator, and the rest (other users' work); and
    how the client's connections were spread over the workers (sampled in the warm-up,
    once every connection is open), which decides whether N workers use N cores."""
    load_avg = os.getloadavg()[0]
    spread_seen: list[list[int]] = []
    sampler = threading.Timer(
        min(2.0, spec.get("warmup", 0) * 0.8),
        lambda: spread_seen.append(connections_per_worker(servers)),
    )
    server_before = sum(s.cpu_seconds() for s in servers)
    pg_before, busy_before = postgres_cpu_seconds(), machine_busy_seconds()
    sampler.start()
    result = load(spec)
    sampler.join()
    result["connections_per_worker"] = spread_seen[0] if spread_seen else []
    server_spent = sum(s.cpu_seconds() for s in servers) - server_before
    pg_spent = postgres_cpu_seconds() - pg_before
    busy = machine_busy_seconds() - busy_before
    done = max(1, sum(g["all"]["n"] for g in result["groups"].values()))
    client = result["client_cpu_s"]
    result["server_cpu_ms_per_request"] = 1000 * server_spent / done
    result["postgres_cpu_ms_per_request"] = 1000 * pg_spent / done
    result["client_cpu_ms_per_request"] = 1000 * client / done
    result["other_cpu_ms_per_request"] = 1000 * (busy - server_spent - pg_spent - client) / done
    result["busy_cores"] = busy / result["seconds"]
    result["load_average_before"] = load_avg
    return result


def spread(
    name: str,
    servers: list[Server],
    requests: list[dict[str, Any]],
    concurrency: int,
    duration: float,
) -> dict[str, Any]:
    """A load spec that splits the connections evenly over a set of servers."""
    n = len(servers)
    return {
        "port": servers[0].port,
        "duration": duration,
        "warmup": 5,
        "groups": [
            {
                "name": name,
                "port": server.port,
                "concurrency": concurrency // n + (i < concurrency % n),
                "requests": requests,
            }
            for i, server in enumerate(servers)
        ],
    }


def pages_main(args: argparse.Namespace) -> None:
    """Issue 5's figures: the 20-liker page of the hottest video with about 20%, 95% and
    99.9% of likers hidden, per worker count. On SQLite (`--pages`) the default run's
    datasets serve, its 30%-private `base` standing for the ordinary page."""
    scale = QUICK if args.quick else FULL
    worker_counts = [int(w) for w in args.workers.split(",")]
    info = machine()
    log(f"machine: {info['nproc']} cpus, {info['cpu']}, load {info['load_before']}")
    if args.engine == "postgres":
        data = {name: pg_dataset(name, ratio, scale) for name, ratio in PG_RATIOS.items()}
    else:
        data = {
            "hidden30": dataset("base", BASE_RATIO, scale),
            "hidden95": dataset("hidden95", HIDDEN_RATIOS["hidden95"], scale),
            "hidden999": dataset("hidden999", HIDDEN_RATIOS["hidden999"], scale),
        }
    ordinary = next(iter(data))
    figures: dict[str, Any] = {
        "engine": args.engine,
        "ordinary": ordinary,
        "scale": scale.__dict__,
        "machine": info,
        "concurrency": args.concurrency,
        "generate": {
            d.name: {"seconds": d.generate_seconds, "peak_mb": d.generate_peak_mb}
            for d in data.values()
        },
        "picks": {},
        "throughput": {},
    }
    requests = {}
    for name, d in data.items():
        p = picks(d)
        figures["picks"][name] = {
            "hottest": p.hottest,
            "hottest_likes": p.hottest_likes,
            "viewer": p.viewer,
            "viewer_follows": p.viewer_follows,
            "viewer_follows_likers": p.viewer_follows_likers,
            "private_accounts": d.summary["privateAccounts"],
        }
        requests[name] = likers_request(p.hottest, p.viewer, name)
        log(
            f"{name}: hottest video {p.hottest} ({p.hottest_likes} likes), viewer user{p.viewer}"
            f" follows {p.viewer_follows} ({p.viewer_follows_likers} of its likers)"
        )
    c = args.concurrency
    log("latency: 20-liker page of the hottest video, one client, three 1-worker servers")
    servers = {name: Server(d) for name, d in data.items()}
    try:
        figures["latency"] = load(
            {
                "port": 0,
                "round_robin": True,
                "count": args.samples,
                "warmup": 20,
                "groups": [
                    {"name": name, "port": servers[name].port, "requests": [requests[name]]}
                    for name in data
                ],
            }
        )
        if args.profile:
            figures["profile"] = {}
            for name in (ordinary, "hidden999"):
                log(f"profiling the 1-worker server under the {name} page at {c} clients")
                figures["profile"][name] = profiled(
                    servers[name],
                    {
                        "port": servers[name].port,
                        "duration": 10,
                        "warmup": 5,
                        "groups": [{"name": name, "concurrency": c, "requests": [requests[name]]}],
                    },
                    PG_PROFILE_BUCKETS if args.engine == "postgres" else PROFILE_BUCKETS,
                )
    finally:
        for server in servers.values():
            server.stop()
    # `serve --workers N` (one port, N uvicorn workers, each on its own SO_REUSEPORT
    # socket), and for N > 1 also N separate one-worker `serve` processes with the
    # connections split over their ports: what N processes can do, to compare with.
    modes = []
    for workers in worker_counts:
        modes.append((f"serve --workers {workers}", workers, 1))
        if workers > 1:
            modes.append((f"{workers} x serve", 1, workers))
    for label, workers, count in modes:
        phases: dict[str, Any] = {}
        for name, d in data.items():
            servers_of = [Server(d, workers) for _ in range(count)]
            try:
                if name == ordinary:
                    log(f"{label}: {{ __typename }} at {c} clients")
                    typename = [
                        {"label": "typename", "body": body("{ __typename }"), "token": None}
                    ]
                    phases["typename"] = pg_measured(
                        servers_of, spread("typename", servers_of, typename, c, args.duration)
                    )
                log(f"{label}: 20-liker page, {name}, at {c} clients")
                phases[name] = pg_measured(
                    servers_of, spread(name, servers_of, [requests[name]], c, args.duration)
                )
            finally:
                for server in servers_of:
                    server.stop()
        figures["throughput"][label] = phases
    figures["machine"]["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    pg_report(figures)


def pg_report(f: dict[str, Any]) -> None:
    m = f["machine"]
    lines = [
        "",
        f"likegraph bench, {f['engine']} likers pages  {m['date']}",
        f"{m['nproc']} cpus, {m['cpu']}",
        f"load average {m['load_before']} -> {m['load_after']} (a shared machine)",
        f"scale: {f['scale']['accounts']:,} accounts, {f['scale']['videos']:,} videos,"
        f" {f['scale']['likes']:,} likes",
        "generate (wall s, peak RSS MiB):",
        *(
            f"  {name:<10} {g['seconds']:6.1f} s  {g['peak_mb']:6.0f} MiB"
            for name, g in f["generate"].items()
        ),
        "20-liker page of the hottest video, one client, p50 / p99 (viewer follows ~10):",
        *(
            f"  {name:<10} {f['picks'][name]['hottest_likes']:,} likes,"
            f" {f['picks'][name]['private_accounts']:,} private accounts:"
            f" {g['all']['p50_ms']:6.2f} / {g['all']['p99_ms']:6.2f} ms"
            for name, g in f["latency"]["groups"].items()
        ),
        f"at {f['concurrency']} connections (CPU ms per request: server / PostgreSQL /"
        " load generator / rest of the machine):",
    ]
    best: dict[str, float] = {}
    for workers, phases in f["throughput"].items():
        for name, r in phases.items():
            g = r["groups"][name]["all"]
            best[name] = max(best.get(name, 0.0), g["rps"])
            lines.append(
                f"  {workers:<19} {name:<9} {g['rps']:6.0f} req/s  p50 {g['p50_ms']:6.1f}"
                f"  p99 {g['p99_ms']:6.1f} ms  errors {g['errors']}  CPU"
                f" {r['server_cpu_ms_per_request']:.2f} / {r['postgres_cpu_ms_per_request']:.2f}"
                f" / {r['client_cpu_ms_per_request']:.2f} / {r['other_cpu_ms_per_request']:.2f}"
                f"  ({r['busy_cores']:.2f} cores busy, load {r['load_average_before']:.1f})"
                + _shares(r)
            )
    lines += [
        f"py-spy, 1 worker, {name} page: "
        + ", ".join(f"{bucket} {share:.0f}%" for bucket, share in shares.items())
        for name, shares in f.get("profile", {}).items()
    ]
    if f["engine"] != "postgres":
        pg_write(f, lines)
        return
    lines += [
        "",
        "against PostGraphile 5 (issue 5), best of the worker counts:",
    ]
    targets = [
        ("20% hidden req/s >= half of PostGraphile's 1,000", best["hidden20"], 500.0),
        ("95% hidden req/s > PostGraphile's 720", best["hidden95"], 720.0),
        (
            "99.9% hidden req/s > PostGraphile's <= 7.5",
            best["hidden999"],
            POSTGRAPHILE_RPS["hidden999"],
        ),
    ]
    latency_999 = f["latency"]["groups"]["hidden999"]["all"]["p50_ms"]
    f["targets"] = [
        {"name": name, "value": value, "limit": limit, "passed": value >= limit}
        for name, value, limit in targets
    ] + [
        {
            "name": "99.9% hidden page p50 ms < PostGraphile's 267",
            "value": latency_999,
            "limit": POSTGRAPHILE_999_MS,
            "passed": latency_999 < POSTGRAPHILE_999_MS,
        }
    ]
    lines += [
        f"  {'PASS' if t['passed'] else 'FAIL'}  {t['name']:<52} {t['value']:8.1f}"
        for t in f["targets"]
    ]
    pg_write(f, lines)


def _shares(r: dict[str, Any]) -> str:
    spread = r.get("connections_per_worker", [])
    if len(spread) < 2:
        return ""
    return "  connections per worker " + "/".join(str(n) for n in spread)


def pg_write(f: dict[str, Any], lines: list[str]) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = DATA / f"results-pages-{f['engine']}-{stamp}.json"
    out.write_text(json.dumps(f, indent=2, default=str))
    lines.append(f"\nfull results: {out.relative_to(ROOT)}")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 100,000-like dry run")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per load phase")
    parser.add_argument("--samples", type=int, default=300, help="requests per latency figure")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="turns in which { __typename } and the 20-liker page share their phases (5)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also sample the server with py-spy (extra phases)"
    )
    parser.add_argument(
        "--engine",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="sqlite: every figure of issue 4; postgres: the likers pages of issue 5",
    )
    parser.add_argument(
        "--workers",
        default="1,2,3",
        help="postgres: `serve --workers N` for each N of this comma list (default 1,2,3)",
    )
    parser.add_argument(
        "--pages",
        action="store_true",
        help="sqlite: issue 5's likers pages per worker count (what --engine postgres runs)",
    )
    args = parser.parse_args()
    from api import ids

    ids.configure(SECRET)  # the servers' secret: the IDs this process sends them
    pages = args.engine == "postgres" or args.pages
    if pages:
        pages_main(args)
        return
    scale = QUICK if args.quick else FULL
    info = machine()
    log(f"machine: {info['nproc']} cpus, {info['cpu']}, load {info['load_before']}")

    base = dataset("base", BASE_RATIO, scale)
    hidden = {name: dataset(name, ratio, scale) for name, ratio in HIDDEN_RATIOS.items()}
    figures: dict[str, Any] = {
        "scale": scale.__dict__,
        "machine": info,
        "generate": {},
        "concurrency": args.concurrency,
    }
    for data in (base, *hidden.values()):
        figures["generate"][data.name] = {
            "seconds": data.generate_seconds,
            "peak_mb": data.generate_peak_mb,
            "summary": data.summary,
        }

    p = picks(base)
    figures["picks"] = p.__dict__ | {"public_videos": len(p.public_videos), "handles": None}
    log(
        f"hottest video {p.hottest} ({p.hottest_likes} likes), small video {p.small}"
        f" ({p.small_likes}), viewer user{p.viewer} follows {p.viewer_follows}"
        f" ({p.viewer_follows_likers} of the hottest video's likers), creator {p.creator}"
    )

    log("statements per request for the feed")
    figures["statements"] = asyncio.run(_feed_statements(base, p))

    phases = args.duration
    c = args.concurrency
    scratch = scratch_copy(base)
    with serving(scratch) as server:
        log("latency: 20-liker page, hottest video vs ~100-like video (side by side)")
        figures["hot_vs_small"] = load(
            {
                "port": server.port,
                "round_robin": True,
                "count": args.samples,
                "warmup": 20,
                "groups": [
                    {"name": "hot", "requests": [likers_request(p.hottest, p.viewer, "hot")]},
                    {"name": "small", "requests": [likers_request(p.small, p.viewer, "small")]},
                ],
            }
        )
        log(f"throughput at {c} clients: {{ __typename }} and the 20-liker page, in turns")
        typename = [{"label": "typename", "body": body("{ __typename }"), "token": None}]
        likers = [likers_request(p.hottest, p.viewer, "likers")]
        figures.update(
            interleaved(
                server,
                {
                    name: {
                        "port": server.port,
                        "duration": phases,
                        "warmup": 5,
                        "groups": [{"name": group, "concurrency": c, "requests": requests}],
                    }
                    for name, group, requests in (
                        ("typename", "typename", typename),
                        ("likers_rps", "likers", likers),
                    )
                },
                args.rounds,
            )
        )
        log(f"mixed read workload at {c} clients")
        mixed = mixed_requests(p)
        figures["mixed"] = measured(
            server,
            {
                "port": server.port,
                "duration": phases,
                "warmup": 5,
                "groups": [{"name": "read", "concurrency": c, "requests": mixed}],
            },
        )
        rss, peak = server.memory_mb()
        figures["server_memory_mixed"] = {"rss_mb": rss, "peak_mb": peak}
        log(f"likes written with {c} readers running")
        figures["writes"] = measured(
            server,
            {
                "port": server.port,
                "duration": phases,
                "warmup": 2,
                "groups": [
                    {"name": "read", "concurrency": c, "requests": mixed},
                    {"name": "write", "concurrency": 2, "requests": like_requests(p)},
                ],
            },
        )
        rss, peak = server.memory_mb()
        figures["server_memory_end"] = {"rss_mb": rss, "peak_mb": peak}
        if args.profile:
            figures["profile"] = {}
            for name, requests in (
                ("typename", typename),
                ("likers", likers),
            ):
                log(f"profiling the server under {name} load (py-spy)")
                figures["profile"][name] = profiled(
                    server,
                    {
                        "port": server.port,
                        "duration": 10,
                        "warmup": 5,
                        "groups": [{"name": name, "concurrency": c, "requests": requests}],
                    },
                )
    for leftover in DATA.glob(scratch.path.name + "*"):
        leftover.unlink()

    log("latency: 20-liker page of the hottest video at 0%, 95%, 99.9% private likers")
    servers = {name: Server(data) for name, data in hidden.items()}
    try:
        hidden_groups = []
        for name, data in hidden.items():
            hp = picks(data)
            figures.setdefault("hidden_picks", {})[name] = {
                "viewer": hp.viewer,
                "viewer_follows": hp.viewer_follows,
                "viewer_follows_likers": hp.viewer_follows_likers,
                "hottest_likes": hp.hottest_likes,
                "private_accounts": data.summary["privateAccounts"],
            }
            hidden_groups.append(
                {
                    "name": name,
                    "port": servers[name].port,
                    "requests": [likers_request(hp.hottest, hp.viewer, name)],
                }
            )
        figures["hidden"] = load(
            {
                "port": 0,
                "round_robin": True,
                "count": args.samples,
                "warmup": 20,
                "groups": hidden_groups,
            }
        )
    finally:
        for server in servers.values():
            server.stop()
    figures["machine"]["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    report(figures)


def _p50(result: dict[str, Any], group: str) -> float:
    value: float = result["groups"][group]["all"]["p50_ms"]
    return value


def report(f: dict[str, Any]) -> None:
    hot, small = _p50(f["hot_vs_small"], "hot"), _p50(f["hot_vs_small"], "small")
    public = _p50(f["hidden"], "public")
    h95, h999 = _p50(f["hidden"], "hidden95"), _p50(f["hidden"], "hidden999")
    typename_rps = f["typename"]["groups"]["typename"]["all"]["rps"]
    likers_rps = f["likers_rps"]["groups"]["likers"]["all"]["rps"]
    mixed = f["mixed"]["groups"]["read"]["all"]
    writes = f["writes"]["groups"]["write"]["all"]
    reads_during = f["writes"]["groups"]["read"]["all"]
    st = f["statements"]
    peak = f["server_memory_end"]["peak_mb"]
    cpu_ratio = (
        f["typename"]["server_cpu_ms_per_request"] / f["likers_rps"]["server_cpu_ms_per_request"]
    )
    targets = [
        Target(
            "hot / small 20-liker page latency (p50)", hot / small, "<= 1.5", hot / small <= 1.5
        ),
        Target("95% hidden / all public (p50)", h95 / public, "<= 1.5", h95 / public <= 1.5),
        Target("99.9% hidden / all public (p50)", h999 / public, "<= 1.5", h999 / public <= 1.5),
        Target(
            "feed statements, first 50 vs first 5 (max of viewers)",
            max(st.values()),
            "equal, <= 6",
            all(st[f"{v} first=50"] == st[f"{v} first=5"] for v in ("anonymous", "viewer"))
            and max(st.values()) <= 6,
        ),
        Target(
            "20-liker page rps / { __typename } rps",
            likers_rps / typename_rps,
            ">= 0.333",
            likers_rps / typename_rps >= 1 / 3,
        ),
        Target(
            # The same target measured by server CPU per request, which the neighbours'
            # load on a shared machine moves far less than requests per second.
            "  same, as server CPU ms ({ __typename } / page)",
            cpu_ratio,
            ">= 0.333",
            cpu_ratio >= 1 / 3,
        ),
        Target(
            "mixed p99 / p50",
            mixed["p99_ms"] / mixed["p50_ms"],
            "<= 4",
            mixed["p99_ms"] <= 4 * mixed["p50_ms"],
        ),
        Target("server peak RSS (MiB)", peak, "< 200", peak < 200),
        Target(
            "generate 1M likes (s, slowest dataset)",
            max(g["seconds"] for g in f["generate"].values()),
            "< 60",
            max(g["seconds"] for g in f["generate"].values()) < 60,
        ),
    ]
    f["targets"] = [t.__dict__ for t in targets]
    f["derived"] = {
        "hot_p50_ms": hot,
        "small_p50_ms": small,
        "public_p50_ms": public,
        "hidden95_p50_ms": h95,
        "hidden999_p50_ms": h999,
        "typename_rps": typename_rps,
        "likers_rps": likers_rps,
        "mixed_rps": mixed["rps"],
        "mixed_p50_ms": mixed["p50_ms"],
        "mixed_p99_ms": mixed["p99_ms"],
        "likes_written_per_s": writes.get("rps", 0.0),
        "write_errors": writes["errors"],
        "reads_during_writes_rps": reads_during["rps"],
        "reads_during_writes_p50_ms": reads_during["p50_ms"],
        "reads_during_writes_p99_ms": reads_during["p99_ms"],
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = DATA / f"results-{stamp}.json"
    out.write_text(json.dumps(f, indent=2, default=str))
    print("\n".join(_lines(f, targets, out)))


def _cpu(f: dict[str, Any], phase: str) -> str:
    return f"{f[phase]['server_cpu_ms_per_request']:5.2f} ms server CPU/request"


def _lines(f: dict[str, Any], targets: list[Target], out: Path) -> list[str]:
    d, m, st = f["derived"], f["machine"], f["statements"]
    cpu_ratio = (
        f["typename"]["server_cpu_ms_per_request"] / f["likers_rps"]["server_cpu_ms_per_request"]
    )
    return [
        "",
        f"likegraph bench  {m['date']}  ({m['nproc']} cpus, {m['cpu']})",
        f"load average {m['load_before']} -> {m['load_after']} (a shared machine)",
        f"scale: {f['scale']['accounts']:,} accounts, {f['scale']['videos']:,} videos,"
        f" {f['scale']['likes']:,} likes",
        "",
        "generate (wall s, peak RSS MiB):",
        *(
            f"  {name:<10} {g['seconds']:6.1f} s  {g['peak_mb']:6.0f} MiB"
            f"  ({g['summary']['privateAccounts']:,} private)"
            for name, g in f["generate"].items()
        ),
        "20-liker page, median latency (viewer follows ~10 accounts):",
        f"  hottest video ({f['picks']['hottest_likes']:,} likes) {d['hot_p50_ms']:7.2f} ms"
        f"   ~100-like video ({f['picks']['small_likes']} likes) {d['small_p50_ms']:7.2f} ms",
        f"  hottest video at 0% private {d['public_p50_ms']:7.2f} ms"
        f"   95% {d['hidden95_p50_ms']:7.2f} ms   99.9% {d['hidden999_p50_ms']:7.2f} ms",
        "SQL statements per feed request (newest videos, likers(first: 10) each):",
        *(f"  {k:<22} {v}" for k, v in st.items()),
        f"throughput at {f['concurrency']} concurrent clients:",
        f"  {{ __typename }}          {d['typename_rps']:6.0f} req/s  {_cpu(f, 'typename')}",
        f"  20-liker page (hottest) {d['likers_rps']:6.0f} req/s  {_cpu(f, 'likers_rps')}"
        f"  (CPU-cost ratio {cpu_ratio:.3f})",
        f"  mixed reads             {d['mixed_rps']:6.0f} req/s  {_cpu(f, 'mixed')}"
        f"  p50 {d['mixed_p50_ms']:.1f} ms  p99 {d['mixed_p99_ms']:.1f} ms",
        f"  likes written           {d['likes_written_per_s']:6.1f} /s    with readers at"
        f" {d['reads_during_writes_rps']:.0f} req/s (p50 {d['reads_during_writes_p50_ms']:.1f} ms,"
        f" p99 {d['reads_during_writes_p99_ms']:.1f} ms), write errors {d['write_errors']}",
        f"server memory: RSS after mixed {f['server_memory_mixed']['rss_mb']:.0f} MiB,"
        f" peak {f['server_memory_end']['peak_mb']:.0f} MiB",
        *(
            f"py-spy, {name} at {f['concurrency']} clients: "
            + ", ".join(f"{bucket} {share:.0f}%" for bucket, share in shares.items())
            for name, shares in f.get("profile", {}).items()
        ),
        "",
        "targets:",
        *(
            f"  {'PASS' if t.passed else 'FAIL'}  {t.name:<55} {t.value:8.3f}  (target {t.limit})"
            for t in targets
        ),
        f"\nfull results: {out.relative_to(ROOT)}",
    ]


if __name__ == "__main__":
    main()
