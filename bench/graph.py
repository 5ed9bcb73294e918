"""The social graph's lists on a generated database: page latency and `likegraph check`.

    .venv/bin/python bench/graph.py [--accounts 100000] [--follows 10] [--likes 1000000]

Generates (once, under bench/data/, gitignored) a database with `likegraph generate`,
then, in-process through the ASGI app, times the `followers(first: 20)` page of the most
followed account, anonymously and as a logged-in viewer, and a page of 20 followed
accounts each with its first 10 followers; then `likegraph check` over the whole
database (which now also looks for likes across a block). A benchmark, not a test: it
prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
FOLLOWERS = """
query($h: String!) { account(handle: $h) { followers(first: 20) {
  edges { cursor node { handle displayName } } pageInfo { hasNextPage endCursor } } } }
"""
LOGIN = 'mutation($h: String!) { logIn(handle: $h, password: "password123") { token } }'
NESTED = """
query($h: String!) { account(handle: $h) { following(first: 20) { edges { node {
  handle followsViewer followers(first: 10) { edges { node { handle } } } } } } } }
"""


def generate(path: Path, accounts: int, follows: int, likes: int) -> None:
    if path.exists():
        return
    DATA.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "api",
            "generate",
            "--accounts",
            str(accounts),
            "--videos",
            str(accounts // 5),
            "--likes",
            str(likes),
            "--follows-per-account",
            str(follows),
            "--seed",
            "4",
        ],
        cwd=ROOT,
        env={"DATABASE_URL": f"sqlite://{path}", "PATH": ""},
        check=True,
    )


async def timed(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    headers: dict[str, str],
    samples: int,
) -> float:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        times.append(time.perf_counter() - start)
        assert "errors" not in response.json(), response.text
    return statistics.median(times) * 1000


async def measure(path: Path, samples: int) -> None:
    from api.app import create_app
    from api.settings import Settings

    with sqlite3.connect(path) as db:
        hub, followers = db.execute(
            "SELECT a.handle, COUNT(*) FROM follow f JOIN account a ON a.id = f.followee_id"
            " WHERE f.status = 'APPROVED' AND NOT a.is_private"
            " GROUP BY a.id ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()
        (viewer,) = db.execute(
            "SELECT handle FROM account WHERE NOT is_private ORDER BY id LIMIT 1"
        ).fetchone()
    print(f"most followed public account: {hub}, {followers} approved followers")
    app = create_app(
        Settings(
            database_url=f"sqlite://{path}",
            secret="bench-graph-secret-of-32-bytes-or-more",
            token_ttl=3600,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await client.post("/graphql", json={"query": LOGIN, "variables": {"h": viewer}})
            token = login.json()["data"]["logIn"]["token"]
            auth = {"Authorization": f"Bearer {token}"}
            for name, query, headers in [
                ("followers(first: 20), anonymous", FOLLOWERS, {}),
                (f"followers(first: 20), as {viewer}", FOLLOWERS, auth),
                (f"20 followings x 10 followers, as {viewer}", NESTED, auth),
            ]:
                p50 = await timed(client, query, {"h": hub}, headers, samples)
                print(f"{name}: p50 {p50:.2f} ms over {samples} requests (in-process)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--follows", type=int, default=10)
    parser.add_argument("--likes", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    path = DATA / f"graph-{args.accounts}-{args.follows}-{args.likes}.sqlite3"
    generate(path, args.accounts, args.follows, args.likes)
    asyncio.run(measure(path, args.samples))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "api", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DATABASE_URL": f"sqlite://{path}", "PATH": ""},
    )
    print(f"likegraph check: {time.perf_counter() - start:.1f} s, exit {done.returncode}")
    print(done.stdout.strip())


if __name__ == "__main__":
    main()
