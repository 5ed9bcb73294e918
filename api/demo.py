"""The demo world (placeholder until the demo issue lands)."""

from __future__ import annotations

from api.settings import Settings


async def load_demo(settings: Settings, *, only_if_empty: bool) -> None:
    raise NotImplementedError
