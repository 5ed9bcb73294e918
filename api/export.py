"""`GET /export` (rule 13): a copy of what the viewer owns, as a streamed JSON attachment.

Every section is read in keyset batches of EXPORT_BATCH rows and written out as it is
read, so an account with 100,000 likes exports in the memory of one batch. Each query
takes its filter from `auth/policy.py`, as the API's own lists do: the export holds
nothing the viewer could not read through the API now (a like of a video the viewer can
no longer see is left out, as in `Account.likes`; a blocked pair's edges are gone).
The sections are read one after another, not in one snapshot: a write that lands during
an export shows in the sections read after it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.errors import Unauthenticated
from api.ids import Kind, encode_id
from api.rows import to_datetime
from api.settings import Settings
from auth.policy import Owner, profile_visible_sql, video_visible_sql
from auth.sessions import authenticate
from auth.tokens import InvalidToken
from auth.viewer import Viewer
from models import FollowState
from models.sql import Sql

EXPORT_BATCH = 500
NO_TOKEN = (
    "Log in to export your data: send `Authorization: Bearer <token>` with a token from"
    " logIn or signUp."
)
ACCOUNT_GONE = "Your account no longer exists: there is nothing to export."

# A section's query: (statement's Sql, the key the batch starts after) -> SELECT text,
# whose rows carry the keyset key as `k`, in descending order of it.
Query = Callable[[Sql, int | None], str]
Shape = Callable[[dict[str, Any]], dict[str, Any]]


def _after(sql: Sql, column: str, after: int | None) -> str:
    return "" if after is None else f" AND {column} < {sql.p(after)}"


def _time(value: Any) -> str:
    return to_datetime(value).isoformat()


@dataclass(frozen=True)
class Section:
    name: str
    query: Query
    shape: Shape


def _account_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": encode_id(Kind.ACCOUNT, row["account_id"]),
        "handle": row["handle"],
        "displayName": row["display_name"],
    }


def _edges(viewer: Viewer, mine: str, theirs: str, state: FollowState) -> Query:
    """Follow edges with the viewer on the `mine` side, as profiles of the other side.

    Keyed by the other account's id, the last column of the follow indexes, so each batch
    is an index walk. Rule 10: APPROVED or PENDING as asked, blocked pairs left out.
    """

    def query(sql: Sql, after: int | None) -> str:
        return (
            f"SELECT f.{theirs} AS k, a.id AS account_id, a.handle, a.display_name"
            f" FROM follow f JOIN account a ON a.id = f.{theirs}"
            f" WHERE f.{mine} = {sql.p(viewer.account_id)} AND f.status = {sql.p(state.value)}"
            f"{_after(sql, f'f.{theirs}', after)}"
            f" AND {profile_visible_sql(viewer, sql, Owner.account('a'))}"
            f" ORDER BY f.{theirs} DESC LIMIT {sql.p(EXPORT_BATCH)}"
        )

    return query


def _videos(viewer: Viewer) -> Query:
    def query(sql: Sql, after: int | None) -> str:
        return (
            "SELECT v.id AS k, v.caption, v.created_at, v.like_count"
            " FROM video v JOIN account au ON au.id = v.author_id"
            f" WHERE v.author_id = {sql.p(viewer.account_id)}{_after(sql, 'v.id', after)}"
            f" AND {video_visible_sql(viewer, sql, Owner.account('au'))}"
            f" ORDER BY v.id DESC LIMIT {sql.p(EXPORT_BATCH)}"
        )

    return query


def _likes(viewer: Viewer) -> Query:
    """Rules 5 and 8: the viewer's likes of the videos the viewer may still see."""

    def query(sql: Sql, after: int | None) -> str:
        return (
            "SELECT l.id AS k, l.liked_at, v.id AS video_id, v.caption, au.handle AS author"
            " FROM video_like l JOIN video v ON v.id = l.video_id"
            " JOIN account au ON au.id = v.author_id"
            f" WHERE l.account_id = {sql.p(viewer.account_id)}{_after(sql, 'l.id', after)}"
            f" AND {video_visible_sql(viewer, sql, Owner.account('au'))}"
            f" ORDER BY l.id DESC LIMIT {sql.p(EXPORT_BATCH)}"
        )

    return query


def _blocks(viewer: Viewer) -> Query:
    """Rule 10: the accounts the viewer blocked (never the ones that blocked the viewer)."""

    def query(sql: Sql, after: int | None) -> str:
        return (
            "SELECT b.blocked_id AS k, a.id AS account_id, a.handle, a.display_name"
            " FROM block b JOIN account a ON a.id = b.blocked_id"
            f" WHERE b.blocker_id = {sql.p(viewer.account_id)}"
            f"{_after(sql, 'b.blocked_id', after)}"
            f" ORDER BY b.blocked_id DESC LIMIT {sql.p(EXPORT_BATCH)}"
        )

    return query


