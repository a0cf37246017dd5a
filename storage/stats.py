"""Statistics of tips, aggregated in SQL, and the bookkeeping of the monthly review.

Every number comes from the clear columns (category, area, status, and the times of arrival,
acknowledgement and closing, each to the hour): nothing is decrypted to count. The audit log
says who acted on each tip (the export's officers). A period is a
window of UTC times `[start, end)` in the ISO text of every `*_at` column, so it compares as
text; the caller turns local dates (TIPBOT_TIMEZONE) into that window. Times are compared and
subtracted as given: they may be rounded to the hour, and nothing here relies on seconds.

- A tip belongs to a period when it arrived in it (`tips.created_at`).
- Acknowledged: `tips.acknowledged_at` (an officer's first status change).
- Closed: `tips.closed_at`, which `TipDesk.set_status` keeps: the first change to resolved,
  unfounded or transferred since the tip was last reopened (NULL while it is open).
- Hours: arrival to acknowledgement, and arrival to closing (whole seconds / 3600, never
  negative); the medians are over the period's tips that have that time. They are read from
  the histogram `tip_hours` (migration 0016) for the whole UTC days and months of the period,
  and from the tips themselves for the partial days at its edges: the same values, merged.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from storage.database import Database

# The statements below are put together from these constant pieces (marked `noqa: S608`): no
# value is ever formatted into SQL; every value is a bound parameter.

#: The tips of the scope (parameters :everything, :areas), and of the period (:start, :end).
#: The index tips_for_stats covers every column read here but the reference (tips_for_closing,
#: of migration 0013, the closing times).
_IN_SCOPE = " (:everything = 1 OR t.area IN (SELECT value FROM json_each(:areas)))"
_IN_PERIOD = " t.created_at >= :start AND t.created_at < :end AND" + _IN_SCOPE

#: Hours from arrival, never negative (times rounded down to the hour can meet), from whole
#: seconds divided as doubles: the values the histogram of migration 0016 holds, the same in
#: both dialects (PostgreSQL's `tip_hours_between` is that migration's).
_ACK_HOURS = ("max(0, strftime('%s', t.acknowledged_at) - strftime('%s', t.created_at))"
              " / 3600.0")
_CLOSE_HOURS = "max(0, strftime('%s', t.closed_at) - strftime('%s', t.created_at)) / 3600.0"

#: Each dialect's spelling of the statements below that differ by more than a word
#: (storage/postgres.py translates the words).
_HOURS = {
    "sqlite": (_ACK_HOURS, _CLOSE_HOURS),
    "postgresql": ("tip_hours_between(t.created_at, t.acknowledged_at)",
                   "tip_hours_between(t.created_at, t.closed_at)"),
}


def _hours_of_tips(ack_hours: str, close_hours: str, in_period: str = _IN_PERIOD) -> str:
    """The hours to acknowledgement and to closing of the tips that arrived in [:start, :end)
    in the scope, value by value: (measure, h, n)."""
    return (
        "SELECT 'ack' AS measure, " + ack_hours + " AS h, count(*) AS n FROM tips t"  # noqa: S608
        " WHERE t.acknowledged_at IS NOT NULL AND" + in_period + " GROUP BY 2"
        " UNION ALL SELECT 'close' AS measure, " + close_hours + " AS h, count(*) AS n"
        " FROM tips t WHERE t.closed_at IS NOT NULL AND" + in_period + " GROUP BY 2"
    )


#: PostgreSQL's period of every area, and of some areas: no `:everything = 1 OR …`, whose
#: generic plan (a pool connection's statement after its fifth run) reads a whole index of tips
#: (see _PG_GROUP_PERIOD).
_PG_IN_PERIOD = " t.created_at >= :start AND t.created_at < :end"
_PG_IN_PERIOD_AREAS = (_PG_IN_PERIOD  # noqa: S608
                       + " AND t.area IN (SELECT value FROM json_each(:areas))")


#: The same from the histogram (migration 0016): the rows of :cells (the scope's areas, or
#: '*' for every area) of the UTC days [:a0, :a1), months [:m0, :m1) and days [:b0, :b1).
_CELLS = (" FROM tip_hours WHERE measure IN ('ack', 'close')"
          " AND area IN (SELECT value FROM json_each(:cells)) AND")
#: On PostgreSQL the areas are an array computed once (an InitPlan): `area = ANY (…)` is a
#: condition of the primary key's index scan. The semi-join that `IN (SELECT … json_each)`
#: becomes there is estimated at 100 areas whatever the list holds, and the planner read the
#: whole histogram in parallel instead (1.3 M rows at 1M tips: 175-236 ms of a year's /stats,
#: 10-20 ms this way; EXPLAIN ANALYZE in docs/PERFORMANCE.md, section 7).
_PG_CELLS = (" FROM tip_hours WHERE measure IN ('ack', 'close')"
             " AND area = ANY (ARRAY(SELECT json_array_elements_text(CAST(:cells AS json))))"
             " AND")


def _hours_of_histogram(cells: str) -> str:
    """The histogram's (measure, h, n) of the rows `cells` selects, over the UTC days
    [:a0, :a1), months [:m0, :m1) and days [:b0, :b1)."""
    return (
        "SELECT measure, hours AS h, sum(n) AS n FROM ("  # noqa: S608
        " SELECT measure, hours, n" + cells + " grain = 'day' AND period >= :a0 AND period < :a1"
        " UNION ALL SELECT measure, hours, n" + cells + " grain = 'month'"
        "  AND period >= :m0 AND period < :m1"
        " UNION ALL SELECT measure, hours, n" + cells + " grain = 'day'"
        "  AND period >= :b0 AND period < :b1"
        ") AS x GROUP BY measure, hours"
    )


_HOURS_OF_HISTOGRAM = {"sqlite": _hours_of_histogram(_CELLS),
                       "postgresql": _hours_of_histogram(_PG_CELLS)}
_HOURS_OF_TIPS = {dialect: _hours_of_tips(*hours) for dialect, hours in _HOURS.items()}
_PG_HOURS_OF_TIPS = {True: _hours_of_tips(*_HOURS["postgresql"], _PG_IN_PERIOD),
                     False: _hours_of_tips(*_HOURS["postgresql"], _PG_IN_PERIOD_AREAS)}

#: The tips of the partial UTC days at the bars' edges (the "bars" here are those pieces), in
#: one pass, piece by piece (the pieces make up the edges: a second range on created_at would
#: make SQLite scan them all for each piece), grouped by sorting.
_GROUP_PERIOD = (
    "SELECT CAST(b.key AS INTEGER) AS bar, t.category, t.area, t.status,"  # noqa: S608
    " count(*) AS n FROM json_each(:bars) b"
    " JOIN tips t ON t.created_at >= json_extract(b.value, '$[0]')"
    "  AND t.created_at < json_extract(b.value, '$[1]')"
    " WHERE" + _IN_SCOPE + " GROUP BY bar, t.category, t.area, t.status"
)

#: On PostgreSQL the bars are a JSON list's elements numbered from 1 (WITH ORDINALITY).
_PG_BARS = " json_array_elements(CAST(:bars AS json)) WITH ORDINALITY AS b(value, key)"
#: Two statements on PostgreSQL, every area and some areas, with no parameter the plan depends
#: on: a statement the pool's connection has run five times is planned once for any values
#: (a generic plan), and for `:everything = 1 OR …` that plan read the whole of tips_by_kind in
#: parallel and matched every tip against every bar (3.5 s for a month at 1M tips, 5.4 s for a
#: year, against 36 and 180 ms planned for the values; docs/PERFORMANCE.md, section 7).
_PG_GROUP_PERIOD = (
    "SELECT CAST(b.key - 1 AS INTEGER) AS bar, t.category, t.area, t.status,"
    " count(*) AS n FROM" + _PG_BARS +
    " JOIN tips t ON t.created_at >= b.value->>0 AND t.created_at < b.value->>1"
)
_PG_GROUP_EVERY_AREA = _PG_GROUP_PERIOD + " GROUP BY bar, t.category, t.area, t.status"
_PG_GROUP_AREAS = (
    _PG_GROUP_PERIOD + " WHERE t.area IN (SELECT value FROM json_each(:areas))"  # noqa: S608
    " GROUP BY bar, t.category, t.area, t.status"
)
#: The counts (bar, category, area, status, n) summed in SQL by bar and category, by area and
#: by status: a few hundred rows reach Python instead of one per kind and bar.
_SUMMED_BEFORE = "WITH k AS MATERIALIZED ("
_SUMMED_AFTER = (
    ") SELECT 'bar' AS dim, bar, category AS key, sum(n) AS n FROM k GROUP BY bar, category"
    " UNION ALL SELECT 'area' AS dim, 0 AS bar, area AS key, sum(n) AS n FROM k GROUP BY area"
    " UNION ALL SELECT 'status' AS dim, 0 AS bar, status AS key, sum(n) AS n FROM k"
    " GROUP BY status"
)
#: The whole UTC days of each bar from the day counts (migration 0018): :days is a JSON list
#: of [bar, first day, day after the last]. The same (dim, bar, key, n) rows as _SUMMED_AFTER.
_DAYS = {
    "sqlite": "WITH b AS (SELECT CAST(json_extract(value, '$[0]') AS INTEGER) AS bar,"
              " json_extract(value, '$[1]') AS d0, json_extract(value, '$[2]') AS d1"
              " FROM json_each(:days))",
    "postgresql": "WITH b AS (SELECT CAST(e.value->>0 AS INTEGER) AS bar,"
                  " e.value->>1 AS d0, e.value->>2 AS d1"
                  " FROM json_array_elements(CAST(:days AS json)) AS e(value))",
}
#: Every area: the '*' rows by category and status (~54 a day at 1M tips), and each area's
#: total of the day from the 'area' rows, a seek per bar and area (the areas that ever had a
#: tip are tip_tally's). CROSS JOIN keeps SQLite's order: with `d.area IN (…)` it read every
#: day of each area and matched it against every bar, a cost that grows with the line's age.
_DAYS_EVERY_AREA = (
    ", k AS MATERIALIZED (SELECT b.bar, d.category, d.status, sum(d.n) AS n FROM b"
    " JOIN tip_days d ON d.dim = 'kind' AND d.area = '*' AND d.day >= b.d0 AND d.day < b.d1"
    " GROUP BY b.bar, d.category, d.status)"
    " SELECT 'bar' AS dim, bar, category AS key, sum(n) AS n FROM k GROUP BY bar, category"
    " UNION ALL SELECT 'status' AS dim, 0 AS bar, status AS key, sum(n) AS n FROM k"
    " GROUP BY status"
    " UNION ALL SELECT 'area' AS dim, 0 AS bar, d.area AS key, sum(d.n) AS n"
    " FROM b CROSS JOIN (SELECT DISTINCT area FROM tip_tally) a CROSS JOIN tip_days d"
    " WHERE d.dim = 'area' AND d.area = a.area AND d.day >= b.d0 AND d.day < b.d1"
    " GROUP BY d.area"
)
#: Some areas: their 'kind' rows, area by area.
_DAYS_AREAS = {
    "sqlite": " JOIN tip_days d ON d.dim = 'kind'"
              " AND d.area IN (SELECT value FROM json_each(:areas))",
    "postgresql": " JOIN tip_days d ON d.dim = 'kind' AND d.area = ANY (ARRAY("
                  "SELECT json_array_elements_text(CAST(:areas AS json))))",
}
_DAYS_OF_AREAS = (
    ", k AS MATERIALIZED (SELECT b.bar, d.area, d.category, d.status, sum(d.n) AS n FROM b"  # noqa: S608
    "{areas} AND d.day >= b.d0 AND d.day < b.d1"
    " GROUP BY b.bar, d.area, d.category, d.status)" + _SUMMED_AFTER[1:]
)
_COUNT_DAYS = {
    (dialect, everything): _DAYS[dialect] + (
        _DAYS_EVERY_AREA if everything
        else _DAYS_OF_AREAS.format(areas=_DAYS_AREAS[dialect]))
    for dialect in ("sqlite", "postgresql") for everything in (True, False)
}
_NEW_SUBSCRIBERS = {
    "sqlite": "coalesce(sum(created_at >= :start AND created_at < :end), 0)",
    "postgresql": "count(*) FILTER (WHERE created_at >= :start AND created_at < :end)",
}

@dataclass(frozen=True)
class Window:
    """A period as UTC ISO times: `start` included, `end` excluded."""

    start: str
    end: str


@dataclass(frozen=True)
class StatsScope:
    """Whose tips: every area (admins, officers of all areas), or these areas only."""

    everything: bool
    areas: tuple[str, ...] = ()


@dataclass(frozen=True)
class TipCounts:
    total: int
    by_category: dict[str, int]
    by_area: dict[str | None, int]  # None: the resident was not sure of the area
    by_status: dict[str, int]
    acknowledged: int
    median_ack_hours: float | None
    closed: int
    median_close_hours: float | None
    #: tips per category in each bar of the chart (the windows asked for), in order
    per_bucket: tuple[dict[str, int], ...] = ()


@dataclass(frozen=True)
class SubscriberCounts:
    total: int  # subscribed now
    new: int  # of whom subscribed in the period


@dataclass(frozen=True)
class ExportRow:
    """One tip of an export: what the clear columns and the audit log say (no content)."""

    tip_id: int
    ref: str
    category: str
    area: str | None
    status: str
    created_at: str
    acknowledged_at: str | None
    closed_at: str | None
    ack_hours: float | None
    close_hours: float | None
    staff_ids: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class Review:
    month: str  # 'YYYY-MM' in TIPBOT_TIMEZONE
    due_at: float
    outcome: str | None
    finished_at: float | None


class Statistics:
    """Counts for /stats, /export and the monthly review (long reads: on the read connection,
    see storage.database)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _params(window: Window, scope: StatsScope) -> dict[str, object]:
        return {
            "start": window.start,
            "end": window.end,
            "everything": int(scope.everything),
            "areas": json.dumps(list(scope.areas)),
        }

    async def tip_counts(
        self, window: Window, scope: StatsScope, buckets: Sequence[Window] = ()
    ) -> TipCounts:
        """The period's tips by category, area and status, the medians, and the tips per
        category in each of `buckets` (consecutive windows that make up `window`).

        Each bar is its whole UTC days, counted from the day counts (migration 0018), and the
        partial UTC days at its edges, counted from the tips: at a million tips a year's
        /stats reads ~20,000 rows of counts and the tips of a dozen partial days instead of
        the year's 500,000 tips."""
        bars = list(buckets) or [window]
        pieces: list[tuple[int, Window]] = []  # (bar, a partial day of its edges)
        days: list[tuple[int, str, str]] = []  # (bar, its first whole day, the day after)
        for bar, bucket in enumerate(bars):
            edges, whole = _whole_days(bucket)
            pieces += [(bar, edge) for edge in edges]
            if whole is not None:
                days.append((bar, f"{whole[0]}", f"{whole[1]}"))
        counted: list[tuple[str, int, str | None, int]] = []  # (dim, bar, key, n)
        if pieces:
            edge_bars = json.dumps([[edge.start, edge.end] for _, edge in pieces])
            rows = await self._db.read_all(
                _SUMMED_BEFORE + self._grouping(scope) + _SUMMED_AFTER,
                {**self._params(window, scope), "bars": edge_bars})
            counted += [(r["dim"], pieces[int(r["bar"])][0] if r["dim"] == "bar" else 0,
                         r["key"], int(r["n"])) for r in rows]
        if days:
            rows = await self._db.read_all(
                _COUNT_DAYS[(self._db.dialect, scope.everything)],
                {"days": json.dumps(days), "areas": json.dumps(list(scope.areas))})
            counted += [(r["dim"], int(r["bar"]),
                         None if r["dim"] == "area" and r["key"] == "" else r["key"],
                         int(r["n"])) for r in rows]
        by_category: dict[str, int] = {}
        by_area: dict[str | None, int] = {}
        by_status: dict[str, int] = {}
        per_bucket: list[dict[str, int]] = [{} for _ in bars]
        for dim, bar, key, n in counted:
            if not n:
                continue
            if dim == "bar":
                assert key is not None
                per_bucket[bar][key] = per_bucket[bar].get(key, 0) + n
                by_category[key] = by_category.get(key, 0) + n
            elif dim == "area":
                by_area[key] = by_area.get(key, 0) + n
            else:
                assert key is not None
                by_status[key] = by_status.get(key, 0) + n
        hours = await self._hours(window, scope)
        acknowledged, median_ack = _median(hours["ack"])
        closed, median_close = _median(hours["close"])
        return TipCounts(
            total=sum(by_category.values()),
            by_category=by_category,
            by_area=by_area,
            by_status=by_status,
            acknowledged=acknowledged,
            median_ack_hours=median_ack,
            closed=closed,
            median_close_hours=median_close,
            per_bucket=tuple(per_bucket) if buckets else (),
        )

    def _grouping(self, scope: StatsScope) -> str:
        """The statement that groups the tips of the pieces (:bars) by kind, in this dialect."""
        if self._db.dialect == "postgresql":
            return _PG_GROUP_EVERY_AREA if scope.everything else _PG_GROUP_AREAS
        return _GROUP_PERIOD

    async def _hours(
        self, window: Window, scope: StatsScope
    ) -> dict[str, dict[float, int]]:
        """How many tips of the period and scope took each number of hours to be acknowledged
        ('ack') and closed ('close'): the whole UTC days and months of the window from the
        histogram (migration 0016), the tips of its partial days at the edges one by one."""
        edges, cells = _split(window)
        hours: dict[str, dict[float, int]] = {"ack": {}, "close": {}}
        rows = []
        for edge in edges:
            statement = (_PG_HOURS_OF_TIPS[scope.everything] if self._db.dialect == "postgresql"
                         else _HOURS_OF_TIPS["sqlite"])
            rows += await self._db.read_all(statement, self._params(edge, scope))
        if cells is not None:
            areas = ["*"] if scope.everything else list(scope.areas)
            rows += await self._db.read_all(_HOURS_OF_HISTOGRAM[self._db.dialect],
                                            {**cells, "cells": json.dumps(areas)})
        for row in rows:
            n, counted = int(row["n"]), hours[row["measure"]]
            if n > 0:
                h = float(row["h"])
                counted[h] = counted.get(h, 0) + n
        return hours

    async def subscribers(self, window: Window) -> SubscriberCounts:
        row = await self._db.read_one(
            "SELECT count(*) AS total, "  # noqa: S608
            + _NEW_SUBSCRIBERS[self._db.dialect] + " AS new FROM subscribers",
            {"start": window.start, "end": window.end},
        )
        return SubscriberCounts(int(row["total"]), int(row["new"])) if row else SubscriberCounts(
            0, 0
        )

    async def export_rows(self, window: Window, scope: StatsScope) -> list[ExportRow]:
        """The period's tips, oldest first, with their times, hours and the staff who acted on
        them (status changes, replies, reassignments) or were given them."""
        ack_hours, close_hours = _HOURS[self._db.dialect]
        rows = await self._db.read_all(
            "WITH period AS MATERIALIZED (SELECT t.tip_id FROM tips t WHERE"  # noqa: S608
            + _IN_PERIOD + ")"
            ", people AS ("
            " SELECT a.tip_id, a.actor_id AS staff_id FROM period p"
            "  JOIN audit_log a ON a.tip_id = p.tip_id"
            "  AND a.action IN ('status', 'reply', 'reassign')"
            " UNION"
            " SELECT g.tip_id, g.staff_id FROM period p JOIN tip_assignees g"
            "  ON g.tip_id = p.tip_id)"
            ", staff AS (SELECT tip_id, group_concat(staff_id) AS ids FROM people"
            " GROUP BY tip_id)"
            " SELECT t.tip_id, t.ref, t.category, t.area, t.status, t.created_at,"
            " t.acknowledged_at, t.closed_at,"
            " CASE WHEN t.acknowledged_at IS NOT NULL THEN " + ack_hours + " END AS ack_hours,"
            " CASE WHEN t.closed_at IS NOT NULL THEN " + close_hours + " END AS close_hours,"
            " s.ids FROM period p JOIN tips t ON t.tip_id = p.tip_id"
            " LEFT JOIN staff s ON s.tip_id = t.tip_id"
            " ORDER BY t.created_at, t.tip_id",
            self._params(window, scope),
        )
        return [
            ExportRow(
                tip_id=r["tip_id"],
                ref=r["ref"],
                category=r["category"],
                area=r["area"],
                status=r["status"],
                created_at=r["created_at"],
                acknowledged_at=r["acknowledged_at"],
                closed_at=r["closed_at"],
                ack_hours=_number(r["ack_hours"]),
                close_hours=_number(r["close_hours"]),
                staff_ids=tuple(sorted({int(i) for i in (r["ids"] or "").split(",") if i})),
            )
            for r in rows
        ]


