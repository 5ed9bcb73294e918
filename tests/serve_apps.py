"""ASGI apps for tests/test_serve.py's supervisor tests, importable by spawned workers."""

from __future__ import annotations

from typing import Any


async def cannot_start(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Fails its lifespan start-up, as the real app does when its database is gone."""
    assert scope["type"] == "lifespan"
    await receive()  # lifespan.startup
    await send({"type": "lifespan.startup.failed", "message": "The database is gone."})
