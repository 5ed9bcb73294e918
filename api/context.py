"""The per-request context: who is asking, and the loaders that serve them."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry

from api.cursors import CursorCodec
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


Info = strawberry.Info[Context, None]
