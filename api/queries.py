from __future__ import annotations

import strawberry

from api.context import Info
from api.lookups import visible_account, visible_node, visible_video_by_global_id
from api.rows import AccountRow
from api.types import Account, Node, Video
from auth.policy import viewer_account_id


@strawberry.type
class Query:
    @strawberry.field(
        description="The logged-in account, or the one an app token acts for; null for the"
        " anonymous viewer."
    )
    async def viewer(self, info: Info) -> Account | None:
        ctx = info.context
        account_id = viewer_account_id(ctx.viewer)
        if account_id is None:
            return None
        row = await ctx.loaders.visible_account_by_id.load(account_id)
        return None if row is None else Account.of(row)

    @strawberry.field(description="Any account's profile; null across a blocked pair.")
    async def account(self, info: Info, handle: str) -> Account | None:
        row = await visible_account(info.context, handle)
        return None if row is None else Account.of(row)

    @strawberry.field(description="A video the viewer may see; null when hidden or missing.")
    async def video(self, info: Info, id: strawberry.ID) -> Video | None:
        row = await visible_video_by_global_id(info.context, id)
        return None if row is None else Video.of(row)

    @strawberry.field(description="Any object by its global ID; null when hidden or missing.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        row = await visible_node(info.context, id)
        if row is None:
            return None
        return Account.of(row) if isinstance(row, AccountRow) else Video.of(row)
