"""Read replicas never show what a narrowing change hid (issue 12, item 4).

The test builds its own PostgreSQL primary and streaming replica in a temporary
directory, the replica applying every commit 300 ms late (`recovery_min_apply_delay`),
and runs the app against both with `LIKEGRAPH_REPLICA_URLS` naming the replica. Right
after each block, switch to private, unfollow and removeFollower, the affected viewer's
reads must not show what the change hid, though the lagging replica still holds it; once
the replica has caught up, reads go to it; when it dies, the primary answers them.

PostgreSQL half only (`LIKEGRAPH_TEST_ENGINE=postgres`): the servers are its own, but it
needs the PostgreSQL 15 server binaries, and CI (LIKEGRAPH_REQUIRE_POSTGRES) fails when
they are missing instead of skipping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from api import db
from api.app import create_app
from api.ids import Kind, encode_id
from api.settings import Settings, SettingsError, load_settings
from auth.passwords import hash_password
from auth.sessions import start_session
from models import Account, Follow, FollowState, Like, Video, routing
from tests.conftest import ENGINE, REQUIRE_POSTGRES, Gql
from tests.pg_cluster import PG_BIN, Cluster
from tests.world import SECRET

APPLY_DELAY = "300ms"
ROUNDS = 30  # per narrowing change: 4 x 30 rounds, each a mutation and the reads after it

VIDEO = "query($id: ID!) { video(id: $id) { id } }"
LIKERS = "query($id: ID!) { video(id: $id) { likers(first: 100) { edges { node { handle } } } } }"


def test_replica_urls_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIKEGRAPH_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgres://app@primary:5432/likegraph")
    assert load_settings(env_file=None).replica_urls == ()
    monkeypatch.setenv(
        "LIKEGRAPH_REPLICA_URLS",
        " postgres://app@r1:5432/likegraph, postgresql://app@r2:5432/likegraph?maxsize=3,",
    )
    assert load_settings(env_file=None).replica_urls == (
        "postgres://app@r1:5432/likegraph",
        "postgresql://app@r2:5432/likegraph?maxsize=3",
    )


def test_replica_urls_are_refused_without_postgres_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIKEGRAPH_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", "sqlite://likegraph.sqlite3")
    monkeypatch.setenv("LIKEGRAPH_REPLICA_URLS", "postgres://app@r1:5432/likegraph")
    with pytest.raises(SettingsError, match="SQLite has no replicas"):
        load_settings(env_file=None)
    monkeypatch.setenv("DATABASE_URL", "postgres://app@primary:5432/likegraph")
    monkeypatch.setenv("LIKEGRAPH_REPLICA_URLS", "mysql://secret@r1/likegraph")
    with pytest.raises(SettingsError, match="'r1/likegraph'"):
        load_settings(env_file=None)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if ENGINE != "postgres":
        pytest.skip("the replica cluster runs in the PostgreSQL half of the suite")
    if not (PG_BIN / "initdb").exists():
        message = f"PostgreSQL server binaries not found in {PG_BIN} (LIKEGRAPH_PG_BIN)"
        if REQUIRE_POSTGRES:
            pytest.fail(f"{message}: LIKEGRAPH_REQUIRE_POSTGRES is set.")
        pytest.skip(message)
    made = Cluster.in_new_directory(apply_delay=APPLY_DELAY)
    try:
        made.start()
        yield made
    finally:
        made.destroy()


@dataclass
class Replicated:
    gql: Gql
    router: routing.Router
    videos: dict[str, str]  # caption -> global ID
    groups: dict[str, list[str]]  # name -> handles

    @property
    def replica(self) -> routing.Replica:
        return self.router.replicas[0]

    async def caught_up(self) -> None:
        """Waits until the replica has replayed everything the primary wrote so far."""
        rows = await self.router.primary.execute_query_dict(
            "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS lsn"
        )
        written = int(rows[0]["lsn"])
        deadline = time.monotonic() + 20
        while (await self._replayed()) < written:
            assert time.monotonic() < deadline, "the replica never caught up"
            await asyncio.sleep(0.05)

    async def _replayed(self) -> int:
        try:
            return await self.replica.replay_position() or 0
        except asyncpg.InvalidCatalogNameError:
            # The replica has not yet replayed the CREATE DATABASE of this test's own
            # database (it applies WAL 300 ms late): nothing of it is replayed yet.
            return 0

    async def sees_video(self, caption: str, *, as_: str) -> bool:
        data = await self.gql.ok(VIDEO, {"id": self.videos[caption]}, as_=as_)
        return data["video"] is not None

    async def likers(self, caption: str, *, as_: str) -> set[str]:
        data = await self.gql.ok(LIKERS, {"id": self.videos[caption]}, as_=as_)
        return {edge["node"]["handle"] for edge in data["video"]["likers"]["edges"]}

    async def mutate(self, name: str, handle: str, *, as_: str) -> None:
        await self.gql.ok(f"mutation($h: String!) {{ {name}(handle: $h) }}", {"h": handle}, as_=as_)


async def _seed(gql: Gql) -> tuple[dict[str, str], dict[str, list[str]]]:
    """alice (public) has a clip, priya (private) has one. `blocked` see alice's clip until
    she blocks them; `turning` liked alice's clip publicly until they turn private; priya's
    `followers` and `removed` see her clip until they unfollow or she removes them."""
    password = hash_password("password123")
    groups = {
        name: [f"{prefix}{i}" for i in range(ROUNDS)]
        for name, prefix in (
            ("blocked", "blk"),
            ("turning", "trn"),
            ("followers", "fol"),
            ("removed", "rem"),
        )
    }
    handles = ["alice", "priya", "olive", *(h for names in groups.values() for h in names)]
    accounts = {
        handle: await Account.create(
            handle=handle,
            display_name=handle.title(),
            password_hash=password,
            is_private=handle == "priya",
        )
        for handle in handles
    }
    clips = {
        "alice: clip": await Video.create(author=accounts["alice"], caption="alice: clip"),
        "priya: clip": await Video.create(author=accounts["priya"], caption="priya: clip"),
    }
    for handle in groups["turning"]:
        await Like.create(account=accounts[handle], video=clips["alice: clip"], liker_public=True)
    clips["alice: clip"].like_count = ROUNDS
    await clips["alice: clip"].save()
    for handle in groups["followers"] + groups["removed"]:
        await Follow.create(
            follower=accounts[handle], followee=accounts["priya"], status=FollowState.APPROVED
        )
    for handle, account in accounts.items():
        gql.tokens[handle] = await start_session(account.id, SECRET, 3600)
    videos = {caption: encode_id(Kind.VIDEO, video.id) for caption, video in clips.items()}
    return videos, groups


@asynccontextmanager
async def replicated(cluster: Cluster, name: str) -> AsyncIterator[Replicated]:
    """The app on a fresh database of the primary, reads routed to the replica."""
    admin = await asyncpg.connect(cluster.url(cluster.primary_port, "postgres"))
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    primary = cluster.url(cluster.primary_port, name)
    replica = cluster.url(cluster.replica_port, name)
    settings = Settings(
        database_url=primary,
        secret=SECRET,
        token_ttl=3600,
        session_recheck=3600,
        replica_urls=(replica,),
    )
    app = create_app(settings, apply_migrations=False)
    await db.migrate(primary, replica_urls=settings.replica_urls)
    try:
        current = routing.router()
        assert current is not None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            gql = Gql(http)
            videos, groups = await _seed(gql)
            world = Replicated(gql, current, videos, groups)
            await world.caught_up()
            yield world
    finally:
        await db.close()


async def test_narrowing_changes_never_show_on_a_lagging_replica(cluster: Cluster) -> None:
    async with replicated(cluster, "narrowing") as world:
        # Before: every affected viewer sees what the changes will hide, on the replica.
        replica_reads = world.replica.reads
        assert await world.sees_video("alice: clip", as_="blk0")
        assert await world.likers("alice: clip", as_="olive") == set(world.groups["turning"])
        assert await world.sees_video("priya: clip", as_="fol0")
        assert await world.sees_video("priya: clip", as_="rem0")
        assert world.replica.reads > replica_reads

        # One kind of change at a time, from a caught-up replica: a change that failed to
        # raise the watermark is not hidden behind another that did.
        await world.caught_up()
        for blocked in world.groups["blocked"]:
            await world.mutate("block", blocked, as_="alice")
            assert not await world.sees_video("alice: clip", as_=blocked)

        await world.caught_up()
        for i, turning in enumerate(world.groups["turning"]):
            await world.gql.ok("mutation { setPrivacy(isPrivate: true) { id } }", as_=turning)
            still_public = set(world.groups["turning"][i + 1 :])
            assert await world.likers("alice: clip", as_="olive") == still_public

        await world.caught_up()
        for follower in world.groups["followers"]:
            await world.mutate("unfollow", "priya", as_=follower)
            assert not await world.sees_video("priya: clip", as_=follower)

        await world.caught_up()
        for removed in world.groups["removed"]:
            await world.mutate("removeFollower", removed, as_="priya")
            assert not await world.sees_video("priya: clip", as_=removed)

        # The replica was behind all along: the reads after each change waited for it or
        # went to the primary. It still shows the last change's hidden video for a while.
        assert world.router.primary_fallbacks >= 4
        last = world.groups["removed"][-1]
        stale = await world.replica.pool.fetchval(
            "SELECT count(*) FROM follow f JOIN account a ON a.id = f.follower_id"
            " WHERE a.handle = $1",
            last,
        )
        assert stale == 1, "the replica caught up too fast to show anything"


async def test_reads_reach_a_caught_up_replica(cluster: Cluster) -> None:
    async with replicated(cluster, "caught_up") as world:
        await world.mutate("block", "blk0", as_="alice")
        await world.caught_up()
        before = world.replica.reads
        for handle in world.groups["blocked"][:20]:
            assert await world.sees_video("alice: clip", as_=handle) == (handle != "blk0")
        # Each of these requests reads the video at least once, from the replica.
        assert world.replica.reads - before >= 20

        # A like widens: it may reach the replica late, and reads need not wait for it.
        # The mutation's own answer is read on the primary, whatever the replica's lag.
        fallbacks = world.router.primary_fallbacks
        liked = await world.gql.ok(
            "mutation($id: ID!) { likeVideo(videoId: $id) { likeCount viewerHasLiked } }",
            {"id": world.videos["alice: clip"]},
            as_="olive",
        )
        assert liked["likeVideo"] == {"likeCount": ROUNDS + 1, "viewerHasLiked": True}
        created = await world.gql.ok(
            'mutation { createVideo(caption: "alice: new") { caption likeCount } }', as_="alice"
        )
        assert created["createVideo"] == {"caption": "alice: new", "likeCount": 0}
        await world.likers("alice: clip", as_="blk1")
        assert world.router.primary_fallbacks == fallbacks


async def test_a_dead_replica_sends_reads_to_the_primary(cluster: Cluster) -> None:
    async with replicated(cluster, "dead_replica") as world:
        assert await world.sees_video("priya: clip", as_="fol0")
        cluster.stop("replica")
        try:
            reads = world.replica.reads
            for _ in range(10):
                assert await world.sees_video("priya: clip", as_="fol0")
                assert not await world.sees_video("priya: clip", as_="olive")
                assert await world.likers("alice: clip", as_="olive") == set(
                    world.groups["turning"]
                )
            await world.mutate("unfollow", "priya", as_="fol0")
            assert not await world.sees_video("priya: clip", as_="fol0")
            assert world.replica.reads == reads
            assert not world.replica.up(time.monotonic())
        finally:
            cluster.start_replica()
