"""Issue 9: what `video(id:)` timing tells, and the cost of encrypted cursors.

    .venv/bin/python bench/timing.py                    # hidden vs missing vs visible
    .venv/bin/python bench/timing.py --compare d60e0b8  # 20-liker page: this tree vs a commit

Both reuse bench/run.py's `base` dataset (made on first use, about 20 s) and its real
`likegraph serve` servers, and measure with one client that sends one request of each
kind in turn, shuffled every round (bench/load.py's round robin): every figure is taken
in the same moments as the ones it is compared with, so the machine's drift cancels out.

Default mode: a logged-in viewer (who follows about ten accounts) asks for visible
videos, hidden videos (private authors the viewer does not follow) and missing ones
(IDs above every video's), many of each. The figures are the medians of each of
`--blocks` blocks; the spread of the per-block differences is what bounds a residual
difference on this machine.

`--like`: the same for `likeVideo` on hidden and missing videos (both NOT_FOUND, the same
bytes). On PostgreSQL (`--engine postgres`, the 20%-private dataset of `run.py --engine
postgres`) a like has no lookup before its write: both go through the write's share lock
and statement, and a hidden video locks one account more (its author).

`--compare REV`: the same dataset served twice at once, by this tree and by `git
archive REV` of this repository, each asked in turn for the hottest video's 20-liker page
(the page of bench/run.py, with 20 cursors and 20 account IDs).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from run import (
    BASE_RATIO,
    FULL,
    LIKERS_PAGE,
    QUICK,
    ROOT,
    SECRET,
    Dataset,
    Picks,
    Server,
    _Reader,
    _store_sessions,
    body,
    dataset,
    load,
    log,
    machine,
    pg_dataset,
    picks,
    token,
)

VIDEO = (
    "query($id: ID!) { video(id: $id) { id caption likeCount viewerHasLiked author { handle } } }"
)
LIKE = "mutation($id: ID!) { likeVideo(videoId: $id) { id likeCount } }"
PER_CASE = 50  # distinct videos of each kind, so that no one row's cache decides


def _cases(data: Dataset, viewer: int) -> dict[str, list[int]]:
    reader = _Reader(data)
    try:
        public = [
            r[0]
            for r in reader.all(
                "SELECT v.id FROM video v JOIN account a ON a.id = v.author_id"
                " WHERE NOT a.is_private ORDER BY v.id"
            )
        ]
        hidden = [
            r[0]
            for r in reader.all(
                "SELECT v.id FROM video v JOIN account a ON a.id = v.author_id"
                " WHERE a.is_private AND a.id <> ? AND a.id NOT IN (SELECT followee_id"
                " FROM follow WHERE follower_id = ? AND status = 'APPROVED') ORDER BY v.id",
                viewer,
                viewer,
            )
        ]
        (top,) = reader.all("SELECT MAX(id) FROM video")[0]
    finally:
        reader.close()
    rng = random.Random(9)
    return {
        "visible": rng.sample(public, PER_CASE),
        "hidden": rng.sample(hidden, PER_CASE),
        "missing": [top + 1000 + 7 * n for n in range(PER_CASE)],
    }


def _ask(server: Server, query: str, variables: dict[str, Any], viewer: int) -> bytes:
    bearer = token(viewer)
    _store_sessions()  # the token's session row, as `load` writes it before a run
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/graphql",
        data=body(query, **variables).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: bytes = response.read()
        return answer


def hidden_vs_missing(data: Dataset, args: argparse.Namespace) -> None:
    from api.ids import Kind, encode_id

    viewer = picks(data).viewer
    cases = _cases(data, viewer)
    if args.like:  # a like of a visible video would change what the next one does
        del cases["visible"]
    query = LIKE if args.like else VIDEO
    server = Server(data)
    try:
        answers = {
            name: {_ask(server, query, {"id": encode_id(Kind.VIDEO, pk)}, viewer) for pk in pks}
            for name, pks in cases.items()
        }
        # The premise: hidden and missing videos answer the very same bytes.
        assert answers["hidden"] == answers["missing"], answers
        assert len(answers["hidden"]) == 1, answers
        if not args.like:
            assert answers["hidden"] == {b'{"data":{"video":null}}'}, answers
            assert all(b'"caption"' in a for a in answers["visible"])
        groups = [
            {
                "name": name,
                "requests": [
                    {
                        "label": name,
                        "body": body(query, id=encode_id(Kind.VIDEO, pk)),
                        "token": token(viewer),
                    }
                    for pk in pks
                ],
            }
            for name, pks in cases.items()
        ]
        blocks = []
        for n in range(args.blocks):
            log(f"block {n + 1}/{args.blocks}: {args.samples} requests of each kind")
            result = load(
                {
                    "port": server.port,
                    "round_robin": True,
                    "count": args.samples,
                    "warmup": 50,
                    "groups": groups,
                }
            )
            blocks.append({g: result["groups"][g]["all"]["p50_ms"] for g in cases})
    finally:
        server.stop()
    what = "likeVideo" if args.like else "video(id:)"
    print(f"{what} as viewer {viewer}, {data.url.split(':')[0]}:")
    print("median latency per block (ms)")
    print("block  visible  hidden  missing  hidden-missing  visible-missing")
    for n, b in enumerate(blocks, 1):
        visible, over = "      -", ""
        if "visible" in b:
            visible = f"{b['visible']:7.3f}"
            over = f"  {1000 * (b['visible'] - b['missing']):+12.1f} us"
        print(
            f"{n:5}  {visible}  {b['hidden']:6.3f}  {b['missing']:7.3f}"
            f"  {1000 * (b['hidden'] - b['missing']):+11.1f} us{over}"
        )
    diffs = [1000 * (b["hidden"] - b["missing"]) for b in blocks]
    print(
        f"hidden - missing: median {statistics.median(diffs):+.1f} us,"
        f" per-block range {min(diffs):+.1f} .. {max(diffs):+.1f} us"
        f" ({args.blocks} blocks x {args.samples} requests of each kind)"
    )
    json.dump({"viewer": viewer, "blocks": blocks}, sys.stderr)
    print(file=sys.stderr)


def compare(data: Dataset, args: argparse.Namespace) -> None:
    """The 20-liker page from this tree and from REV, side by side."""
    from api.ids import Kind, encode_id

    p = picks(data)
    with tempfile.TemporaryDirectory(prefix="likegraph-rev-") as other:
        archive = subprocess.run(
            ["git", "archive", args.compare], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", other], input=archive, check=True)
        servers = {"this tree": Server(data), args.compare: Server(data, code=Path(other))}
        try:
            ours = encode_id(Kind.VIDEO, p.hottest)
            ids = {"this tree": ours, args.compare: _their_id(servers[args.compare], ours, p)}
            groups = [
                {
                    "name": name,
                    "port": server.port,
                    "requests": [
                        {
                            "label": name,
                            "body": body(LIKERS_PAGE, id=ids[name]),
                            "token": token(p.viewer),
                        }
                    ],
                }
                for name, server in servers.items()
            ]
            blocks = []
            for n in range(args.blocks):
                log(f"block {n + 1}/{args.blocks}: {args.samples} pages from each server")
                result = load(
                    {
                        "port": 0,
                        "round_robin": True,
                        "count": args.samples,
                        "warmup": 50,
                        "groups": groups,
                    }
                )
                blocks.append({g: result["groups"][g]["all"]["p50_ms"] for g in servers})
        finally:
            for server in servers.values():
                server.stop()
    names = list(servers)
    print(f"20-liker page of the hottest video, viewer {p.viewer}: median per block (ms)")
    print(f"block  {names[0]:>10}  {names[1]:>10}  ratio")
    for n, b in enumerate(blocks, 1):
        print(f"{n:5}  {b[names[0]]:10.3f}  {b[names[1]]:10.3f}  {b[names[0]] / b[names[1]]:.3f}")
    ratios = [b[names[0]] / b[names[1]] for b in blocks]
    print(
        f"this tree / {args.compare}: median ratio {statistics.median(ratios):.3f},"
        f" per-block range {min(ratios):.3f} .. {max(ratios):.3f}"
    )


def _their_id(server: Server, ours: str, p: Picks) -> str:
    """The hottest video's ID as the other tree writes it: this tree's form, or the
    `base64("Video:N")` form of the commits before opaque IDs."""
    old = base64.urlsafe_b64encode(f"Video:{p.hottest}".encode()).decode().rstrip("=")
    for candidate in (ours, old):
        answer = json.loads(
            _post(server, "query($id: ID!) { video(id: $id) { id } }", {"id": candidate})
        )
        if (answer.get("data") or {}).get("video"):
            return candidate
    raise SystemExit("the other tree answers no video for either form of ID")


def _post(server: Server, query: str, variables: dict[str, Any]) -> bytes:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/graphql",
        data=body(query, **variables).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: bytes = response.read()
        return answer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the 100,000-like dataset")
    parser.add_argument("--blocks", type=int, default=5, help="blocks of requests (5)")
    parser.add_argument("--samples", type=int, default=1000, help="requests per kind per block")
    parser.add_argument("--compare", metavar="REV", help="this tree vs a git revision")
    parser.add_argument("--like", action="store_true", help="likeVideo, hidden vs missing")
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    from api import ids

    ids.configure(SECRET)
    scale = QUICK if args.quick else FULL
    if args.engine == "postgres":
        data = pg_dataset("hidden20", 0.2, scale)  # run.py --engine postgres's
    else:
        data = dataset("base", BASE_RATIO, scale)
    info = machine()
    log(f"{info['date']}: {info['nproc']} cpus, load {info['load_before']}")
    if args.compare:
        compare(data, args)
    else:
        hidden_vs_missing(data, args)


if __name__ == "__main__":
    main()
