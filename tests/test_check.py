"""`likegraph check` finds drift between counters and rows; `--repair` fixes it all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from api.ids import decode_id
from models import Account, Block, Follow, FollowState, Like, Video
from models.sql import Sql
from tests.conftest import Gql

CREATE = 'mutation { createVideo(caption: "clip") { id } }'
LIKE = "mutation($v: ID!) { likeVideo(videoId: $v) { likeCount } }"
FOLLOW = "mutation($h: String!) { follow(handle: $h) }"


def likegraph_check(database_url: str, directory: Path, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIKEGRAPH_")}
    env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-m", "api", "check", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


async def _world(gql: Gql) -> dict[str, int]:
    """alice (public) with two videos liked by bob (private) and carol; dora (private)
    with carol's pending request; erin follows alice."""
    ids = {}
    for handle, private in [("alice", False), ("bob", True), ("carol", False)]:
        ids[handle] = decode_id(await gql.sign_up(handle, private=private))[1]
    for handle, private in [("dora", True), ("erin", False)]:
        ids[handle] = decode_id(await gql.sign_up(handle, private=private))[1]
    for n in (1, 2):
        video = (await gql.ok(CREATE, as_="alice"))["createVideo"]["id"]
        ids[f"video{n}"] = decode_id(video)[1]
        for liker in ("bob", "carol"):
            await gql.ok(LIKE, {"v": video}, as_=liker)
    assert await gql.ok(FOLLOW, {"h": "dora"}, as_="carol") == {"follow": "PENDING"}
    assert await gql.ok(FOLLOW, {"h": "alice"}, as_="erin") == {"follow": "APPROVED"}
    return ids


async def test_check_passes_on_data_written_through_the_api(
    gql: Gql, database_url: str, tmp_path: Path
) -> None:
    await _world(gql)
    code, output = likegraph_check(database_url, tmp_path)
    assert code == 0, output
    assert "like_count: ok" in output
    assert "no drift" in output


async def test_check_reports_each_kind_of_drift_and_exits_non_zero(
    gql: Gql, database_url: str, tmp_path: Path
) -> None:
    ids = await _world(gql)
    sql = Sql()
    await sql.execute(f"UPDATE video SET like_count = 7 WHERE id = {sql.p(ids['video1'])}")
    sql = Sql()
    await sql.execute(
        f"UPDATE video_like SET liker_public = TRUE WHERE account_id = {sql.p(ids['bob'])}"
    )
    # A block written without the mutation, which would have removed erin's follow.
    await Block.create(blocker_id=ids["alice"], blocked_id=ids["erin"])
    # dora turned public by hand, which would have approved carol's request.
    await Account.filter(id=ids["dora"]).update(is_private=False)

    code, output = likegraph_check(database_url, tmp_path)
    assert code == 1, output
    lines = {line.split(":", 1)[0]: line for line in output.splitlines()}
    assert lines["like_count"].startswith("like_count: 1 videos")
    assert f"video_id={ids['video1']}, like_count=7, likes=2" in lines["like_count"]
    assert lines["liker_public"].startswith("liker_public: 2 likes")
    assert lines["follow_across_block"].startswith("follow_across_block: 1 follow edges")
    assert lines["pending_to_public"].startswith("pending_to_public: 1 PENDING")
    assert "likegraph check: 5 drifted rows" in output
    # A check changes nothing.
    assert (await Video.get(id=ids["video1"])).like_count == 7


async def test_repair_fixes_every_drift_in_one_go_and_check_then_passes(
    gql: Gql, database_url: str, tmp_path: Path
) -> None:
    ids = await _world(gql)
    sql = Sql()
    await sql.execute(f"UPDATE video SET like_count = 7 WHERE id = {sql.p(ids['video1'])}")
    # A like row without its counter bump.
    await Like.create(account_id=ids["erin"], video_id=ids["video2"], liker_public=True)
    sql = Sql()
    await sql.execute(
        f"UPDATE video_like SET liker_public = TRUE WHERE account_id = {sql.p(ids['bob'])}"
    )
    await Block.create(blocker_id=ids["erin"], blocked_id=ids["alice"])
    await Account.filter(id=ids["dora"]).update(is_private=False)
    # Both kinds at once: a pending request to a public account across a block is
    # removed, not approved.
    await Follow.create(
        follower_id=ids["bob"], followee_id=ids["carol"], status=FollowState.PENDING
    )
    await Block.create(blocker_id=ids["carol"], blocked_id=ids["bob"])

    code, output = likegraph_check(database_url, tmp_path, "--repair")
    assert code == 0, output
    assert "like_count: 2 videos" in output
    assert "liker_public: 2 likes" in output
    assert "follow_across_block: 2 follow edges" in output
    assert "pending_to_public: 2 PENDING" in output
    # erin's like of alice's video2, across erin's block of alice (rule 11): removed, and
    # video2's count, first set right with it, lowered again without it.
    assert "like_across_block: 1 likes between a blocked pair" in output
    assert "repaired 9 drifted rows" in output

    for video_id, likers in [(ids["video1"], 2), (ids["video2"], 2)]:
        assert (await Video.get(id=video_id)).like_count == likers
        assert await Like.filter(video_id=video_id).count() == likers
    bob_likes = await Like.filter(account_id=ids["bob"]).values_list("liker_public", flat=True)
    assert bob_likes == [False, False]
    edges = await Follow.all().values_list("follower_id", "followee_id", "status")
    assert edges == [(ids["carol"], ids["dora"], FollowState.APPROVED)]

    code, output = likegraph_check(database_url, tmp_path)
    assert code == 0, output
    assert "no drift" in output


def test_check_refuses_a_database_file_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "typo.sqlite3"
    code, output = likegraph_check(f"sqlite://{missing}", tmp_path)
    assert code == 2
    assert f"no database file at {missing}" in output
    assert "DATABASE_URL" in output
    # Nothing was made there: no empty database, no secret file.
    assert sorted(p.name for p in tmp_path.iterdir()) == []
