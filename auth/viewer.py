from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Viewer:
    """The account a request acts as; `account_id is None` is the anonymous viewer."""

    account_id: int | None
    # The digest of the token's session (auth/sessions.py), for logOut. Not part of who
    # the viewer is: two sessions of one account are the same viewer to every rule.
    session: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls(account_id=None)

    @classmethod
    def of(cls, account_id: int, session: str | None = None) -> Viewer:
        return cls(account_id=account_id, session=session)

    @property
    def is_anonymous(self) -> bool:
        return self.account_id is None
