"""The medians of hours from the histogram (migration 0016, storage/stats.py) are exactly those
of the tips themselves, on both databases: random tips at whole hours and at odd seconds, in
random areas (or none), reopened and closed again through `TipDesk.set_status`, moved to other
areas, moved in time and deleted; windows at local midnights (a day to two years) and at odd
times. The histogram itself is recounted from the tips after every kind of change."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from reports.stats import Period, period_of, typed_period
from rules.areas import load_areas
from storage.stats import StatsScope, Window
from storage.store import Store
from testing.stats_seed import SeedTip, iso, seed
from texts.catalog import CATEGORIES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CODES = [a.code for a in load_areas(None)][:5]
START = datetime(2024, 11, 20, tzinfo=UTC)
SPAN_HOURS = 24 * 150  # to mid-April 2025: months, a new year, whole and partial days
SCOPES = (StatsScope(everything=True), StatsScope(everything=False, areas=(CODES[0],)),
          StatsScope(everything=False, areas=(CODES[1], CODES[2])),
          StatsScope(everything=False, areas=()))


def _random_tips(rng: random.Random, count: int) -> list[SeedTip]:
    tips = []
    for _ in range(count):
        odd = rng.random() < 0.3  # an old line's exact times; production keeps hours
        created = START + timedelta(hours=rng.randrange(SPAN_HOURS))
        if odd:
            created += timedelta(seconds=rng.randrange(3600))
        changes: list[tuple[str, float, int]] = []
        at = 0.0
        for _ in range(rng.choice((0, 1, 1, 2, 3, 4))):
            at += rng.choice((0.0, 1.0, 2.0, 5.0, 24.0, 300.0)) + (
                rng.random() * 3 if odd else 0.0)
            changes.append((rng.choice(("acknowledged", "verifying", "resolved", "unfounded",
                                        "transferred", "acknowledged")), at, 7001))
        tips.append(SeedTip(rng.choice(CATEGORIES), rng.choice([*CODES, None]), created,
                            tuple(changes)))
    return tips


def _seconds(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _hours(since: str, later: str) -> float:
    return max(0, _seconds(later) - _seconds(since)) / 3600.0


async def _tips(store: Store) -> list[dict[str, str | None]]:
    rows = await store.db.fetchall(
        "SELECT area, created_at, acknowledged_at, closed_at FROM tips")
    return [dict(r) for r in rows]


def _expected(tips: list[dict[str, str | None]], window: Window,
              scope: StatsScope) -> tuple[int, float | None, int, float | None]:
    """Acknowledged, median hours to it, closed, median hours to it: counted here, tip by
    tip, as the period's definition says (arrival in the window, area in the scope)."""
    chosen = [t for t in tips if window.start <= str(t["created_at"]) < window.end
              and (scope.everything or t["area"] in scope.areas)]
    ack = [_hours(str(t["created_at"]), t["acknowledged_at"]) for t in chosen
           if t["acknowledged_at"] is not None]
    close = [_hours(str(t["created_at"]), t["closed_at"]) for t in chosen
             if t["closed_at"] is not None]
    return (len(ack), median(ack) if ack else None, len(close),
            median(close) if close else None)


def _windows(rng: random.Random) -> list[Window]:
    periods: list[Period | None] = [
        typed_period(date(2024, 11, 1), date(2025, 4, 30)),  # everything, across a new year
        typed_period(date(2025, 1, 1), date(2025, 12, 31)),
        typed_period(date(2024, 12, 1), date(2025, 2, 28)),  # whole months inside
        typed_period(date(2024, 12, 31), date(2024, 12, 31)),  # one day
        typed_period(date(2025, 1, 31), date(2025, 2, 1)),  # two days over a month's end
        period_of("w", date(2025, 1, 1)), period_of("m", date(2025, 2, 14)),
        period_of("q", date(2025, 1, 5)), period_of("12", date(2025, 3, 3)),
    ]
    windows = [p.window(TZ) for p in periods if p is not None]
    windows += [p.window(UTC) for p in periods[:3] if p is not None]  # UTC midnights: no edges
    for _ in range(12):  # odd starts and ends, from an hour to five months
        start = START + timedelta(seconds=rng.randrange(SPAN_HOURS * 3600))
        length = timedelta(seconds=rng.choice((3600, 86400, 3 * 86400, 40 * 86400,
                                               150 * 86400)) + rng.randrange(86400))
        windows.append(Window(start.isoformat(timespec="seconds"),
                              (start + length).isoformat(timespec="seconds")))
    return windows


