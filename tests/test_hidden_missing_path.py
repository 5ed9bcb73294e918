"""Issue 9 item 8: a hidden video and a missing one take the same path to the database.

Same statement (text and count) for both, so that what is left to time is the database
finding a row and then refusing it, against finding none (bench/timing.py measures it).
"""

from __future__ import annotations

import re

from tests.test_query_count import counting_statements
from tests.world import BOB_CLIP, FIRST_STEPS, MISSING_VIDEO, POPULAR, World

DOCUMENTS = {
    "video": "query($id: ID!) { video(id: $id) { id caption likeCount } }",
    "node": "query($id: ID!) { node(id: $id) { id } }",
    "likers": "query($id: ID!) { video(id: $id) { likers(first: 5) { edges { cursor } } } }",
}


def shape(statement: str) -> str:
    """The statement with its literal numbers out: the row id asked for may differ."""
    return re.sub(r"\b\d+\b", "N", statement)


async def _statements(world: World, document: str, global_id: str, viewer: str) -> list[str]:
    with counting_statements() as counter:
        result = await world(document, {"id": global_id}, as_=viewer)
    assert "errors" not in result, result
    return counter.statements


async def test_a_hidden_and_a_missing_video_run_one_and_the_same_statement(world: World) -> None:
    # (viewer, a video hidden from them, one they may see)
    for viewer, hidden, visible in (
        ("carol", BOB_CLIP, POPULAR),  # a private author whose request is pending
        ("mallory", POPULAR, POPULAR),  # blocked by the author
        ("anon", BOB_CLIP, FIRST_STEPS),
    ):
        for name, document in DOCUMENTS.items():
            missing = await _statements(world, document, MISSING_VIDEO, viewer)
            concealed = await _statements(world, document, world.video_ids[hidden], viewer)
            assert len(missing) == 1, (viewer, name, missing)
            assert [shape(s) for s in concealed] == [shape(s) for s in missing], (viewer, name)
            if visible != hidden:
                # The same lookup answers a visible video (more follows for its fields).
                shown = await _statements(world, document, world.video_ids[visible], viewer)
                assert shape(shown[0]) == shape(missing[0]), (viewer, name)