class MonthlyReviews:
    """Which monthly reviews are to come, and who got each one (claimed before sending)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def plan(self, month: str, due_at: float) -> bool:
        """Add the review of `month` due at `due_at` unless it exists; True if added."""
        result = await self._db.execute(
            "INSERT INTO monthly_reviews (month, due_at) VALUES (?, ?)"
            " ON CONFLICT (month) DO NOTHING",
            (month, due_at),
        )
        return result.rowcount > 0

    async def get(self, month: str) -> Review | None:
        row = await self._db.fetchone("SELECT * FROM monthly_reviews WHERE month = ?", (month,))
        return _review(row) if row else None

    async def pending(self) -> list[Review]:
        rows = await self._db.fetchall(
            "SELECT * FROM monthly_reviews WHERE outcome IS NULL ORDER BY month"
        )
        return [_review(r) for r in rows]

    async def set_due(self, month: str, due_at: float) -> None:
        """Move a review's time (the tests move the clock this way, as for schedules)."""
        await self._db.execute(
            "UPDATE monthly_reviews SET due_at = ? WHERE month = ?", (due_at, month)
        )

    async def finish(self, month: str, outcome: str) -> bool:
        """Record the review as sent or skipped, once; False if it was already finished."""
        result = await self._db.execute(
            "UPDATE monthly_reviews SET outcome = ?, finished_at = ?"
            " WHERE month = ? AND outcome IS NULL",
            (outcome, time.time(), month),
        )
        return result.rowcount > 0

    async def claim(self, month: str, admin_id: int) -> bool:
        """Take this admin's copy of the review; only the caller that gets True sends it."""
        result = await self._db.execute(
            "INSERT INTO monthly_review_sends (month, admin_id, state, at)"
            " VALUES (?, ?, 'sending', ?) ON CONFLICT (month, admin_id) DO NOTHING",
            (month, admin_id, time.time()),
        )
        return result.rowcount > 0

    async def mark(self, month: str, admin_id: int, state: str) -> None:
        await self._db.execute(
            "UPDATE monthly_review_sends SET state = ?, at = ? WHERE month = ? AND admin_id = ?",
            (state, time.time(), month, admin_id),
        )

    async def sends(self, month: str) -> dict[int, str]:
        rows = await self._db.fetchall(
            "SELECT admin_id, state FROM monthly_review_sends WHERE month = ?", (month,)
        )
        return {int(r["admin_id"]): r["state"] for r in rows}


