"""Rule 12 and the profile: updateProfile, deleteVideo, deleteAccount, over the personas."""

from __future__ import annotations

from typing import Any

import pytest

from api import deletion
from api.check import find_drift
from models.sql import Sql
from tests.conftest import Gql, error_codes
from tests.world import ACCOUNTS, BOB_CLIP, FIRST_STEPS, MISSING_VIDEO, PERSONAS, POPULAR, World

DELETE_VIDEO = "mutation($id: ID!) { deleteVideo(id: $id) }"
DELETE_ACCOUNT = "mutation($p: String!) { deleteAccount(password: $p) }"
UPDATE_PROFILE = "mutation($n: String!) { updateProfile(displayName: $n) { handle displayName } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"


async def no_drift() -> None:
    """Every stored counter equals its rows (what `likegraph check` verifies)."""
    assert [f.line() for f in await find_drift() if f.count] == []


async def rows_naming(account_pk: int) -> dict[str, int]:
    """Rows of any table that still point at an account, by table."""
    columns = {
        "account": ["id"],
        "video": ["author_id"],
        "video_like": ["account_id"],
        "follow": ["follower_id", "followee_id"],
        "block": ["blocker_id", "blocked_id"],
        "account_session": ["account_id"],
        "audience_profile": ["account_id"],
        "app_token": ["account_id"],
        "insights_account_figure": ["account_id"],
    }
    found = {}
    for table, names in columns.items():
        sql = Sql()
        where = " OR ".join(f"{name} = {sql.p(account_pk)}" for name in names)
        rows = await sql.rows(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}")
        if rows[0]["n"]:
            found[table] = rows[0]["n"]
    return found


async def account_pk(handle: str) -> int:
    sql = Sql()
    rows = await sql.rows(f"SELECT id FROM account WHERE handle = {sql.p(handle)}")
    pk: int = rows[0]["id"]
    return pk


# updateProfile -----------------------------------------------------------------------


async def test_update_profile_changes_the_name_everyone_sees(world: World) -> None:
    data = await world.ok(UPDATE_PROFILE, {"n": "  Bob the Builder "}, as_="bob")
    assert data["updateProfile"] == {"handle": "bob", "displayName": "Bob the Builder"}
    for viewer in ("anon", "alice", "carol"):
        account = await world.account("bob", as_=viewer)
        assert account is not None and account["displayName"] == "Bob the Builder"


@pytest.mark.parametrize("name", ["", "   ", "\u200b", "x" * 101])
async def test_update_profile_refuses_a_name_with_nothing_to_show(world: World, name: str) -> None:
    result = await world(UPDATE_PROFILE, {"n": name}, as_="bob")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    account = await world.account("bob", as_="alice")
    assert account is not None and account["displayName"] == "bob"


async def test_update_profile_needs_a_viewer(world: World) -> None:
    assert error_codes(await world(UPDATE_PROFILE, {"n": "Nobody"}, as_="anon")) == [
        "UNAUTHENTICATED"
    ]


# deleteVideo ---------------------------------------------------------------------------


async def test_the_author_deletes_a_video_and_its_likes(world: World) -> None:
    popular = world.video_ids[POPULAR]
    assert await world.ok(DELETE_VIDEO, {"id": popular}, as_="alice") == {"deleteVideo": True}
    for viewer in PERSONAS:
        assert await world.video(POPULAR, as_=viewer) is None
        assert (await world.ok(NODE, {"id": popular}, as_=viewer))["node"] is None
    assert await world.video_captions("alice", as_="anon") == [FIRST_STEPS]
    # Its likes are gone from every liker's list, the likers' own view included.
    for liker in ("carol", "bob", "erin", "dora"):
        assert POPULAR not in await world.liked_captions(liker, as_=liker)
    clip = await world.video(BOB_CLIP, as_="bob")  # other videos' likes are untouched
    assert clip is not None and clip["likeCount"] == 2
    await no_drift()


async def test_deleting_a_video_in_batches_keeps_its_counter_exact(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deletion, "LIKE_BATCH", 2)  # POPULAR has 5 likes: three batches
    assert await world.ok(DELETE_VIDEO, {"id": world.video_ids[POPULAR]}, as_="alice")
    await no_drift()
    sql = Sql()
    assert (await sql.rows("SELECT COUNT(*) AS n FROM video_like"))[0]["n"] == 2  # BOB_CLIP's


