"""SIGKILL in the middle of a write storm: every answered write survives the restart,
and every counter still equals its rows."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from models import Follow, Like, Video
from tests.live_server import (
    FOLLOW,
    LIKE,
    UNFOLLOW,
    UNLIKE,
    Api,
    LiveServer,
    Persona,
    seed_accounts,
    seed_video,
    video_pk,
)
from tests.test_check import likegraph_check

WRITERS = 24
MAX_CALLS = 200  # per writer: the kill comes long before, but the loop is bounded anyway
KILL_AFTER_ANSWERS = 240

Pair = tuple[int, str]  # (account id, the video or handle its calls named)


@dataclass
class Writer:
    """One account's calls, one at a time: each answered, then at most one unanswered."""

    persona: Persona
    answered: list[tuple[str, str]] = field(default_factory=list)  # (mutation, target)
    unanswered: tuple[str, str] | None = None


def _expected(writers: list[Writer], on: str, off: str) -> tuple[set[Pair], set[Pair]]:
    """(account, target) pairs that must exist, and the pairs whose fate is unknown:
    the one call of each writer that was cut off may or may not have committed."""
    must: set[Pair] = set()
    unknown: set[Pair] = set()
    for writer in writers:
        last: dict[str, str] = {}
        for mutation, target in writer.answered:
            if mutation in (on, off):
                last[target] = mutation
        must |= {(writer.persona.id, t) for t, m in last.items() if m == on}
        if writer.unanswered is not None and writer.unanswered[0] in (on, off):
            unknown.add((writer.persona.id, writer.unanswered[1]))
    return must - unknown, unknown


async def test_a_sigkill_mid_storm_loses_no_answered_write_and_no_counter_drifts(
    database_url: str, tmp_path: Path
) -> None:
    author = (await seed_accounts("author", 1))[0]
    personas = await seed_accounts("writer", WRITERS)
    stars = await seed_accounts("pubstar", 2) + await seed_accounts("privstar", 2, private=True)
    videos = [await seed_video(author, f"clip {i}") for i in range(3)]
    writers = [Writer(p) for p in personas]
    answers = 0
    killed = asyncio.Event()
    server = LiveServer(database_url, tmp_path)
    await server.start()

    async def storm(writer: Writer, api: Api, rng: random.Random) -> None:
        nonlocal answers
        for _ in range(MAX_CALLS):
            if rng.random() < 0.7:
                call = (rng.choice((LIKE, LIKE, UNLIKE)), rng.choice(videos))
                variables = {"v": call[1]}
            else:
                call = (rng.choice((FOLLOW, UNFOLLOW)), rng.choice(stars).handle)
                variables = {"h": call[1]}
            try:
                result = await api.call(call[0], variables, writer.persona.token)
            except (httpx.TransportError, ValueError):  # cut off, or a torn answer
                writer.unanswered = call
                return
            assert "errors" not in result, result
            writer.answered.append(call)
            answers += 1
            if answers == KILL_AFTER_ANSWERS:
                server.kill()  # every worker at once, with calls in flight
                killed.set()

    try:
        async with Api(server) as api:
            rng = random.Random(11)
            seeds = [rng.random() for _ in writers]
            await asyncio.gather(
                *(storm(w, api, random.Random(s)) for w, s in zip(writers, seeds, strict=True))
            )
        assert killed.is_set()
        assert any(w.unanswered is not None for w in writers)  # calls were in flight

        await server.start()  # the same database, after the crash
        async with Api(server) as api:
            for video in videos:
                data = await api.ok("query($v: ID!) { video(id: $v) { likeCount } }", {"v": video})
                assert (
                    data["video"]["likeCount"]
                    == await Like.filter(video_id=video_pk(video)).count()
                )
    finally:
        server.stop()

    must_like, unknown_like = _expected(writers, LIKE, UNLIKE)
    stored_likes = {
        (account, video)
        for video in videos
        for account in await Like.filter(video_id=video_pk(video)).values_list(
            "account_id", flat=True
        )
    }
    assert must_like - stored_likes == set(), "answered likes lost"
    assert stored_likes - must_like <= unknown_like, "answered unlikes undone"
    for video in videos:
        stored = await Video.get(id=video_pk(video))
        assert stored.like_count == await Like.filter(video_id=stored.id).count()

    by_handle = {s.handle: s for s in stars}
    must_follow, unknown_follow = _expected(writers, FOLLOW, UNFOLLOW)
    edges = await Follow.all().values_list("follower_id", "followee_id", "status")
    stored_follows = {
        (f, h) for f, followee, _ in edges for h, s in by_handle.items() if s.id == followee
    }
    assert must_follow - stored_follows == set(), "answered follows lost"
    assert stored_follows - must_follow <= unknown_follow, "answered unfollows undone"
    private_ids = {s.id for s in stars if s.handle.startswith("privstar")}
    assert all((status == "PENDING") == (followee in private_ids) for _, followee, status in edges)

    code, output = likegraph_check(database_url, tmp_path)
    assert code == 0, output
