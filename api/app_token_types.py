"""The GraphQL types of app tokens (CONTRACT section 7, rule 17)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from api.ids import Kind, encode_id
from api.rows import to_datetime
from auth import app_tokens
from models.sql import Sql


@strawberry.enum(description="What an app token may read beyond the anonymous viewer.")
class AppScope(Enum):
    INSIGHTS_READ = app_tokens.INSIGHTS_READ


@strawberry.type(description="A third-party app's token; the token itself is never shown again.")
class AppToken:
    id: strawberry.ID
    name: str
    scopes: list[AppScope]
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When an app last used it, to the minute; null before any use."
    )


@strawberry.type
class AppTokenCreated:
    token: str = strawberry.field(description="Shown this once: only its hash is stored.")
    app_token: AppToken


_COLUMNS = "id, name, scopes, created_at, last_used_at"


def _app_token(r: dict[str, Any]) -> AppToken:
    last = r["last_used_at"]
    return AppToken(
        id=strawberry.ID(encode_id(Kind.APP_TOKEN, int(r["id"]))),
        name=str(r["name"]),
        scopes=[AppScope(s) for s in app_tokens.stored_scopes(str(r["scopes"]))],
        created_at=to_datetime(r["created_at"]),
        last_used_at=None if last is None else to_datetime(last),
    )


async def app_tokens_of(account_id: int) -> list[AppToken]:
    """The account's tokens, newest first (one indexed range)."""
    sql = Sql()
    rows = await sql.rows(
        f"SELECT {_COLUMNS} FROM app_token WHERE account_id = {sql.p(account_id)} ORDER BY id DESC"
    )
    return [_app_token(r) for r in rows]


async def app_token_by_digest(digest: str) -> AppToken:
    sql = Sql()
    rows = await sql.rows(f"SELECT {_COLUMNS} FROM app_token WHERE token_hash = {sql.p(digest)}")
    return _app_token(rows[0])