def _whole_days(window: Window) -> tuple[list[Window], tuple[date, date] | None]:
    """The partial UTC days at the edges of `window` (to be read from tips), and its whole UTC
    days [first, after last) when it has any. A window within two days is all edges."""
    start = datetime.fromisoformat(window.start).astimezone(UTC)
    end = datetime.fromisoformat(window.end).astimezone(UTC)
    first_day = start.date() if _midnight(start.date()) == start else (
        start.date() + timedelta(days=1))
    last_day = end.date()  # the days before it are whole
    if first_day >= last_day:
        return [window], None
    edges = []
    if start < _midnight(first_day):
        edges.append(Window(window.start, _midnight(first_day).isoformat()))
    if _midnight(last_day) < end:
        edges.append(Window(_midnight(last_day).isoformat(), window.end))
    return edges, (first_day, last_day)


def _split(window: Window) -> tuple[list[Window], dict[str, str] | None]:
    """The partial UTC days at the edges of `window` (read from tips), and the ranges of the
    histogram that make up the rest (`_HOURS_OF_HISTOGRAM`'s parameters): whole months where
    there are, whole days around them. A window within two days is all edges."""
    edges, whole = _whole_days(window)
    if whole is None:
        return edges, None
    first_day, last_day = whole
    first_month = first_day if first_day.day == 1 else (
        first_day.replace(day=1) + timedelta(days=32)).replace(day=1)
    last_month = last_day.replace(day=1)
    if first_month < last_month:
        cells = {"a0": f"{first_day}", "a1": f"{first_month}",
                 "m0": f"{first_month:%Y-%m}", "m1": f"{last_month:%Y-%m}",
                 "b0": f"{last_month}", "b1": f"{last_day}"}
    else:
        cells = {"a0": f"{first_day}", "a1": f"{last_day}", "m0": "", "m1": "", "b0": "",
                 "b1": ""}
    return edges, cells


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _median(counts: dict[float, int]) -> tuple[int, float | None]:
    """How many values, and their median: the middle value, or the mean of the two middle
    ones (as `statistics.median`), from how many times each value occurs."""
    total = sum(counts.values())
    if not total:
        return 0, None
    low, high = (total - 1) // 2, total // 2  # the middle one(s), counted from 0
    seen = 0
    below: float | None = None
    for value in sorted(counts):
        seen += counts[value]
        if below is None and low < seen:
            below = value
        if high < seen:
            assert below is not None
            return total, (below + value) / 2
    raise AssertionError("unreachable: high < total")


def _number(value: float | int | str | None) -> float | None:
    return None if value is None else float(value)


def _review(row: sqlite3.Row) -> Review:
    return Review(row["month"], float(row["due_at"]), row["outcome"], row["finished_at"])
