"""Likes at viral rates (issue 12, item 3): `.venv/bin/python bench/writes.py`.

`likegraph serve --workers 2` on a small generated dataset of its own, per engine
(SQLite: a file in a temporary directory; PostgreSQL: a database named
likegraph_bench_viral_<pid>, dropped at the end). 32 writers, each its own account on
its own keep-alive connection, like a video then unlike it, round and round:

* `one`: every writer on ONE video (every write moves the same counter);
* `many`: each writer on 25 videos of its own (no two writers share a counter);
* `floor`: `{ __typename }` from 32 connections, the cheapest request the server answers;
* `refused`: likeVideo of an ID that names an account, from 32 connections: NOT_FOUND
  before any statement, so what a mutation costs with no database work at all.

The four phases run in turns (the order reversed every round), so on a shared machine
they see the same minutes. A write is one mutation, likeVideo or unlikeVideo, each of
which inserts or deletes a like row and moves its counter. Afterwards every video's
`like_count` is compared with its like rows (rule 3). On PostgreSQL, pgbench (when
installed) then measures the database's own ceiling: counter updates per second on one
row against many, no API in the way. Prints the rates, p99 and the
target ratios (one / many >= 0.5, a write >= 1/3 of the floor), and keeps them in
bench/data/results-writes-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import run  # bench/run.py: a script's own directory leads sys.path

LIKE = "mutation($v: ID!) { likeVideo(videoId: $v) { likeCount } }"
UNLIKE = "mutation($v: ID!) { unlikeVideo(videoId: $v) { likeCount } }"
SCALE = run.Scale(20_000, 2_000, 20_000)  # accounts, videos, likes: most accounts like nothing
VIDEOS_PER_WRITER = 25


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def make_dataset(engine: str, workdir: Path) -> run.Dataset:
    if engine == "sqlite":
        path = workdir / "viral.sqlite3"
        return run.Dataset("viral", path, **run._generate(f"sqlite://{path}", 0.0, SCALE))
    database = f"{run.PG_PREFIX}viral_{os.getpid()}"
    run._pg_admin(f"CREATE DATABASE {database}")
    url = f"{run.PG_SERVER}/{database}"
    made = run.Dataset("viral", workdir / "pg.json", {}, 0.0, 0.0, database_url=url)
    try:
        saved = run._generate(url, 0.0, SCALE)
    except BaseException:
        drop_dataset(made)  # a failed or interrupted generate leaves no database behind
        raise
    return run.Dataset("viral", workdir / "pg.json", **saved, database_url=url)


def drop_dataset(data: run.Dataset) -> None:
    if data.database_url is not None:
        database = data.database_url.rsplit("/", 1)[1]
        assert database.startswith(f"{run.PG_PREFIX}viral_")  # ours, never anyone else's
        run._pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def writers_and_videos(data: run.Dataset, writers: int) -> tuple[list[int], int, list[int]]:
    """Writers who like nothing yet and take no part in a block, so every like is new;
    the one video and the many (public authors outside every block)."""
    conn = run._Reader(data)
    try:
        outside = (
            "NOT EXISTS (SELECT 1 FROM block b WHERE b.blocker_id = {0} OR b.blocked_id = {0})"
        )
        accounts = [
            r[0]
            for r in conn.all(
                "SELECT a.id FROM account a WHERE NOT a.is_private"
                " AND NOT EXISTS (SELECT 1 FROM video_like l WHERE l.account_id = a.id)"
                " AND " + outside.format("a.id") + " ORDER BY a.id LIMIT ?",
                writers,
            )
        ]
        videos = [
            r[0]
            for r in conn.all(
                "SELECT v.id FROM video v JOIN account a ON a.id = v.author_id"
                " WHERE NOT a.is_private AND " + outside.format("a.id") + " ORDER BY v.id LIMIT ?",
                1 + writers * VIDEOS_PER_WRITER,
            )
        ]
    finally:
        conn.close()
    if len(accounts) < writers or len(videos) < 1 + writers * VIDEOS_PER_WRITER:
        raise SystemExit("the dataset has too few free writers or public videos")
    return accounts, videos[0], videos[1:]


def pairs(video_ids: list[int], account: int) -> list[dict[str, Any]]:
    from api.ids import Kind, encode_id

    out = []
    for video in video_ids:
        v = encode_id(Kind.VIDEO, video)
        for label, query in (("like", LIKE), ("unlike", UNLIKE)):
            out.append({"label": label, "body": run.body(query, v=v), "token": run.token(account)})
    return out


def refused(account: int) -> dict[str, Any]:
    from api.ids import Kind, encode_id

    body = run.body(LIKE, v=encode_id(Kind.ACCOUNT, account))
    return {"label": "refused", "body": body, "token": run.token(account)}


def counts(data: run.Dataset) -> tuple[int, int]:
    """(like rows, videos whose like_count is not their number of like rows): the first
    is the same before and after the phases (every like was followed by its unlike), the
    second always 0 (rule 3)."""
    conn = run._Reader(data)
    try:
        (likes,) = conn.all("SELECT COUNT(*) FROM video_like")[0]
        drifted = conn.all(
            "SELECT v.id FROM video v LEFT JOIN (SELECT video_id, COUNT(*) AS n"
            " FROM video_like GROUP BY video_id) c ON c.video_id = v.id"
            " WHERE v.like_count <> COALESCE(c.n, 0)"
        )
        return int(likes), len(drifted)
    finally:
        conn.close()


PGBENCH_SCRIPT = """\\set v {pick}
UPDATE video SET like_count = like_count + 1 WHERE id = :v;
UPDATE video SET like_count = like_count - 1 WHERE id = :v;
"""


def pgbench_bin() -> str | None:
    found = shutil.which("pgbench")
    if found is None:
        listed = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
        found = str(listed[-1]) if listed else None
    return found


def counter_ceiling(
    data: run.Dataset, hot: int, spread: list[int], args: argparse.Namespace, workdir: Path
) -> dict[str, float] | None:
    """PostgreSQL alone, no API: counter updates per second (each its own transaction)
    from as many pgbench clients as writers, on the hot video's row against rows spread
    over the many videos, in turns. What the database allows one video before the API
    is in the way: a row lock is held until the commit's WAL flush, so updates of one row
    commit one flush at a time, while updates of many rows share their flushes."""
    pgbench = pgbench_bin()
    if data.database_url is None or pgbench is None:
        return None
    scripts = {
        "one": PGBENCH_SCRIPT.format(pick=hot),
        "many": PGBENCH_SCRIPT.format(pick=f"random({min(spread)}, {max(spread)})"),
    }
    done = {name: 0.0 for name in scripts}
    seconds = max(1, round(args.duration / args.rounds))
    for turn in range(args.rounds):
        for name in scripts if turn % 2 == 0 else reversed(list(scripts)):
            script = workdir / f"{name}.sql"
            script.write_text(scripts[name])
            command = [pgbench, "-n", "-c", str(args.writers), "-j", "2", "-T", str(seconds)]
            out = subprocess.run(
                [*command, "-f", str(script), data.database_url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            tps = re.search(r"tps = ([0-9.]+)", out)
            assert tps is not None, out
            done[name] += 2 * float(tps.group(1)) * seconds  # two updates per script
    return {name: n / (seconds * args.rounds) for name, n in done.items()}


def measure(engine: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    run.log(f"{engine}: generating {SCALE}")
    data = make_dataset(engine, workdir)
    try:
        accounts, hot, spread = writers_and_videos(data, args.writers)
        likes_before, _ = counts(data)
        own = [spread[i :: args.writers] for i in range(args.writers)]
        groups = {
            "floor": {
                "name": "floor",
                "concurrency": args.writers,
                "requests": [{"label": "typename", "body": run.body("{ __typename }")}],
            },
            # A like of an ID that names an account, not a video: NOT_FOUND before any
            # statement. What a mutation costs the server with no database work: HTTP,
            # the token, GraphQL, the permission and loader extensions, an error.
            "refused": {
                "name": "refused",
                "concurrency": args.writers,
                "requests": [refused(accounts[0])],
            },
            "one": {
                "name": "one",
                "step": 2,
                "sequences": [pairs([hot], account) for account in accounts],
            },
            "many": {
                "name": "many",
                "step": 2,
                "sequences": [pairs(own[i], a) for i, a in enumerate(accounts)],
            },
        }
        server = run.Server(data, workers=args.workers)
        load_before = uptime()
        try:
            specs = {
                name: {"port": server.port, "duration": args.duration, "warmup": 2, "groups": [g]}
                for name, g in groups.items()
            }
            run.log(f"{engine}: {args.rounds} rounds of {args.duration / args.rounds:.1f} s each")
            phases = run.interleaved(server, specs, args.rounds)
        finally:
            server.stop()
        load_after = uptime()
        likes_after, drifted = counts(data)
        ceiling = counter_ceiling(data, hot, spread, args, workdir)
    finally:
        drop_dataset(data)
    figures = {name: phases[name]["groups"][name]["all"] for name in phases}
    return {
        "engine": engine,
        "workers": args.workers,
        "writers": args.writers,
        "uptime_before": load_before,
        "uptime_after": load_after,
        "figures": figures,
        "server_cpu_ms": {n: phases[n]["server_cpu_ms_per_request"] for n in phases},
        "one_over_many": figures["one"]["rps"] / figures["many"]["rps"],
        "one_over_floor": figures["one"]["rps"] / figures["floor"]["rps"],
        "many_over_floor": figures["many"]["rps"] / figures["floor"]["rps"],
        "videos_with_drifted_counts": drifted,
        "like_rows_before_after": [likes_before, likes_after],
        "postgres_alone_updates_per_s": ceiling,
        "turns": {n: [t["groups"][n]["all"] for t in phases[n]["turns"]] for n in phases},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgres", help="(sqlite,postgres)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase (10)")
    parser.add_argument("--rounds", type=int, default=4, help="turns per phase (4)")
    parser.add_argument("--writers", type=int, default=32, help="connections per phase (32)")
    parser.add_argument("--workers", type=int, default=2, help="serve --workers (2)")
    args = parser.parse_args()
    from api import ids

    ids.configure(run.SECRET)  # the servers' secret: the IDs this process sends them
    info = run.machine()
    results = []
    with tempfile.TemporaryDirectory(prefix="likegraph-viral-") as tmp:
        for engine in args.engines.split(","):
            results.append(measure(engine, args, Path(tmp)))
    lines = [
        f"\nlikes at viral rates  {datetime.now(UTC):%a %b %d %Y %H:%M} UTC",
        f"{info['nproc']} cpus, {info['cpu']}; serve --workers {args.workers},"
        f" {args.writers} writers, {args.rounds} x {args.duration / args.rounds:.1f} s per phase",
    ]
    for r in results:
        lines.append(
            f"{r['engine']}:  load {r['uptime_before'].split('load average: ')[1]}"
            f" -> {r['uptime_after'].split('load average: ')[1]}"
        )
        phases = (
            ("floor", "{ __typename }"),
            ("refused", "refused like"),
            ("one", "one video"),
            ("many", "many"),
        )
        for name, label in phases:
            g = r["figures"][name]
            unit = "writes/s" if name in ("one", "many") else "req/s"
            lines.append(
                f"  {label:<15} {g['rps']:7,.0f} {unit:<8}  p50 {g['p50_ms']:6.1f} ms"
                f"  p99 {g['p99_ms']:6.1f} ms  server CPU {r['server_cpu_ms'][name]:.2f} ms"
                f"  errors {g['errors']}"
            )
        lines.append(
            f"  one / many {r['one_over_many']:.2f} (target >= 0.5);"
            f" one / floor {r['one_over_floor']:.2f}, many / floor"
            f" {r['many_over_floor']:.2f} (target >= 0.33);"
            f" a refused like (NOT_FOUND, no statement: its errors are expected) / floor"
            f" {r['figures']['refused']['rps'] / r['figures']['floor']['rps']:.2f};"
            f" videos with a drifted count: {r['videos_with_drifted_counts']};"
            f" like rows before / after: {r['like_rows_before_after']}"
        )
        if r["postgres_alone_updates_per_s"]:
            c = r["postgres_alone_updates_per_s"]
            lines.append(
                f"  PostgreSQL alone (pgbench, counter updates): one video {c['one']:,.0f}/s,"
                f" many {c['many']:,.0f}/s, one / many {c['one'] / c['many']:.2f}"
            )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run.DATA.mkdir(parents=True, exist_ok=True)
    out = run.DATA / f"results-writes-{stamp}.json"
    out.write_text(json.dumps({"machine": info, "results": results}, indent=2, default=str))
    lines.append(f"\nfull results: {out.relative_to(run.ROOT)}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
