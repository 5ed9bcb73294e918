"""Rule 13: `GET /export`, the viewer's own data, and nothing the API would not show now."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api import export
from tests.world import BOB_CLIP, FIRST_STEPS, POPULAR, World


async def export_of(world: World, persona: str) -> dict[str, Any]:
    response = await world.gql.client.get(
        "/export", headers={"Authorization": f"Bearer {world.gql.tokens[persona]}"}
    )
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="likegraph-export-{persona}.json"'
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = json.loads(response.content)
    return document


def handles(document: dict[str, Any], section: str) -> list[str]:
    return sorted(entry["handle"] for entry in document[section])


def liked(document: dict[str, Any]) -> list[str]:
    return [like["video"]["caption"] for like in document["likes"]]


async def test_alice_exports_her_videos_likes_graph_and_blocks(world: World) -> None:
    document = await export_of(world, "alice")
    assert document["account"]["handle"] == "alice"
    assert document["account"]["id"] == world.account_ids["alice"]
    assert (document["account"]["followerCount"], document["account"]["followingCount"]) == (2, 1)
    assert [(v["caption"], v["likeCount"]) for v in document["videos"]] == [
        (POPULAR, 4),
        (FIRST_STEPS, 0),
    ]
    assert [v["id"] for v in document["videos"]] == [
        world.video_ids[POPULAR],
        world.video_ids[FIRST_STEPS],
    ]
    assert liked(document) == [BOB_CLIP]  # she follows bob: his clip is visible to her
    assert handles(document, "followers") == ["bob", "dora"]
    assert handles(document, "following") == ["bob"]
    assert document["followRequestsReceived"] == document["followRequestsSent"] == []
    assert handles(document, "blockedAccounts") == ["mallory"]


ALICE_THROUGH_THE_API = """
{ viewer {
    id handle displayName isPrivate followerCount followingCount
    videos(first: 50) { edges { node { id caption createdAt likeCount } } }
    likes(first: 50) { edges { node { likedAt video { id caption author { handle } } } } }
    followers(first: 50) { edges { node { id handle displayName } } }
    following(first: 50) { edges { node { id handle displayName } } }
    followRequests(first: 50) { edges { node { id handle displayName } } }
    sentFollowRequests(first: 50) { edges { node { id handle displayName } } }
    blockedAccounts(first: 50) { edges { node { id handle displayName } } }
} }
"""


async def test_every_exported_field_is_one_the_api_answers_with_the_same_value(
    world: World,
) -> None:
    """Rule 13: nothing in the export that the viewer could not read through the API now,
    not even a timestamp the API never shows (when a follow or a block was made)."""
    document = await export_of(world, "alice")
    viewer = (await world.ok(ALICE_THROUGH_THE_API, as_="alice"))["viewer"]

    def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
        return sorted((edge["node"] for edge in connection["edges"]), key=lambda n: n["id"])

    profile = {k: v for k, v in viewer.items() if not isinstance(v, dict)}
    assert document["account"] == profile
    assert sorted(document["videos"], key=lambda v: v["id"]) == nodes(viewer["videos"])
    assert document["likes"] == [
        {
            "video": {**like["video"], "author": like["video"]["author"]["handle"]},
            "likedAt": like["likedAt"],
        }
        for like in (edge["node"] for edge in viewer["likes"]["edges"])
    ]
    for section, field in (
        ("followers", "followers"),
        ("following", "following"),
        ("followRequestsReceived", "followRequests"),
        ("followRequestsSent", "sentFollowRequests"),
        ("blockedAccounts", "blockedAccounts"),
    ):
        assert sorted(document[section], key=lambda a: a["id"]) == nodes(viewer[field]), section


async def test_a_like_of_a_video_the_viewer_can_no_longer_see_is_left_out(world: World) -> None:
    # dora liked BOB_CLIP as bob's follower; bob removed her (rule 8).
    document = await export_of(world, "dora")
    assert liked(document) == [POPULAR]
    assert handles(document, "following") == ["alice"]
    assert document["videos"] == [] and document["blockedAccounts"] == []


async def test_the_blocked_side_exports_no_like_of_the_blockers_video(world: World) -> None:
    document = await export_of(world, "mallory")
    assert liked(document) == []  # POPULAR's author is alice: a blocked pair
    assert document["blockedAccounts"] == []  # alice blocked her, not the other way
    assert document["followers"] == document["following"] == []


async def test_pending_requests_are_exported_by_both_sides(world: World) -> None:
    carol = await export_of(world, "carol")
    assert handles(carol, "followRequestsSent") == ["bob"]
    assert carol["followRequestsReceived"] == [] and carol["following"] == []
    assert liked(carol) == [POPULAR]
    bob = await export_of(world, "bob")
    assert handles(bob, "followRequestsReceived") == ["carol"]
    assert handles(bob, "followers") == ["alice"]
    assert handles(bob, "following") == ["alice"]
    assert [(v["caption"], v["likeCount"]) for v in bob["videos"]] == [(BOB_CLIP, 2)]
    assert liked(bob) == [POPULAR]


async def test_the_export_is_the_same_read_in_batches_of_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = await export_of(world, "alice")
    monkeypatch.setattr(export, "EXPORT_BATCH", 1)
    batched = await export_of(world, "alice")
    whole.pop("exportedAt"), batched.pop("exportedAt")
    assert batched == whole


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWxpY2U6eA=="}],
)
async def test_no_or_a_bad_token_is_401(world: World, headers: dict[str, str]) -> None:
    response = await world.gql.client.get("/export", headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "alice" not in response.text


async def test_a_deleted_account_exports_nothing(world: World) -> None:
    await world.ok('mutation { deleteAccount(password: "password123") }', as_="erin")
    response = await world.gql.client.get(
        "/export", headers={"Authorization": f"Bearer {world.gql.tokens['erin']}"}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
