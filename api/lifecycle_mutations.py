"""The account's lifecycle (CONTRACT section 6): profile changes and deletion (rule 12)."""

from __future__ import annotations

import strawberry
from tortoise.backends.base.client import BaseDBAsyncClient

from api import deletion
from api.context import Context, Info
from api.db import write_transaction
from api.errors import Forbidden, NotFound, account_gone
from api.fresh_loaders import FreshLoaders
from api.loaders import Loaders
from api.lookups import NO_VIDEO, require_visible_video
from api.permissions import NoApps
from api.rows import AccountRow
from api.types import Account
from api.validation import valid_display_name
from auth.passwords import verify_password_async
from auth.sessions import end_all_sessions, forget_account
from models import Account as AccountModel
from models.routing import narrowed
from models.sql import Sql

WRONG_PASSWORD = "That password is wrong: type this account's current password to delete it."


def _forget_everything(ctx: Context) -> None:
    """A deletion changes lists, counts and lookups at once: the fields after it in the
    same document read afresh (CONTRACT section 5, one document, fresh data)."""
    ctx.loaders = Loaders(ctx.viewer)


@strawberry.type
class LifecycleMutation:
    @strawberry.mutation(
        description="Changes the viewer's display name.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def update_profile(self, info: Info, display_name: str) -> Account:
        ctx = info.context
        me = ctx.account_id_or_raise()
        name = valid_display_name(display_name, "")  # a name is given: no handle to fall back to

        async def update(conn: BaseDBAsyncClient) -> list[AccountRow]:
            sql = Sql(conn)
            rows = await sql.rows(
                f"UPDATE account SET display_name = {sql.p(name)} WHERE id = {sql.p(me)}"
                " RETURNING id, handle, display_name, is_private"
            )
            return [AccountRow.of(r) for r in rows]

        rows = await write_transaction(update)
        if not rows:
            raise account_gone()
        _forget_everything(ctx)
        return Account.of(rows[0])

    @strawberry.mutation(
        description="Deletes one of the viewer's videos and its likes; NOT_FOUND for any"
        " other video, exactly as for one that does not exist.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def delete_video(self, info: Info, id: strawberry.ID) -> bool:
        ctx = info.context
        me = ctx.account_id_or_raise()
        # One path for missing, hidden and someone else's video: the same lookup, then
        # the same error, with no further statement for any of them.
        video = await require_visible_video(ctx, id)
        if video.author.id != me or not await deletion.delete_video(video.id, me):
            raise NotFound(NO_VIDEO)
        await narrowed()  # read replicas must not show the deleted video
        _forget_everything(ctx)
        return True

    @strawberry.mutation(
        description="Deletes the viewer's account and everything it owns; its handle is free"
        " again. Needs the account's password.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def delete_account(self, info: Info, password: str) -> bool:
        ctx = info.context
        me = ctx.account_id_or_raise()
        account = await AccountModel.get_or_none(id=me)
        if account is None:
            raise account_gone()
        if not await verify_password_async(account.password_hash, password):
            raise Forbidden(WRONG_PASSWORD)
        # Every session ends before the first batch, so no other session of the account
        # can act while it is deleted (the rows would go with the account anyway).
        await end_all_sessions(me)
        if not await deletion.delete_account(me):
            raise account_gone()  # a concurrent deleteAccount won
        # A logIn while the batches ran made a session (gone with the account now) that
        # this process, and through the board its siblings, would still remember.
        forget_account(me)
        await narrowed()  # read replicas must not show the deleted account
        _forget_everything(ctx)
        return True
