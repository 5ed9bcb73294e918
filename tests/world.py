"""The persona world: fixed, named accounts whose relationships cover every privacy rule.

Everything is built through the real GraphQL API, as users would build it. The facts,
in the order they are made (likes are listed newest first everywhere):

- `alice`   public creator. Videos: FIRST_STEPS, then POPULAR (newest).
            Follows `bob` (bob approved her); she does NOT follow `dora`.
            Blocked `mallory` after they followed each other, so both edges are gone.
- `bob`     private. Approved follower of alice (alice is public: approved at once).
            Video: BOB_CLIP. Approved alice's request; approved dora's, then removed her.
- `carol`   private. Her request to `bob` is PENDING (bob has not approved). A request
            to alice cannot stay pending (alice is public, rule 7), so carol's pending
            request goes to the private bob: it grants her nothing on bob's content.
- `dora`    private. Approved follower of alice. Not followed by alice. Liked BOB_CLIP
            while she followed bob; bob then removed her (rule 8: she can no longer see it).
- `erin`    public stranger: follows no one, nobody follows her.
- `mallory` public. Liked POPULAR, then alice blocked her (alice is the blocker): the
            block removed that like (rule 11).
- `anon`    no token.

Likes of POPULAR, oldest first: dora, carol, bob, erin (likeCount 4; mallory's is gone).
Likes of BOB_CLIP, oldest first: alice, dora (likeCount 2).

So each viewer sees these likers of POPULAR (newest first), by rule 4:
    anon    erin                      (public likers only)
    alice   erin, bob                 (bob: she follows him; dora, carol: she does not)
    bob     erin, bob                 (himself; public likers)
    carol   erin, carol               (herself; public likers; a pending request is nothing)
    dora    erin, dora                (herself; public likers)
    erin    erin                      (public likers)
    mallory POPULAR is null           (blocked pair with its author)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from api import db
from api.ids import Kind, configure, encode_id
from api.rows import to_datetime
from models.sql import Sql, is_postgres

if TYPE_CHECKING:
    from tests.conftest import Gql, GqlResult

ANON = "anon"
PERSONAS = ("anon", "alice", "bob", "carol", "dora", "erin", "mallory")
ACCOUNTS = PERSONAS[1:]
PRIVATE = frozenset({"bob", "carol", "dora"})

FIRST_STEPS = "alice: first steps"
POPULAR = "alice: popular"
BOB_CLIP = "bob: private clip"
# The secret of every in-process test app. IDs are keyed by it, and tests make some at
# import (MISSING_VIDEO below, others in test modules), before any app configures it.
SECRET = "test-secret-not-for-production-0123456789"
configure(SECRET)
# A video ID that was never issued: the world has three videos, tests make a few more.
MISSING_VIDEO = encode_id(Kind.VIDEO, 987_654)

VIDEO_FIELDS = """
fragment VideoFields on Video {
  caption
  likeCount
  viewerHasLiked
  author { handle }
  likers(first: $first) {
    edges { node { handle } }
    pageInfo { hasNextPage }
  }
}
"""

ACCOUNT_FIELDS = """
fragment AccountFields on Account {
  handle
  displayName
  isPrivate
  followerCount
  followingCount
  viewerFollowStatus
  videos { edges { node { caption likeCount } } pageInfo { hasNextPage } }
  likes { edges { node { account { handle } video { caption } } } pageInfo { hasNextPage } }
}
"""


@dataclass
class World:
    """The persona world plus helpers that ask as a named persona (`as_="anon"` for no token)."""

    gql: Gql
    account_ids: dict[str, str] = field(default_factory=dict)  # handle -> global ID
    video_ids: dict[str, str] = field(default_factory=dict)  # caption -> global ID
    # The UTC day its first row was made on: "today", for a test that must not see midnight.
    day: date = field(default_factory=lambda: datetime.now(UTC).date())

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str
    ) -> GqlResult:
        return await self.gql(query, variables, as_=None if as_ == ANON else as_)

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str
    ) -> dict[str, Any]:
        return await self.gql.ok(query, variables, as_=None if as_ == ANON else as_)

    async def video(self, caption: str, *, as_: str, first: int = 20) -> dict[str, Any] | None:
        """`video(id:)` with its like count, the viewer's like and its likers; None if null."""
        data = await self.ok(
            "query($id: ID!, $first: Int) { video(id: $id) { ...VideoFields } }" + VIDEO_FIELDS,
            {"id": self.video_ids[caption], "first": first},
            as_=as_,
        )
        video: dict[str, Any] | None = data["video"]
        return video

    async def likers(self, caption: str, *, as_: str) -> list[str] | None:
        """The handles `as_` sees among the likers of a video; None when the video is null."""
        video = await self.video(caption, as_=as_, first=100)
        if video is None:
            return None
        return [edge["node"]["handle"] for edge in video["likers"]["edges"]]

    async def account(self, handle: str, *, as_: str) -> dict[str, Any] | None:
        data = await self.ok(
            "query($h: String!) { account(handle: $h) { ...AccountFields } }" + ACCOUNT_FIELDS,
            {"h": handle},
            as_=as_,
        )
        account: dict[str, Any] | None = data["account"]
        return account

    async def liked_captions(self, handle: str, *, as_: str) -> list[str]:
        """The captions of the videos in `handle`'s likes as `as_` sees them."""
        account = await self.account(handle, as_=as_)
        assert account is not None, f"{as_} cannot see {handle}'s profile"
        return [edge["node"]["video"]["caption"] for edge in account["likes"]["edges"]]

    async def video_captions(self, handle: str, *, as_: str) -> list[str]:
        account = await self.account(handle, as_=as_)
        assert account is not None, f"{as_} cannot see {handle}'s profile"
        return [edge["node"]["caption"] for edge in account["videos"]["edges"]]

    async def follow_mutation(self, name: str, handle: str, *, as_: str) -> GqlResult:
        """One of follow, unfollow, approveFollower, removeFollower, block, unblock."""
        return await self(f"mutation($h: String!) {{ {name}(handle: $h) }}", {"h": handle}, as_=as_)

    async def like(self, caption: str, *, as_: str, unlike: bool = False) -> GqlResult:
        name = "unlikeVideo" if unlike else "likeVideo"
        return await self(
            f"mutation($id: ID!) {{ {name}(videoId: $id) {{ likeCount viewerHasLiked }} }}",
            {"id": self.video_ids[caption]},
            as_=as_,
        )

    async def set_privacy(self, is_private: bool, *, as_: str) -> None:
        await self.ok(
            "mutation($p: Boolean!) { setPrivacy(isPrivate: $p) { isPrivate } }",
            {"p": is_private},
            as_=as_,
        )

    async def create_video(self, caption: str, *, as_: str) -> str:
        data = await self.ok(
            "mutation($c: String!) { createVideo(caption: $c) { id } }", {"c": caption}, as_=as_
        )
        video_id: str = data["createVideo"]["id"]
        self.video_ids[caption] = video_id
        return video_id

    async def must(self, name: str, handle: str, *, as_: str) -> Any:
        """A follow/block mutation that must succeed; its result."""
        result = await self.follow_mutation(name, handle, as_=as_)
        assert "errors" not in result, result
        return result["data"][name]


