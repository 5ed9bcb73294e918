"""The policy agrees with itself: each rule's yes/no form and its SQL form select the same
accounts, videos and likers on random worlds, and both agree with the independent model.

`auth/policy.py` writes each privacy rule twice: a predicate over one account's loaded
facts (`can_see_content`, `can_see_profile`), used for single objects, and a SQL condition
(`content_visible_sql`, `profile_visible_sql`, `liker_streams_sql`), used to filter lists
in the database. If the two drifted, a video could be visible by ID yet missing from a
list, or a liker hidden on one path and shown on another.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.policy import (
    Owner,
    can_see_content,
    can_see_profile,
    can_see_video,
    content_visible_sql,
    liker_streams_sql,
    profile_visible_sql,
    video_visible_sql,
)
from auth.relationships import load_relationships
from auth.viewer import Viewer
from models import Account, Block, Follow, FollowState, Like, Video
from models.sql import Sql
from tests.privacy_model import PrivacyModel

PENDING, APPROVED = "PENDING", "APPROVED"

# A fresh database per example would cost a CREATE DATABASE each on PostgreSQL: instead the
# test's one database is emptied at the start of every example (`build_world`).
POLICY_PAIR_SETTINGS = settings(
    max_examples=150,
    deadline=None,  # query times on a shared machine are noise
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@dataclass(frozen=True)
class World:
    """Accounts 0..n-1, videos 0..m-1, and the edges between them, by index."""

    private: tuple[bool, ...]
    follows: tuple[tuple[int, int, str], ...]  # (follower, followee, PENDING/APPROVED)
    blocks: tuple[tuple[int, int], ...]  # (blocker, blocked)
    authors: tuple[int, ...]  # video n's author
    likes: tuple[tuple[int, int], ...]  # (liker, video), oldest like first


@st.composite
def worlds(draw: st.DrawFn, *, reachable: bool) -> World:
    """Random worlds of 2 to 6 accounts and 1 to 4 videos.

    With `reachable`, only worlds the API can make: no follow edge across a blocked pair
    (a block deletes them and `follow` refuses them). Without it, any edges at all, which
    the content and profile rules must judge the same way in both forms regardless.
    """
    n = draw(st.integers(2, 6))
    private = tuple(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    blocks = tuple(draw(st.lists(st.sampled_from(pairs), unique=True))) if pairs else ()
    blocked = {frozenset(p) for p in blocks}
    edges = [p for p in pairs if not (reachable and frozenset(p) in blocked)]
    follows = (
        tuple(
            (a, b, status)
            for (a, b), status in draw(
                st.dictionaries(st.sampled_from(edges), st.sampled_from([PENDING, APPROVED]))
            ).items()
        )
        if edges
        else ()
    )
    authors = tuple(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)))
    like_pairs = [(a, v) for a in range(n) for v in range(len(authors))]
    likes = tuple(draw(st.permutations(like_pairs)))[: draw(st.integers(0, len(like_pairs)))]
    return World(private, follows, blocks, authors, likes)


@dataclass(frozen=True)
class Built:
    account_ids: list[int]
    video_ids: list[int]
    like_ids: list[int]  # in the order of World.likes


async def build_world(world: World) -> Built:
    """Empties the database and writes `world` straight through the ORM.

    This bypasses the API (and so the policy) on purpose, to reach any state quickly,
    including unreachable ones; it keeps the one invariant the schema documents:
    `liker_public` is NOT the liker's `is_private`.
    """
    for model in (Like, Follow, Block, Video, Account):
        await model.all().delete()
    accounts = [
        await Account.create(
            handle=f"user{n}", display_name=f"User {n}", password_hash="-", is_private=p
        )
        for n, p in enumerate(world.private)
    ]
    for a, b, status in world.follows:
        await Follow.create(follower=accounts[a], followee=accounts[b], status=FollowState(status))
    for a, b in world.blocks:
        await Block.create(blocker=accounts[a], blocked=accounts[b])
    counts = Counter(v for _, v in world.likes)
    videos = [
        await Video.create(author=accounts[a], caption=f"video {n}", like_count=counts[n])
        for n, a in enumerate(world.authors)
    ]
    likes = [
        await Like.create(account=accounts[a], video=videos[v], liker_public=not world.private[a])
        for a, v in world.likes
    ]
    return Built([a.id for a in accounts], [v.id for v in videos], [like.id for like in likes])


def model_of(world: World) -> PrivacyModel:
    """The same world in the independent model (accounts named by index)."""
    model = PrivacyModel()
    for n, p in enumerate(world.private):
        model.private[str(n)] = p
    for a, b, status in world.follows:
        model.follows[str(a), str(b)] = status
    model.blocks = {(str(a), str(b)) for a, b in world.blocks}
    model.authors = [str(a) for a in world.authors]
    return model


def viewers(built: Built) -> list[tuple[Viewer, str | None]]:
    """Every viewer, the anonymous one first, with its name in the model."""
    return [(Viewer.anonymous(), None)] + [
        (Viewer.of(pk), str(n)) for n, pk in enumerate(built.account_ids)
    ]


async def ids_where(table: str, alias: str, condition_of: Callable[[Sql], str]) -> set[int]:
    """The ids of the rows of `table` that a policy SQL condition selects."""
    sql = Sql()
    condition = condition_of(sql)
    rows = await sql.rows(f"SELECT {alias}.id FROM {table} WHERE {condition}")
    return {r["id"] for r in rows}


@POLICY_PAIR_SETTINGS
@given(world=worlds(reachable=False))
async def test_content_and_profile_predicates_select_what_their_sql_filters_select(
    database_url: str, world: World
) -> None:
    """For every (viewer, owner): can_see_content ⇔ content_visible_sql, can_see_profile ⇔
    profile_visible_sql, can_see_video ⇔ video_visible_sql, and all three ⇔ the model."""
    built = await build_world(world)
    model = model_of(world)
    for viewer, name in viewers(built):
        facts = await load_relationships(viewer, built.account_ids)
        content = await ids_where(
            "account a",
            "a",
            lambda sql, v=viewer: content_visible_sql(v, sql, Owner.account("a")),
        )
        profile = await ids_where(
            "account a",
            "a",
            lambda sql, v=viewer: profile_visible_sql(v, sql, Owner.account("a")),
        )
        videos = await ids_where(
            "video v JOIN account au ON au.id = v.author_id",
            "v",
            lambda sql, v=viewer: video_visible_sql(v, sql, Owner.account("au")),
        )
        for n, pk in enumerate(built.account_ids):
            owner = str(n)
            sees = can_see_content(viewer, facts[pk])
            assert sees is (pk in content), (name, owner, world)
            assert sees is model.can_see_content(name, owner), (name, owner, world)
            sees_profile = can_see_profile(viewer, facts[pk])
            assert sees_profile is (pk in profile), (name, owner, world)
            assert sees_profile is model.can_see_profile(name, owner), (name, owner, world)
        for n, pk in enumerate(built.video_ids):
            author = built.account_ids[world.authors[n]]
            sees_video = can_see_video(viewer, facts[author])
            assert sees_video is (pk in videos), (name, n, world)
            assert sees_video is model.can_see_video(name, n), (name, n, world)


@POLICY_PAIR_SETTINGS
@given(world=worlds(reachable=False))
async def test_liker_streams_together_list_exactly_the_likers_whose_content_is_visible(
    database_url: str, world: World
) -> None:
    """For every viewer and video, the streams of liker_streams_sql, taken together, hold
    each like whose liker passes can_see_content exactly once, and no other like."""
    built = await build_world(world)
    for viewer, name in viewers(built):
        facts = await load_relationships(viewer, built.account_ids)
        for v, video_pk in enumerate(built.video_ids):
            # UNION ALL, as the likers query joins them: a like in two streams comes twice.
            sql = Sql()
            streams = liker_streams_sql(viewer, sql, "l", video_pk)
            rows = await sql.rows(
                " UNION ALL ".join(f"SELECT l.id FROM video_like l WHERE {s}" for s in streams)
            )
            streamed = [r["id"] for r in rows]
            expected = [
                like_pk
                for (liker, video), like_pk in zip(world.likes, built.like_ids, strict=True)
                if video == v and can_see_content(viewer, facts[built.account_ids[liker]])
            ]
            assert sorted(streamed) == sorted(expected), (name, v, world)
