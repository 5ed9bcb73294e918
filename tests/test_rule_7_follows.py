"""Rule 7: follow requests, privacy changes, blocks; and the follow fields that show them."""

from __future__ import annotations

from typing import Any

from tests.world import BOB_CLIP, POPULAR, World

STATUS = """
query($h: String!) {
  account(handle: $h) { viewerFollowStatus followerCount followingCount }
}
"""


async def _status(world: World, handle: str, *, as_: str) -> dict[str, Any] | None:
    data = await world.ok(STATUS, {"h": handle}, as_=as_)
    account: dict[str, Any] | None = data["account"]
    return account


async def test_following_a_public_account_is_approved_at_once(world: World) -> None:
    assert await world.must("follow", "erin", as_="carol") == "APPROVED"
    assert (await _status(world, "erin", as_="carol")) == {
        "viewerFollowStatus": "APPROVED",
        "followerCount": 1,
        "followingCount": 0,
    }
    # a repeat keeps the edge as it is
    assert await world.must("follow", "erin", as_="carol") == "APPROVED"


async def test_following_a_private_account_is_pending_until_approved(world: World) -> None:
    assert await world.must("follow", "dora", as_="erin") == "PENDING"
    assert await world.must("follow", "dora", as_="erin") == "PENDING"
    assert await world.video_captions("dora", as_="erin") == []
    await world.create_video("dora: clip", as_="dora")
    assert await world.video("dora: clip", as_="erin") is None
    assert await world.must("approveFollower", "erin", as_="dora") == "APPROVED"
    assert await world.video_captions("dora", as_="erin") == ["dora: clip"]
    assert await world.video_captions("dora", as_="anon") == []


async def test_viewer_follow_status_is_none_pending_or_approved_and_none_for_anon_and_self(
    world: World,
) -> None:
    assert (await _status(world, "bob", as_="carol"))["viewerFollowStatus"] == "PENDING"
    assert (await _status(world, "bob", as_="alice"))["viewerFollowStatus"] == "APPROVED"
    assert (await _status(world, "bob", as_="erin"))["viewerFollowStatus"] == "NONE"
    assert (await _status(world, "bob", as_="dora"))["viewerFollowStatus"] == "NONE"  # removed
    assert (await _status(world, "bob", as_="anon"))["viewerFollowStatus"] == "NONE"
    assert (await _status(world, "bob", as_="bob"))["viewerFollowStatus"] == "NONE"
    viewer = await world.ok("{ viewer { handle viewerFollowStatus } }", as_="bob")
    assert viewer == {"viewer": {"handle": "bob", "viewerFollowStatus": "NONE"}}
    # the status is the viewer's edge to the account, not the account's edge to the viewer
    assert (await _status(world, "carol", as_="bob"))["viewerFollowStatus"] == "NONE"


async def test_follower_and_following_counts_count_approved_edges_only(world: World) -> None:
    # bob: followed by alice (approved) and carol (pending); follows alice.
    # alice: followed by bob and dora; follows bob. Her edges with mallory ended at the block.
    counts = {
        handle: await _status(world, handle, as_="erin")
        for handle in ("alice", "bob", "carol", "dora", "mallory")
    }
    assert {h: (c["followerCount"], c["followingCount"]) for h, c in counts.items()} == {
        "alice": (2, 1),
        "bob": (1, 1),
        "carol": (0, 0),
        "dora": (0, 1),
        "mallory": (0, 0),
    }
    assert await world.must("approveFollower", "carol", as_="bob") == "APPROVED"
    assert (await _status(world, "bob", as_="erin"))["followerCount"] == 2
    assert (await _status(world, "carol", as_="erin"))["followingCount"] == 1


async def test_turning_public_approves_every_pending_request(world: World) -> None:
    assert await world.must("follow", "bob", as_="erin") == "PENDING"
    await world.set_privacy(False, as_="bob")
    for follower in ("carol", "erin"):
        assert (await _status(world, "bob", as_=follower))["viewerFollowStatus"] == "APPROVED"
    assert (await _status(world, "bob", as_="anon"))["followerCount"] == 3
    # and a new follow is approved at once
    assert await world.must("follow", "bob", as_="dora") == "APPROVED"


async def test_turning_private_keeps_followers_and_hides_content_from_the_rest(
    world: World,
) -> None:
    await world.set_privacy(True, as_="alice")
    for follower in ("bob", "dora"):
        assert (await _status(world, "alice", as_=follower))["viewerFollowStatus"] == "APPROVED"
        assert await world.video(POPULAR, as_=follower) is not None
    assert (await _status(world, "alice", as_="anon"))["followerCount"] == 2
    for outsider in ("anon", "erin", "carol"):
        assert await world.video(POPULAR, as_=outsider) is None, outsider
    # a new follow now waits for approval
    assert await world.must("follow", "alice", as_="erin") == "PENDING"


