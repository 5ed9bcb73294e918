from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Viewer:
    """The account a request acts as; `account_id is None` is the anonymous viewer."""

    account_id: int | None

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls(account_id=None)

    @classmethod
    def of(cls, account_id: int) -> Viewer:
        return cls(account_id=account_id)

    @property
    def is_anonymous(self) -> bool:
        return self.account_id is None
