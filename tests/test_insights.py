"""Creator insights (CONTRACT section 7, rules 14 to 16): who reads them, and that what
they show is released once, noised, thresholded and never changed afterwards."""

from __future__ import annotations

import asyncio
import json
import statistics
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from api import insights
from api.audience import BUCKETS, Dimension
from api.insights import ensure_released, last_closed_day, release_all
from api.insights_types import videos_of
from models import (
    Account,
    AudienceProfile,
    InsightsAccountFigure,
    InsightsFigure,
    InsightsRelease,
    Like,
    Video,
)
from tests.conftest import Gql, error_codes
from tests.test_query_count import counting_statements
from tests.world import ANON, FIRST_STEPS, PERSONAS, POPULAR, World

MIN_COUNT = 10  # the default LIKEGRAPH_INSIGHTS_MIN_COUNT of the test settings

VIDEO_INSIGHTS = """
query($id: ID!, $days: Int) {
  video(id: $id) {
    insights {
      likeCount releasedThrough
      likesByDay(days: $days) { day count withheld }
      ageBand: audience(dimension: AGE_BAND, days: $days) { key count withheld }
      region: audience(dimension: REGION, days: $days) { key count withheld }
      language: audience(dimension: LANGUAGE, days: $days) { key count withheld }
      relationship: audience(dimension: RELATIONSHIP, days: $days) { key count withheld }
      privacy: audience(dimension: ACCOUNT_PRIVACY, days: $days) { key count withheld }
    }
  }
}
"""

ACCOUNT_INSIGHTS = """
query($days: Int) {
  account(handle: "alice") {
    insights {
      likesByDay(days: $days) { day count withheld }
      audience(dimension: RELATIONSHIP, days: $days) { key count withheld }
    }
  }
}
"""


