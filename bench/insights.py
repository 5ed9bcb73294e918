"""Creator insights on a generated database: accuracy, withheld share and read cost.

    .venv/bin/python bench/insights.py [--likes 1000000] [--days 120]

Generates a fresh SQLite database (bench/.insights/), releases the last closed days of
three creators' videos through the same code the API runs (noise from OpenDP at
LIKEGRAPH_INSIGHTS_EPSILON's default, 1.0, threshold 10) and prints, for creators of
about 100, 10,000 and 100,000 likes: the median absolute error of the released daily
counts against the true counts (released days only), and the share of daily counts and
of buckets withheld. Then the read cost of the hottest video's insights against a
100-like video's (from releases), and the one-time release of one day of the hottest
video. Needs a few minutes on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import db
from api.generate import HISTORY_DAYS, Options, Progress, generate
from api.ids import configure
from api.insights import (
    TOTAL,
    Figures,
    VideoDays,
    Window,
    ensure_released,
    last_closed_day,
    posted_day,
    released_sums,
    true_counts,
)
from models.sql import Sql

EPSILON, MIN_COUNT = 1.0, 10
SECRET = "bench-insights-secret-0123456789abcdef"
HERE = Path(__file__).resolve().parent / ".insights"


async def _videos_near(likes: int) -> VideoDays:
    sql = Sql()
    rows = await sql.rows(
        "SELECT id, author_id, created_at, like_count FROM video"
        f" ORDER BY ABS(like_count - {sql.p(likes)}), id LIMIT 1"
    )
    row = rows[0]
    return VideoDays(int(row["id"]), int(row["author_id"]), posted_day(row["created_at"]))


async def _accuracy(label: str, video: VideoDays, days: int) -> None:
    window = Window.ending_yesterday(days)
    await ensure_released([video], window.first, window.last, EPSILON, MIN_COUNT)
    truth = await true_counts(db.conn(), [video.video_id], window.first, window.last)
    released = await released_sums(Figures.of_video(video.video_id), window, TOTAL, by_day=True)
    errors, withheld, total_days = [], 0, 0
    buckets_shown = buckets_withheld = 0
    for day in window.days_newest_first():
        true_day = truth.get((video.video_id, day), {})
        true_total = true_day.get((TOTAL, "ALL"), 0)
        if true_total == 0:
            continue  # days without likes: nothing to compare
        total_days += 1
        if day in released:
            errors.append(abs(released[day] - true_total))
        else:
            withheld += 1
    sql = Sql()
    rows = await sql.rows(
        "SELECT COUNT(*) AS n FROM insights_figure WHERE video_id = "
        f"{sql.p(video.video_id)} AND dimension <> 'TOTAL'"
    )
    buckets_shown = int(rows[0]["n"])
    nonzero_buckets = sum(
        1 for (v, _), d in truth.items() for (dim, _), n in d.items() if dim != TOTAL and n > 0
    )
    buckets_withheld = max(nonzero_buckets - buckets_shown, 0)
    likes = sum(d.get((TOTAL, "ALL"), 0) for d in truth.values())
    median = statistics.median(errors) if errors else float("nan")
    print(
        f"{label:>8}: {likes:>7,} likes on {total_days:>3} days | median |error| of released"
        f" daily counts {median:.1f} | days withheld {withheld}/{total_days}"
        f" | non-empty buckets withheld {buckets_withheld}/{nonzero_buckets}"
        f" ({100 * buckets_withheld / max(nonzero_buckets, 1):.0f}%)"
    )


READ = """
query($id: ID!, $days: Int!) { video(id: $id) { insights {
  likesByDay(days: $days) { day count withheld }
  audience(dimension: AGE_BAND, days: $days) { key count withheld }
} } }
"""


async def _read_cost(url: str, video: VideoDays, days: int, repeat: int = 200) -> float:
    """Median seconds of one insights request by the video's author through the ASGI
    app (parse, validate, authorize, two sums of releases, serialize)."""
    import httpx

    from api.app import create_app
    from api.ids import Kind, encode_id
    from api.settings import Settings
    from auth.sessions import start_session

    token = await start_session(video.author_id, SECRET, 3600)
    app = create_app(Settings(url, SECRET, 3600), apply_migrations=False)
    body = {"query": READ, "variables": {"id": encode_id(Kind.VIDEO, video.video_id), "days": days}}
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client:
        first = await client.post("/graphql", json=body, headers=headers)
        assert "errors" not in first.json(), first.text
        for _ in range(repeat):
            started = time.perf_counter()
            response = await client.post("/graphql", json=body, headers=headers)
            times.append(time.perf_counter() - started)
            assert response.content == first.content  # released: the same bytes every time
    return statistics.median(times)


async def main(likes: int, days: int) -> None:
    configure(SECRET)  # generate's summary names the hottest video by its global ID
    shutil.rmtree(HERE, ignore_errors=True)
    HERE.mkdir()
    url = f"sqlite://{HERE / 'bench.sqlite3'}"
    accounts = max(likes // 5, 1000)
    summary = await generate(
        url,
        Options(accounts=accounts, videos=max(likes // 100, 50), likes=likes, seed=7),
        Progress(open("/dev/null", "w")),  # noqa: SIM115
    )
    await db.connect(url)
    try:
        print(
            f"generated: {summary['likes']:,} likes, {summary['videos']:,} videos;"
            f" epsilon {EPSILON}, threshold {MIN_COUNT}, last {days} closed days"
        )
        hottest = await _videos_near(summary["hottestVideoLikes"])
        mid = await _videos_near(min(10_000, summary["hottestVideoLikes"] // 2))
        small = await _videos_near(100)
        # The one-time release of one day of the hottest video: its busiest day.
        busiest = await _busiest_day(hottest)
        started = time.perf_counter()
        await ensure_released([hottest], busiest, busiest, EPSILON, MIN_COUNT)
        release_ms = 1000 * (time.perf_counter() - started)
        for label, video in (("~100", small), ("~10,000", mid), ("hottest", hottest)):
            await _accuracy(label, video, days)
        hot, cold = await _read_cost(url, hottest, days), await _read_cost(url, small, days)
        print(
            f"one-time release of the hottest video's busiest day ({busiest}): {release_ms:.1f} ms"
        )
        print(
            f"insights request ({days} days, likesByDay + one audience), median: hottest"
            f" {1e3 * hot:.2f} ms, 100-like video {1e3 * cold:.2f} ms, ratio {hot / cold:.2f}"
        )
    finally:
        await db.close()


async def _busiest_day(video: VideoDays) -> date:
    last = last_closed_day()
    truth = await true_counts(db.conn(), [video.video_id], last - timedelta(days=364), last)
    return max(truth, key=lambda key: truth[key].get((TOTAL, "ALL"), 0))[1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--likes", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=HISTORY_DAYS)
    args = parser.parse_args()
    asyncio.run(main(args.likes, args.days))
