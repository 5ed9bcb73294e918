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

from api.lists import (
    BLOCKED_ACCOUNTS,
    FOLLOW_REQUESTS,
    FOLLOWERS,
    FOLLOWING,
    SENT_FOLLOW_REQUESTS,
    GraphList,
    PageRequest,
    graph_pages,
)
from auth.policy import (
    Owner,
    block_removes_like,
    block_removes_sql,
    can_see_blocked_entry,
    can_see_content,
    can_see_graph_entry,
    can_see_graph_lists,
    can_see_profile,
    can_see_self_only,
    can_see_video,
    content_visible_sql,
    follow_state_on_request,
    follow_state_on_request_sql,
    liker_streams_sql,
    profile_visible_sql,
    requests_approved_on_turning_public_sql,
    self_only_sql,
    state_on_turning_public,
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
    model.blocks = dict.fromkeys((str(a), str(b)) for a, b in world.blocks)
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


GRAPH_LISTS = (FOLLOWERS, FOLLOWING, FOLLOW_REQUESTS, SENT_FOLLOW_REQUESTS, BLOCKED_ACCOUNTS)


def expected_entries(world: World, graph: GraphList, owner: int) -> list[int]:
    """The other ends of `owner`'s edges in `graph`'s table and state, newest edge first
    (edges are written in World order, so their ids are in that order)."""
    if graph.table == "block":
        return [b for a, b in reversed(world.blocks) if a == owner]
    state = PENDING if graph in (FOLLOW_REQUESTS, SENT_FOLLOW_REQUESTS) else APPROVED
    to_owner = graph.owner_column == "followee_id"
    return [
        (a if to_owner else b)
        for a, b, s in reversed(world.follows)
        if s == state and (b if to_owner else a) == owner
    ]


@POLICY_PAIR_SETTINGS
@given(world=worlds(reachable=False))
async def test_graph_lists_select_what_their_yes_no_rules_select(
    database_url: str, world: World
) -> None:
    """Rule 10, for every viewer, owner and list: the SQL pages (owner gate and entry filter
    spliced in) hold exactly the entries that the yes/no forms admit, and the model's."""
    built = await build_world(world)
    model = model_of(world)
    for viewer, name in viewers(built):
        facts = await load_relationships(viewer, built.account_ids)
        index = {pk: n for n, pk in enumerate(built.account_ids)}
        for graph in GRAPH_LISTS:
            requests = [PageRequest(owner_id=pk, first=100, after=None) for pk in built.account_ids]
            pages = await graph_pages(viewer, graph, requests)
            self_only = graph.owner_rule is self_only_sql
            for owner, (pk, page) in enumerate(zip(built.account_ids, pages, strict=True)):
                listed = [index[row.account.id] for row in page.items]
                if self_only:
                    gate = can_see_self_only(viewer, pk)
                else:
                    gate = can_see_graph_lists(viewer, facts[pk])
                entry_rule = (
                    can_see_blocked_entry if graph.table == "block" else can_see_graph_entry
                )
                expected = [
                    e
                    for e in expected_entries(world, graph, owner)
                    if gate and entry_rule(viewer, facts[built.account_ids[e]])
                ]
                assert listed == expected, (name, owner, graph.kind, world)
                modelled = model.graph_list(name, str(owner), graph.kind)
                assert (modelled is not None) is (gate or not self_only), (name, owner, graph.kind)
                assert [str(e) for e in listed] == (modelled or []), (name, owner, graph.kind)


@POLICY_PAIR_SETTINGS
@given(world=worlds(reachable=False), pair=st.tuples(st.integers(0, 5), st.integers(0, 5)))
async def test_write_rules_store_what_their_yes_no_forms_say(
    database_url: str, world: World, pair: tuple[int, int]
) -> None:
    """The write side: a request's first state, what turning public approves and what a
    block removes, each run as SQL on a random world, against its yes/no form."""
    built = await build_world(world)
    ids = built.account_ids
    n = len(ids)
    blocker, blocked = ids[pair[0] % n], ids[pair[1] % n]

    sql = Sql()
    rows = await sql.rows(
        f"SELECT a.id, {follow_state_on_request_sql(Owner.account('a'))} AS state FROM account a"
    )
    for row in rows:
        private = world.private[ids.index(row["id"])]
        assert row["state"] == follow_state_on_request(private).value

    # Turning public: the requests to `blocked` (as the account that turns public).
    before = {(e.follower_id, e.followee_id): e.status for e in await Follow.all()}
    sql = Sql()
    await sql.execute(requests_approved_on_turning_public_sql(f"followee_id = {sql.p(blocked)}"))
    after = {(e.follower_id, e.followee_id): e.status for e in await Follow.all()}
    assert after == {
        edge: state_on_turning_public(state) if edge[1] == blocked else state
        for edge, state in before.items()
    }

    # A block between the pair (a self-pair too: the SQL must then remove only self-likes).
    authors = {v.id: v.author_id for v in await Video.all()}
    likes = [(like.account_id, like.video_id) for like in await Like.all()]
    sql = Sql()
    for statement in block_removes_sql(sql, blocker, blocked):
        await sql.execute(statement)
    kept = [
        (liker, video)
        for liker, video in likes
        if not block_removes_like(liker, authors[video], blocker, blocked)
    ]
    assert sorted((like.account_id, like.video_id) for like in await Like.all()) == sorted(kept)
    counts = Counter(video for _, video in kept)
    assert {v.id: v.like_count for v in await Video.all()} == {v: counts[v] for v in authors}
    follows = [(e.follower_id, e.followee_id) for e in await Follow.all()]
    assert all({a, b} != {blocker, blocked} for a, b in follows)