async def build_world(gql: Gql) -> World:
    world = World(gql)
    for handle in ACCOUNTS:
        world.account_ids[handle] = await gql.sign_up(handle, private=handle in PRIVATE)

    await world.create_video(FIRST_STEPS, as_="alice")
    await world.create_video(POPULAR, as_="alice")
    await world.create_video(BOB_CLIP, as_="bob")

    expected = [
        ("follow", "alice", "bob", "APPROVED"),  # alice is public: approved at once
        ("follow", "alice", "dora", "APPROVED"),
        ("follow", "alice", "mallory", "APPROVED"),  # removed by alice's block below
        ("follow", "mallory", "alice", "APPROVED"),  # removed by alice's block below
        ("follow", "bob", "alice", "PENDING"),  # bob is private
        ("approveFollower", "alice", "bob", "APPROVED"),
        ("follow", "bob", "dora", "PENDING"),
        ("approveFollower", "dora", "bob", "APPROVED"),
        ("follow", "bob", "carol", "PENDING"),  # never approved
    ]
    for name, handle, actor, status in expected:
        assert await world.must(name, handle, as_=actor) == status, (name, handle, actor)

    for liker in ("mallory", "dora", "carol", "bob", "erin"):
        assert "errors" not in await world.like(POPULAR, as_=liker)
    for liker in ("alice", "dora"):
        assert "errors" not in await world.like(BOB_CLIP, as_=liker)

    # Rule 8: dora liked BOB_CLIP as bob's follower; bob removes her, so she can no longer see it.
    assert await world.must("removeFollower", "dora", as_="bob") == "NONE"
    assert await world.must("block", "mallory", as_="alice") is True
    return world


