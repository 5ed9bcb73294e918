"""One mutation document, fresh data (CONTRACT section 5): each top-level mutation field
sees what the fields before it wrote, never a page or relationship they had loaded."""

from __future__ import annotations

from typing import Any

from strawberry.types.base import StrawberryObjectDefinition

from api.fresh_loaders import FreshLoaders
from api.schema import schema
from tests.world import POPULAR, World

LIKERS = "likers(first: 20) { edges { node { handle } } }"
DOCUMENT = f"""
mutation($id: ID!) {{
  a: likeVideo(videoId: $id) {{ likeCount {LIKERS} }}
  b: block(handle: "mallory")
  c: unlikeVideo(videoId: $id) {{ likeCount viewerHasLiked {LIKERS} }}
}}
"""


def handles(video: dict[str, Any]) -> list[str]:
    return [edge["node"]["handle"] for edge in video["likers"]["edges"]]


async def test_each_mutation_field_sees_the_writes_before_it(world: World) -> None:
    """erin (public) likes POPULAR (already liked: idempotent), blocks mallory, unlikes
    it: the last likers page lists no one (mallory's like went with alice's block)."""
    data = await world.ok(DOCUMENT, {"id": world.video_ids[POPULAR]}, as_="erin")
    assert handles(data["a"]) == ["erin"]
    assert data["a"]["likeCount"] == 4
    assert data["b"] is True
    assert data["c"]["likeCount"] == 3
    assert data["c"]["viewerHasLiked"] is False
    assert handles(data["c"]) == []
    # The next request agrees with the last field.
    assert await world.likers(POPULAR, as_="erin") == []


def test_every_mutation_field_declares_fresh_loaders() -> None:
    """A mutation added later without `extensions=[FreshLoaders()]` fails here."""
    mutation = schema.get_type_by_name("Mutation")
    assert isinstance(mutation, StrawberryObjectDefinition)
    names = {schema.config.name_converter.get_graphql_name(f) for f in mutation.fields}
    assert {"likeVideo", "block", "logOut", "changePassword"} <= names
    lacking = [
        field.python_name
        for field in mutation.fields
        if not any(isinstance(extension, FreshLoaders) for extension in field.extensions)
    ]
    assert lacking == []
