"""The per-request context: who is asking, and the loaders that serve them."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry

from api.cursors import CursorCodec
from api.errors import login_required
from api.loaders import Loaders
from api.settings import Settings
from auth.viewer import Viewer


@dataclass
class Context:
    viewer: Viewer
    settings: Settings
    cursors: CursorCodec
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.viewer)

    def account_id_or_raise(self) -> int:
        """The viewer's account id; UNAUTHENTICATED for the anonymous viewer."""
        if self.viewer.account_id is None:
            raise login_required()
        return self.viewer.account_id

    def session_or_raise(self) -> tuple[int, str]:
        """The viewer's account id and session; UNAUTHENTICATED without a session token."""
        me = self.account_id_or_raise()
        if self.viewer.session is None:
            raise login_required()
        return me, self.viewer.session


Info = strawberry.Info[Context, None]
