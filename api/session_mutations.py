"""Mutations that start and end sessions (auth/sessions.py): the session's lifecycle.

`Mutation` (api/mutations.py) inherits this mixin; logIn and signUp make their session
through `payload`.
"""

from __future__ import annotations

import strawberry
from tortoise.backends.base.client import BaseDBAsyncClient

from api.context import Context, Info
from api.db import write_transaction
from api.errors import Forbidden, account_gone
from api.fresh_loaders import FreshLoaders
from api.permissions import NoApps
from api.rows import AccountRow
from api.types import Account, AuthPayload
from api.validation import valid_password
from auth import sessions
from auth.passwords import hash_password_async, verify_password_async
from models import Account as AccountModel
from models.routing import narrowed
from models.sql import Sql

# FORBIDDEN, as deleteAccount answers a wrong password: the viewer is logged in, and a
# client reads UNAUTHENTICATED as "log in again".
WRONG_PASSWORD = "The current password is wrong: type this account's current password."


async def payload(ctx: Context, account: AccountModel) -> AuthPayload:
    """A new session of the account, and the token that names it."""
    token = await sessions.start_session(account.id, ctx.settings.secret, ctx.settings.token_ttl)
    return AuthPayload(token=token, account=Account.of(AccountRow.of_model(account)))


@strawberry.type
class SessionMutations:
    @strawberry.mutation(
        description="Ends this token's session: the token is refused from the next request.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def log_out(self, info: Info) -> bool:
        _, session = info.context.session_or_raise()
        return await sessions.end_session(session)

    @strawberry.mutation(
        description="Ends every session of the viewer, this one included.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def log_out_everywhere(self, info: Info) -> bool:
        me, _ = info.context.session_or_raise()
        await sessions.end_all_sessions(me)
        return True

    @strawberry.mutation(
        description=(
            "Sets a new password; every session of the account ends, this one included,"
            " and the payload's token names a new one."
        ),
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def change_password(
        self, info: Info, current_password: str, new_password: str
    ) -> AuthPayload:
        ctx = info.context
        me, _ = ctx.session_or_raise()
        valid_password(new_password)
        account = await AccountModel.get_or_none(id=me)
        if account is None:
            raise account_gone()
        if not await verify_password_async(account.password_hash, current_password):
            raise Forbidden(WRONG_PASSWORD)
        new_hash = await hash_password_async(new_password)

        async def change(conn: BaseDBAsyncClient) -> None:
            # The password and the end of every session commit together: no token made
            # before the change outlives it.
            sql = Sql(conn)
            await sql.execute(
                f"UPDATE account SET password_hash = {sql.p(new_hash)} WHERE id = {sql.p(me)}"
            )
            sql = Sql(conn)
            await sql.execute(f"DELETE FROM account_session WHERE account_id = {sql.p(me)}")

        await write_transaction(change)
        sessions.forget_account(me)
        await narrowed()
        account.password_hash = new_hash
        return await payload(ctx, account)
