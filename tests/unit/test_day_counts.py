"""The counts of /stats from the day counts (migration 0018, storage/stats.py) are exactly those
of the tips themselves, on both databases: random tips at whole hours and at odd seconds, in
random areas (or none), with status changes through `TipDesk.set_status`, moves to other areas,
moves in time and deletions; windows and bars at local midnights (a day to two years, weekly
and monthly bars) and at odd times. The day counts themselves are recounted from the tips after
every kind of change."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from reports.stats import Period, period_of, typed_period
from storage.stats import StatsScope, TipCounts, Window
from storage.store import Store
from testing.stats_seed import iso, seed
from tests.unit.test_hour_histograms import CODES, SCOPES, SPAN_HOURS, START, _random_tips

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def _tips(store: Store) -> list[dict[str, str | None]]:
    rows = await store.db.fetchall("SELECT area, category, status, created_at FROM tips")
    return [dict(r) for r in rows]


async def _day_counts_are_a_recount(store: Store) -> None:
    kept = {(r["dim"], r["area"], r["day"], r["category"], r["status"]): int(r["n"])
            for r in await store.db.fetchall("SELECT * FROM tip_days")}
    counted: Counter[tuple[str, str, str, str, str]] = Counter()
    for tip in await _tips(store):
        day, area = str(tip["created_at"])[:10], str(tip["area"] or "")
        category, status = str(tip["category"]), str(tip["status"])
        counted[("kind", area, day, category, status)] += 1
        counted[("kind", "*", day, category, status)] += 1
        counted[("area", area, day, "", "")] += 1
    assert kept == dict(counted)


def _expected(tips: list[dict[str, str | None]], bars: list[Window],
              scope: StatsScope) -> tuple[dict[str, int], dict[str | None, int], dict[str, int],
                                          tuple[dict[str, int], ...]]:
    """By category, area, status and per bar: counted here, tip by tip, as the period's
    definition says (arrival in a bar, area in the scope)."""
    by_category: Counter[str] = Counter()
    by_area: Counter[str | None] = Counter()
    by_status: Counter[str] = Counter()
    per_bar: list[Counter[str]] = [Counter() for _ in bars]
    for tip in tips:
        if not (scope.everything or tip["area"] in scope.areas):
            continue
        for index, bar in enumerate(bars):
            if bar.start <= str(tip["created_at"]) < bar.end:
                by_category[str(tip["category"])] += 1
                by_area[tip["area"]] += 1
                by_status[str(tip["status"])] += 1
                per_bar[index][str(tip["category"])] += 1
    return dict(by_category), dict(by_area), dict(by_status), tuple(dict(c) for c in per_bar)


def _found(counts: TipCounts) -> tuple[dict[str, int], dict[str | None, int], dict[str, int],
                                        tuple[dict[str, int], ...]]:
    return counts.by_category, counts.by_area, counts.by_status, counts.per_bucket


def _periods() -> list[tuple[Window, list[Window]]]:
    periods: list[Period | None] = [
        typed_period(date(2024, 11, 1), date(2025, 4, 30)),  # across a new year, by month
        typed_period(date(2025, 1, 1), date(2025, 12, 31)),
        typed_period(date(2024, 12, 1), date(2025, 2, 28)),
        typed_period(date(2024, 12, 31), date(2024, 12, 31)),  # one day
        typed_period(date(2025, 1, 31), date(2025, 2, 1)),  # two days over a month's end
        typed_period(date(2024, 12, 20), date(2025, 1, 20)),  # by week
        period_of("w", date(2025, 1, 1)), period_of("m", date(2025, 2, 14)),
        period_of("q", date(2025, 1, 5)), period_of("12", date(2025, 3, 3)),
        period_of("m", date(2031, 1, 1)),  # empty
    ]
    found = [(p.window(zone), p.bucket_windows(zone)) for p in periods if p is not None
             for zone in (TZ, UTC)]
    return found


def _odd_periods(rng: random.Random) -> list[tuple[Window, list[Window]]]:
    """Windows at odd seconds cut into 1 to 5 bars at odd seconds."""
    found = []
    for _ in range(10):
        start = START + timedelta(seconds=rng.randrange(SPAN_HOURS * 3600))
        length = rng.choice((3600, 86400, 3 * 86400, 40 * 86400, 150 * 86400)) + rng.randrange(
            86400)
        cuts = sorted(rng.sample(range(1, length), rng.randrange(0, 5)))
        edges = [start + timedelta(seconds=s) for s in (0, *cuts, length)]
        bars = [Window(iso(a), iso(b)) for a, b in pairwise(edges)]
        found.append((Window(bars[0].start, bars[-1].end), bars))
    return found


async def _all_agree(store: Store, periods: list[tuple[Window, list[Window]]]) -> None:
    tips = await _tips(store)
    for window, bars in periods:
        for scope in SCOPES:
            counts = await store.stats.tip_counts(window, scope, bars)
            assert _found(counts) == _expected(tips, bars, scope), (window, bars, scope)
            assert counts.total == sum(counts.by_category.values())
            alone = await store.stats.tip_counts(window, scope)  # no bars: one, the window
            assert alone.by_category == _expected(tips, [window], scope)[0]


async def test_counts_from_the_day_counts_are_those_of_the_tips(store: Store) -> None:
    rng = random.Random(2018)
    ids = await seed(store, _random_tips(rng, 240), batch=80)
    periods = _periods() + _odd_periods(rng)
    await _day_counts_are_a_recount(store)
    await _all_agree(store, periods)

    # Status changes as officers make them, moves, redating, deletions: the counts follow.
    for tip_id in rng.sample(ids, 60):
        for status in rng.sample(("acknowledged", "resolved", "verifying", "unfounded",
                                  "transferred"), 2):
            await store.desk.set_status(tip_id, status)
    for tip_id in rng.sample(ids, 20):
        await store.desk.move_to_area(tip_id, rng.choice(CODES))
    async with store.db.transaction():
        for tip_id in rng.sample(ids, 20):
            moment = START + timedelta(seconds=rng.randrange(SPAN_HOURS * 3600))
            await store.db.execute(
                "UPDATE tips SET created_at = ?, area = NULL, category = 'other' WHERE tip_id = ?",
                (iso(moment), tip_id))
        for tip_id in rng.sample(ids, 30):
            await store.db.execute("DELETE FROM tips WHERE tip_id = ?", (tip_id,))
    await _day_counts_are_a_recount(store)
    now = datetime.now(UTC)
    year = typed_period(now.date() - timedelta(days=400), now.date())
    periods += [(year.window(TZ), year.bucket_windows(TZ))]
    await _all_agree(store, periods)


async def test_a_tip_leaves_no_day_count_behind(store: Store) -> None:
    """Rows whose count falls to 0 go: after deleting every tip the day counts are empty."""
    rng = random.Random(8)
    await seed(store, _random_tips(rng, 40))
    row = await store.db.fetchone("SELECT count(*) AS n FROM tip_days")
    assert row is not None and row["n"] > 0
    async with store.db.transaction():
        await store.db.execute("DELETE FROM tips")
    row = await store.db.fetchone("SELECT count(*) AS n FROM tip_days")
    assert row is not None and row["n"] == 0
