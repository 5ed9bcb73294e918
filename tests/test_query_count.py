"""The number of SQL statements a request runs is bounded, and does not grow with `first`.

Statements are counted from Tortoise's `tortoise.db_client` logger: every statement the
backends send (execute_query, execute_query_dict, execute_insert, execute_many) is logged
there at DEBUG level as `"%s: %s" % (sql, values)`, on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from api.ids import Kind, encode_id
from models import Account, Follow, FollowState, Like, Video
from tests.conftest import Gql

FEED = """
query Feed($handle: String!, $first: Int!) {
  account(handle: $handle) {
    videos(first: $first) {
      edges { node {
        likeCount viewerHasLiked author { handle }
        likers(first: 10) { edges { node { handle } } }
      } }
    }
  }
}
"""
VIDEOS = 60
PUBLIC_LIKERS = 8
PRIVATE_LIKERS = 6  # the viewer follows 3 of them (approved) and asked to follow 1 (pending)
MAX_STATEMENTS = 6


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Statements are logged as "%s: %s" (sql, values); connection events otherwise.
        if record.msg == "%s: %s" and isinstance(record.args, tuple):
            self.statements.append(str(record.args[0]))


@contextmanager
def counting_statements() -> Iterator[StatementCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


async def _world(gql: Gql) -> list[int]:
    """alice (public) posted VIDEOS videos, each liked by every other account; vera views."""
    await gql.sign_up("vera")
    vera = await Account.get(handle="vera")
    alice = await Account.create(handle="alice", display_name="Alice", password_hash="-")
    public = [
        await Account.create(handle=f"pub{i}", display_name="P", password_hash="-")
        for i in range(PUBLIC_LIKERS)
    ]
    private = [
        await Account.create(
            handle=f"priv{i}", display_name="Q", password_hash="-", is_private=True
        )
        for i in range(PRIVATE_LIKERS)
    ]
    for i, account in enumerate(private[:4]):
        state = FollowState.APPROVED if i < 3 else FollowState.PENDING
        await Follow.create(follower_id=vera.id, followee_id=account.id, status=state)
    likers = public + private
    await Video.bulk_create(
        [
            Video(author_id=alice.id, caption=f"clip {n}", like_count=len(likers))
            for n in range(VIDEOS)
        ]
    )
    video_ids = [v.id for v in await Video.filter(author_id=alice.id).order_by("id")]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    await Like.bulk_create(
        [
            Like(
                account_id=a.id,
                video_id=v,
                liked_at=start + timedelta(seconds=len(likers) * n + k),
                liker_public=not a.is_private,
            )
            for n, v in enumerate(video_ids)
            for k, a in enumerate(likers)
        ]
    )
    return video_ids


async def _feed(gql: Gql, first: int, as_: str | None) -> tuple[int, list[dict[str, Any]]]:
    with counting_statements() as counter:
        data = await gql.ok(FEED, {"handle": "alice", "first": first}, as_=as_)
    # The counter sees the statements themselves: the one batched likers query among them.
    assert sum("liker_public" in s for s in counter.statements) == 1, counter.statements
    return len(counter.statements), [e["node"] for e in data["account"]["videos"]["edges"]]


async def test_feed_runs_the_same_few_statements_for_5_or_50_videos_anonymously(
    gql: Gql,
) -> None:
    await _world(gql)
    small, five = await _feed(gql, 5, None)
    large, fifty = await _feed(gql, 50, None)
    assert (len(five), len(fifty)) == (5, 50)
    # The anonymous viewer sees the public likers only, on every video.
    assert {len(v["likers"]["edges"]) for v in fifty} == {PUBLIC_LIKERS}
    assert {v["likeCount"] for v in fifty} == {PUBLIC_LIKERS + PRIVATE_LIKERS}
    assert small == large
    assert large <= MAX_STATEMENTS


async def test_feed_runs_the_same_few_statements_for_5_or_50_videos_logged_in(
    gql: Gql,
) -> None:
    await _world(gql)
    small, five = await _feed(gql, 5, "vera")
    large, fifty = await _feed(gql, 50, "vera")
    assert (len(five), len(fifty)) == (5, 50)
    # 8 public likers and 3 approved followees: a full page of 10 on every video.
    assert {len(v["likers"]["edges"]) for v in fifty} == {10}
    assert {v["author"]["handle"] for v in fifty} == {"alice"}
    assert {v["viewerHasLiked"] for v in fifty} == {False}
    assert small == large
    assert large <= MAX_STATEMENTS


def _likers_by_alias(video_ids: list[int]) -> str:
    fields = " ".join(
        f'v{n}: video(id: "{encode_id(Kind.VIDEO, vid)}")'
        " { likers(first: 10) { edges { node { handle } } } }"
        for n, vid in enumerate(video_ids)
    )
    return f"{{ {fields} }}"


async def test_likers_of_many_videos_by_alias_run_the_same_statements_as_of_two(
    gql: Gql,
) -> None:
    video_ids = await _world(gql)
    for viewer in (None, "vera"):
        with counting_statements() as two:
            few = await gql.ok(_likers_by_alias(video_ids[:2]), as_=viewer)
        with counting_statements() as many:
            lots = await gql.ok(_likers_by_alias(video_ids[:25]), as_=viewer)
        assert (len(few), len(lots)) == (2, 25)
        expected = PUBLIC_LIKERS if viewer is None else 10
        assert {len(v["likers"]["edges"]) for v in lots.values()} == {expected}
        assert len(two.statements) == len(many.statements) <= MAX_STATEMENTS


GRAPH = """
query Graph($first: Int!) {
  account(handle: "hub") {
    following(first: $first) {
      edges { node {
        handle followerCount followsViewer viewerHasBlocked
        followers(first: 10) { edges { node { handle } } pageInfo { hasNextPage } }
      } }
    }
  }
}
"""
FOLLOWED = 50
FANS = 12


async def _graph_world(gql: Gql) -> None:
    """hub follows FOLLOWED public accounts, each followed by FANS fans (vera among them)."""
    await gql.sign_up("vera")
    vera = await Account.get(handle="vera")
    hub = await Account.create(handle="hub", display_name="Hub", password_hash="-")
    followed = [
        await Account.create(handle=f"star{i}", display_name="S", password_hash="-")
        for i in range(FOLLOWED)
    ]
    fans = [vera] + [
        await Account.create(handle=f"fan{i}", display_name="F", password_hash="-")
        for i in range(FANS - 1)
    ]
    edges = [
        Follow(follower_id=hub.id, followee_id=s.id, status=FollowState.APPROVED) for s in followed
    ]
    edges += [
        Follow(follower_id=f.id, followee_id=s.id, status=FollowState.APPROVED)
        for s in followed
        for f in fans
    ]
    # Every other star follows vera back: followsViewer is true for them.
    edges += [
        Follow(follower_id=s.id, followee_id=vera.id, status=FollowState.APPROVED)
        for s in followed[::2]
    ]
    await Follow.bulk_create(edges)


async def test_a_page_of_accounts_each_with_its_followers_runs_the_same_statements_for_5_or_50(
    gql: Gql,
) -> None:
    await _graph_world(gql)
    for viewer in (None, "vera"):
        with counting_statements() as small:
            five = await gql.ok(GRAPH, {"first": 5}, as_=viewer)
        with counting_statements() as twenty:
            page = await gql.ok(GRAPH, {"first": 20}, as_=viewer)
        with counting_statements() as large:
            fifty = await gql.ok(GRAPH, {"first": 50}, as_=viewer)
        sizes = [len(d["account"]["following"]["edges"]) for d in (five, page, fifty)]
        assert sizes == [5, 20, 50]
        stars = [e["node"] for e in fifty["account"]["following"]["edges"]]
        assert {len(s["followers"]["edges"]) for s in stars} == {10}
        assert {s["followers"]["pageInfo"]["hasNextPage"] for s in stars} == {True}
        assert {s["followerCount"] for s in stars} == {FANS + 1}
        follows_back = sum(s["followsViewer"] for s in stars)
        assert follows_back == (0 if viewer is None else FOLLOWED // 2), viewer
        # One statement for all the followers pages, whatever their number.
        assert sum("AS req, e.id AS edge_id" in s for s in large.statements) == 2
        assert len(small.statements) == len(twenty.statements) == len(large.statements)
        assert len(large.statements) <= MAX_STATEMENTS, large.statements
