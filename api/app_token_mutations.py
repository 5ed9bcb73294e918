"""`createAppToken` and `revokeAppToken` (CONTRACT section 7): a mixin that `Mutation`
inherits. Only a logged-in person makes or revokes tokens: an app token is refused by
`NoApps` (FORBIDDEN), the anonymous viewer is UNAUTHENTICATED."""

from __future__ import annotations

import strawberry

from api.app_token_types import AppScope, AppTokenCreated, app_token_by_digest
from api.context import Context, Info
from api.errors import BadUserInput, NotFound, account_gone, login_required
from api.fresh_loaders import FreshLoaders
from api.ids import Kind, decode_id
from api.permissions import NoApps
from api.validation import storable
from auth import app_tokens, sessions
from auth.policy import can_manage_app_tokens
from auth.tokens import token_digest
from models.routing import narrowed

NAME_MAX = 100
# An account's tokens are listed whole (Account.appTokens): the list stays short.
MAX_TOKENS = 50
NOT_FOUND = "No app token with that ID."


async def _owner(ctx: Context) -> int:
    """The logged-in account that manages its tokens, once it is known to exist."""
    me = ctx.viewer.account_id
    if me is None:
        raise login_required()
    if not can_manage_app_tokens(ctx.viewer, me):  # the policy's word, not this module's
        raise login_required()
    if await ctx.loaders.visible_account_by_id.load(me) is None:
        raise account_gone()
    return me


def valid_token_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX or not name.isprintable():
        raise BadUserInput(
            f"An app token's name has 1 to {NAME_MAX} visible characters, on one line."
        )
    return storable(name)


@strawberry.type
class AppTokenMutations:
    @strawberry.mutation(
        description="A new token for a third-party app, acting for the viewer with these"
        " scopes: the token is shown this once.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def create_app_token(
        self, info: Info, name: str, scopes: list[AppScope]
    ) -> AppTokenCreated:
        ctx = info.context
        me = await _owner(ctx)
        name = valid_token_name(name)
        if not scopes:
            raise BadUserInput("Give an app token at least one scope.")
        if await app_tokens.count_of(me) >= MAX_TOKENS:
            raise BadUserInput(
                f"An account holds at most {MAX_TOKENS} app tokens: revoke one first."
            )
        given = {scope.value for scope in scopes}
        chosen = tuple(s for s in app_tokens.SCOPES if s in given)
        token = await app_tokens.create(me, name, chosen)
        return AppTokenCreated(
            token=token, app_token=await app_token_by_digest(token_digest(token))
        )

    @strawberry.mutation(
        description="Revokes one of the viewer's app tokens: refused from the next request.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def revoke_app_token(self, info: Info, id: strawberry.ID) -> bool:
        me = await _owner(info.context)
        kind, pk = decode_id(id)
        # Another account's token is answered as a missing one: one path, one error.
        digest = await app_tokens.revoke(me, pk) if kind is Kind.APP_TOKEN else None
        if digest is None:
            raise NotFound(NOT_FOUND)
        sessions.forget_app_token(digest)
        await narrowed()  # a read replica must refuse the token too
        return True
