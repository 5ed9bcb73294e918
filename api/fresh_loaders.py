"""Each top-level mutation field reads the database as the fields before it left it.

A mutation document runs its fields one after another, and the request's loaders would
otherwise keep what an earlier field read: the likers page of `a: likeVideo` answered
again for `c: unlikeVideo`, after `b: block` had changed who may be listed (CONTRACT
section 5, "One document, fresh data"). `FreshLoaders` gives the context new, empty
loaders before its field's resolver runs; the field's own selections then use them.

Every mutation field declares it (`extensions=[FreshLoaders()]`), and
tests/test_fresh_loaders.py fails for a mutation that does not.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver, SyncExtensionResolver
from strawberry.types import Info

from api.loaders import Loaders


class FreshLoaders(FieldExtension):
    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        _renew(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        _renew(info)
        return await next_(source, info, **kwargs)


def _renew(info: Info) -> None:
    # Mutation fields run one at a time, each completed (its selections too) before the
    # next begins: no other field still reads the loaders replaced here.
    context = info.context
    context.loaders = Loaders(context.viewer)
