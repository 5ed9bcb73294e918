"""A change that commits between a like mutation's lookup and its transaction.

The lookup found the video visible; a block or a switch to private lands before the
transaction runs (as a concurrent mutation would commit in between). The transaction
judges visibility again, in its own statements: a like is refused, an unlike is done
but answers as if the video were missing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from api import mutations
from models import Account, Block, Like, Video
from tests.conftest import Gql, error_codes

LIKE = "mutation($v: ID!) { likeVideo(videoId: $v) { likeCount } }"
UNLIKE = "mutation($v: ID!) { unlikeVideo(videoId: $v) { likeCount } }"


async def _alice_blocks_mallory() -> None:
    alice = await Account.get(handle="alice")
    mallory = await Account.get(handle="mallory")
    await Block.create(blocker_id=alice.id, blocked_id=mallory.id)


async def _alice_turns_private() -> None:
    # mallory does not follow alice: her videos are hidden from mallory now
    await Account.filter(handle="alice").update(is_private=True)


async def _alices_video(gql: Gql) -> str:
    await gql.sign_up("alice")
    await gql.sign_up("mallory")
    created = await gql.ok('mutation { createVideo(caption: "hi") { id } }', as_="alice")
    video_id: str = created["createVideo"]["id"]
    return video_id


def _after_the_lookup(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[], Awaitable[None]]
) -> None:
    lookup = mutations.require_visible_video

    async def lookup_then_change(*args: Any) -> Any:
        found = await lookup(*args)
        await change()
        return found

    monkeypatch.setattr(mutations, "require_visible_video", lookup_then_change)


@pytest.mark.parametrize("change", [_alice_blocks_mallory, _alice_turns_private])
async def test_a_change_landing_after_the_lookup_still_stops_the_like(
    gql: Gql, monkeypatch: pytest.MonkeyPatch, change: Callable[[], Awaitable[None]]
) -> None:
    video_id = await _alices_video(gql)
    _after_the_lookup(monkeypatch, change)

    result = await gql(LIKE, {"v": video_id}, as_="mallory")

    assert error_codes(result) == ["NOT_FOUND"]
    assert await Like.all().count() == 0
    assert (await Video.get()).like_count == 0


async def test_an_unlike_whose_video_turns_hidden_after_the_lookup_unlikes_and_answers_not_found(
    gql: Gql, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The like was mallory's to take back; the video it would answer with is hidden
    now, judged in the counter's own statement."""
    video_id = await _alices_video(gql)
    await gql.ok(LIKE, {"v": video_id}, as_="mallory")
    _after_the_lookup(monkeypatch, _alice_turns_private)

    result = await gql(UNLIKE, {"v": video_id}, as_="mallory")

    assert error_codes(result) == ["NOT_FOUND"]
    assert (result.get("data") or {}).get("unlikeVideo") is None
    assert await Like.all().count() == 0
    assert (await Video.get()).like_count == 0
