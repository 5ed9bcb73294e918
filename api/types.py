"""The GraphQL object types of contract section 3."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import TypeVar

import strawberry

from api.app_token_types import AppToken, app_tokens_of
from api.context import Info
from api.cursors import ListKey
from api.errors import BadUserInput
from api.execution import reads_value_only
from api.ids import Kind, encode_id
from api.insights import VideoDays, posted_day
from api.insights_types import (
    AccountInsights,
    AudienceProfile,
    CanReadAccountInsights,
    CanReadVideoInsights,
    VideoInsights,
    audience_profile_of,
)
from api.lists import Page, PageRequest
from api.loaders import GraphPageLoader
from api.permissions import IdentityList
from api.rows import AccountRow, LikeRow, VideoRow
from auth.policy import (
    can_manage_app_tokens,
    can_read_audience_profile,
    can_see_profile,
    can_see_self_only,
    is_viewer,
)

MAX_FIRST = 100
DEFAULT_FIRST = 20
T = TypeVar("T")
E = TypeVar("E")


@strawberry.enum
class FollowStatus(Enum):
    NONE = "NONE"
    PENDING = "PENDING"
    APPROVED = "APPROVED"


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID

    @classmethod
    @reads_value_only
    def is_type_of(cls, value: object, _info: object) -> bool:
        """graphql-core's check on every Account or Video it completes, inherited by each
        (strawberry would make one that also looks for strawberry.cast, which likegraph
        never uses); it reads the value alone, so api/execution.py builds no resolve info."""
        return isinstance(value, cls)


@strawberry.type
class PageInfo:
    has_next_page: bool
    # Forward pagination only: false, as the Relay spec allows.
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_request(info: Info, key: ListKey, first: int | None, after: str | None) -> PageRequest:
    first = DEFAULT_FIRST if first is None else first  # an explicit null means the default
    if not 0 <= first <= MAX_FIRST:
        raise BadUserInput(f"`first` must be between 0 and {MAX_FIRST}.")
    position = (
        None
        if after is None or after is strawberry.UNSET
        else info.context.cursors.decode(key, after)
    )
    return PageRequest(owner_id=key.owner_id, first=first, after=position)


def edges_of(
    info: Info,
    key: ListKey,
    page: Page[T],
    position: Callable[[T], int],
    edge: Callable[[str, T], E],
) -> tuple[list[E], PageInfo]:
    codec = info.context.cursors
    cursors = codec.encode_all(key, [position(item) for item in page.items])
    edges = [edge(c, item) for c, item in zip(cursors, page.items, strict=True)]
    info_ = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=False,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
    return edges, info_


def _list_key(info: Info, kind: str, owner_id: int) -> ListKey:
    return ListKey(kind=kind, owner_id=owner_id, viewer_id=info.context.viewer.account_id)


async def _account_connection(
    info: Info,
    loader: GraphPageLoader,
    key: ListKey,
    first: int | None,
    after: str | None,
) -> AccountConnection:
    page = await loader.load(page_request(info, key, first, after))
    edges, page_info = edges_of(
        info,
        key,
        page,
        lambda e: e.edge_id,
        lambda c, e: AccountEdge(cursor=c, node=Account.of(e.account)),
    )
    return AccountConnection(edges=edges, page_info=page_info)


@strawberry.type
class Account(Node):
    # Plain fields, not resolvers: a page of likers reads them twenty times over, and
    # graphql-core reads an attribute far faster than it calls a resolver.
    row: strawberry.Private[AccountRow]
    id: strawberry.ID
    handle: str
    display_name: str
    is_private: bool

    @classmethod
    def of(cls, row: AccountRow) -> Account:
        return cls(
            row=row,
            id=strawberry.ID(encode_id(Kind.ACCOUNT, row.id)),
            handle=row.handle,
            display_name=row.display_name,
            is_private=row.is_private,
        )

    @strawberry.field(description="Approved followers.")
    async def follower_count(self, info: Info) -> int:
        return await info.context.loaders.follower_count_by_account_id.load(self.row.id)

    @strawberry.field(description="Approved followings.")
    async def following_count(self, info: Info) -> int:
        return await info.context.loaders.following_count_by_account_id.load(self.row.id)

    @strawberry.field(
        description="The viewer's follow edge to this account; NONE for anonymous and self."
    )
    async def viewer_follow_status(self, info: Info) -> FollowStatus:
        viewer = info.context.viewer
        if viewer.is_anonymous or viewer.account_id == self.row.id:
            return FollowStatus.NONE
        rel = await info.context.loaders.relationship_by_account_id.load(self.row.id)
        if rel is None or not can_see_profile(viewer, rel) or rel.follow_state is None:
            return FollowStatus.NONE
        return FollowStatus(rel.follow_state)

    @strawberry.field(description="This account's videos, newest first.")
    async def videos(
        self, info: Info, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> VideoConnection:
        key = _list_key(info, "videos", self.row.id)
        page = await info.context.loaders.videos_page.load(page_request(info, key, first, after))
        edges, page_info = edges_of(
            info, key, page, lambda v: v.id, lambda c, v: VideoEdge(cursor=c, node=Video.of(v))
        )
        return VideoConnection(edges=edges, page_info=page_info)

    @strawberry.field(
        description="This account's likes, newest first.", permission_classes=[IdentityList]
    )
    async def likes(
        self, info: Info, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> LikeConnection:
        key = _list_key(info, "likes", self.row.id)
        page = await info.context.loaders.likes_page.load(page_request(info, key, first, after))
        edges, page_info = edges_of(
            info,
            key,
            page,
            lambda like: like.like_id,
            lambda c, like: LikeEdge(cursor=c, node=Like(account_row=self.row, row=like)),
        )
        return LikeConnection(edges=edges, page_info=page_info)

    @strawberry.field(
        description="Aggregates of the likes of all this account's videos; self only.",
        permission_classes=[CanReadAccountInsights],
    )
    def insights(self) -> AccountInsights | None:
        return AccountInsights(account_id=self.row.id)

    @strawberry.field(description="Self only: null for anyone else, with no error.")
    async def audience_profile(self, info: Info) -> AudienceProfile | None:
        if not can_read_audience_profile(info.context.viewer, self.row.id):
            return None
        return await audience_profile_of(self.row.id)

    @strawberry.field(
        description="Approved followers, newest edge first.", permission_classes=[IdentityList]
    )
    async def followers(
        self, info: Info, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> AccountConnection:
        key = _list_key(info, "followers", self.row.id)
        loader = info.context.loaders.followers_page
        return await _account_connection(info, loader, key, first, after)

    @strawberry.field(
        description="Approved followings, newest edge first.", permission_classes=[IdentityList]
    )
    async def following(
        self, info: Info, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> AccountConnection:
        key = _list_key(info, "following", self.row.id)
        loader = info.context.loaders.following_page
        return await _account_connection(info, loader, key, first, after)

    @strawberry.field(
        description="This account follows the viewer (APPROVED); false for anonymous and self."
    )
    async def follows_viewer(self, info: Info) -> bool:
        return await info.context.loaders.follows_viewer_by_account_id.load(self.row.id)

    @strawberry.field(description="The viewer blocked this account.")
    async def viewer_has_blocked(self, info: Info) -> bool:
        return await info.context.loaders.viewer_blocked_by_account_id.load(self.row.id)

    async def _own_list(
        self, info: Info, kind: str, first: int | None, after: str | None
    ) -> AccountConnection | None:
        # The self-only rule (rule 10) decides; a null, not an error, for anyone else.
        if not can_see_self_only(info.context.viewer, self.row.id):
            return None
        loader: GraphPageLoader = getattr(info.context.loaders, _OWN_LIST_LOADERS[kind])
        return await _account_connection(
            info, loader, _list_key(info, kind, self.row.id), first, after
        )

    @strawberry.field(
        description="PENDING requests to this account, newest first; null for anyone else.",
        permission_classes=[IdentityList],
    )
    async def follow_requests(
        self, info: Info, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> AccountConnection | None:
        return await self._own_list(info, "followRequests", first, after)

    @strawberry.field(
        description="This account's own PENDING requests, newest first; null for anyone else.",
        permission_classes=[IdentityList],
    )
    async def sent_follow_requests(
        self, info: Info, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> AccountConnection | None:
        return await self._own_list(info, "sentFollowRequests", first, after)

    @strawberry.field(
        description="Accounts this account blocked, newest block first; null for anyone else.",
        permission_classes=[IdentityList],
    )
    async def blocked_accounts(
        self, info: Info, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> AccountConnection | None:
        return await self._own_list(info, "blockedAccounts", first, after)

    @strawberry.field(description="This account's app tokens, newest first; self only.")
    async def app_tokens(self, info: Info) -> list[AppToken] | None:
        if not can_manage_app_tokens(info.context.viewer, self.row.id):
            return None
        return await app_tokens_of(self.row.id)


_OWN_LIST_LOADERS = {
    "followRequests": "follow_requests_page",
    "sentFollowRequests": "sent_follow_requests_page",
    "blockedAccounts": "blocked_accounts_page",
}


@strawberry.type
class Video(Node):
    row: strawberry.Private[VideoRow]
    id: strawberry.ID
    caption: str
    author: Account
    created_at: datetime
    like_count: int = strawberry.field(
        description="Every like of this video, the same number for every viewer."
    )

    @classmethod
    def of(cls, row: VideoRow) -> Video:
        return cls(
            row=row,
            id=strawberry.ID(encode_id(Kind.VIDEO, row.id)),
            caption=row.caption,
            author=Account.of(row.author),
            created_at=row.created_at,
            like_count=row.like_count,
        )

    @strawberry.field
    async def viewer_has_liked(self, info: Info) -> bool:
        return await info.context.loaders.viewer_liked_by_video_id.load(self.row.id)

    @strawberry.field(description="The viewer is this video's author; false for anonymous.")
    def viewer_is_author(self, info: Info) -> bool:
        # The video row carries its author: nothing to load, so nothing to batch.
        return is_viewer(info.context.viewer, self.row.author.id)

    @strawberry.field(
        description="The likers this viewer may see, newest like first.",
        permission_classes=[IdentityList],
    )
    async def likers(
        self, info: Info, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> LikerConnection:
        key = _list_key(info, "likers", self.row.id)
        page = await info.context.loaders.likers_page.load(page_request(info, key, first, after))
        edges, page_info = edges_of(
            info,
            key,
            page,
            lambda r: r.like_id,
            lambda c, r: LikerEdge(cursor=c, node=Account.of(r.account), liked_at=r.liked_at),
        )
        return LikerConnection(edges=edges, page_info=page_info)

    @strawberry.field(
        description="Released aggregates of this video's likes; the author only.",
        permission_classes=[CanReadVideoInsights],
    )
    def insights(self) -> VideoInsights | None:
        video = VideoDays(self.row.id, self.row.author.id, posted_day(self.row.created_at))
        return VideoInsights(video=video, like_count=self.row.like_count)


@strawberry.type
class Like:
    account_row: strawberry.Private[AccountRow]
    row: strawberry.Private[LikeRow]

    @strawberry.field
    def account(self) -> Account:
        return Account.of(self.account_row)

    @strawberry.field
    def video(self) -> Video:
        return Video.of(self.row.video)

    @strawberry.field
    def liked_at(self) -> datetime:
        return self.row.liked_at


@strawberry.type
class LikerEdge:
    cursor: str
    node: Account
    liked_at: datetime


@strawberry.type
class LikerConnection:
    edges: list[LikerEdge]
    page_info: PageInfo


@strawberry.type
class LikeEdge:
    cursor: str
    node: Like


@strawberry.type
class LikeConnection:
    edges: list[LikeEdge]
    page_info: PageInfo


@strawberry.type
class AccountEdge:
    cursor: str
    node: Account


@strawberry.type
class AccountConnection:
    edges: list[AccountEdge]
    page_info: PageInfo


@strawberry.type
class VideoEdge:
    cursor: str
    node: Video


@strawberry.type
class VideoConnection:
    edges: list[VideoEdge]
    page_info: PageInfo


@strawberry.type
class AuthPayload:
    token: str
    account: Account