@pytest.fixture(autouse=True)
def _the_worlds_day(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Holds the open UTC day at the day the world's videos were posted, for the whole
    test: a test running across midnight would otherwise find them posted yesterday, and
    their closed days due for release."""
    monkeypatch.setattr(insights, "today", lambda: world.day)


def _today() -> date:
    return insights.today()


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


async def _backdate_video(caption: str, days_ago: int) -> Video:
    video = await Video.get(caption=caption)
    video.created_at = _noon(_today() - timedelta(days=days_ago))
    await video.save(update_fields=["created_at"])
    return video


async def _fans(count: int, prefix: str = "fan") -> list[Account]:
    """Accounts that never logged in, one in four private, with varied audience profiles."""
    await Account.bulk_create(
        [
            Account(
                handle=f"{prefix}{i}", display_name="Fan", password_hash="-", is_private=i % 4 == 0
            )
            for i in range(count)
        ]
    )
    fans = await Account.filter(handle__startswith=prefix).order_by("id")
    await AudienceProfile.bulk_create(
        [
            AudienceProfile(
                account_id=fan.id,
                birth_year=1990 + i % 20,
                region=("FR", "JP", "BR")[i % 3],
                language=("fr", "ja", "pt", "en")[i % 4],
            )
            for i, fan in enumerate(fans)
        ]
    )
    return fans


async def _likes(video: Video, fans: list[Account], when: datetime) -> None:
    """Likes written as generate writes them: rows with their liked_at, the count kept."""
    await Like.bulk_create(
        [
            Like(account_id=f.id, video_id=video.id, liked_at=when, liker_public=not f.is_private)
            for f in fans
        ]
    )
    video.like_count += len(fans)
    await video.save(update_fields=["like_count"])


async def _insights(world: World, caption: str, *, as_: str = "alice", days: int = 7) -> Any:
    return await world(VIDEO_INSIGHTS, {"id": world.video_ids[caption], "days": days}, as_=as_)


async def test_non_authors_get_null_and_forbidden(world: World) -> None:
    for persona in PERSONAS:
        result = await _insights(world, FIRST_STEPS, as_=persona)
        video = result["data"]["video"]
        if persona == "alice":
            assert "errors" not in result, result
            assert video["insights"]["likeCount"] == 0
        elif persona == "mallory":  # the video itself is hidden across the blocked pair
            assert video is None and "errors" not in result
        else:  # bob, carol, dora, erin and anon see the video, not its insights
            assert video == {"insights": None}, persona
            assert error_codes(result) == ["FORBIDDEN"], persona
            assert result["errors"][0]["path"] == ["video", "insights"]

        account = await world(ACCOUNT_INSIGHTS, {"days": 3}, as_=persona)
        if persona == "alice":
            assert "errors" not in account
            assert len(account["data"]["account"]["insights"]["likesByDay"]) == 3
        elif persona == "mallory":  # alice's profile is null across the blocked pair
            assert account == {"data": {"account": None}}
        else:
            assert account["data"]["account"] == {"insights": None}, persona
            assert error_codes(account) == ["FORBIDDEN"], persona


async def test_audience_profile_is_seen_by_its_account_only(world: World) -> None:
    data = await world.ok(
        'mutation { setAudienceProfile(birthYear: 1994, region: "fr", language: "PT")'
        " { audienceProfile { birthYear region language } } }",
        as_="bob",
    )
    assert data["setAudienceProfile"]["audienceProfile"] == {
        "birthYear": 1994,
        "region": "FR",
        "language": "pt",
    }
    # An argument left out keeps its value; null clears it.
    await world.ok("mutation { setAudienceProfile(region: null) { handle } }", as_="bob")
    query = 'query { account(handle: "bob") { audienceProfile { birthYear region language } } }'
    mine = await world.ok(query, as_="bob")
    assert mine["account"]["audienceProfile"] == {
        "birthYear": 1994,
        "region": None,
        "language": "pt",
    }
    for persona in ("alice", "carol", "dora", "erin", "mallory", ANON):
        result = await world(query, as_=persona)
        assert "errors" not in result, persona
        assert result["data"]["account"]["audienceProfile"] is None, persona


@pytest.mark.parametrize(
    "arguments",
    ["birthYear: 1899", "birthYear: 2999", 'region: "XX"', 'region: "FRA"', 'language: "xx"'],
)
async def test_audience_profile_rejects_implausible_values(world: World, arguments: str) -> None:
    result = await world(f"mutation {{ setAudienceProfile({arguments}) {{ handle }} }}", as_="bob")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["message"].endswith(".")
    assert await AudienceProfile.filter(birth_year__isnull=False).count() == 0


async def test_setting_a_profile_needs_a_viewer(world: World) -> None:
    result = await world("mutation { setAudienceProfile(birthYear: 1990) { handle } }", as_=ANON)
    assert error_codes(result) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("days", [0, -1, 366])
async def test_days_is_bounded(world: World, days: int) -> None:
    result = await _insights(world, POPULAR, days=days)
    assert error_codes(result) == ["BAD_USER_INPUT"]


async def test_a_released_figure_never_changes(world: World) -> None:
    video = await _backdate_video(POPULAR, days_ago=10)
    fans = await _fans(40)
    yesterday = last_closed_day()
    await _likes(video, fans[:30], _noon(yesterday))
    await _likes(video, fans[30:], _noon(yesterday - timedelta(days=1)))

    first = await _insights(world, POPULAR)
    assert "errors" not in first, first
    points = first["data"]["video"]["insights"]["likesByDay"]
    assert points[0]["day"] == yesterday.isoformat() and not points[0]["withheld"]

    # A like and an unlike through the API, and a released like's row deleted outright.
    await world.like(POPULAR, as_="alice")
    await world.like(POPULAR, as_="erin", unlike=True)
    await Like.filter(video_id=video.id, account_id=fans[0].id).delete()
    second = await _insights(world, POPULAR)
    first["data"]["video"]["insights"].pop("likeCount")  # exact, so it moves: rule 3
    second["data"]["video"]["insights"].pop("likeCount")
    assert json.dumps(second) == json.dumps(first)


async def test_two_reads_of_any_window_are_identical(world: World) -> None:
    video = await _backdate_video(POPULAR, days_ago=30)
    fans = await _fans(80)
    for n, days_ago in enumerate(range(1, 20, 3)):
        await _likes(video, fans[n * 11 : n * 11 + 11], _noon(_today() - timedelta(days=days_ago)))
    for days in (1, 7, 28, 365):
        once = await _insights(world, POPULAR, days=days)
        again = await _insights(world, POPULAR, days=days)
        assert json.dumps(once) == json.dumps(again)
        mine = await world(ACCOUNT_INSIGHTS, {"days": days}, as_="alice")
        assert json.dumps(mine) == json.dumps(
            await world(ACCOUNT_INSIGHTS, {"days": days}, as_="alice")
        )


async def test_a_day_still_open_shows_nothing(world: World) -> None:
    video = await _backdate_video(POPULAR, days_ago=3)
    await _likes(video, await _fans(40), datetime.now(UTC))
    result = await _insights(world, POPULAR, days=3)
    insights = result["data"]["video"]["insights"]
    today = _today().isoformat()
    assert all(point["day"] != today for point in insights["likesByDay"])
    assert all(point["withheld"] and point["count"] is None for point in insights["likesByDay"])
    assert all(b["withheld"] for b in insights["ageBand"])
    assert await InsightsRelease.filter(day=_today()).count() == 0


async def test_one_like_never_makes_a_visible_bucket(world: World) -> None:
    video = await _backdate_video(POPULAR, days_ago=3)
    await _likes(video, await _fans(1), _noon(last_closed_day()))
    insights = (await _insights(world, POPULAR, days=1))["data"]["video"]["insights"]
    # The like's own buckets (fan0: private, born 1990, FR, fr, not a follower) and its
    # day stay withheld. (Noise alone lifts a bucket to the threshold with a chance of
    # e^-9 at epsilon 1, so this holds but for about one run in a thousand.)
    assert insights["likesByDay"] == [
        {"day": last_closed_day().isoformat(), "count": None, "withheld": True}
    ]
    mine = {"ageBand": "35_44", "region": "FR", "language": "fr", "privacy": "PRIVATE"}
    for name, key in {**mine, "relationship": "NON_FOLLOWER"}.items():
        bucket = next(b for b in insights[name] if b["key"] == key)
        assert bucket == {"key": key, "count": None, "withheld": True}, name
    # And nothing shown anywhere is below the threshold.
    for name in ("ageBand", "region", "language", "relationship", "privacy"):
        for bucket in insights[name]:
            assert bucket["withheld"] or bucket["count"] >= MIN_COUNT, (name, bucket)


async def test_every_bucket_is_listed_in_order(world: World) -> None:
    insights = (await _insights(world, POPULAR, days=1))["data"]["video"]["insights"]
    for name, dimension in (
        ("ageBand", Dimension.AGE_BAND),
        ("region", Dimension.REGION),
        ("language", Dimension.LANGUAGE),
        ("relationship", Dimension.RELATIONSHIP),
        ("privacy", Dimension.ACCOUNT_PRIVACY),
    ):
        assert [b["key"] for b in insights[name]] == list(BUCKETS[dimension])
    assert [b["key"] for b in insights["ageBand"]] == [
        "UNDER_18", "18_24", "25_34", "35_44", "45_54", "55_PLUS", "UNKNOWN",
    ]  # fmt: skip


async def test_released_counts_carry_the_noise_epsilon_implies(world: World) -> None:
    # OpenDP draws from the system's randomness (it takes no seed), so the check is
    # statistical. At epsilon 1 a discrete Laplace count's noise has mean absolute value
    # 2e^-1 / (1 - e^-2) = 0.85 and standard deviation 1.06, so the mean over 56 counts
    # is 0.85 +- 0.14: [0.2, 2.0] misses it less than once in 10^5 runs, and exact
    # counts give 0. Days of 30 likes: withheld (noise <= -21) about once in 10^9
    # counts. (With 20 a day a count was withheld about once in 1,700 runs: noise <= -11
    # comes ~1e-5 of the time, measured over a million draws; it failed a run once.)
    per_day = 30
    video = await _backdate_video(POPULAR, days_ago=60)
    fans = await _fans(56 * per_day)
    for i in range(56):
        day = last_closed_day() - timedelta(days=i)
        await _likes(video, fans[i * per_day : (i + 1) * per_day], _noon(day))
    insights = (await _insights(world, POPULAR, days=56))["data"]["video"]["insights"]
    released = [point["count"] for point in insights["likesByDay"]]
    assert len(released) == 56 and None not in released
    errors = [abs(count - per_day) for count in released]
    assert any(errors), "every released count equals the true count: no noise"
    assert 0.2 <= statistics.mean(errors) <= 2.0, errors


async def test_concurrent_releases_of_a_day_leave_one_set_of_figures(world: World) -> None:
    video = await _backdate_video(POPULAR, days_ago=3)
    await _likes(video, await _fans(60), _noon(last_closed_day()))
    mine = await videos_of((await Video.get(id=video.id)).author_id)
    yesterday = last_closed_day()
    won = await asyncio.gather(
        *(ensure_released(mine, yesterday, yesterday, 1.0, MIN_COUNT) for _ in range(4))
    )
    assert sorted(won) == [0, 0, 0, 1]  # the day was released by exactly one of them
    assert await InsightsRelease.filter(video_id=video.id, day=yesterday).count() == 1
    figures = await InsightsFigure.filter(video_id=video.id, day=yesterday, dimension="TOTAL")
    assert len(figures) == 1


async def test_a_read_costs_the_same_few_statements_whatever_the_window(world: World) -> None:
    video = await _backdate_video(POPULAR, days_ago=400)
    await _likes(video, await _fans(20), _noon(last_closed_day()))
    await _insights(world, POPULAR, days=365)  # the one-time release
    await world(ACCOUNT_INSIGHTS, {"days": 365}, as_="alice")
    counts = {}
    for days in (1, 28, 365):
        with counting_statements() as counter:
            result = await _insights(world, POPULAR, days=days)
            assert "errors" not in result
            await world(ACCOUNT_INSIGHTS, {"days": days}, as_="alice")
        assert not [s for s in counter.statements if "video_like" in s], counter.statements
        counts[days] = len(counter.statements)
    assert counts[1] == counts[28] == counts[365], counts


async def test_account_insights_sum_the_videos_releases(world: World, gql: Gql) -> None:
    video = await _backdate_video(POPULAR, days_ago=5)
    other = await _backdate_video(FIRST_STEPS, days_ago=5)
    fans = await _fans(30)
    await _likes(video, fans, _noon(last_closed_day()))
    await _likes(other, fans[:20], _noon(last_closed_day()))
    one = (await _insights(world, POPULAR, days=1))["data"]["video"]["insights"]
    two = (await _insights(world, FIRST_STEPS, days=1))["data"]["video"]["insights"]
    mine = (await world(ACCOUNT_INSIGHTS, {"days": 1}, as_="alice"))["data"]["account"]
    total = one["likesByDay"][0]["count"] + two["likesByDay"][0]["count"]
    assert mine["insights"]["likesByDay"][0]["count"] == total


async def test_deleting_a_video_changes_no_released_figure_of_its_account(world: World) -> None:
    """Rule 15: nothing a deletion does afterwards changes a released figure. The video's
    own figures go with it (rule 12), its account's sums stay as released."""
    video = await _backdate_video(POPULAR, days_ago=5)
    other = await _backdate_video(FIRST_STEPS, days_ago=5)
    fans = await _fans(40)
    await _likes(video, fans, _noon(last_closed_day() - timedelta(days=1)))
    await _likes(other, fans[:30], _noon(last_closed_day() - timedelta(days=1)))
    before = await world(ACCOUNT_INSIGHTS, {"days": 3}, as_="alice")
    released = before["data"]["account"]["insights"]["likesByDay"][1]
    assert not released["withheld"] and released["count"] >= 50, released

    gone = await world.ok(
        "mutation($id: ID!) { deleteVideo(id: $id) }",
        {"id": world.video_ids[FIRST_STEPS]},
        as_="alice",
    )
    assert gone == {"deleteVideo": True}
    assert await InsightsFigure.filter(video_id=other.id).count() == 0
    assert await world(ACCOUNT_INSIGHTS, {"days": 3}, as_="alice") == before

    # Deleting the account deletes its figures (rule 12: nothing of it is left).
    assert await InsightsAccountFigure.filter(account_id=video.author_id).count() > 0
    deleted = await world.ok('mutation { deleteAccount(password: "password123") }', as_="alice")
    assert deleted == {"deleteAccount": True}
    assert await InsightsAccountFigure.filter(account_id=video.author_id).count() == 0


async def test_the_release_command_releases_each_closed_day_once(world: World) -> None:
    video = await _backdate_video(POPULAR, days_ago=5)  # the other videos were posted today
    await _likes(video, await _fans(12), _noon(last_closed_day()))
    seen: list[tuple[int, int, int]] = []
    videos, released = await release_all(30, 1.0, MIN_COUNT, lambda *step: seen.append(step))
    assert (videos, released) == (3, 5)  # POPULAR's five closed days since it was posted
    assert seen[-1] == (3, 3, 5)
    assert await InsightsRelease.filter(day=_today()).count() == 0
    again = await release_all(30, 1.0, MIN_COUNT, lambda *step: None)
    assert again == (3, 0)
