"""Request-scoped DataLoaders, named after their key.

Every loader that can return something a viewer may not see applies the policy's SQL
filter inside its batch query, so a caller cannot forget it. Loaders live for one
request: a block, unfollow or privacy change shows in the very next request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
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


def _loaders(viewer: Viewer) -> dict[str, tuple[Callable[..., Awaitable[object]], int]]:
    """Each loader's batch function for this viewer, and its batch size."""

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

    by_key: list[Callable[..., Awaitable[object]]] = [
        visible_video_by_id,
        visible_account_by_id,
        visible_account_by_handle,
        relationship_by_account_id,
        follower_count_by_account_id,
        following_count_by_account_id,
        viewer_liked_by_video_id,
        follows_viewer_by_account_id,
        viewer_blocked_by_account_id,
    ]
    pages: dict[str, Callable[..., Awaitable[object]]] = {
        "likers_page": likers_page,
        "likes_page": likes_page,
        "videos_page": videos_page,
        "followers_page": graph_page(lists.FOLLOWERS),
        "following_page": graph_page(lists.FOLLOWING),
        "follow_requests_page": graph_page(lists.FOLLOW_REQUESTS),
        "sent_follow_requests_page": graph_page(lists.SENT_FOLLOW_REQUESTS),
        "blocked_accounts_page": graph_page(lists.BLOCKED_ACCOUNTS),
    }
    return {fn.__name__: (fn, 500) for fn in by_key} | {
        name: (fn, MAX_PAGES_PER_STATEMENT) for name, fn in pages.items()
    }


class Loaders:
    """The request's loaders, each built the first time it is used.

    A request uses two or three of the seventeen (a `{ __typename }` or a like none of
    the page loaders), and building them all cost a mutation ~10% of its CPU: every
    mutation field gets a fresh set (api/fresh_loaders.py).
    """

    visible_video_by_id: DataLoader[int, VideoRow | None]
    visible_account_by_id: DataLoader[int, AccountRow | None]
    visible_account_by_handle: DataLoader[str, AccountRow | None]
    relationship_by_account_id: DataLoader[int, Relationship | None]
    follower_count_by_account_id: DataLoader[int, int]
    following_count_by_account_id: DataLoader[int, int]
    viewer_liked_by_video_id: DataLoader[int, bool]
    likers_page: DataLoader[lists.PageRequest, lists.Page[LikerRow]]
    likes_page: DataLoader[lists.PageRequest, lists.Page[LikeRow]]
    videos_page: DataLoader[lists.PageRequest, lists.Page[VideoRow]]
    follows_viewer_by_account_id: DataLoader[int, bool]
    viewer_blocked_by_account_id: DataLoader[int, bool]
    followers_page: GraphPageLoader
    following_page: GraphPageLoader
    follow_requests_page: GraphPageLoader
    sent_follow_requests_page: GraphPageLoader
    blocked_accounts_page: GraphPageLoader

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self._functions: dict[str, tuple[Callable[..., Awaitable[object]], int]] | None = None

    def __getattr__(self, name: str) -> DataLoader[object, object]:
        # Only called for an attribute not yet set: a loader on its first use.
        if name.startswith("_") or name not in Loaders.__annotations__:
            raise AttributeError(name)
        if self._functions is None:
            self._functions = _loaders(self.viewer)
        load_fn, batch = self._functions[name]
        # Each loader is typed where the class declares it; the table only builds them.
        loader: DataLoader[object, object] = DataLoader(
            load_fn=load_fn,  # type: ignore[arg-type]
            max_batch_size=batch,
        )
        setattr(self, name, loader)
        return loader

    def forget_video(self, video_id: int) -> None:
        """After a write within this request, read the video and the viewer's like afresh."""
        self._forget("visible_video_by_id", video_id)
        self._forget("viewer_liked_by_video_id", video_id)

    def forget_account(self, handle: str) -> None:
        """After a write within this request (a block, say), judge the profile afresh."""
        self._forget("visible_account_by_handle", handle)

    def _forget(self, name: str, key: object) -> None:
        loader = self.__dict__.get(name)  # a loader never built has nothing to forget
        if loader is not None:
            _forget(loader, key)


def _forget(loader: DataLoader[K, V], key: K) -> None:
    with suppress(KeyError):  # strawberry's clear() raises for a key never loaded
        loader.clear(key)
