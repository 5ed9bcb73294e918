"""Keyset-paginated list queries, filtered in SQL by the policy and batched per request.

Each function takes many page requests and answers them in one statement: a UNION ALL
of one index-driven subquery per request (per stream, for likers), each cut at
`first + 1` rows so `hasNextPage` counts only rows the viewer may see (with `first: 0`
too: the one row fetched says whether anything follows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Generic, TypeVar

from api.rows import AccountRow, EdgeRow, LikeRow, LikerRow, VideoRow, to_datetime
from auth.policy import (
    FOLLOWER_STATE,
    Owner,
    blocked_entry_visible_sql,
    content_visible_sql,
    graph_entry_visible_sql,
    graph_lists_visible_sql,
    liker_streams_sql,
    self_only_sql,
    state_sql,
    video_visible_sql,
)
from auth.viewer import Viewer
from models.entities import FollowState
from models.sql import Sql

T = TypeVar("T")
OwnerRule = Callable[[Viewer, Sql, Owner], str]


@dataclass(frozen=True)
class PageRequest:
    owner_id: int  # the video whose likers, or the account whose likes or videos
    first: int
    after: int | None  # the row id the page starts after, decoded from a cursor


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_next: bool


def _cut(items: list[T], first: int) -> Page[T]:
    return Page(items=items[:first], has_next=len(items) > first)


def _after(sql: Sql, column: str, after: int | None) -> str:
    """The keyset condition: rows strictly after the cursor's row, in descending id order."""
    return "" if after is None else f" AND {column} < {sql.p(after)}"


def _owner_gate(viewer: Viewer, sql: Sql, owner_id: int, rule: OwnerRule) -> str:
    """A policy rule about the list's owner account, tested once for the whole page.

    An uncorrelated EXISTS is a one-time filter on both engines: a hidden owner's list
    costs one lookup, not a walk over every row of it.
    """
    visible = rule(viewer, sql, Owner.account("o"))
    return f"EXISTS (SELECT 1 FROM account o WHERE o.id = {sql.p(owner_id)} AND {visible})"


def _union(parts: list[str]) -> str:
    return " UNION ALL ".join(f"SELECT * FROM ({p}) AS s{i}" for i, p in enumerate(parts))


async def likers_pages(viewer: Viewer, requests: Sequence[PageRequest]) -> list[Page[LikerRow]]:
    """Rule 4: the likers of visible videos, newest like first."""
    sql = Sql()
    parts: list[str] = []
    for n, req in enumerate(requests):
        for stream in liker_streams_sql(viewer, sql, "l", req.owner_id):
            parts.append(
                f"SELECT {n} AS req, l.id AS like_id, l.liked_at, {AccountRow.columns('a')}"
                " FROM video_like l JOIN account a ON a.id = l.account_id"
                f" WHERE {stream}{_after(sql, 'l.id', req.after)}"
                f" ORDER BY l.id DESC LIMIT {sql.p(req.first + 1)}"
            )
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if parts:
        for row in await sql.rows(_union(parts)):
            found[row["req"]].append(row)
    pages = []
    for n, req in enumerate(requests):
        # The streams are each in order; merging them by like id keeps newest first. The
        # merge is cut before rows become objects: the streams read up to 2 x (first + 1).
        rows = sorted(found[n], key=itemgetter("like_id"), reverse=True)[: req.first + 1]
        items = [
            LikerRow(row["like_id"], to_datetime(row["liked_at"]), AccountRow.of(row))
            for row in rows
        ]
        pages.append(_cut(items, req.first))
    return pages


async def videos_pages(viewer: Viewer, requests: Sequence[PageRequest]) -> list[Page[VideoRow]]:
    """Rules 1 and 2: an account's videos, newest first, when its content is visible."""
    sql = Sql()
    parts = [
        f"SELECT {n} AS req, {VideoRow.columns('v', 'au')}"
        " FROM video v JOIN account au ON au.id = v.author_id"
        f" WHERE v.author_id = {sql.p(req.owner_id)}{_after(sql, 'v.id', req.after)}"
        f" AND {_owner_gate(viewer, sql, req.owner_id, video_visible_sql)}"
        f" ORDER BY v.id DESC LIMIT {sql.p(req.first + 1)}"
        for n, req in enumerate(requests)
    ]
    found: dict[int, list[VideoRow]] = defaultdict(list)
    if parts:
        for row in await sql.rows(_union(parts)):
            found[row["req"]].append(VideoRow.of(row))
    return [_cut(found[n], req.first) for n, req in enumerate(requests)]


