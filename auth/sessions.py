"""Server-side sessions: every access token names a row of `account_session`.

The row holds the token's SHA-256, never the token. A token is accepted when it is
genuine (auth/tokens.py) and its session row still exists; the row goes with logOut,
logOutEverywhere, changePassword and (by its foreign key) with the account.

Asking the database on every request would add a statement to every request. Instead
this process remembers, for a few seconds (`LIKEGRAPH_SESSION_RECHECK`), which sessions
it found alive, and forgets them the moment it ends them itself. So:

- in this process, an ended session is refused on the very next request, exactly;
- so it is in the other workers of the same `likegraph serve`: every ending is posted on
  a board they share (auth/endings.py), and a remembered session named there since is
  asked about again;
- another server (a second machine) may still accept it for at most the recheck period,
  after which it asks the database again (README.md, "Sessions").

A check that was under way while a session ended must not put its stale verdict back:
every ending moves `epoch` on and is posted on the board, and a verdict is kept with the
mark (epoch and board counts) taken before its database read: under an older epoch it is
not kept, and one posted after its board counts is found by the next request.

App tokens (auth/app_tokens.py, `lgapp_...`) are remembered in the same cache, with the
same rules: `revokeAppToken` is to an app token what logOut is to a session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from auth import app_tokens
from auth.app_tokens import AppGrant
from auth.endings import Board, Seen, account_key, session_key
from auth.tokens import (
    INVALID_TOKEN,
    InvalidToken,
    bearer_token,
    credential_from_token,
    issue_token,
    token_digest,
)
from auth.viewer import Viewer
from models.routing import narrowed
from models.sql import Sql

# Enough for every session active in a few seconds on one process; the oldest goes first.
MAX_REMEMBERED = 50_000
# Not INVALID_TOKEN's "log in again": an app holds no password, its owner makes a new token.
INVALID_APP_TOKEN = "The app token is invalid or was revoked. Create a new one."


@dataclass(slots=True)
class _Alive:
    account_id: int
    checked_at: float  # time.monotonic() when the database last said it existed
    seen: Seen  # the board's counts before that check, or since found unnamed there
    app: AppGrant | None = None  # what an app token grants; None for a session


Mark = tuple[int, Seen]  # (epoch, board counts), taken before a check reads the database


class _Verdicts:
    """Sessions this process found alive recently, by token digest."""

    def __init__(self) -> None:
        self.by_digest: dict[str, _Alive] = {}
        self.by_account: dict[int, set[str]] = {}
        self.epoch = 0
        self.board: Board | None = None  # shared with sibling workers, under `serve`

    def mark(self) -> Mark:
        return self.epoch, b"" if self.board is None else self.board.seen()

    def found(self, digest: str, max_age: float) -> _Alive | None:
        """What was found alive under this digest, if it was checked recently enough."""
        found = self.by_digest.get(digest)
        if found is None or time.monotonic() - found.checked_at >= max_age:
            return None
        if self.board is not None:
            seen = self.board.seen()
            if seen != found.seen:
                keys = (session_key(digest), account_key(found.account_id))
                if self.board.names_any(found.seen, keys):
                    self._drop(digest)  # ended by a sibling worker, or perhaps: ask
                    return None
                found.seen = seen
        return found

    def keep(self, digest: str, account_id: int, mark: Mark, app: AppGrant | None = None) -> None:
        epoch, seen = mark
        if epoch != self.epoch:
            return  # a session ended while this one was being checked: ask again next time
        self.by_digest.pop(digest, None)  # re-inserted last: the newest
        self.by_digest[digest] = _Alive(account_id, time.monotonic(), seen, app)
        self.by_account.setdefault(account_id, set()).add(digest)
        while len(self.by_digest) > MAX_REMEMBERED:
            oldest = next(iter(self.by_digest))
            self._drop(oldest)

    def forget(self, digest: str) -> None:
        self.epoch += 1
        self._drop(digest)
        if self.board is not None:
            self.board.post(session_key(digest))

    def forget_account(self, account_id: int) -> None:
        self.epoch += 1
        for digest in self.by_account.pop(account_id, set()):
            self.by_digest.pop(digest, None)
        if self.board is not None:
            self.board.post(account_key(account_id))

    def _drop(self, digest: str) -> None:
        found = self.by_digest.pop(digest, None)
        if found is not None:
            digests = self.by_account.get(found.account_id)
            if digests is not None:
                digests.discard(digest)
                if not digests:
                    del self.by_account[found.account_id]


_verdicts = _Verdicts()


def share_endings(board: Board) -> None:
    """Posts this process's endings on `board` and heeds its siblings' (api/serve.py)."""
    _verdicts.board = board


async def authenticate(header: str | None, secret: str, *, recheck_seconds: float) -> Viewer:
    """The viewer an `Authorization` header names: anonymous without one; InvalidToken
    for a wrong token, an ended session, a revoked app token or a deleted account (all a
    401)."""
    token = bearer_token(header)
    if token is None:
        return Viewer.anonymous()
    if app_tokens.is_app_token(token):
        return await _app_viewer(token_digest(token), recheck_seconds)
    digest = credential_from_token(token, secret).digest
    found = _verdicts.found(digest, recheck_seconds)
    if found is not None and found.app is None:
        return Viewer.of(found.account_id, session=digest)
    mark = _verdicts.mark()
    sql = Sql()
    rows = await sql.rows(
        f"SELECT account_id FROM account_session WHERE token_hash = {sql.p(digest)}"
    )
    if not rows:
        raise InvalidToken(INVALID_TOKEN)
    account_id = int(rows[0]["account_id"])
    _verdicts.keep(digest, account_id, mark)
    return Viewer.of(account_id, session=digest)


async def _app_viewer(digest: str, recheck_seconds: float) -> Viewer:
    """The viewer of an app token: rule 17's viewer, acting for its owner with its scopes."""
    found = _verdicts.found(digest, recheck_seconds)
    grant = None if found is None else found.app
    if grant is None:
        mark = _verdicts.mark()
        grant = await app_tokens.find_grant(digest)
        if grant is None:
            raise InvalidToken(INVALID_APP_TOKEN)
        _verdicts.keep(digest, grant.account_id, mark, grant)
    await app_tokens.note_use(digest)
    return Viewer.app(grant.account_id, grant.scopes)


