"""Request-scoped DataLoaders, named after their key.

Every loader that can return something a viewer may not see applies the policy's SQL
filter inside its batch query, so a caller cannot forget it. Loaders live for one
request: a block, unfollow or privacy change shows in the very next request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TypeVar

from strawberry.dataloader import DataLoader

from api import lists
from api.rows import AccountRow, EdgeRow, LikeRow, LikerRow, VideoRow
from auth.policy import (
    FOLLOWER_STATE,
    Owner,
    Relationship,
    profile_visible_sql,
    state_sql,
    video_visible_sql,
)
from auth.relationships import load_relationships
from auth.viewer import Viewer
from models.sql import Sql

K = TypeVar("K")
V = TypeVar("V")

GraphPageLoad = Callable[[Sequence[lists.PageRequest]], Awaitable[list[lists.Page[EdgeRow]]]]
GraphPageLoader = DataLoader[lists.PageRequest, lists.Page[EdgeRow]]

# Keeps a batched UNION ALL below SQLite's limit of 500 compound terms (2 per likers page).
MAX_PAGES_PER_STATEMENT = 200


async def _visible_videos(viewer: Viewer, ids: Sequence[int]) -> list[VideoRow | None]:
    """Rule 2 in one query shape for hidden and missing videos alike."""
    sql = Sql()
    rows = await sql.rows(
        f"SELECT {VideoRow.columns('v', 'au')} FROM video v JOIN account au ON au.id = v.author_id"
        f" WHERE v.id IN ({sql.ps(ids)}) AND {video_visible_sql(viewer, sql, Owner.account('au'))}"
    )
    found = {r.id: r for r in map(VideoRow.of, rows)}
    return [found.get(i) for i in ids]


async def _visible_accounts(
    viewer: Viewer, column: str, keys: Sequence[object]
) -> list[AccountRow]:
    sql = Sql()
    rows = await sql.rows(
        f"SELECT {AccountRow.columns('a')} FROM account a WHERE a.{column} IN ({sql.ps(keys)})"
        f" AND {profile_visible_sql(viewer, sql, Owner.account('a'))}"
    )
    return [AccountRow.of(r) for r in rows]


async def _approved_follow_counts(group: str, ids: Sequence[int]) -> list[int]:
    """Approved edges per account, grouped by `group` (followee_id or follower_id)."""
    sql = Sql()
    rows = await sql.rows(
        f"SELECT {group} AS k, COUNT(*) AS n FROM follow WHERE {group} IN ({sql.ps(ids)})"
        f" AND status = {state_sql(FOLLOWER_STATE)} GROUP BY {group}"
    )
    found = {r["k"]: r["n"] for r in rows}
    return [found.get(i, 0) for i in ids]


async def _viewer_rows_name(
    viewer: Viewer,
    table: str,
    viewer_column: str,
    other_column: str,
    ids: Sequence[int],
    condition: str = "",
) -> list[bool]:
    """For each id, whether a row of `table` links the viewer (`viewer_column`) to it
    (`other_column`), in one statement; never for the anonymous viewer."""
    if viewer.is_anonymous:
        return [False] * len(ids)
    sql = Sql()
    rows = await sql.rows(
        f"SELECT {other_column} AS k FROM {table}"
        f" WHERE {viewer_column} = {sql.p(viewer.account_id)}{condition}"
        f" AND {other_column} IN ({sql.ps(ids)})"
    )
    found = {r["k"] for r in rows}
    return [i in found for i in ids]


def _loaders(viewer: Viewer) -> dict[str, DataLoader[object, object]]:
    async def visible_video_by_id(ids: Sequence[int]) -> list[VideoRow | None]:
        return await _visible_videos(viewer, ids)

    async def visible_account_by_id(ids: Sequence[int]) -> list[AccountRow | None]:
        found = {a.id: a for a in await _visible_accounts(viewer, "id", ids)}
        return [found.get(i) for i in ids]

    async def visible_account_by_handle(handles: Sequence[str]) -> list[AccountRow | None]:
        found = {a.handle: a for a in await _visible_accounts(viewer, "handle", handles)}
        return [found.get(h) for h in handles]

    async def relationship_by_account_id(ids: Sequence[int]) -> list[Relationship | None]:
        found = await load_relationships(viewer, ids)
        return [found.get(i) for i in ids]

    async def follower_count_by_account_id(ids: Sequence[int]) -> list[int]:
        return await _approved_follow_counts("followee_id", ids)

    async def following_count_by_account_id(ids: Sequence[int]) -> list[int]:
        return await _approved_follow_counts("follower_id", ids)

    async def viewer_liked_by_video_id(ids: Sequence[int]) -> list[bool]:
        return await _viewer_rows_name(viewer, "video_like", "account_id", "video_id", ids)

    async def follows_viewer_by_account_id(ids: Sequence[int]) -> list[bool]:
        """Each account follows the viewer (the policy's follower state); never anonymous,
        never the viewer itself (no account follows itself)."""
        return await _viewer_rows_name(
            viewer,
            "follow",
            "followee_id",
            "follower_id",
            ids,
            f" AND status = {state_sql(FOLLOWER_STATE)}",
        )

    async def viewer_blocked_by_account_id(ids: Sequence[int]) -> list[bool]:
        return await _viewer_rows_name(viewer, "block", "blocker_id", "blocked_id", ids)

    def graph_page(graph: lists.GraphList) -> GraphPageLoad:
        async def load(reqs: Sequence[lists.PageRequest]) -> list[lists.Page[EdgeRow]]:
            return await lists.graph_pages(viewer, graph, reqs)

        return load

    async def likers_page(reqs: Sequence[lists.PageRequest]) -> list[lists.Page[LikerRow]]:
        return await lists.likers_pages(viewer, reqs)

    async def likes_page(reqs: Sequence[lists.PageRequest]) -> list[lists.Page[LikeRow]]:
        return await lists.likes_pages(viewer, reqs)

    async def videos_page(reqs: Sequence[lists.PageRequest]) -> list[lists.Page[VideoRow]]:
        return await lists.videos_pages(viewer, reqs)

    graph_pages = {
        "followers_page": graph_page(lists.FOLLOWERS),
        "following_page": graph_page(lists.FOLLOWING),
        "follow_requests_page": graph_page(lists.FOLLOW_REQUESTS),
        "sent_follow_requests_page": graph_page(lists.SENT_FOLLOW_REQUESTS),
        "blocked_accounts_page": graph_page(lists.BLOCKED_ACCOUNTS),
    }
    pages = {likers_page, likes_page, videos_page, *graph_pages.values()}
    functions: dict[str, Callable[..., Awaitable[object]]] = {
        fn.__name__: fn
        for fn in (
            visible_video_by_id,
            visible_account_by_id,
            visible_account_by_handle,
            relationship_by_account_id,
            follower_count_by_account_id,
            following_count_by_account_id,
            viewer_liked_by_video_id,
            follows_viewer_by_account_id,
            viewer_blocked_by_account_id,
            likers_page,
            likes_page,
            videos_page,
        )
    }
    functions.update(graph_pages)
    return {
        name: DataLoader(
            # Each loader is typed where Loaders declares it; this table only builds them.
            load_fn=fn,  # type: ignore[arg-type]
            max_batch_size=MAX_PAGES_PER_STATEMENT if fn in pages else 500,
        )
        for name, fn in functions.items()
    }


@dataclass
class Loaders:
    viewer: Viewer
    visible_video_by_id: DataLoader[int, VideoRow | None] = field(init=False)
    visible_account_by_id: DataLoader[int, AccountRow | None] = field(init=False)
    visible_account_by_handle: DataLoader[str, AccountRow | None] = field(init=False)
    relationship_by_account_id: DataLoader[int, Relationship | None] = field(init=False)
    follower_count_by_account_id: DataLoader[int, int] = field(init=False)
    following_count_by_account_id: DataLoader[int, int] = field(init=False)
    viewer_liked_by_video_id: DataLoader[int, bool] = field(init=False)
    likers_page: DataLoader[lists.PageRequest, lists.Page[LikerRow]] = field(init=False)
    likes_page: DataLoader[lists.PageRequest, lists.Page[LikeRow]] = field(init=False)
    videos_page: DataLoader[lists.PageRequest, lists.Page[VideoRow]] = field(init=False)
    follows_viewer_by_account_id: DataLoader[int, bool] = field(init=False)
    viewer_blocked_by_account_id: DataLoader[int, bool] = field(init=False)
    followers_page: GraphPageLoader = field(init=False)
    following_page: GraphPageLoader = field(init=False)
    follow_requests_page: GraphPageLoader = field(init=False)
    sent_follow_requests_page: GraphPageLoader = field(init=False)
    blocked_accounts_page: GraphPageLoader = field(init=False)

    def __post_init__(self) -> None:
        for name, loader in _loaders(self.viewer).items():
            setattr(self, name, loader)

    def forget_video(self, video_id: int) -> None:
        """After a write within this request, read the video and the viewer's like afresh."""
        _forget(self.visible_video_by_id, video_id)
        _forget(self.viewer_liked_by_video_id, video_id)

    def forget_account(self, handle: str) -> None:
        """After a write within this request (a block, say), judge the profile afresh."""
        _forget(self.visible_account_by_handle, handle)


def _forget(loader: DataLoader[K, V], key: K) -> None:
    with suppress(KeyError):  # strawberry's clear() raises for a key never loaded
        loader.clear(key)
