"""Database connection, migrations and the small raw-SQL helpers the list queries use."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations.api import migrate as run_migrations

SQLITE_BUSY_TIMEOUT_MS = 10_000


def tortoise_config(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://").split("?", 1)[0]
        credentials: dict[str, Any] = {
            "file_path": path,
            "journal_mode": "WAL",
            "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            "synchronous": "NORMAL",
            "foreign_keys": "ON",
        }
        connection: Any = {"engine": "tortoise.backends.sqlite", "credentials": credentials}
    else:
        connection = database_url.replace("postgresql://", "postgres://", 1).replace(
            "postgres://", "asyncpg://", 1
        )
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": ["models.entities"],
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(database_url: str) -> None:
    """Apply pending migrations; leaves Tortoise initialised on that database."""
    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.init(config=tortoise_config(database_url))


async def connect(database_url: str) -> None:
    await Tortoise.init(config=tortoise_config(database_url))


async def close() -> None:
    await Tortoise.close_connections()


def conn() -> BaseDBAsyncClient:
    return connections.get("default")
