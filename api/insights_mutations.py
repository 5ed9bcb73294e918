"""`setAudienceProfile` (CONTRACT section 7): a mixin that `Mutation` inherits."""

from __future__ import annotations

import strawberry
from tortoise.backends.base.client import BaseDBAsyncClient

from api.audience import valid_birth_year, valid_language, valid_region
from api.context import Info
from api.db import write_transaction
from api.errors import account_gone
from api.fresh_loaders import FreshLoaders
from api.permissions import NoApps
from api.types import Account
from models.sql import Sql

_FIELDS = ("birth_year", "region", "language")


@strawberry.type
class InsightsMutations:
    @strawberry.mutation(
        description="Sets what creators' insights count this account under; an argument"
        " left out keeps its value, null clears it. Seen by this account only.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def set_audience_profile(
        self,
        info: Info,
        birth_year: int | None = strawberry.UNSET,
        region: str | None = strawberry.UNSET,
        language: str | None = strawberry.UNSET,
    ) -> Account:
        ctx = info.context
        me = ctx.account_id_or_raise()
        given = {
            "birth_year": None if birth_year is strawberry.UNSET else valid_birth_year(birth_year),
            "region": None if region is strawberry.UNSET else valid_region(region),
            "language": None if language is strawberry.UNSET else valid_language(language),
        }
        changed = {
            name: value
            for name, value, sent in zip(
                _FIELDS,
                given.values(),
                (birth_year, region, language),
                strict=True,
            )
            if sent is not strawberry.UNSET
        }

        async def save(conn: BaseDBAsyncClient) -> None:
            sql = Sql(conn)
            # Insert-if-absent, then the given fields: one row per account, even when two
            # requests of the same account race.
            await sql.execute(
                f"INSERT INTO audience_profile (account_id) SELECT id FROM account"
                f" WHERE id = {sql.p(me)} ON CONFLICT (account_id) DO NOTHING"
            )
            if changed:
                sql = Sql(conn)
                sets = ", ".join(f"{name} = {sql.p(value)}" for name, value in changed.items())
                await sql.execute(
                    f"UPDATE audience_profile SET {sets} WHERE account_id = {sql.p(me)}"
                )

        await write_transaction(save)
        row = await ctx.loaders.visible_account_by_id.load(me)
        if row is None:
            raise account_gone()
        return Account.of(row)