async def _histogram_is_a_recount(store: Store) -> None:
    kept = {(r["measure"], r["area"], r["grain"], r["period"], float(r["hours"])): int(r["n"])
            for r in await store.db.fetchall("SELECT * FROM tip_hours")}
    counted: Counter[tuple[str, str, str, str, float]] = Counter()
    for tip in await _tips(store):
        created = str(tip["created_at"])
        for measure, column in (("ack", "acknowledged_at"), ("close", "closed_at")):
            if tip[column] is None:
                continue
            for area in ("*", tip["area"] or ""):
                for grain, length in (("day", 10), ("month", 7)):
                    counted[(measure, str(area), grain, created[:length],
                             _hours(created, str(tip[column])))] += 1
    assert kept == dict(counted)


async def _all_agree(store: Store, windows: list[Window]) -> None:
    tips = await _tips(store)
    for window in windows:
        for scope in SCOPES:
            counts = await store.stats.tip_counts(window, scope)
            found = (counts.acknowledged, counts.median_ack_hours, counts.closed,
                     counts.median_close_hours)
            assert found == _expected(tips, window, scope), (window, scope)


async def test_medians_from_the_histogram_are_those_of_the_tips(store: Store) -> None:
    rng = random.Random(2016)
    ids = await seed(store, _random_tips(rng, 240), batch=80)
    windows = _windows(rng)
    await _histogram_is_a_recount(store)
    await _all_agree(store, windows)

    # Reopened and closed again as officers do (times now, to the hour), moved, redated,
    # deleted: the histogram follows each change.
    for tip_id in rng.sample(ids, 60):
        for status in rng.sample(("acknowledged", "resolved", "verifying", "unfounded",
                                  "transferred"), 3):
            await store.desk.set_status(tip_id, status)
    for tip_id in rng.sample(ids, 20):
        await store.desk.move_to_area(tip_id, rng.choice(CODES))
    async with store.db.transaction():
        for tip_id in rng.sample(ids, 20):  # an old line's exact times, and its purged tips
            moment = START + timedelta(seconds=rng.randrange(SPAN_HOURS * 3600))
            await store.db.execute(
                "UPDATE tips SET created_at = ?, acknowledged_at = ?, closed_at = NULL,"
                " area = NULL WHERE tip_id = ?",
                (iso(moment), iso(moment + timedelta(seconds=rng.randrange(10**6))), tip_id))
        for tip_id in rng.sample(ids, 30):
            await store.db.execute("DELETE FROM tips WHERE tip_id = ?", (tip_id,))
    await _histogram_is_a_recount(store)
    now = datetime.now(UTC)
    windows += [Window(iso(now - timedelta(days=2, hours=5)), iso(now + timedelta(days=1))),
                typed_period(now.date() - timedelta(days=400), now.date()).window(TZ)]
    await _all_agree(store, windows)


async def test_a_tip_leaves_no_row_behind(store: Store) -> None:
    """Rows whose count falls to 0 go: after deleting every tip the histogram is empty."""
    rng = random.Random(7)
    await seed(store, _random_tips(rng, 40))
    assert await store.db.fetchone("SELECT count(*) AS n FROM tip_hours") is not None
    async with store.db.transaction():
        await store.db.execute("DELETE FROM tips")
    row = await store.db.fetchone("SELECT count(*) AS n FROM tip_hours")
    assert row is not None and row["n"] == 0
