"""A change that commits after a like mutation began, just before its write.

The request found the video visible (on SQLite its lookup did; on PostgreSQL nothing is
read before the write); a block or a switch to private lands before the write runs, as
a concurrent mutation would commit in between. The write judges visibility itself, in
its own statements: the like or unlike changes nothing, and the answer is NOT_FOUND, as
for a missing video.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from api import likes, mutations
from models import Account, Block, Like, Video
from tests.conftest import ENGINE, Gql, error_codes, until_waiting_for_locks

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


def _before_the_write(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[], Awaitable[None]]
) -> None:
    write = likes.write_transaction

    async def change_then_write(*args: Any, **kwargs: Any) -> Any:
        await change()
        return await write(*args, **kwargs)

    monkeypatch.setattr(likes, "write_transaction", change_then_write)


@pytest.mark.parametrize("change", [_alice_blocks_mallory, _alice_turns_private])
async def test_a_change_landing_before_the_write_stops_the_like(
    gql: Gql, monkeypatch: pytest.MonkeyPatch, change: Callable[[], Awaitable[None]]
) -> None:
    video_id = await _alices_video(gql)
    _before_the_write(monkeypatch, change)

    result = await gql(LIKE, {"v": video_id}, as_="mallory")

    assert error_codes(result) == ["NOT_FOUND"]
    assert await Like.all().count() == 0
    assert (await Video.get()).like_count == 0


async def test_an_unlike_whose_video_turns_hidden_before_the_write_keeps_the_like(
    gql: Gql, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hidden video's like is not the viewer's to see, nor to take back: the unlike
    changes nothing and answers NOT_FOUND, exactly as for a missing video."""
    video_id = await _alices_video(gql)
    await gql.ok(LIKE, {"v": video_id}, as_="mallory")
    _before_the_write(monkeypatch, _alice_turns_private)

    result = await gql(UNLIKE, {"v": video_id}, as_="mallory")

    assert error_codes(result) == ["NOT_FOUND"]
    assert (result.get("data") or {}).get("unlikeVideo") is None
    assert await Like.all().count() == 1
    assert (await Video.get()).like_count == 1


async def test_a_like_waits_for_a_block_under_way_and_then_sees_it(gql: Gql) -> None:
    """Rule 11 at its sharpest: alice's block of mallory has locked both accounts and
    written its row, not yet committed, when mallory's like arrives. The like must wait
    for it and then judge with the block in view (on PostgreSQL: a snapshot taken after
    the lock wait, not the one its statement began with)."""
    video_id = await _alices_video(gql)
    alice = await Account.get(handle="alice")
    mallory = await Account.get(handle="mallory")
    held, commit = asyncio.Event(), asyncio.Event()

    async def block_under_way() -> None:
        async with in_transaction() as transaction:
            if ENGINE == "postgres":  # as blockAccount locks the pair
                await mutations._lock_pair(transaction, alice.id, mallory.id, "FOR NO KEY UPDATE")
            await Block.create(blocker_id=alice.id, blocked_id=mallory.id, using_db=transaction)
            held.set()
            await commit.wait()

    blocking = asyncio.create_task(block_under_way())
    await held.wait()
    liking = asyncio.create_task(gql(LIKE, {"v": video_id}, as_="mallory"))
    await until_waiting_for_locks()
    assert not liking.done()
    commit.set()
    await blocking
    result = await liking

    assert error_codes(result) == ["NOT_FOUND"]
    assert await Like.all().count() == 0
    assert (await Video.get()).like_count == 0
