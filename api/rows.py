"""Plain rows read by the list and lookup queries, before they become GraphQL objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def to_datetime(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AccountRow:
    id: int
    handle: str
    display_name: str
    is_private: bool

    COLUMNS = "{a}.id AS {p}id, {a}.handle AS {p}handle, {a}.display_name AS {p}display_name, {a}.is_private AS {p}is_private"  # noqa: E501

    @classmethod
    def columns(cls, alias: str, prefix: str = "") -> str:
        return cls.COLUMNS.format(a=alias, p=prefix)

    @classmethod
    def of(cls, row: dict[str, Any], prefix: str = "") -> AccountRow:
        return cls(
            id=row[f"{prefix}id"],
            handle=row[f"{prefix}handle"],
            display_name=row[f"{prefix}display_name"],
            is_private=bool(row[f"{prefix}is_private"]),
        )


@dataclass(frozen=True)
class VideoRow:
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
            id=row["v_id"],
            caption=row["v_caption"],
            created_at=to_datetime(row["v_created_at"]),
            like_count=row["v_like_count"],
            author=AccountRow.of(row, "au_"),
        )


@dataclass(frozen=True)
class LikerRow:
    like_id: int
    liked_at: datetime
    account: AccountRow


@dataclass(frozen=True)
class LikeRow:
    like_id: int
    liked_at: datetime
    account_id: int
    video: VideoRow
