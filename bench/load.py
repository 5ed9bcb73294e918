"""A small HTTP/1.1 load generator for the benchmark (run as its own process).

`python bench/load.py SPEC.json` reads a spec written by bench/run.py and prints one JSON
object with the results. It speaks just enough HTTP/1.1 over asyncio streams to POST
prebuilt GraphQL requests on keep-alive connections: much less client work per request
than a general HTTP client, so the client is not what the benchmark measures.

Spec: {"host", "port", "duration" (s) or "count" (requests per connection), "warmup"
(requests per connection, not measured), "round_robin", "groups": [{"name",
"concurrency", "port" (optional), "requests": [{"label", "body", "token"}]}]}.

Each connection sends requests drawn at random from its group's list, one at a time,
for the duration. A group may give "sequences" (one list of requests per connection, its
concurrency) instead: each connection then sends its own list in order, round and round,
and ends on a multiple of the group's "step" (a like is always followed by its unlike,
so the database ends each phase as it began).

With "round_robin", one client instead sends one request to each group in turn (in a
shuffled order each round): the groups are measured side by side in the same moments,
which is what a ratio of latencies on a shared machine needs.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    label: str
    raw: bytes


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def build(host: str, port: int, label: str, body: str, token: str | None) -> Request:
    payload = body.encode()
    headers = [
        "POST /graphql HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        "Accept: application/graphql-response+json",
        f"Content-Length: {len(payload)}",
    ]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    return Request(label, ("\r\n".join(headers) + "\r\n\r\n").encode() + payload)


async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> bytes:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    if not head.startswith(b"HTTP/1.1 200"):
        return b'{"errors": "http ' + head[9:12] + b'"}'
    return body


class Gate:
    """Every connection is open and warmed up before any measured request is sent."""

    def __init__(self, connections: int) -> None:
        self.waiting = connections
        self.all_ready = asyncio.Event()
        self.start = asyncio.Event()

    async def ready(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.all_ready.set()
        await self.start.wait()


async def connection(
    spec: dict[str, Any],
    port: int,
    requests: list[Request],
    stats: Stats,
    seed: int,
    gate: Gate,
    step: int = 0,
) -> None:
    """`step` > 0: `requests` is this connection's own sequence, sent in order."""
    rng = random.Random(seed)
    sent = 0

    def pick() -> Request:
        return requests[sent % len(requests)] if step else rng.choice(requests)

    reader, writer = await asyncio.open_connection(spec["host"], port)
    try:
        for _ in range(spec.get("warmup", 0)):
            await send(reader, writer, pick().raw)
            sent += 1
        await gate.ready()
        deadline = time.perf_counter() + spec.get("duration", 1e9)
        remaining = spec.get("count", 10**12)
        while remaining > 0 and time.perf_counter() < deadline:
            request = pick()
            began = time.perf_counter()
            body = await send(reader, writer, request.raw)
            stats.latencies[request.label].append(time.perf_counter() - began)
            if b'"errors"' in body:
                stats.errors[request.label] += 1
            remaining -= 1
            sent += 1
        while step and sent % step:  # unmeasured: finish the pair (an unlike after its like)
            await send(reader, writer, pick().raw)
            sent += 1
    finally:
        writer.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summarize(values: list[float], errors: int, seconds: float) -> dict[str, Any]:
    if not values:
        return {"n": 0, "errors": errors}
    return {
        "n": len(values),
        "errors": errors,
        "rps": len(values) / seconds,
        "p50_ms": 1000 * statistics.median(values),
        "p99_ms": 1000 * percentile(values, 0.99),
        "mean_ms": 1000 * statistics.fmean(values),
    }


async def round_robin(spec: dict[str, Any], groups: dict[str, list[Request]]) -> dict[str, Stats]:
    rng = random.Random(1)
    streams = {
        name: await asyncio.open_connection(spec["host"], group.get("port", spec["port"]))
        for name, group in ((g["name"], g) for g in spec["groups"])
    }
    stats = {name: Stats() for name in groups}
    names = list(groups)
    try:
        for n in range(spec.get("warmup", 0) + spec["count"]):
            rng.shuffle(names)
            for name in names:
                request = rng.choice(groups[name])
                reader, writer = streams[name]
                began = time.perf_counter()
                body = await send(reader, writer, request.raw)
                if n >= spec.get("warmup", 0):
                    stats[name].latencies[request.label].append(time.perf_counter() - began)
                    if b'"errors"' in body:
                        stats[name].errors[request.label] += 1
    finally:
        for _, writer in streams.values():
            writer.close()
    return stats


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], spec["port"]
    if spec.get("round_robin"):
        built = {
            g["name"]: [
                build(host, g.get("port", port), r["label"], r["body"], r.get("token"))
                for r in g["requests"]
            ]
            for g in spec["groups"]
        }
        began = time.perf_counter()
        per_group = await round_robin(spec, built)
        return _result(per_group, time.perf_counter() - began)
    per_group: dict[str, Stats] = {}
    tasks = []
    gate = Gate(
        sum(len(g["sequences"]) if "sequences" in g else g["concurrency"] for g in spec["groups"])
    )
    seed = 0
    for group in spec["groups"]:
        group_port = group.get("port", port)

        def built(listed: list[dict[str, Any]], at: int = group_port) -> list[Request]:
            return [build(host, at, r["label"], r["body"], r.get("token")) for r in listed]

        # Groups of one name (one per server process of a set) are counted together.
        stats = per_group.setdefault(group["name"], Stats())
        if "sequences" in group:
            lists, step = [built(s) for s in group["sequences"]], group.get("step", 1)
        else:
            lists, step = [built(group["requests"])] * group["concurrency"], 0
        for requests in lists:
            seed += 1
            tasks.append(
                asyncio.create_task(connection(spec, group_port, requests, stats, seed, gate, step))
            )
    await gate.all_ready.wait()
    began = time.perf_counter()
    gate.start.set()
    await asyncio.gather(*tasks)
    return _result(per_group, time.perf_counter() - began)


def _result(per_group: dict[str, Stats], seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = {"seconds": seconds, "groups": {}}
    for name, stats in per_group.items():
        every = [v for values in stats.latencies.values() for v in values]
        result["groups"][name] = {
            "all": summarize(every, sum(stats.errors.values()), seconds),
            "labels": {
                label: summarize(values, stats.errors[label], seconds)
                for label, values in stats.latencies.items()
            },
        }
    return result


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        loaded = json.load(handle)
    print(json.dumps(asyncio.run(main(loaded))))
