"""The likers page with reads on a streaming replica against the primary alone (issue 12).

`.venv/bin/python bench/replicas.py [--seconds 10] [--turns 2]` builds a PostgreSQL
primary and a streaming replica of its own (tests/pg_cluster.py, PostgreSQL 15 server
binaries), fills the primary with `likegraph generate` (10,000 accounts, 2,000 videos,
100,000 likes), and serves it with two one-worker `likegraph serve` processes: one with
`LIKEGRAPH_REPLICA_URLS` naming the replica, one without. bench/load.py then sends the
hottest video's 20-liker page for a logged-in viewer, 16 connections, to each server in
turns. A third phase runs the replica server while another client blocks and unblocks
in a loop, 50 ms apart (a narrowing change every other time, so the watermark keeps
moving; on a busy server fewer, as each mutation waits its turn).

Reported per phase: requests/s, p50/p99, the API process's CPU per request, and how
many transactions each PostgreSQL server committed (pg_stat_database, read after the
server process has exited, so every backend has reported). Last, both servers at once
and one client sending each the same page in turn (1,000 rounds): the latency the
watermark read adds, measured in the same moments on this shared machine.
Nothing here is a test: it prints figures for bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import run  # noqa: E402  (bench/run.py: a script's own directory leads sys.path)

from tests.pg_cluster import Cluster, _free_port  # noqa: E402

PYTHON = sys.executable
SECRET = "bench-only-secret-" + "0123456789abcdef" * 3
DATASET = ["--accounts", "10000", "--videos", "2000", "--likes", "100000", "--seed", "4"]
LIKERS_PAGE = (
    "query($id: ID!) { video(id: $id) { likeCount likers(first: 20) {"
    " edges { cursor node { handle displayName } } pageInfo { hasNextPage endCursor } } } }"
)


def _post(port: int, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", body, headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        command = [PYTHON, "-m", "api", "serve", "--port", str(self.port)]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            command, env={**os.environ, **env}, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise SystemExit(self.log.read().decode()) from None
                time.sleep(0.2)

    def cpu_seconds(self) -> float:
        return sum(run._process_cpu(pid) for pid in run._process_tree(self.process.pid))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=15)
        self.log.close()


async def _commits(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        value: int = await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
        return value
    finally:
        await conn.close()


def _load(port: int, token: str, video_id: str, seconds: float) -> dict[str, Any]:
    body = json.dumps({"query": LIKERS_PAGE, "variables": {"id": video_id}})
    spec = {
        "host": "127.0.0.1",
        "port": port,
        "duration": seconds,
        "warmup": 20,
        "groups": [
            {
                "name": "likers",
                "concurrency": 16,
                "requests": [{"label": "likers", "body": body, "token": token}],
            }
        ],
    }
    result: dict[str, Any] = _load_spec(spec)["likers"]["all"]
    return result


def _side_by_side(ports: dict[str, int], token: str, video_id: str, count: int) -> Any:
    """One client, one request to each server in turn: latencies from the same moments."""
    body = json.dumps({"query": LIKERS_PAGE, "variables": {"id": video_id}})
    request = {"label": "likers", "body": body, "token": token}
    spec = {
        "host": "127.0.0.1",
        "port": 0,
        "count": count,
        "warmup": 50,
        "round_robin": True,
        "groups": [
            {"name": name, "port": port, "concurrency": 1, "requests": [request]}
            for name, port in ports.items()
        ],
    }
    return _load_spec(spec)


def _load_spec(spec: dict[str, Any]) -> Any:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    try:
        out = subprocess.run(
            [PYTHON, str(ROOT / "bench" / "load.py"), handle.name],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(handle.name)
    return json.loads(out.stdout)["groups"]


def _churn(port: int, token: str, stop: threading.Event) -> int:
    """Blocks and unblocks one account, 50 ms apart: at most a narrowing change per 100 ms."""
    changes = 0
    while not stop.is_set():
        for name in ("block", "unblock"):
            _post(port, f'mutation {{ {name}(handle: "user3") }}', {}, token)
            changes += name == "block"
            stop.wait(0.05)
    return changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--turns", type=int, default=2)
    args = parser.parse_args()

    cluster = Cluster.in_new_directory()
    try:
        cluster.start()
        measure(cluster, args.seconds, args.turns)
    finally:
        cluster.destroy()


def measure(cluster: Cluster, seconds: float, turns: int) -> None:
    asyncio.run(_create_database(cluster))
    primary = cluster.url(cluster.primary_port, "bench")
    replica = cluster.url(cluster.replica_port, "bench")
    env = {"DATABASE_URL": primary, "LIKEGRAPH_SECRET": SECRET}
    generated = subprocess.run(
        [PYTHON, "-m", "api", "generate", *DATASET],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(generated.stdout.strip().splitlines()[-1])
    video = summary["hottestVideoId"]  # a global ID already
    time.sleep(2)  # the replica replays the bulk load
    phases: list[dict[str, Any]] = []
    for turn in range(turns):
        for name, extra, churn in (
            ("primary alone", {}, False),
            ("reads on the replica", {"LIKEGRAPH_REPLICA_URLS": replica}, False),
            ("replica, a block every 100 ms", {"LIKEGRAPH_REPLICA_URLS": replica}, True),
        ):
            before = [asyncio.run(_commits(url)) for url in (primary, replica)]
            server = Server({**env, **extra})
            token = _post(
                server.port,
                'mutation { logIn(handle: "user1", password: "password123") { token } }',
                {},
            )["data"]["logIn"]["token"]
            stop = threading.Event()
            churner = None
            if churn:
                churner = threading.Thread(target=_churn, args=(server.port, token, stop))
                churner.start()
            cpu = server.cpu_seconds()
            result = _load(server.port, token, video, seconds)
            cpu = server.cpu_seconds() - cpu
            stop.set()
            if churner is not None:
                churner.join()
            server.stop()
            after = [asyncio.run(_commits(url)) for url in (primary, replica)]
            row = {
                "turn": turn + 1,
                "phase": name,
                "rps": round(result["rps"]),
                "p50_ms": round(result["p50_ms"], 2),
                "p99_ms": round(result["p99_ms"], 2),
                "errors": result.get("errors", 0),
                "api_cpu_ms_per_request": round(1000 * cpu / (result["n"] + 16 * 20), 2),
                "primary_commits": after[0] - before[0],
                "replica_commits": after[1] - before[1],
            }
            phases.append(row)
            print(json.dumps(row), flush=True)
    servers = {
        "primary alone": Server(env),
        "reads on the replica": Server({**env, "LIKEGRAPH_REPLICA_URLS": replica}),
    }
    try:
        token = _post(
            servers["primary alone"].port,
            'mutation { logIn(handle: "user1", password: "password123") { token } }',
            {},
        )["data"]["logIn"]["token"]
        groups = _side_by_side({k: v.port for k, v in servers.items()}, token, video, 1000)
        for name, group in groups.items():
            figures = {k: round(v, 2) for k, v in group["all"].items() if k.endswith("_ms")}
            print(json.dumps({"side by side, one client": name, **figures}), flush=True)
    finally:
        for server in servers.values():
            server.stop()
    load = os.getloadavg()
    print(json.dumps({"date": time.strftime("%a %d %b %Y %H:%M UTC", time.gmtime()),
                      "loadavg": [round(x, 1) for x in load]}))  # fmt: skip


async def _create_database(cluster: Cluster) -> None:
    conn = await asyncpg.connect(cluster.url(cluster.primary_port, "postgres"))
    try:
        await conn.execute("CREATE DATABASE bench")
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