def forget_app_token(digest: str) -> None:
    """Drops what this process remembers of a revoked app token: refused from now on."""
    _verdicts.forget(digest)


async def start_session(
    account_id: int,
    secret: str,
    ttl_seconds: int,
    *,
    now: float | None = None,
) -> str:
    """A new session of the account, and the token that names it (logIn, signUp)."""
    issued = time.time() if now is None else now
    token = issue_token(secret, ttl_seconds, now=issued)
    digest = token_digest(token)
    expires = datetime.fromtimestamp(int(issued) + ttl_seconds, UTC)
    sql = Sql()
    # The account's expired sessions go as it makes a new one: the table stays as small
    # as the sessions that can still be used.
    await sql.execute(
        f"DELETE FROM account_session WHERE account_id = {sql.p(account_id)}"
        f" AND expires_at <= {sql.p(datetime.fromtimestamp(issued, UTC))}"
    )
    mark = _verdicts.mark()
    sql = Sql()
    await sql.execute(
        "INSERT INTO account_session (account_id, token_hash, created_at, expires_at)"
        f" VALUES ({sql.p(account_id)}, {sql.p(digest)},"
        f" {sql.p(datetime.fromtimestamp(issued, UTC))}, {sql.p(expires)})"
    )
    # Its first request then needs no statement to find it.
    _verdicts.keep(digest, account_id, mark)
    return token


async def end_session(digest: str) -> bool:
    """Ends one session (logOut); True when it was still alive."""
    sql = Sql()
    ended, _ = await sql.execute(f"DELETE FROM account_session WHERE token_hash = {sql.p(digest)}")
    _verdicts.forget(digest)
    await narrowed()  # a read replica must refuse the token too
    return ended > 0


async def end_all_sessions(account_id: int) -> int:
    """Ends every session of the account (logOutEverywhere, deleteAccount): how many.

    Call it after any transaction that changes the account has committed (deleting the
    account already deletes its rows): this process then refuses its tokens at once.
    """
    sql = Sql()
    ended, _ = await sql.execute(
        f"DELETE FROM account_session WHERE account_id = {sql.p(account_id)}"
    )
    forget_account(account_id)
    await narrowed()
    return ended


def forget_account(account_id: int) -> None:
    """Drops what this process remembers of the account's sessions, for code that has
    deleted their rows in a transaction of its own (after it commits)."""
    _verdicts.forget_account(account_id)
