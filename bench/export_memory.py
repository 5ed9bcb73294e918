"""`GET /export` of the account with the most likes: bytes, time and the memory it took.

    .venv/bin/python bench/export_memory.py sqlite://bench/data/deletion.sqlite3

Runs the real ASGI app in-process (called as a server calls it, the body counted and
none of it kept) and reports the process's peak resident memory before and after.
With the export streamed in keyset batches the peak grows by about one batch, whatever
the number of likes; a document built whole would grow with it (~150 bytes per like).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any

from api import db
from api.app import create_app
from api.settings import Settings
from auth.sessions import start_session
from models.sql import Sql

SECRET = "export-bench-secret-0123456789abcdef0123"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(database_url: str) -> dict[str, Any]:
    settings = Settings(database_url=database_url, secret=SECRET, token_ttl=3600)
    await db.connect(database_url, for_all_tasks=True)
    try:
        top = await Sql().rows(
            "SELECT account_id, COUNT(*) AS n FROM video_like GROUP BY account_id"
            " ORDER BY n DESC LIMIT 1"
        )
        account_id, likes = top[0]["account_id"], top[0]["n"]
        app = create_app(settings, apply_migrations=False)
        token = await start_session(account_id, SECRET, 3600)
        before = peak_mib()
        started = time.perf_counter()
        size, status = 0, 0
        done = asyncio.Event()

        # The app is called as a server would call it, with a `send` that counts the body
        # and keeps none of it (httpx's ASGI transport would gather the whole body).
        async def receive() -> dict[str, Any]:
            if not getattr(receive, "sent", False):
                receive.sent = True  # type: ignore[attr-defined]
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal size, status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/export",
            "raw_path": b"/export",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
            "client": ("127.0.0.1", 1),
            "server": ("bench", 80),
        }
        await app(scope, receive, send)
        done.set()
        return {
            "database": database_url.split("://", 1)[0],
            "likes": likes,
            "status": status,
            "bytes": size,
            "seconds": round(time.perf_counter() - started, 1),
            "peakRssBeforeMiB": round(before, 1),
            "peakRssAfterMiB": round(peak_mib(), 1),
        }
    finally:
        await db.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(json.dumps(asyncio.run(main(sys.argv[1])), indent=2))