async def test_deleting_someone_elses_hidden_or_missing_video_is_the_same_not_found(
    world: World,
) -> None:
    await world.create_video("gone soon", as_="erin")
    assert await world.ok(DELETE_VIDEO, {"id": world.video_ids["gone soon"]}, as_="erin")
    attempts = {
        "someone else's, visible": ("bob", world.video_ids[POPULAR]),
        "someone else's, liked": ("erin", world.video_ids[POPULAR]),
        "hidden by a block": ("mallory", world.video_ids[POPULAR]),
        "hidden, a pending request": ("carol", world.video_ids[BOB_CLIP]),
        "never existed": ("bob", MISSING_VIDEO),
        "deleted": ("erin", world.video_ids["gone soon"]),
    }
    bodies = {}
    for case, (actor, video_id) in attempts.items():
        response = await world.gql.raw(DELETE_VIDEO, {"id": video_id}, as_=actor)
        bodies[case] = (response.status_code, response.content)
    assert len(set(bodies.values())) == 1, bodies
    result = await world(DELETE_VIDEO, {"id": MISSING_VIDEO}, as_="bob")
    assert result["errors"][0]["message"] == "No video with that ID."
    assert error_codes(result) == ["NOT_FOUND"]
    # Nothing was deleted by the refused attempts (POPULAR has 4 likes in the rule-11 world).
    assert (await world.video(POPULAR, as_="anon") or {}).get("likeCount") == 4
    assert (await world.video(BOB_CLIP, as_="alice") or {}).get("likeCount") == 2


async def test_delete_video_needs_a_viewer(world: World) -> None:
    result = await world(DELETE_VIDEO, {"id": world.video_ids[POPULAR]}, as_="anon")
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert await world.video(POPULAR, as_="anon") is not None


async def test_fields_after_a_delete_in_the_same_document_see_it(world: World) -> None:
    document = """
    mutation($id: ID!) {
      before: likeVideo(videoId: $id) {
        likeCount author { videos { edges { node { caption } } } }
      }
      deleteVideo(id: $id)
      after: updateProfile(displayName: "Alice") {
        videos { edges { node { caption } } }
        likes { edges { node { video { caption } } } }
      }
    }
    """
    data = await world.ok(document, {"id": world.video_ids[POPULAR]}, as_="alice")
    before = data["before"]
    assert before["likeCount"] == 5
    assert [e["node"]["caption"] for e in before["author"]["videos"]["edges"]] == [
        POPULAR,
        FIRST_STEPS,
    ]
    assert data["deleteVideo"] is True
    after = data["after"]
    assert [e["node"]["caption"] for e in after["videos"]["edges"]] == [FIRST_STEPS]
    assert [e["node"]["video"]["caption"] for e in after["likes"]["edges"]] == [BOB_CLIP]


# deleteAccount -------------------------------------------------------------------------


async def test_a_wrong_password_deletes_nothing(world: World) -> None:
    result = await world(DELETE_ACCOUNT, {"p": "not-bobs-password"}, as_="bob")
    assert error_codes(result) == ["FORBIDDEN"]
    assert result["data"] is None
    assert await world.account("bob", as_="anon") is not None
    assert (await world.video(POPULAR, as_="anon") or {}).get("likeCount") == 4


async def test_delete_account_needs_a_viewer(world: World) -> None:
    result = await world(DELETE_ACCOUNT, {"p": "password123"}, as_="anon")
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def _bob_is_gone(world: World) -> None:
    bob = world.account_ids["bob"]
    for viewer in PERSONAS:
        if viewer == "bob":
            continue
        assert await world.account("bob", as_=viewer) is None
        assert (await world.ok(NODE, {"id": bob}, as_=viewer))["node"] is None
        assert (await world.ok(NODE, {"id": world.video_ids[BOB_CLIP]}, as_=viewer))["node"] is None
        assert await world.video(BOB_CLIP, as_=viewer) is None
        likers = await world.likers(POPULAR, as_=viewer)
        assert likers is None or "bob" not in likers
    # Others' counters were lowered: POPULAR had 4 likes, bob's among them.
    assert (await world.video(POPULAR, as_="anon") or {}).get("likeCount") == 3
    assert await world.likers(POPULAR, as_="alice") == ["erin"]
    # Follow edges both ways: alice followed bob and bob followed alice.
    alice = await world.account("alice", as_="anon")
    assert alice is not None
    assert (alice["followerCount"], alice["followingCount"]) == (1, 0)  # dora still follows
    # alice's like of BOB_CLIP went with the video.
    assert await world.liked_captions("alice", as_="alice") == []
    await no_drift()


