"""The demo's insights audience: an alice video liked on past days by 48 fans.

Insights cover closed UTC days only, and a like made through `likeVideo` is dated now,
so this part of the demo writes rows the way `likegraph generate` does: accounts with
one shared password hash, their audience profiles, and like rows dated on past days
with the video's `like_count` raised in the same transaction. Everything is made only
when missing. The video itself is made through `createVideo`, then dated a week back
(once: a later run leaves its date and likes as they are).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from api.db import write_transaction
from auth.passwords import hash_password
from models import Account, AudienceProfile, Like, Video

INSIGHTS_VIDEO = ("alice", "Behind the scenes of the fjord shoot")
FANS = 48
LIKE_DAYS = 2  # the fans' likes fall on the two days before today, 24 a day
POSTED_DAYS_AGO = 7
REGIONS = ("NO", "NO", "NO", "SE")
LANGUAGES = ("no", "en", "no", "sv")


def fan_handle(i: int) -> str:
    return f"fan{i:02d}"


async def seed_insights_audience(video_id: int, password: str) -> tuple[int, int]:
    """Fans and their backdated likes of `video_id`; returns (fans, likes) made now."""
    today = datetime.now(UTC).date()
    posted = datetime.combine(today - timedelta(days=POSTED_DAYS_AGO), time(9), tzinfo=UTC)
    fan_rows = await Account.filter(handle__startswith="fan").values("handle")
    existing = {str(row["handle"]) for row in fan_rows}
    missing = [i for i in range(1, FANS + 1) if fan_handle(i) not in existing]
    if missing:
        shared = hash_password(password)  # one argon2 hash for them all, as generate does
        await Account.bulk_create(
            [
                Account(
                    handle=fan_handle(i),
                    display_name=f"Fan {i}",
                    password_hash=shared,
                    is_private=i % 4 == 0,
                )
                for i in missing
            ]
        )
    fans = await Account.filter(handle__in=[fan_handle(i) for i in range(1, FANS + 1)])
    by_handle = {fan.handle: fan for fan in fans}
    for i in missing:
        fan = by_handle[fan_handle(i)]
        await AudienceProfile.get_or_create(
            account_id=fan.id,
            defaults={
                "birth_year": 1975 + (i * 7) % 35,
                "region": REGIONS[i % len(REGIONS)],
                "language": LANGUAGES[i % len(LANGUAGES)],
            },
        )
    liked = {
        int(row["account_id"]) for row in await Like.filter(video_id=video_id).values("account_id")
    }
    if not liked:  # dated back once, with its first likes; a later run leaves it be
        await Video.filter(id=video_id).update(created_at=posted)
    rows: list[dict[str, Any]] = []
    for i in range(1, FANS + 1):
        fan = by_handle[fan_handle(i)]
        if fan.id in liked:
            continue
        day = today - timedelta(days=LIKE_DAYS - (i - 1) * LIKE_DAYS // FANS)
        at = datetime.combine(day, time(8), tzinfo=UTC) + timedelta(minutes=17 * i)
        rows.append({"account_id": fan.id, "liked_at": at, "liker_public": not fan.is_private})

    async def write(conn: BaseDBAsyncClient) -> None:
        await Like.bulk_create([Like(video_id=video_id, **row) for row in rows], using_db=conn)
        video = await Video.filter(id=video_id).using_db(conn).get()
        await (
            Video.filter(id=video_id).using_db(conn).update(like_count=video.like_count + len(rows))
        )

    if rows:
        await write_transaction(write)
    return len(missing), len(rows)
