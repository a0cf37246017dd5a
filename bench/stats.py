"""/stats for a year on 100,000 tips: the SQL aggregations and the chart, against a plain count.

In one process, no Telegram. 100,000 tips are stored through the storage functions
(`Tips.insert` in batches of 5,000, each encrypted like a real tip; their status histories as
audit entries written per batch, see testing/stats_seed.py), spread over 2025 and over
the bundled areas, about half acknowledged and a third closed. Then what `/stats` does for the
year 2025, every area, is timed: `reports.stats.collect` (counts by category, area and status, the
two medians, tips per month per category, subscribers, campaigns) and `render_chart` (the PNG),
best and median of a few rounds; likewise for an officer of two areas. The baseline, measured in
the same run on the same database, is `SELECT count(*) FROM tips`. The target is under 1 s for
the whole answer (aggregation + chart); nothing is asserted.

    python -m bench.stats [--tips 100000] [--rounds 5]
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Report, arguments, ms
from reports.chart import render_chart
from reports.stats import collect, typed_period
from rules.areas import load_areas
from storage.stats import StatsScope
from storage.store import open_store
from testing.stats_seed import SeedTip, seed
from texts.catalog import CATEGORIES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TARGET_MS = 1000.0


def tips_of_2025(count: int) -> list[SeedTip]:
    rng = random.Random(13)
    codes = [a.code for a in load_areas(None)]
    start = datetime(2024, 12, 31, 17, tzinfo=UTC)  # 1 January 2025, 00:00 in Vietnam
    histories = [
        (),
        (("acknowledged", 1.5, 7002),),
        (("acknowledged", 0.5, 7002), ("verifying", 6.0, 7003)),
        (("acknowledged", 2.0, 7002), ("resolved", 30.0, 7002)),
        (("unfounded", 12.0, 7003),),
        (("acknowledged", 1.0, 7002), ("transferred", 50.0, 7003)),
    ]
    return [
        SeedTip(
            category=rng.choice(CATEGORIES),
            area=rng.choice([*codes, None]),
            created=start + timedelta(seconds=rng.randrange(0, 365 * 86400)),
            changes=rng.choice(histories),
            text="Có người lạ chở gỗ ban đêm qua cầu, đi hai xe máy không biển số.",
        )
        for _ in range(count)
    ]


async def best(rounds: int, action) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(best, median) seconds of `await action()` over `rounds` runs."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await action()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


async def run(args, result: Report) -> None:  # type: ignore[no-untyped-def]
    areas = load_areas(None)
    with tempfile.TemporaryDirectory(prefix="tipline-bench-stats-") as folder:
        store = await open_store(Path(folder) / "stats.db", os.urandom(32))
        try:
            started = time.perf_counter()
            await seed(store, tips_of_2025(args.tips), batch=5000, bulk_history=True)
            built = time.perf_counter() - started
            year = typed_period(date(2025, 1, 1), date(2025, 12, 31))
            everything = StatsScope(everything=True)
            officer = StatsScope(everything=False, areas=("hong-van", "a-luoi"))

            async def baseline() -> None:
                await store.db.fetchone("SELECT count(*) AS n FROM tips")

            async def aggregate(scope: StatsScope):  # type: ignore[no-untyped-def]
                return await collect(store, year, scope, TZ)

            report = await aggregate(everything)
            base_best, base_median = await best(args.rounds, baseline)
            agg_best, agg_median = await best(args.rounds, lambda: aggregate(everything))
            chart_best, chart_median = await best(
                args.rounds, lambda: asyncio.to_thread(render_chart, report, "vi", areas)
            )
            scoped = await aggregate(officer)
            off_best, off_median = await best(args.rounds, lambda: aggregate(officer))
            png = render_chart(report, "vi", areas)
        finally:
            await store.close()

    total_best, total_median = agg_best + chart_best, agg_median + chart_median
    result.section(f"{args.tips:,} tips in 2025 (stored in {built:.0f} s), best / median of "
                   f"{args.rounds}")
    result.row("tips counted for the year", report.counts.total)
    result.row("  acknowledged / closed", f"{report.counts.acknowledged:,} / "
               f"{report.counts.closed:,}")
    result.row("baseline: SELECT count(*) FROM tips", f"{ms(base_best):.1f} / "
               f"{ms(base_median):.1f}", "ms")
    result.row("aggregation, every area (reports.stats.collect)",
               f"{ms(agg_best):.0f} / {ms(agg_median):.0f}", "ms")
    result.row("chart (render_chart, in a thread)", f"{ms(chart_best):.0f} / "
               f"{ms(chart_median):.0f}", "ms")
    result.row("/stats for a year: aggregation + chart", f"{ms(total_best):.0f} / "
               f"{ms(total_median):.0f}", "ms")
    result.row(f"aggregation, an officer of 2 areas ({scoped.counts.total:,} tips)",
               f"{ms(off_best):.0f} / {ms(off_median):.0f}", "ms")
    result.row("chart PNG", len(png) / 1024, "KiB")
    result.ratio("/stats (median) / count(*) baseline (median)", total_median / base_median)
    result.key("/stats for a year on 100k tips (median)",
               f"{ms(total_median):.0f} ms (target < {TARGET_MS:.0f} ms: "
               f"{'met' if ms(total_median) < TARGET_MS else 'NOT met'})")


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    result = Report("stats", summary_path=args.summary_json)
    begun = time.perf_counter()
    asyncio.run(run(args, result))
    result.note(f"wall time {time.perf_counter() - begun:.1f} s")
    return result


if __name__ == "__main__":
    outcome = main()
    outcome.print()
    outcome.save()