# The world's tables in foreign-key order, for saving and restoring its rows.
TABLES = ("account", "account_session", "video", "follow", "block", "video_like")


@dataclass(frozen=True)
class _Saved:
    """The world built once per session: its rows, and the IDs and tokens tests hold."""

    rows: dict[str, list[dict[str, Any]]]
    tokens: dict[str, str]
    account_ids: dict[str, str]
    video_ids: dict[str, str]
    began: datetime  # when its first row was made
    took: timedelta  # from its first row to its last


def _moved_to(saved: _Saved, start: datetime) -> dict[str, list[dict[str, Any]]]:
    """The saved rows with every timestamp moved by the same amount, so that the world's
    first row is made at `start`: their order and spacing stay."""
    shift = start - saved.began
    return {
        table: [
            {
                column: to_datetime(value) + shift
                if column.endswith("_at") and value is not None
                else value
                for column, value in row.items()
            }
            for row in rows
        ]
        for table, rows in saved.rows.items()
    }


_SAVED: list[_Saved] = []


async def world_for_test(gql: Gql) -> World:
    """The world in this test's fresh, empty database.

    The first test of a session builds it through the API (about 25 requests and 6
    argon2 hashes) and saves its rows; every later test gets the same rows inserted
    into its own fresh database, with the same IDs, so the saved tokens stay valid.
    Each test still has a database of its own: tests cannot see each other's writes.
    """
    if not _SAVED:
        began = datetime.now(UTC)
        world = await build_world(gql)
        took = datetime.now(UTC) - began
        rows = {table: await Sql().rows(f"SELECT * FROM {table} ORDER BY id") for table in TABLES}
        saved = _Saved(rows, dict(gql.tokens), world.account_ids, world.video_ids, began, took)
        _SAVED.append(saved)
        world.day = began.date()
        return world

    saved = _SAVED[0]
    # The rows keep their order and spacing but end now, as if just built: a session that
    # runs past midnight would otherwise hand later tests a world posted yesterday.
    start = datetime.now(UTC) - saved.took
    moved = _moved_to(saved, start)
    client = db.conn()
    for table in TABLES:
        rows = moved[table]
        if not rows:
            continue
        sql = Sql(client)
        columns = list(rows[0])
        values = ", ".join(f"({sql.ps([row[c] for c in columns])})" for row in rows)
        await sql.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}")
        if is_postgres(client):
            # Rows inserted with their IDs leave the sequence behind: the next row the test
            # makes would collide with one of the world's.
            await client.execute_query(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
            )
    gql.tokens.update(saved.tokens)
    return World(gql, dict(saved.account_ids), dict(saved.video_ids), start.date())
