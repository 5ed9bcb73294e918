"""One gateway per entity: hidden and missing things share one path, one query, one answer."""

from __future__ import annotations

from api.context import Context
from api.errors import NotFound
from api.ids import Kind, decode_id
from api.rows import AccountRow, VideoRow
from api.validation import normalize_handle


async def visible_video(ctx: Context, video_id: int) -> VideoRow | None:
    """Rule 2: the video when the viewer may see it, else None exactly as if missing."""
    return await ctx.loaders.visible_video_by_id.load(video_id)


async def visible_video_by_global_id(ctx: Context, global_id: str) -> VideoRow | None:
    kind, pk = decode_id(global_id)
    return await visible_video(ctx, pk) if kind is Kind.VIDEO else None


NO_VIDEO = "No video with that ID."


def video_pk(global_id: str) -> int:
    """The row id a video ID names; NOT_FOUND for an ID of another kind, as if missing."""
    kind, pk = decode_id(global_id)
    if kind is not Kind.VIDEO:
        raise NotFound(NO_VIDEO)
    return pk


async def require_visible_video(ctx: Context, global_id: str) -> VideoRow:
    """For mutations: a hidden video is NOT_FOUND with the same message as a missing one."""
    return await fresh_visible_video(ctx, video_pk(global_id))


async def fresh_visible_video(ctx: Context, video_id: int) -> VideoRow:
    """The video judged afresh, not from the request's cache: an earlier mutation of the
    same document (a block, an unfollow) or this one may have changed it since the
    request loaded it. NOT_FOUND when hidden or missing."""
    ctx.loaders.forget_video(video_id)
    video = await visible_video(ctx, video_id)
    if video is None:
        raise NotFound(NO_VIDEO)
    return video


async def visible_account(ctx: Context, handle: str) -> AccountRow | None:
    """Rule 6: any profile, except to the other side of a blocked pair."""
    key = normalize_handle(handle)
    return None if key is None else await ctx.loaders.visible_account_by_handle.load(key)


async def require_visible_account(ctx: Context, handle: str) -> AccountRow:
    """For mutations: NOT_FOUND across a blocked pair, judged afresh as for a video."""
    key = normalize_handle(handle)
    if key is not None:
        ctx.loaders.forget_account(key)
    account = await visible_account(ctx, handle)
    if account is None:
        raise NotFound("No account with that handle.")
    return account


async def visible_node(ctx: Context, global_id: str) -> AccountRow | VideoRow | None:
    kind, pk = decode_id(global_id)
    if kind is Kind.VIDEO:
        return await visible_video(ctx, pk)
    if kind is Kind.ACCOUNT:
        return await ctx.loaders.visible_account_by_id.load(pk)
    return None  # an app token is not a Node: its ID names nothing here
