"""What each persona sees of the same world, as committed snapshots (tests/__snapshots__).

One document, run as every persona: alice's popular video, bob's private clip, and the
profile, videos and likes of every account. IDs, cursors and timestamps differ per run,
so they are replaced by placeholders (`'<cursor>'`); a null stays null, so a snapshot
still shows where a list ends. The same snapshots hold on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from syrupy.assertion import SnapshotAssertion
from syrupy.types import PropertyPath, SerializableData

from tests.world import ACCOUNTS, BOB_CLIP, PERSONAS, POPULAR, World

VOLATILE = frozenset({"id", "cursor", "startCursor", "endCursor", "likedAt", "createdAt"})

VIDEO = """
  id caption likeCount viewerHasLiked viewerIsAuthor createdAt
  author { handle }
  likers {
    edges { cursor likedAt node { handle isPrivate } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
"""
ACCOUNT = """
  id handle displayName isPrivate followerCount followingCount viewerFollowStatus
  videos {
    edges { cursor node { id caption likeCount createdAt } }
    pageInfo { hasNextPage endCursor }
  }
  likes {
    edges { cursor node { likedAt account { handle } video { caption author { handle } } } }
    pageInfo { hasNextPage endCursor }
  }
  followsViewer viewerHasBlocked
  followers { ...Handles }
  following { ...Handles }
  followRequests { ...Handles }
  sentFollowRequests { ...Handles }
  blockedAccounts { ...Handles }
"""
HANDLES = (
    "fragment Handles on AccountConnection"
    " { edges { cursor node { handle } } pageInfo { hasNextPage endCursor } }"
)
DOCUMENT = (
    "query($popular: ID!, $clip: ID!) {"
    " viewer { handle }"
    f" popularVideo: video(id: $popular) {{ {VIDEO} }}"
    f" bobsClip: video(id: $clip) {{ {VIDEO} }}"
    + "".join(f' {handle}: account(handle: "{handle}") {{ {ACCOUNT} }}' for handle in ACCOUNTS)
    + " } "
    + HANDLES
)


def placeholders(*, data: SerializableData, path: PropertyPath) -> SerializableData | None:
    """Replace the value of a volatile field with `<field>`; keep nulls as they are."""
    if path and path[-1][0] in VOLATILE and isinstance(data, str):
        return f"<{path[-1][0]}>"
    return data


async def test_what_each_persona_sees_of_one_world(
    world: World, snapshot: SnapshotAssertion
) -> None:
    variables = {"popular": world.video_ids[POPULAR], "clip": world.video_ids[BOB_CLIP]}
    seen: dict[str, dict[str, Any]] = {}
    for persona in PERSONAS:  # all read the same world: no persona writes anything
        seen[persona] = await world.ok(DOCUMENT, variables, as_=persona)
    for persona in PERSONAS:
        assert seen[persona] == snapshot(name=persona, matcher=placeholders), persona
