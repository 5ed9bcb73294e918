"""The HTTP stack before and after issue 12, side by side: `.venv/bin/python bench/stack.py`.

Two one-worker servers of the same code on bench/run.py's `base` dataset (made first if
missing): `likegraph serve` as it is (httptools, uvloop, no access log), and uvicorn run
as `serve` ran it before (h11, asyncio's own loop, an access log line per request, to a
file). `{ __typename }` and the hottest video's 20-liker page at 16 connections, the four
phases in turns (the order reversed every round) so that both stacks see the same
minutes of a shared machine; per phase, requests/s and the server's CPU ms per request.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from typing import Any

import run  # bench/run.py: a script's own directory leads sys.path

# `likegraph serve` with one worker before issue 12: uvicorn.run's defaults, and h11
# and asyncio named because with httptools and uvloop installed "auto" picks them.
BEFORE = (
    "import uvicorn; uvicorn.run('api.app:create_app', factory=True, port={port},"
    " log_level='info', http='h11', loop='asyncio', access_log=True)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase (20)")
    parser.add_argument("--rounds", type=int, default=4, help="turns per phase (4)")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    from api import ids

    ids.configure(run.SECRET)  # the servers' secret: the IDs this process sends them
    info = run.machine()
    run.log(f"machine: {info['nproc']} cpus, {info['cpu']}, load {info['load_before']}")
    data = run.dataset("base", run.BASE_RATIO, run.FULL)
    p = run.picks(data)
    requests = {
        "typename": [{"label": "typename", "body": run.body("{ __typename }"), "token": None}],
        "likers": [run.likers_request(p.hottest, p.viewer, "likers")],
    }
    servers = {
        "before": run.Server(data, command=[run.PYTHON, "-c", BEFORE]),
        "after": run.Server(data),
    }
    turns: dict[str, list[dict[str, Any]]] = {}
    try:
        phases = [(stack, name) for name in requests for stack in servers]
        for turn in range(args.rounds):
            for stack, name in phases if turn % 2 == 0 else reversed(phases):
                run.log(f"round {turn + 1}: {stack}, {name}")
                spec = {
                    "port": servers[stack].port,
                    "duration": args.duration / args.rounds,
                    "warmup": 2,
                    "groups": [
                        {"name": name, "concurrency": args.concurrency, "requests": requests[name]}
                    ],
                }
                turns.setdefault(f"{stack} {name}", []).append(run.measured(servers[stack], spec))
    finally:
        for server in servers.values():
            server.stop()
    summed = {key: run._summed(parts) for key, parts in turns.items()}
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"\nHTTP stack, before / after  {datetime.now(UTC):%a %b %d %Y %H:%M} UTC",
        f"{info['nproc']} cpus, {info['cpu']}; load average {info['load_before']}"
        f" -> {info['load_after']}",
    ]
    for key, figures in summed.items():
        name = key.split()[1]
        group = figures["groups"][name]["all"]
        lines.append(
            f"  {key:<16} {group['rps']:7,.0f} req/s  p50 {group['p50_ms']:6.1f} ms"
            f"  server CPU {figures['server_cpu_ms_per_request']:.3f} ms/request"
            f"  errors {group['errors']}"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = run.DATA / f"results-stack-{stamp}.json"
    out.write_text(json.dumps({"machine": info, "phases": summed}, indent=2, default=str))
    lines.append(f"\nfull results: {out.relative_to(run.ROOT)}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
