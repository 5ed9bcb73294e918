"""Plain rows read by the list and lookup queries, before they become GraphQL objects.

Named tuples, not dataclasses: a page builds dozens of them, and a tuple is built in one
step where a frozen dataclass sets each field through `object.__setattr__`.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any, NamedTuple


def to_datetime(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_ACCOUNT_FIELDS = ("id", "handle", "display_name", "is_private")


class AccountRow(NamedTuple):
    id: int
    handle: str
    display_name: str
    is_private: bool

    @staticmethod
    @functools.cache  # a handful of (alias, prefix) pairs, spliced into every page's SQL
    def columns(alias: str, prefix: str = "") -> str:
        return ", ".join(f"{alias}.{name} AS {prefix}{name}" for name in _ACCOUNT_FIELDS)

    @classmethod
    def of_model(cls, account: Any) -> AccountRow:
        """The row of an ORM `models.Account` a mutation just read or wrote."""
        return cls(account.id, account.handle, account.display_name, account.is_private)

    @classmethod
    def of(cls, row: dict[str, Any], prefix: str = "") -> AccountRow:
        return cls(
            row[prefix + "id"],
            row[prefix + "handle"],
            row[prefix + "display_name"],
            bool(row[prefix + "is_private"]),
        )


class VideoRow(NamedTuple):
    id: int
    caption: str
    created_at: datetime
    like_count: int
    author: AccountRow

    @classmethod
    def columns(cls, video: str, author: str) -> str:
        return (
            f"{video}.id AS v_id, {video}.caption AS v_caption, {video}.created_at AS v_created_at,"
            f" {video}.like_count AS v_like_count, " + AccountRow.columns(author, "au_")
        )

    @classmethod
    def of(cls, row: dict[str, Any]) -> VideoRow:
        return cls(
            row["v_id"],
            row["v_caption"],
            to_datetime(row["v_created_at"]),
            row["v_like_count"],
            AccountRow.of(row, "au_"),
        )


class LikerRow(NamedTuple):
    like_id: int
    liked_at: datetime
    account: AccountRow


class LikeRow(NamedTuple):
    like_id: int
    liked_at: datetime
    account_id: int
    video: VideoRow


class EdgeRow(NamedTuple):
    """One entry of a graph list: the follow or block row's id (the page's position) and
    the account at its other end."""

    edge_id: int
    account: AccountRow
