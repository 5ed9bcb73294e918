"""The GraphQL types of creator insights (CONTRACT section 7): released figures only.

Nothing here can name an account, a like or a moment finer than a day: the types hold
days, bucket keys and counts, and every count is a sum of stored, noised releases
(api/insights.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from api.audience import BUCKETS, Dimension
from api.context import Info
from api.errors import BadUserInput
from api.insights import (
    TOTAL,
    Figures,
    VideoDays,
    Window,
    ensure_released,
    last_closed_day,
    posted_day,
    released_sums,
)
from auth.policy import can_read_insights
from models import AudienceProfile as AudienceProfileModel
from models.sql import Sql

MAX_DAYS = 365
DEFAULT_DAYS = 28


class CanReadVideoInsights(BasePermission):
    """Rule 14: a video's insights are for its author; the policy decides."""

    message = "Only the video's author can read its insights."
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012  # strawberry's own attribute

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return can_read_insights(info.context.viewer, source.row.author.id)


class CanReadAccountInsights(BasePermission):
    """Rule 14: an account's insights are for the account itself; the policy decides."""

    message = "Only the account itself can read its insights."
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012  # strawberry's own attribute

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return can_read_insights(info.context.viewer, source.row.id)


@strawberry.type
class AudienceProfile:
    birth_year: int | None
    region: str | None
    language: str | None


@strawberry.type
class InsightsPoint:
    day: date
    count: int | None
    withheld: bool


@strawberry.type
class InsightsBucket:
    key: str
    count: int | None
    withheld: bool


def _window(days: int | None) -> Window:
    days = DEFAULT_DAYS if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise BadUserInput(f"`days` must be between 1 and {MAX_DAYS}.")
    return Window.ending_yesterday(days)


def _shown(total: int | None, min_count: int) -> tuple[int | None, bool]:
    """A sum of released figures, or withheld when below the threshold (rule 16). Days or
    buckets that were withheld add nothing to a sum (docs/insights.md)."""
    if total is None or total < min_count:
        return None, True
    return total, False


@dataclass(frozen=True)
class _Source:
    """Whose videos a read sums: one video, or every video of one author."""

    figures: Figures
    load_videos: Callable[[], Any]


async def _points(info: Info, source: _Source, days: int | None) -> list[InsightsPoint]:
    window = _window(days)
    await _release(info, source, window)
    sums = await released_sums(source.figures, window, TOTAL, by_day=True)
    min_count = info.context.settings.insights_min_count
    points = []
    for day in window.days_newest_first():
        count, withheld = _shown(sums.get(day), min_count)
        points.append(InsightsPoint(day=day, count=count, withheld=withheld))
    return points


async def _buckets(
    info: Info, source: _Source, dimension: Dimension, days: int | None
) -> list[InsightsBucket]:
    window = _window(days)
    await _release(info, source, window)
    sums = await released_sums(source.figures, window, dimension.value, by_day=False)
    min_count = info.context.settings.insights_min_count
    buckets = []
    for key in BUCKETS[dimension]:
        count, withheld = _shown(sums.get(key), min_count)
        buckets.append(InsightsBucket(key=key, count=count, withheld=withheld))
    return buckets


async def _release(info: Info, source: _Source, window: Window) -> None:
    """Releases, once, the closed days of the window that no read or CLI run released."""
    settings = info.context.settings
    videos: list[VideoDays] = await source.load_videos()
    await ensure_released(
        videos, window.first, window.last, settings.insights_epsilon, settings.insights_min_count
    )


@strawberry.type
class VideoInsights:
    video: strawberry.Private[VideoDays]
    like_count: int = strawberry.field(description="Exact, as everywhere.")

    def _source(self) -> _Source:
        video = self.video

        async def load() -> list[VideoDays]:
            return [video]

        return _Source(figures=Figures.of_video(video.video_id), load_videos=load)

    @strawberry.field(description="The last closed day included; null before any.")
    async def released_through(self, info: Info) -> date | None:
        last = last_closed_day()
        if self.video.posted > last:
            return None
        await _release(info, self._source(), Window(last, last))
        return last

    @strawberry.field(description="Closed days, newest first.")
    async def likes_by_day(
        self, info: Info, days: int | None = DEFAULT_DAYS
    ) -> list[InsightsPoint]:
        return await _points(info, self._source(), days)

    @strawberry.field(description="Likes by bucket over the closed days, every bucket in order.")
    async def audience(
        self, info: Info, dimension: Dimension, days: int | None = DEFAULT_DAYS
    ) -> list[InsightsBucket]:
        return await _buckets(info, self._source(), dimension, days)


@strawberry.type(description="All of the account's videos together.")
class AccountInsights:
    account_id: strawberry.Private[int]

    def _source(self) -> _Source:
        account_id = self.account_id

        async def load() -> list[VideoDays]:
            return await videos_of(account_id)

        return _Source(figures=Figures.of_account(account_id), load_videos=load)

    @strawberry.field(description="Closed days, newest first.")
    async def likes_by_day(
        self, info: Info, days: int | None = DEFAULT_DAYS
    ) -> list[InsightsPoint]:
        return await _points(info, self._source(), days)

    @strawberry.field(description="Likes by bucket over the closed days, every bucket in order.")
    async def audience(
        self, info: Info, dimension: Dimension, days: int | None = DEFAULT_DAYS
    ) -> list[InsightsBucket]:
        return await _buckets(info, self._source(), dimension, days)


async def videos_of(account_id: int) -> list[VideoDays]:
    sql = Sql()
    rows = await sql.rows(f"SELECT id, created_at FROM video WHERE author_id = {sql.p(account_id)}")
    return [VideoDays(int(r["id"]), account_id, posted_day(r["created_at"])) for r in rows]


async def audience_profile_of(account_id: int) -> AudienceProfile:
    """The account's declared profile (every field null when it declared nothing)."""
    profile = await AudienceProfileModel.get_or_none(account_id=account_id)
    if profile is None:
        return AudienceProfile(birth_year=None, region=None, language=None)
    return AudienceProfile(
        birth_year=profile.birth_year, region=profile.region, language=profile.language
    )
