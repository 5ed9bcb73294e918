"""Rule 5: an account's likes, when its content is visible, and only of visible videos."""

from __future__ import annotations

from tests.world import BOB_CLIP, POPULAR, World

LIKES_PAGE = """
query($h: String!, $first: Int, $after: String) {
  account(handle: $h) {
    likes(first: $first, after: $after) {
      edges { cursor node { account { handle } video { caption } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def test_a_private_accounts_likes_are_for_itself_and_its_approved_followers(
    world: World,
) -> None:
    assert await world.liked_captions("bob", as_="bob") == [POPULAR]
    assert await world.liked_captions("bob", as_="alice") == [POPULAR]
    for viewer in ("anon", "carol", "dora", "erin", "mallory"):
        assert await world.liked_captions("bob", as_=viewer) == [], viewer


async def test_a_public_accounts_likes_show_only_videos_the_viewer_may_see(
    world: World,
) -> None:
    # alice (public) liked BOB_CLIP (private): only bob's approved followers and bob see it.
    assert await world.liked_captions("alice", as_="alice") == [BOB_CLIP]
    assert await world.liked_captions("alice", as_="bob") == [BOB_CLIP]
    for viewer in ("anon", "carol", "dora", "erin"):
        assert await world.liked_captions("alice", as_=viewer) == [], viewer


async def test_a_visible_likers_like_of_a_video_the_viewer_is_blocked_from_is_hidden(
    world: World,
) -> None:
    # erin liked POPULAR; mallory may see erin's content but not alice's videos.
    assert await world.liked_captions("erin", as_="mallory") == []
    assert await world.liked_captions("erin", as_="carol") == [POPULAR]


async def test_a_blocked_pair_sees_neither_profile_nor_likes(world: World) -> None:
    # mallory (public) liked POPULAR before alice blocked her: alice gets no profile at all,
    # and the block took the like away (rule 11), so no one lists it, mallory included.
    assert await world.account("mallory", as_="alice") is None
    for viewer in ("erin", "anon", "mallory"):
        assert await world.liked_captions("mallory", as_=viewer) == [], viewer


async def test_likes_are_newest_first_and_each_names_its_account(world: World) -> None:
    await world.like(BOB_CLIP, as_="bob")
    data = await world.ok(LIKES_PAGE, {"h": "bob", "first": 10}, as_="alice")
    nodes = [edge["node"] for edge in data["account"]["likes"]["edges"]]
    assert nodes == [
        {"account": {"handle": "bob"}, "video": {"caption": BOB_CLIP}},
        {"account": {"handle": "bob"}, "video": {"caption": POPULAR}},
    ]
    for viewer in ("carol", "erin"):
        data = await world.ok(LIKES_PAGE, {"h": "bob", "first": 10}, as_=viewer)
        assert data["account"]["likes"]["edges"] == [], viewer


async def test_likes_pages_skip_hidden_videos_without_short_pages(world: World) -> None:
    # erin's likes, newest first: two, BOB_CLIP (hidden from anon), one, POPULAR.
    await world.create_video("erin: one", as_="erin")
    await world.create_video("erin: two", as_="erin")
    assert "errors" not in await world.like("erin: one", as_="erin")
    assert await world.must("follow", "bob", as_="erin") == "PENDING"
    assert await world.must("approveFollower", "erin", as_="bob") == "APPROVED"
    assert "errors" not in await world.like(BOB_CLIP, as_="erin")
    assert "errors" not in await world.like("erin: two", as_="erin")
    assert await world.liked_captions("erin", as_="alice") == [
        "erin: two",
        BOB_CLIP,
        "erin: one",
        POPULAR,
    ]
    expected = ["erin: two", "erin: one", POPULAR]
    seen: list[str] = []
    after = None
    while True:
        data = await world.ok(LIKES_PAGE, {"h": "erin", "first": 2, "after": after}, as_="anon")
        likes = data["account"]["likes"]
        seen += [edge["node"]["video"]["caption"] for edge in likes["edges"]]
        more = len(seen) < len(expected)
        assert likes["pageInfo"]["hasNextPage"] is more
        assert len(likes["edges"]) == (2 if more else len(expected) % 2 or 2)
        if not more:
            break
        after = likes["pageInfo"]["endCursor"]
    assert seen == expected
    # mallory is blocked by POPULAR's author and does not follow bob: one full last page.
    data = await world.ok(LIKES_PAGE, {"h": "erin", "first": 2}, as_="mallory")
    likes = data["account"]["likes"]
    assert [edge["node"]["video"]["caption"] for edge in likes["edges"]] == expected[:2]
    assert likes["pageInfo"]["hasNextPage"] is False


async def test_a_likes_cursor_is_bound_to_its_account_and_viewer(world: World) -> None:
    await world.create_video("erin: one", as_="erin")
    assert "errors" not in await world.like("erin: one", as_="erin")
    data = await world.ok(LIKES_PAGE, {"h": "erin", "first": 1}, as_="bob")
    cursor = data["account"]["likes"]["pageInfo"]["endCursor"]
    replayed = await world(LIKES_PAGE, {"h": "erin", "first": 1, "after": cursor}, as_="carol")
    assert [e["extensions"]["code"] for e in replayed["errors"]] == ["BAD_USER_INPUT"]
    other_list = await world(LIKES_PAGE, {"h": "bob", "first": 1, "after": cursor}, as_="bob")
    assert [e["extensions"]["code"] for e in other_list["errors"]] == ["BAD_USER_INPUT"]
    resumed = await world.ok(LIKES_PAGE, {"h": "erin", "first": 1, "after": cursor}, as_="bob")
    assert [e["node"]["video"]["caption"] for e in resumed["account"]["likes"]["edges"]] == [
        POPULAR
    ]
