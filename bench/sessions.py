"""What a remembered session costs a request, with and without the board of endings the
workers of one `serve` share (auth/endings.py): `authenticate()` alone, in-process.

    .venv/bin/python bench/sessions.py [--calls 200000] [--runs 5]

Three cases, each the median of the runs, in microseconds per call:
- one process: no board (`serve --workers 1`, `make run`);
- a worker, nothing posted since its session was checked;
- a worker whose sibling posts one ending (another account's logOut) before each call.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from collections.abc import Callable

from auth import endings, sessions
from auth.tokens import issue_token, token_digest

SECRET = "bench-secret-bench-secret-bench-secret!"
ACCOUNT = 7


async def _per_call(calls: int, before_each: Callable[[], None]) -> float:
    header = f"Bearer {issue_token(SECRET, 3600)}"
    sessions._verdicts.keep(token_digest(header[7:]), ACCOUNT, sessions._verdicts.mark())
    started = time.perf_counter()
    for _ in range(calls):
        before_each()
        await sessions.authenticate(header, SECRET, recheck_seconds=3600)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    board = endings.Board(multiprocessing.get_context("spawn"), workers=2)
    sibling = sessions._Verdicts()
    sibling.board = board.writing_to(1)
    others = iter(range(1_000, 10**9))

    def nothing() -> None:
        pass

    def an_ending_elsewhere() -> None:
        sibling.forget_account(next(others))

    cases: list[tuple[str, endings.Board | None, Callable[[], None]]] = [
        ("one process, no board", None, nothing),
        ("a worker, nothing posted", board.writing_to(0), nothing),
        ("a worker, one ending posted per call", board.writing_to(0), an_ending_elsewhere),
    ]
    for name, mine, before_each in cases:
        sessions._verdicts = sessions._Verdicts()
        sessions._verdicts.board = mine
        runs = [asyncio.run(_per_call(args.calls, before_each)) for _ in range(args.runs)]
        print(
            f"{name:38} {statistics.median(runs):6.2f} us per call"
            f" ({min(runs):.2f}-{max(runs):.2f}, {args.runs} runs of {args.calls:,})"
        )


if __name__ == "__main__":
    main()
