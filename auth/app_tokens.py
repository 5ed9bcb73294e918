"""Third-party app tokens (CONTRACT rule 17): made, found, used and revoked.

A token is `lgapp_` and 43 characters of 256 random bits, visibly unlike a session token
(a JWT, `eyJ...`). Only its SHA-256 is stored. Which token is alive is remembered the
way sessions are (auth/sessions.py, same cache, epoch and board of endings): a
revocation holds from the next request in every worker of its server, and on another
server within `LIKEGRAPH_SESSION_RECHECK`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from auth.tokens import token_digest
from models.sql import Sql

PREFIX = "lgapp_"
INSIGHTS_READ = "INSIGHTS_READ"
SCOPES = (INSIGHTS_READ,)  # every scope a token can hold, in the order they are listed

# lastUsedAt is kept to the minute: writing it on every request would add a write to
# every read an app makes. Each process writes a token's at most once per this period.
LAST_USED_PERIOD = 60.0
MAX_NOTED = 50_000  # tokens whose last write this process remembers; the oldest goes first


@dataclass(frozen=True, slots=True)
class AppGrant:
    """What a live app token grants: whose it is and its scopes."""

    account_id: int
    scopes: frozenset[str]


def is_app_token(token: str) -> bool:
    return token.startswith(PREFIX)


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


async def find_grant(digest: str) -> AppGrant | None:
    """The grant of the token with this digest; None when revoked, unknown or its account
    is gone (the join: a deleted account's tokens are refused even before the cascade)."""
    sql = Sql()
    rows = await sql.rows(
        "SELECT t.account_id AS account_id, t.scopes AS scopes FROM app_token t"
        f" JOIN account a ON a.id = t.account_id WHERE t.token_hash = {sql.p(digest)}"
    )
    if not rows:
        return None
    r = rows[0]
    return AppGrant(int(r["account_id"]), frozenset(stored_scopes(str(r["scopes"]))))


async def create(account_id: int, name: str, scopes: tuple[str, ...]) -> str:
    """A new token of the account, to be shown once; only its digest is stored."""
    token = new_token()
    sql = Sql()
    await sql.execute(
        "INSERT INTO app_token (account_id, name, scopes, token_hash, created_at)"
        f" VALUES ({sql.p(account_id)}, {sql.p(name)}, {sql.p(','.join(scopes))},"
        f" {sql.p(token_digest(token))}, {sql.p(datetime.now(UTC))})"
    )
    return token


def stored_scopes(stored: str) -> tuple[str, ...]:
    """The scopes of a stored row, in the order of SCOPES."""
    names = set(stored.split(","))
    return tuple(s for s in SCOPES if s in names)


async def count_of(account_id: int) -> int:
    sql = Sql()
    rows = await sql.rows(
        f"SELECT COUNT(*) AS n FROM app_token WHERE account_id = {sql.p(account_id)}"
    )
    return int(rows[0]["n"])


async def revoke(account_id: int, token_id: int) -> str | None:
    """Deletes the account's token; its digest (for the cache to forget), or None when the
    account has no such token (another account's token is the same None)."""
    sql = Sql()
    rows = await sql.rows(
        f"SELECT token_hash FROM app_token WHERE id = {sql.p(token_id)}"
        f" AND account_id = {sql.p(account_id)}"
    )
    if not rows:
        return None
    sql = Sql()
    deleted, _ = await sql.execute(
        f"DELETE FROM app_token WHERE id = {sql.p(token_id)} AND account_id = {sql.p(account_id)}"
    )
    digest = str(rows[0]["token_hash"])
    _noted.pop(digest, None)
    return digest if deleted else None


# By digest, not row id: a revoked token's id can be given to a new token (SQLite reuses
# the highest id), whose first use must still be written.
_noted: dict[str, float] = {}  # token digest -> time.monotonic() of this process's last write


async def note_use(digest: str) -> None:
    """Keeps lastUsedAt, writing it at most once per LAST_USED_PERIOD per token."""
    now = time.monotonic()
    last = _noted.get(digest)
    if last is not None and now - last < LAST_USED_PERIOD:
        return
    _noted.pop(digest, None)  # re-inserted last: the newest
    _noted[digest] = now  # before the write: a concurrent request does not write too
    while len(_noted) > MAX_NOTED:
        del _noted[next(iter(_noted))]
    sql = Sql()
    await sql.execute(
        f"UPDATE app_token SET last_used_at = {sql.p(datetime.now(UTC))}"
        f" WHERE token_hash = {sql.p(digest)}"
    )
