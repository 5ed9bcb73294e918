"""Rule 2: a video the viewer may not see behaves exactly like one that does not exist."""

from __future__ import annotations

import pytest

from tests.world import BOB_CLIP, FIRST_STEPS, MISSING_VIDEO, POPULAR, World

VIDEO_QUERY = "query($id: ID!) { video(id: $id) { id caption likeCount } }"
NODE_QUERY = "query($id: ID!) { node(id: $id) { id ... on Video { caption likeCount } } }"
BOTH_QUERY = "query($id: ID!) { a: video(id: $id) { id } b: node(id: $id) { id } }"
LIKE = "mutation($id: ID!) { likeVideo(videoId: $id) { id likeCount } }"
UNLIKE = "mutation($id: ID!) { unlikeVideo(videoId: $id) { id likeCount } }"

# (viewer, hidden video) pairs: private author not followed, pending request, lost follow,
# anonymous, and both sides of a blocked pair.
HIDDEN = [
    ("erin", BOB_CLIP),
    ("carol", BOB_CLIP),
    ("dora", BOB_CLIP),
    ("anon", BOB_CLIP),
    ("mallory", POPULAR),
    ("mallory", FIRST_STEPS),
]
# Each query with the data a missing (or hidden) video gives it.
QUERIES = {
    VIDEO_QUERY: {"video": None},
    NODE_QUERY: {"node": None},
    BOTH_QUERY: {"a": None, "b": None},
}


CASES = [
    (document, viewer, hidden)
    for document in (*QUERIES, LIKE, UNLIKE)
    for viewer, hidden in HIDDEN
    # Mutations need a viewer: test_inputs checks the anonymous UNAUTHENTICATED.
    if viewer != "anon" or document in QUERIES
]


@pytest.mark.parametrize(("document", "viewer", "hidden"), CASES)
async def test_a_hidden_video_answers_byte_for_byte_like_a_missing_one(
    world: World, document: str, viewer: str, hidden: str
) -> None:
    as_ = None if viewer == "anon" else viewer
    for_hidden = await world.gql.raw(document, {"id": world.video_ids[hidden]}, as_=as_)
    for_missing = await world.gql.raw(document, {"id": MISSING_VIDEO}, as_=as_)
    assert for_hidden.status_code == for_missing.status_code
    assert for_hidden.headers.get("content-type") == for_missing.headers.get("content-type")
    assert for_hidden.content == for_missing.content
    body = for_hidden.json()
    if document in QUERIES:
        assert body == {"data": QUERIES[document]}
    else:
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]


async def test_a_visible_video_is_served_by_video_and_node_alike(world: World) -> None:
    for viewer in ("bob", "alice"):  # the author, and an approved follower
        for document in (VIDEO_QUERY, NODE_QUERY):
            data = await world.ok(document, {"id": world.video_ids[BOB_CLIP]}, as_=viewer)
            found = data["video" if document == VIDEO_QUERY else "node"]
            assert found == {"id": world.video_ids[BOB_CLIP], "caption": BOB_CLIP, "likeCount": 2}
    for viewer in ("carol", "erin"):
        data = await world.ok(NODE_QUERY, {"id": world.video_ids[BOB_CLIP]}, as_=viewer)
        assert data == {"node": None}


async def test_liking_a_hidden_video_changes_nothing(world: World) -> None:
    result = await world.like(BOB_CLIP, as_="erin")
    assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"]
    assert result.get("data") is None
    # alice (an approved follower of bob) may see it, and its count did not move.
    video = await world.video(BOB_CLIP, as_="alice")
    assert video is not None
    assert video["likeCount"] == 2


async def test_a_video_appears_on_approval_and_disappears_on_removal(world: World) -> None:
    assert await world.video(BOB_CLIP, as_="carol") is None
    assert await world.must("approveFollower", "carol", as_="bob") == "APPROVED"
    assert await world.video(BOB_CLIP, as_="carol") is not None
    assert await world.must("removeFollower", "carol", as_="bob") == "NONE"
    assert await world.video(BOB_CLIP, as_="carol") is None
    assert await world.video(BOB_CLIP, as_="alice") is not None  # alice still follows bob
