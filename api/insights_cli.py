"""`likegraph insights release`: the one-time release of closed days, ahead of reads."""

from __future__ import annotations

import asyncio
import sys
import time

from api import db
from api.insights import release_all
from api.insights_types import MAX_DAYS
from api.settings import Settings


def release(settings: Settings, days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        print(f"likegraph insights release: --days must be 1 to {MAX_DAYS}", file=sys.stderr)
        return 2
    started = time.monotonic()

    def progress(done: int, total: int, released: int) -> None:
        print(
            f"insights: {done:,}/{total:,} videos, {released:,} video-days released"
            f"  [{time.monotonic() - started:5.1f}s]",
            file=sys.stderr,
            flush=True,
        )

    async def run() -> tuple[int, int]:
        await db.migrate(settings.database_url)
        try:
            return await release_all(
                days, settings.insights_epsilon, settings.insights_min_count, progress
            )
        finally:
            await db.close()

    videos, released = asyncio.run(run())
    print(f"Released {released:,} video-days of {videos:,} videos (the last {days} closed days).")
    return 0
