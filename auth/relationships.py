"""Loads the relationship facts the policy's yes/no rules read, for many accounts at once."""

from __future__ import annotations

from collections.abc import Sequence

from auth.policy import Relationship, blocked_pair_ids_sql
from auth.viewer import Viewer
from models.sql import Sql


async def load_relationships(viewer: Viewer, account_ids: Sequence[int]) -> dict[int, Relationship]:
    """One statement for any number of accounts; missing accounts are absent."""
    if not account_ids:
        return {}
    sql = Sql()
    if viewer.is_anonymous:
        text = (
            "SELECT a.id, a.is_private, FALSE AS blocked_pair, NULL AS follow_state"
            f" FROM account a WHERE a.id IN ({sql.ps(account_ids)})"
        )
    else:
        text = (
            f"SELECT a.id, a.is_private, a.id IN ({blocked_pair_ids_sql(viewer, sql)})"
            " AS blocked_pair, (SELECT f.status FROM follow f"
            f" WHERE f.follower_id = {sql.p(viewer.account_id)} AND f.followee_id = a.id)"
            " AS follow_state"
            f" FROM account a WHERE a.id IN ({sql.ps(account_ids)})"
        )
    return {
        row["id"]: Relationship(
            owner_id=row["id"],
            owner_private=bool(row["is_private"]),
            blocked_pair=bool(row["blocked_pair"]),
            follow_state=row["follow_state"],
        )
        for row in await sql.rows(text)
    }
