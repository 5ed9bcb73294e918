from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Viewer:
    """The account a request acts as; `account_id is None` is the anonymous viewer.

    An app token (rule 17) is a viewer whose `account_id` is None too, so that every
    content and profile rule treats it as the anonymous viewer without knowing that apps
    exist (a rule written later fails closed for apps); it also names the account it acts
    for and its scopes, which only the rules of rule 17 in auth/policy.py read.
    """

    account_id: int | None
    # The digest of the token's session (auth/sessions.py), for logOut. Not part of who
    # the viewer is: two sessions of one account are the same viewer to every rule.
    session: str | None = field(default=None, compare=False, repr=False)
    app_owner_id: int | None = None
    app_scopes: frozenset[str] | None = None

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls(account_id=None)

    @classmethod
    def of(cls, account_id: int, session: str | None = None) -> Viewer:
        return cls(account_id=account_id, session=session)

    @classmethod
    def app(cls, owner_id: int, scopes: frozenset[str]) -> Viewer:
        """An app token acting for `owner_id` with `scopes`."""
        return cls(account_id=None, app_owner_id=owner_id, app_scopes=scopes)

    @property
    def is_anonymous(self) -> bool:
        """True for no token and for an app token: both see what the anonymous viewer sees."""
        return self.account_id is None

    @property
    def is_app(self) -> bool:
        return self.app_owner_id is not None