async def likes_pages(viewer: Viewer, requests: Sequence[PageRequest]) -> list[Page[LikeRow]]:
    """Rule 5: an account's likes when its content is visible, of visible videos only."""
    sql = Sql()
    parts = [
        f"SELECT {n} AS req, l.id AS like_id, l.liked_at, l.account_id,"
        f" {VideoRow.columns('v', 'au')}"
        " FROM video_like l"
        " JOIN video v ON v.id = l.video_id JOIN account au ON au.id = v.author_id"
        f" WHERE l.account_id = {sql.p(req.owner_id)}{_after(sql, 'l.id', req.after)}"
        f" AND {_owner_gate(viewer, sql, req.owner_id, content_visible_sql)}"
        f" AND {video_visible_sql(viewer, sql, Owner.account('au'))}"
        f" ORDER BY l.id DESC LIMIT {sql.p(req.first + 1)}"
        for n, req in enumerate(requests)
    ]
    found: dict[int, list[LikeRow]] = defaultdict(list)
    if parts:
        for row in await sql.rows(_union(parts)):
            found[row["req"]].append(
                LikeRow(
                    like_id=row["like_id"],
                    liked_at=to_datetime(row["liked_at"]),
                    account_id=row["account_id"],
                    video=VideoRow.of(row),
                )
            )
    return [_cut(found[n], req.first) for n, req in enumerate(requests)]


@dataclass(frozen=True)
class GraphList:
    """One of rule 10's lists: the edges of one table that hang off the owner, each the
    account at the other end, behind the policy's owner gate and entry filter."""

    kind: str  # the cursor's list kind, and the field's name
    table: str  # follow or block
    owner_column: str
    entry_column: str
    condition: str  # which edges count, over the alias `e`
    owner_rule: OwnerRule
    entry_rule: OwnerRule


_FOLLOWS = f"e.status = {state_sql(FOLLOWER_STATE)}"
_REQUESTS = f"e.status = {state_sql(FollowState.PENDING)}"

FOLLOWERS = GraphList(
    "followers",
    "follow",
    "followee_id",
    "follower_id",
    _FOLLOWS,
    graph_lists_visible_sql,
    graph_entry_visible_sql,
)
FOLLOWING = GraphList(
    "following",
    "follow",
    "follower_id",
    "followee_id",
    _FOLLOWS,
    graph_lists_visible_sql,
    graph_entry_visible_sql,
)
FOLLOW_REQUESTS = GraphList(
    "followRequests",
    "follow",
    "followee_id",
    "follower_id",
    _REQUESTS,
    self_only_sql,
    graph_entry_visible_sql,
)
SENT_FOLLOW_REQUESTS = GraphList(
    "sentFollowRequests",
    "follow",
    "follower_id",
    "followee_id",
    _REQUESTS,
    self_only_sql,
    graph_entry_visible_sql,
)
BLOCKED_ACCOUNTS = GraphList(
    "blockedAccounts",
    "block",
    "blocker_id",
    "blocked_id",
    "TRUE",
    self_only_sql,
    blocked_entry_visible_sql,
)


async def graph_pages(
    viewer: Viewer, graph: GraphList, requests: Sequence[PageRequest]
) -> list[Page[EdgeRow]]:
    """Rule 10: pages of one graph list, newest edge first, one statement for all of them.

    Each page walks the owner's edges in id order over an index (follow_followee_page_idx,
    follow_follower_page_idx, block_blocker_page_idx) from the cursor, and the entry filter
    steps over at most the viewer's blocked pairs.
    """
    sql = Sql()
    parts = [
        f"SELECT {n} AS req, e.id AS edge_id, {AccountRow.columns('a')}"
        f" FROM {graph.table} e JOIN account a ON a.id = e.{graph.entry_column}"
        f" WHERE e.{graph.owner_column} = {sql.p(req.owner_id)} AND {graph.condition}"
        f"{_after(sql, 'e.id', req.after)}"
        f" AND {_owner_gate(viewer, sql, req.owner_id, graph.owner_rule)}"
        f" AND {graph.entry_rule(viewer, sql, Owner.account('a'))}"
        f" ORDER BY e.id DESC LIMIT {sql.p(req.first + 1)}"
        for n, req in enumerate(requests)
    ]
    found: dict[int, list[EdgeRow]] = defaultdict(list)
    if parts:
        for row in await sql.rows(_union(parts)):
            found[row["req"]].append(EdgeRow(row["edge_id"], AccountRow.of(row)))
    return [_cut(found[n], req.first) for n, req in enumerate(requests)]
