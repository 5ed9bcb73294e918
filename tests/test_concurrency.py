"""Concurrent writers against a running `likegraph serve --workers N` (real HTTP, real
processes): no like lost or double-counted, no stale privacy copy, rule 7 kept."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import sqlite3
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from api import db, likes
from api.settings import load_settings
from models import Account, Block, Follow, Like, Video
from models.sql import Sql
from tests.conftest import ENGINE, Gql, until_waiting_for_locks
from tests.live_server import (
    APPROVE,
    BLOCK,
    FOLLOW,
    LIKE,
    SET_PRIVACY,
    UNFOLLOW,
    UNLIKE,
    WORKERS,
    Api,
    Persona,
    live_server,
    seed_accounts,
    seed_video,
    video_pk,
)

LIKERS = 40
CALLS_PER_LIKER = 6
BURST = 25

LIKERS_PAGE = """
query($v: ID!, $after: String) {
  video(id: $v) {
    likeCount
    likers(first: 100, after: $after) {
      edges { node { handle } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def _stored_likers(video_id: str) -> set[int]:
    return set(await Like.filter(video_id=video_pk(video_id)).values_list("account_id", flat=True))


async def _stored_like_count(video_id: str) -> int:
    video = await Video.get(id=video_pk(video_id))
    return video.like_count


async def _listed_likers(api: Api, video_id: str, token: str) -> tuple[int, set[str]]:
    """likeCount and every liker handle, page by page, as a client reads them."""
    handles: set[str] = set()
    after: str | None = None
    while True:
        data = await api.ok(LIKERS_PAGE, {"v": video_id, "after": after}, token)
        page = data["video"]["likers"]
        handles |= {edge["node"]["handle"] for edge in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return data["video"]["likeCount"], handles
        after = page["pageInfo"]["endCursor"]


async def _likes_of(account: Persona, video_id: str) -> int:
    return await Like.filter(account_id=account.id, video_id=video_pk(video_id)).count()


async def test_hundreds_of_concurrent_likes_and_unlikes_keep_like_count_equal_to_stored_likes(
    database_url: str, tmp_path: Path
) -> None:
    author = (await seed_accounts("author", 1))[0]
    likers = await seed_accounts("liker", LIKERS)
    repeater = (await seed_accounts("repeater", 1))[0]
    video = await seed_video(author)
    rng = random.Random(5)
    plans = {p.id: [rng.choice((LIKE, UNLIKE)) for _ in range(CALLS_PER_LIKER)] for p in likers}
    burst_checks: list[tuple[str, int]] = []

    async with live_server(database_url, tmp_path) as server, Api(server) as api:

        async def one_account(persona: Persona) -> None:
            # One account's calls in order, while all accounts run at once.
            for mutation in plans[persona.id]:
                data = await api.ok(mutation, {"v": video}, persona.token)
                field = "likeVideo" if mutation == LIKE else "unlikeVideo"
                assert data[field]["viewerHasLiked"] is (mutation == LIKE)

        async def burst(calls_of: list[str]) -> list[dict[str, Any]]:
            calls = [api.ok(m, {"v": video}, repeater.token) for m in calls_of]
            return list(await asyncio.gather(*calls))

        async def the_repeater() -> None:
            # The same account sending the same call many times at once.
            liked = await burst([LIKE] * BURST)
            burst_checks.append(("likes", await _likes_of(repeater, video)))
            assert all(r["likeVideo"]["viewerHasLiked"] for r in liked)
            unliked = await burst([UNLIKE] * BURST)
            burst_checks.append(("unlikes", await _likes_of(repeater, video)))
            assert not any(r["unlikeVideo"]["viewerHasLiked"] for r in unliked)
            mixed = [LIKE, UNLIKE] * (BURST // 2)
            rng.shuffle(mixed)
            await burst(mixed)

        await asyncio.gather(the_repeater(), *(one_account(p) for p in likers))

        expected = {p.id for p in likers if plans[p.id][-1] == LIKE}
        stored = await _stored_likers(video)
        # The mixed burst may end either way: the last call to commit wins.
        assert stored - {repeater.id} == expected
        # Twenty-five likes at once made one like; twenty-five unlikes removed it.
        assert burst_checks == [("likes", 1), ("unlikes", 0)]
        assert await _stored_like_count(video) == len(stored)
        like_count, handles = await _listed_likers(api, video, author.token)
        assert like_count == len(stored)
        by_id = {p.id: p.handle for p in [*likers, repeater]}
        assert handles == {by_id[i] for i in stored}


async def test_likes_racing_privacy_changes_leave_every_liker_public_copy_current(
    database_url: str, tmp_path: Path
) -> None:
    author = (await seed_accounts("author", 1))[0]
    togglers = await seed_accounts("toggler", 8)
    crowd = await seed_accounts("crowd", 16)
    videos = [await seed_video(author, f"clip {i}") for i in range(2)]

    async with live_server(database_url, tmp_path) as server, Api(server) as api:

        async def toggle(persona: Persona) -> None:
            for round_ in range(12):
                await api.ok(SET_PRIVACY, {"p": round_ % 2 == 0}, persona.token)

        async def like_and_unlike(persona: Persona, offset: int, steps: int) -> None:
            for step in range(steps):
                video = videos[(step + offset) % len(videos)]
                await api.ok(LIKE if step % 3 else UNLIKE, {"v": video}, persona.token)

        # The crowd keeps the two videos' rows busy, so that a toggler's like waits
        # before it commits: the window in which a privacy change could slip past it.
        await asyncio.gather(
            *(toggle(p) for p in togglers),
            *(like_and_unlike(p, i, 16) for i, p in enumerate(togglers)),
            *(like_and_unlike(p, i + 1, 16) for i, p in enumerate(togglers)),
            *(like_and_unlike(p, i, 8) for i, p in enumerate(crowd)),
        )

    sql = Sql()
    stale = await sql.rows(
        "SELECT l.account_id, l.video_id, l.liker_public, a.is_private FROM video_like l"
        " JOIN account a ON a.id = l.account_id WHERE l.liker_public = a.is_private"
    )
    assert stale == []
    toggler_ids = [p.id for p in togglers]
    assert await Like.filter(account_id__in=toggler_ids).count() > 0  # the race ran on likes
    for video in videos:
        assert await _stored_like_count(video) == len(await _stored_likers(video))


async def test_a_privacy_change_during_a_like_leaves_the_likes_public_copy_current(
    gql: Gql, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race, made certain: the like has copied the liker's privacy onto its row
    and is held before its commit while the liker turns private."""
    await gql.sign_up("author")
    await gql.sign_up("liker")
    created = await gql.ok('mutation { createVideo(caption: "clip") { id } }', as_="author")
    video = created["createVideo"]["id"]
    release = asyncio.Event()

    async def turn_private() -> dict[str, Any]:
        await until_waiting_for_locks(1)  # the like's row is in, its transaction still open
        setting = asyncio.create_task(gql.ok(SET_PRIVACY, {"p": True}, as_="liker"))
        await until_waiting_for_locks(2)  # setPrivacy waits for the like, not the reverse
        release.set()
        return await setting

    if ENGINE == "postgres":
        # A like is one statement: another transaction holds the video's row, so the
        # like's counter update waits after its insert, inside the statement.
        held = asyncio.Event()
        holder = asyncio.create_task(_hold_video_row(video_pk(video), held, release))
        await held.wait()
    else:
        counted = likes._counted_sqlite

        async def slow_commit(*args: Any) -> Any:
            written = await counted(*args)
            await release.wait()  # the like's row and count are in, not yet committed
            return written

        monkeypatch.setattr(likes, "_counted_sqlite", slow_commit)
    await asyncio.gather(gql.ok(LIKE, {"v": video}, as_="liker"), turn_private())
    if ENGINE == "postgres":
        await holder
    like = await Like.get(video_id=video_pk(video))
    assert await Account.filter(id=like.account_id, is_private=True).exists()
    assert like.liker_public is False


async def _hold_video_row(video_id: int, held: asyncio.Event, release: asyncio.Event) -> None:
    async with in_transaction() as transaction:
        await transaction.execute_query(
            "SELECT id FROM video WHERE id = $1 FOR NO KEY UPDATE", [video_id]
        )
        held.set()
        await release.wait()


async def _pending_to_public() -> list[dict[str, Any]]:
    sql = Sql()
    return await sql.rows(
        "SELECT f.follower_id, f.followee_id FROM follow f JOIN account a ON a.id = f.followee_id"
        " WHERE f.status = 'PENDING' AND NOT a.is_private"
    )


async def _edges_across_blocks() -> list[dict[str, Any]]:
    sql = Sql()
    return await sql.rows(
        "SELECT f.follower_id, f.followee_id FROM follow f JOIN block b"
        " ON (b.blocker_id = f.follower_id AND b.blocked_id = f.followee_id)"
        " OR (b.blocker_id = f.followee_id AND b.blocked_id = f.follower_id)"
    )


async def test_follows_racing_a_turn_to_public_leave_no_pending_request(
    database_url: str, tmp_path: Path
) -> None:
    star = (await seed_accounts("star", 1, private=True))[0]
    fans = await seed_accounts("fan", 20)

    async with live_server(database_url, tmp_path) as server, Api(server) as api:
        for _round in range(3):
            # Rule 7: an account that turns public approves every pending request, also
            # the ones sent while it was turning.
            follows = [api.ok(FOLLOW, {"h": star.handle}, fan.token) for fan in fans]
            answers = await asyncio.gather(
                *follows[:10], api.ok(SET_PRIVACY, {"p": False}, star.token), *follows[10:]
            )
            assert {a["follow"] for a in answers if "follow" in a} <= {"PENDING", "APPROVED"}
            assert await _pending_to_public() == []
            statuses = await Follow.filter(followee_id=star.id).values_list("status", flat=True)
            assert sorted(statuses) == ["APPROVED"] * len(fans)
            await api.ok(SET_PRIVACY, {"p": True}, star.token)
            await asyncio.gather(*(api.ok(UNFOLLOW, {"h": star.handle}, f.token) for f in fans))
        assert await Follow.filter(followee_id=star.id).count() == 0


async def test_approvals_and_follows_racing_blocks_leave_no_follow_edge_across_a_block(
    database_url: str, tmp_path: Path
) -> None:
    star = (await seed_accounts("star", 1, private=True))[0]
    fans = await seed_accounts("fan", 24)
    blocked_by_star = fans[0::3]
    blocking_star = fans[1::3]
    unblocked = fans[2::3]

    async with live_server(database_url, tmp_path) as server, Api(server) as api:
        await asyncio.gather(*(api.ok(FOLLOW, {"h": star.handle}, f.token) for f in fans))

        async def allowed(call: Any) -> None:
            # Across a block, follow mutations answer NOT_FOUND (rule 6); nothing else.
            result = await call
            codes = {e["extensions"]["code"] for e in result.get("errors", [])}
            assert codes <= {"NOT_FOUND"}, result

        calls = []
        for fan in fans:
            calls.append(allowed(api.call(APPROVE, {"h": fan.handle}, star.token)))
            calls.append(allowed(api.call(FOLLOW, {"h": star.handle}, fan.token)))
            # The star following back, which the fan's block must also cut.
            calls.append(allowed(api.call(FOLLOW, {"h": fan.handle}, star.token)))
        calls += [allowed(api.call(BLOCK, {"h": f.handle}, star.token)) for f in blocked_by_star]
        calls += [allowed(api.call(BLOCK, {"h": star.handle}, f.token)) for f in blocking_star]
        random.Random(7).shuffle(calls)
        await asyncio.gather(*calls)

    assert await _edges_across_blocks() == []
    assert await Block.all().count() == len(blocked_by_star) + len(blocking_star)
    blocked_ids = {f.id for f in [*blocked_by_star, *blocking_star]}
    edges = await Follow.all().values_list("follower_id", "followee_id", "status")
    assert not [e for e in edges if blocked_ids & {e[0], e[1]}]
    # The others were approved (or followed back) with no block in the way.
    for fan in unblocked:
        assert (fan.id, star.id, "APPROVED") in edges
    assert await _pending_to_public() == []
    assert await Account.filter(id=star.id, is_private=True).exists()


def _load_secret(barrier: Barrier, answers: Queue[str]) -> None:
    barrier.wait()  # every process asks for the key at the same moment
    try:
        answers.put(load_settings(env_file=None).secret)
    except Exception as exc:
        answers.put(repr(exc))


def test_processes_starting_at_once_agree_on_one_generated_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers or replicas that start together with no LIKEGRAPH_SECRET must all sign
    with the same generated key, and none may read it half-written."""
    monkeypatch.delenv("LIKEGRAPH_SECRET", raising=False)
    context = multiprocessing.get_context("fork")
    for attempt in range(10):
        monkeypatch.setenv("DATABASE_URL", f"sqlite://{tmp_path}/race{attempt}.sqlite3")
        processes = 8
        barrier = context.Barrier(processes)
        answers: Queue[str] = context.Queue()
        started = [
            context.Process(target=_load_secret, args=(barrier, answers)) for _ in range(processes)
        ]
        for process in started:
            process.start()
        keys = {answers.get(timeout=60) for _ in started}
        for process in started:
            process.join(timeout=60)
        stored = (tmp_path / f"race{attempt}.sqlite3.secret").read_text()
        assert keys == {stored}
        assert len(stored) >= 32


async def test_serve_with_several_workers_signs_and_reads_tokens_with_one_shared_secret(
    database_url: str, tmp_path: Path
) -> None:
    """`likegraph serve --workers N` with no LIKEGRAPH_SECRET: the key is generated once
    (beside a SQLite database, ./likegraph.secret otherwise) and every worker honours
    tokens that any worker issued, and gives an account the same ID."""
    async with live_server(database_url, tmp_path, secret=None) as server:
        async with Api(server) as api:
            signed_up = await api.ok(
                'mutation { signUp(handle: "wanda", password: "password123")'
                " { token account { id } } }"
            )
        token = signed_up["signUp"]["token"]
        wanda = signed_up["signUp"]["account"]["id"]
        # A new connection per request, so the requests spread over the workers.
        for _ in range(4 * server.workers):
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                response = await http.post(
                    "/graphql",
                    json={"query": "{ viewer { handle id } }"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.json() == {"data": {"viewer": {"handle": "wanda", "id": wanda}}}
        log = server.log()
    assert log.count("Started server process") == server.workers == WORKERS
    if ENGINE == "postgres":
        secret_file = tmp_path / "likegraph.secret"
    else:
        secret_file = Path(database_url.removeprefix("sqlite://") + ".secret")
    assert len(secret_file.read_text()) >= 32


async def _commit_elsewhere(database_url: str, statement: str) -> None:
    """A statement committed by another connection, as another worker process would."""
    if ENGINE == "postgres":
        other = await asyncpg.connect(database_url)
        try:
            await other.execute(statement)
        finally:
            await other.close()
        return
    with sqlite3.connect(database_url.removeprefix("sqlite://")) as other:
        other.execute(statement)
    other.close()


async def test_a_write_transaction_whose_snapshot_went_stale_is_run_again_and_counts_once(
    database_url: str,
) -> None:
    """SQLite cannot let a transaction that has read write after another process
    committed (`database is locked` at once, whatever the busy timeout): it is run again
    from the start. PostgreSQL's READ COMMITTED simply reads the newer row."""
    author = (await seed_accounts("author", 1))[0]
    video = video_pk(await seed_video(author))
    attempts = 0

    async def work(conn: BaseDBAsyncClient) -> None:
        nonlocal attempts
        attempts += 1
        await conn.execute_query(f"SELECT like_count FROM video WHERE id = {video}")
        if attempts == 1:
            await _commit_elsewhere(
                database_url, f"UPDATE video SET caption = 'edited' WHERE id = {video}"
            )
        await conn.execute_query(f"UPDATE video SET like_count = like_count + 1 WHERE id = {video}")

    await db.write_transaction(work)
    assert attempts == (1 if ENGINE == "postgres" else 2)
    stored = await Video.get(id=video)
    assert (stored.caption, stored.like_count) == ("edited", 1)


async def test_transactions_that_deadlock_are_run_again_and_each_counts_once(
    database_url: str,
) -> None:
    """PostgreSQL breaks a deadlock by failing one transaction: it is run again. (On
    SQLite one writer at a time cannot deadlock.)"""
    author = (await seed_accounts("author", 1))[0]
    first, second = [video_pk(await seed_video(author)) for _ in range(2)]
    attempts = 0
    both_hold_one = asyncio.Barrier(2)

    def bump_in_order(one: int, other: int) -> Any:
        async def work(conn: BaseDBAsyncClient) -> None:
            nonlocal attempts
            attempts += 1
            await conn.execute_query(
                f"UPDATE video SET like_count = like_count + 1 WHERE id = {one}"
            )
            if attempts <= 2 and ENGINE == "postgres":
                await both_hold_one.wait()  # each holds one row and wants the other's
            await conn.execute_query(
                f"UPDATE video SET like_count = like_count + 1 WHERE id = {other}"
            )

        return work

    await asyncio.gather(
        db.write_transaction(bump_in_order(first, second)),
        db.write_transaction(bump_in_order(second, first)),
    )
    assert attempts == (3 if ENGINE == "postgres" else 2)
    assert [v.like_count for v in await Video.filter(id__in=[first, second])] == [2, 2]


async def test_likes_racing_blocks_leave_no_like_across_a_block_and_exact_counts(
    database_url: str, tmp_path: Path
) -> None:
    """Rule 11 under concurrency: each fan likes the star's video and the star likes each
    fan's video while a third of them block the star and the star blocks another third.
    Afterwards no like joins a blocked pair, and every likeCount equals its stored likes."""
    star = (await seed_accounts("star", 1))[0]
    fans = await seed_accounts("fan", 24)
    star_video = await seed_video(star)
    fan_videos = {f.id: await seed_video(f) for f in fans}
    blocked_by_star, blocking_star = fans[0::3], fans[1::3]

    async with live_server(database_url, tmp_path) as server, Api(server) as api:

        async def allowed(call: Any) -> None:
            # A like across a block that committed first is NOT_FOUND (rule 2); nothing else.
            result = await call
            codes = {e["extensions"]["code"] for e in result.get("errors", [])}
            assert codes <= {"NOT_FOUND"}, result

        calls = []
        for fan in fans:
            calls.append(allowed(api.call(LIKE, {"v": star_video}, fan.token)))
            calls.append(allowed(api.call(LIKE, {"v": fan_videos[fan.id]}, star.token)))
        calls += [allowed(api.call(BLOCK, {"h": f.handle}, star.token)) for f in blocked_by_star]
        calls += [allowed(api.call(BLOCK, {"h": star.handle}, f.token)) for f in blocking_star]
        random.Random(11).shuffle(calls)
        await asyncio.gather(*calls)

    sql = Sql()
    across = await sql.rows(
        "SELECT l.id FROM video_like l JOIN video v ON v.id = l.video_id JOIN block b"
        " ON (b.blocker_id = l.account_id AND b.blocked_id = v.author_id)"
        " OR (b.blocker_id = v.author_id AND b.blocked_id = l.account_id)"
    )
    assert across == []
    for video in await Video.all():
        assert video.like_count == await Like.filter(video_id=video.id).count(), video.id
    # The fans outside any block kept their like, and the star kept hers of their videos.
    for fan in fans[2::3]:
        assert await Like.exists(account_id=fan.id, video_id=video_pk(star_video))
        assert await Like.exists(account_id=star.id, video_id=video_pk(fan_videos[fan.id]))