async def test_deleting_an_account_removes_everything_it_owns(world: World) -> None:
    pk = await account_pk("bob")
    assert await world.ok(DELETE_ACCOUNT, {"p": "password123"}, as_="bob") == {
        "deleteAccount": True
    }
    await _bob_is_gone(world)
    assert await rows_naming(pk) == {}
    # The deleted account's token can act no more.
    again = await world(DELETE_ACCOUNT, {"p": "password123"}, as_="bob")
    assert error_codes(again) == ["UNAUTHENTICATED"]


async def test_a_deleted_accounts_handle_is_free_and_names_a_new_account(world: World) -> None:
    old_id = world.account_ids["bob"]
    assert await world.ok(DELETE_ACCOUNT, {"p": "password123"}, as_="bob")
    new_id = await world.gql.sign_up("BOB")  # any case: handles are unique without regard to it
    assert new_id != old_id
    assert (await world.ok(NODE, {"id": old_id}, as_="alice"))["node"] is None
    # bob's old token ended with his account; the new account's own token reads it
    assert (await world.gql.raw("{ viewer { handle } }", as_="bob")).status_code == 401
    fresh: Any = await world.account("bob", as_="BOB")
    assert fresh["isPrivate"] is False
    assert (fresh["followerCount"], fresh["followingCount"]) == (0, 0)
    assert fresh["videos"]["edges"] == [] and fresh["likes"]["edges"] == []
    assert fresh["viewerFollowStatus"] == "NONE"
    assert await world.likers(POPULAR, as_="BOB") == ["erin"]  # not the old like


async def test_deleting_an_account_in_batches_keeps_every_counter_exact(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deletion, "LIKE_BATCH", 1)
    for caption in ("one", "two", "three"):
        await world.create_video(caption, as_="erin")
        for liker in ("bob", "carol", "dora"):
            assert "errors" not in await world.like(caption, as_=liker)
    for caption in ("bob two", "bob three"):  # bob's videos are walked one group at a time
        await world.create_video(caption, as_="bob")
        for liker in ("alice", "bob"):  # bob is private: alice follows him
            assert "errors" not in await world.like(caption, as_=liker)
    pk = await account_pk("bob")
    assert await world.ok(DELETE_ACCOUNT, {"p": "password123"}, as_="bob")
    assert await rows_naming(pk) == {}
    sql = Sql()
    assert (await sql.rows("SELECT COUNT(*) AS n FROM video"))[0]["n"] == 5  # 2 + erin's 3
    await no_drift()
    for caption in ("one", "two", "three"):
        video = await world.video(caption, as_="anon")
        assert video is not None and video["likeCount"] == 2
    await _bob_is_gone(world)


async def test_deleting_a_blocked_or_blocking_account_removes_the_blocks_both_ways(
    world: World,
) -> None:
    # alice blocked mallory; mallory now blocks erin too.
    assert await world.must("block", "erin", as_="mallory") is True
    pk = await account_pk("mallory")
    assert await world.ok(DELETE_ACCOUNT, {"p": "password123"}, as_="mallory")
    assert await rows_naming(pk) == {}
    assert (await world.video(POPULAR, as_="anon") or {}).get("likeCount") == 4
    for handle in ACCOUNTS:
        if handle != "mallory":
            assert await world.account("mallory", as_=handle) is None


async def test_an_account_deletes_only_itself(gql: Gql) -> None:
    await gql.sign_up("first")
    await gql.sign_up("second")
    # Each account deletes itself only: the viewer's password, the viewer's account.
    assert await gql.ok(DELETE_ACCOUNT, {"p": "password123"}, as_="first")
    assert (await gql.ok('{ account(handle: "second") { handle } }')) == {
        "account": {"handle": "second"}
    }
    assert (await gql.ok('{ account(handle: "first") { handle } }')) == {"account": None}