def _sections(viewer: Viewer) -> list[Section]:
    approved, pending = FollowState.APPROVED, FollowState.PENDING
    return [
        Section(
            "videos",
            _videos(viewer),
            lambda r: {
                "id": encode_id(Kind.VIDEO, r["k"]),
                "caption": r["caption"],
                "createdAt": _time(r["created_at"]),
                "likeCount": r["like_count"],
            },
        ),
        Section(
            "likes",
            _likes(viewer),
            lambda r: {
                "video": {
                    "id": encode_id(Kind.VIDEO, r["video_id"]),
                    "caption": r["caption"],
                    "author": r["author"],
                },
                "likedAt": _time(r["liked_at"]),
            },
        ),
        Section(
            "followers", _edges(viewer, "followee_id", "follower_id", approved), _account_entry
        ),
        Section(
            "following", _edges(viewer, "follower_id", "followee_id", approved), _account_entry
        ),
        Section(
            "followRequestsReceived",
            _edges(viewer, "followee_id", "follower_id", pending),
            _account_entry,
        ),
        Section(
            "followRequestsSent",
            _edges(viewer, "follower_id", "followee_id", pending),
            _account_entry,
        ),
        Section("blockedAccounts", _blocks(viewer), _account_entry),
    ]


async def _rows(section: Section) -> AsyncIterator[dict[str, Any]]:
    after: int | None = None
    while True:
        sql = Sql()
        rows = await sql.rows(section.query(sql, after))
        for row in rows:
            yield section.shape(row)
        if len(rows) < EXPORT_BATCH:
            return
        after = rows[-1]["k"]


async def _document(profile: dict[str, Any], viewer: Viewer) -> AsyncIterator[bytes]:
    head = {"exportedAt": datetime.now(UTC).isoformat(), "account": profile}
    yield orjson.dumps(head)[:-1]  # the object stays open for the sections
    for section in _sections(viewer):
        yield b',"' + section.name.encode() + b'":['
        separator = b""
        async for item in _rows(section):
            yield separator + orjson.dumps(item)
            separator = b","
        yield b"]"
    yield b"}\n"


async def _profile(viewer: Viewer) -> dict[str, Any] | None:
    sql = Sql()
    me = sql.p(viewer.account_id)
    approved = sql.p(FollowState.APPROVED.value)
    rows = await sql.rows(
        "SELECT a.id, a.handle, a.display_name, a.is_private,"
        f" (SELECT COUNT(*) FROM follow WHERE followee_id = a.id AND status = {approved})"
        " AS followers,"
        f" (SELECT COUNT(*) FROM follow WHERE follower_id = a.id AND status = {approved})"
        f" AS following FROM account a WHERE a.id = {me}"
    )
    if not rows:
        return None
    row = rows[0]
    return {
        "id": encode_id(Kind.ACCOUNT, row["id"]),
        "handle": row["handle"],
        "displayName": row["display_name"],
        "isPrivate": bool(row["is_private"]),
        "followerCount": row["followers"],
        "followingCount": row["following"],
    }


def _unauthenticated(message: str, *, challenge: str = 'Bearer error="invalid_token"') -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": Unauthenticated.code}}]}
    return Response(
        orjson.dumps(body),
        status_code=401,
        headers={"Content-Type": "application/json; charset=utf-8", "WWW-Authenticate": challenge},
    )


class ExportEndpoint:
    """The viewer is named as for /graphql; without one there is nothing to export (401)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def handle(self, request: Request) -> Response:
        headers = request.headers.getlist("authorization")
        if len(headers) > 1:  # which one would name the viewer? Neither (CONTRACT section 5)
            return _unauthenticated("Send one Authorization header, not several.")
        try:
            viewer = await authenticate(
                headers[0] if headers else None,
                self.settings.secret,
                recheck_seconds=self.settings.session_recheck,
            )
        except InvalidToken as exc:
            return _unauthenticated(str(exc))
        if viewer.is_anonymous:
            return _unauthenticated(NO_TOKEN, challenge="Bearer")
        profile = await _profile(viewer)
        if profile is None:
            return _unauthenticated(ACCOUNT_GONE)
        filename = f"likegraph-export-{profile['handle']}.json"
        return StreamingResponse(
            _document(profile, viewer),
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )
