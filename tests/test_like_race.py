"""A block that commits between likeVideo's lookup and its insert stops the like."""

from __future__ import annotations

from typing import Any

import pytest

from api import mutations
from models import Account, Block, Like, Video
from tests.conftest import Gql, error_codes


async def test_a_block_landing_after_the_lookup_still_stops_the_like(
    gql: Gql, monkeypatch: pytest.MonkeyPatch
) -> None:
    await gql.sign_up("alice")
    await gql.sign_up("mallory")
    video_id = (await gql.ok('mutation { createVideo(caption: "hi") { id } }', as_="alice"))[
        "createVideo"
    ]["id"]
    lookup = mutations.require_visible_video

    async def lookup_then_alice_blocks(*args: Any) -> Any:
        found = await lookup(*args)
        alice = await Account.get(handle="alice")
        mallory = await Account.get(handle="mallory")
        await Block.create(blocker_id=alice.id, blocked_id=mallory.id)
        return found

    monkeypatch.setattr(mutations, "require_visible_video", lookup_then_alice_blocks)
    result = await gql(
        "mutation($v: ID!) { likeVideo(videoId: $v) { likeCount } }", {"v": video_id}, as_="mallory"
    )

    assert error_codes(result) == ["NOT_FOUND"]
    assert await Like.all().count() == 0
    assert (await Video.get()).like_count == 0
