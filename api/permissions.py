"""Field-level authorization of rule 17, declared beside each field it guards.

`IdentityList` goes on every field that lists accounts or likes (`likers`,
`Account.likes`, `followers`, `following`, the self-only lists); `NoApps` on every
mutation. Both ask the policy (auth/policy.py) and answer FORBIDDEN.

The identity lists are non-null connections in the contract (`LikerConnection!`), and
stay so: a denied one raises, and GraphQL's null propagation makes the nearest nullable
parent null (`video`, `account`, `viewer`, a `node`), with the FORBIDDEN error at the
list's path. Making the lists nullable would change the contract's shapes for everyone
to spare an app's sibling fields, which it can ask for without the list.

tests/test_app_tokens_walk.py walks the whole schema: a field that can return an account
or a like with neither this guard nor a reasoned place on its allow-list fails it.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from api.context import Info
from auth.policy import can_read_identity_lists, can_run_mutations


class IdentityList(BasePermission):
    """Rule 17: lists of accounts or likes are not for app tokens."""

    message = "App tokens cannot read lists of accounts or likes: they get aggregates only."
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012  # strawberry's own attribute

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return can_read_identity_lists(info.context.viewer)


class NoApps(BasePermission):
    """Rule 17: an app token runs no mutation."""

    message = "App tokens cannot run mutations: log in to make changes."
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012  # strawberry's own attribute

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return can_run_mutations(info.context.viewer)