async def test_blocking_removes_follow_edges_both_ways_and_unblocking_restores_none(
    world: World,
) -> None:
    # alice and bob follow each other; carol is unrelated and keeps her pending request.
    assert (await _status(world, "bob", as_="alice"))["viewerFollowStatus"] == "APPROVED"
    assert (await _status(world, "alice", as_="bob"))["viewerFollowStatus"] == "APPROVED"
    assert await world.must("block", "alice", as_="bob") is True
    assert await world.must("unblock", "alice", as_="bob") is True
    assert (await _status(world, "bob", as_="alice")) == {
        "viewerFollowStatus": "NONE",
        "followerCount": 0,
        "followingCount": 0,
    }
    assert (await _status(world, "alice", as_="bob")) == {
        "viewerFollowStatus": "NONE",
        "followerCount": 1,  # dora still follows alice
        "followingCount": 0,
    }
    assert (await _status(world, "bob", as_="carol"))["viewerFollowStatus"] == "PENDING"
    assert await world.video(BOB_CLIP, as_="alice") is None
    assert await world.likers(POPULAR, as_="alice") == ["erin"]


async def test_blocking_removes_a_pending_request_too(world: World) -> None:
    assert await world.must("block", "bob", as_="carol") is True
    assert await world.must("unblock", "bob", as_="carol") is True
    assert (await _status(world, "bob", as_="carol"))["viewerFollowStatus"] == "NONE"
    assert (await _status(world, "bob", as_="alice"))["viewerFollowStatus"] == "APPROVED"


async def test_unfollow_withdraws_a_request_or_ends_a_follow(world: World) -> None:
    assert await world.must("unfollow", "bob", as_="carol") == "NONE"
    assert (await _status(world, "bob", as_="carol"))["viewerFollowStatus"] == "NONE"
    assert await world.must("unfollow", "bob", as_="alice") == "NONE"
    assert (await _status(world, "bob", as_="alice"))["viewerFollowStatus"] == "NONE"
    assert await world.must("unfollow", "bob", as_="alice") == "NONE"  # idempotent
    assert (await _status(world, "bob", as_="erin"))["followerCount"] == 0


async def test_remove_follower_rejects_a_request_or_removes_a_follower(world: World) -> None:
    assert await world.must("removeFollower", "carol", as_="bob") == "NONE"
    assert (await _status(world, "bob", as_="carol"))["viewerFollowStatus"] == "NONE"
    assert await world.must("removeFollower", "alice", as_="bob") == "NONE"
    assert (await _status(world, "bob", as_="alice"))["viewerFollowStatus"] == "NONE"
    # bob still follows alice: removing a follower does not end the viewer's own follow
    assert (await _status(world, "alice", as_="bob"))["viewerFollowStatus"] == "APPROVED"


async def test_an_unfollow_shows_in_the_very_next_request(world: World) -> None:
    assert await world.likers(BOB_CLIP, as_="alice") == ["alice"]
    assert await world.likers(POPULAR, as_="alice") == ["erin", "bob"]
    assert await world.must("unfollow", "bob", as_="alice") == "NONE"
    assert await world.likers(POPULAR, as_="alice") == ["erin"]
    assert await world.video(BOB_CLIP, as_="alice") is None


async def test_a_block_shows_in_the_very_next_request(world: World) -> None:
    assert await world.likers(POPULAR, as_="carol") == ["erin", "carol"]
    assert await world.must("block", "carol", as_="erin") is True
    assert await world.likers(POPULAR, as_="carol") == ["carol"]
    assert await world.account("erin", as_="carol") is None
    # and an unblock shows as soon
    assert await world.must("unblock", "carol", as_="erin") is True
    assert await world.likers(POPULAR, as_="carol") == ["erin", "carol"]
    assert await world.account("erin", as_="carol") is not None


async def test_a_privacy_change_shows_in_the_very_next_request(world: World) -> None:
    assert await world.likers(POPULAR, as_="anon") == ["erin"]
    await world.set_privacy(True, as_="erin")
    assert await world.likers(POPULAR, as_="anon") == []
    assert await world.likers(POPULAR, as_="erin") == ["erin"]  # herself (rule 8)
    await world.set_privacy(False, as_="dora")
    assert await world.likers(POPULAR, as_="anon") == ["dora"]
    assert await world.likers(POPULAR, as_="alice") == ["bob", "dora"]
    await world.set_privacy(False, as_="erin")
    assert await world.likers(POPULAR, as_="anon") == ["erin", "dora"]
