"""Statistics of tips, aggregated in SQL, and the bookkeeping of the monthly review.

Every number comes from the clear columns (category, area, status, arrival and acknowledgement
times) and the audit log (when a tip was closed): nothing is decrypted to count. A period is a
window of UTC times `[start, end)` in the ISO text of every `*_at` column, so it compares as
text; the caller turns local dates (TIPBOT_TIMEZONE) into that window. Times are compared and
subtracted as given: they may be rounded to the hour, and nothing here relies on seconds.

- A tip belongs to a period when it arrived in it (`tips.created_at`).
- Acknowledged: `tips.acknowledged_at` (an officer's first status change).
- Closed: the tip's status is resolved, unfounded or transferred now, and it was closed at the
  first status change to one of those after its last reopening (from the audit log's "status"
  entries). A tip closed without such an entry has no closing time.
- Hours: arrival to acknowledgement, and arrival to closing; the medians are over the period's
  tips that have that time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.database import Database
from storage.tips import CLOSED_STATUSES

_CLOSED = json.dumps(list(CLOSED_STATUSES))

# The statements below are put together from these constant pieces (marked `noqa: S608`): no
# value is ever formatted into SQL; every value is a bound parameter.

#: The tips of the period (and of the scope). Parameters: :start, :end, :everything, :areas.
_PERIOD = (
    "period AS ("
    " SELECT tip_id, ref, category, area, status, created_at, acknowledged_at FROM tips"
    " WHERE created_at >= :start AND created_at < :end"
    " AND (:everything = 1 OR area IN (SELECT value FROM json_each(:areas))))"
)

#: When each closed tip of the period was closed: the first change to a closed status after its
#: last change to an open one (a reopened tip closed again counts from its last closing).
_CLOSINGS = (
    ", changes AS ("
    " SELECT a.tip_id, a.audit_id, a.at,"
    "  coalesce(CASE WHEN json_valid(a.detail) THEN json_extract(a.detail, '$.status') END"
    "   IN (SELECT value FROM json_each(:closed)), 0) AS closing"
    " FROM period p JOIN audit_log a ON a.tip_id = p.tip_id AND a.action = 'status'"
    " WHERE p.status IN (SELECT value FROM json_each(:closed)))"
    ", marked AS ("
    " SELECT tip_id, audit_id, at, closing,"
    "  max(CASE WHEN closing THEN 0 ELSE audit_id END) OVER (PARTITION BY tip_id) AS reopened"
    " FROM changes)"
    ", closings AS ("
    " SELECT tip_id, min(at) AS closed_at FROM marked"
    " WHERE closing AND audit_id > reopened GROUP BY tip_id)"
)

#: Hours from arrival, never negative (times rounded down to the hour can meet).
_ACK_HOURS = "max(0.0, (julianday(p.acknowledged_at) - julianday(p.created_at)) * 24.0)"
_CLOSE_HOURS = "max(0.0, (julianday(c.closed_at) - julianday(p.created_at)) * 24.0)"

#: The median of `hours(h)`: the middle value, or the mean of the two middle ones.
_MEDIAN = (
    ", ranked AS ("
    " SELECT h, row_number() OVER (ORDER BY h) AS rn, count(*) OVER () AS n FROM hours)"
    " SELECT avg(h) AS median, coalesce(max(n), 0) AS n FROM ranked"
    " WHERE rn IN ((n + 1) / 2, (n + 2) / 2)"
)


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
    """Counts for /stats, /export and the monthly review."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _params(window: Window, scope: StatsScope) -> dict[str, object]:
        return {
            "start": window.start,
            "end": window.end,
            "everything": int(scope.everything),
            "areas": json.dumps(list(scope.areas)),
            "closed": _CLOSED,
        }

    async def tip_counts(self, window: Window, scope: StatsScope) -> TipCounts:
        params = self._params(window, scope)
        rows = await self._db.fetchall(
            "WITH " + _PERIOD + " SELECT category, area, status, count(*) AS n FROM period"  # noqa: S608
            " GROUP BY category, area, status",
            params,
        )
        by_category: dict[str, int] = {}
        by_area: dict[str | None, int] = {}
        by_status: dict[str, int] = {}
        for row in rows:
            n = int(row["n"])
            by_category[row["category"]] = by_category.get(row["category"], 0) + n
            by_area[row["area"]] = by_area.get(row["area"], 0) + n
            by_status[row["status"]] = by_status.get(row["status"], 0) + n
        ack = await self._db.fetchone(
            "WITH " + _PERIOD + ", hours AS (SELECT " + _ACK_HOURS + " AS h FROM period p"  # noqa: S608
            " WHERE p.acknowledged_at IS NOT NULL)" + _MEDIAN,
            params,
        )
        close = await self._db.fetchone(
            "WITH " + _PERIOD + _CLOSINGS + ", hours AS (SELECT " + _CLOSE_HOURS + " AS h"  # noqa: S608
            " FROM period p JOIN closings c ON c.tip_id = p.tip_id)" + _MEDIAN,
            params,
        )
        return TipCounts(
            total=sum(by_category.values()),
            by_category=by_category,
            by_area=by_area,
            by_status=by_status,
            acknowledged=int(ack["n"]) if ack else 0,
            median_ack_hours=_number(ack["median"]) if ack else None,
            closed=int(close["n"]) if close else 0,
            median_close_hours=_number(close["median"]) if close else None,
        )

    async def per_bucket(
        self, buckets: Sequence[Window], scope: StatsScope
    ) -> list[dict[str, int]]:
        """Tips per category in each of `buckets` (windows, in order): one dict per bucket."""
        rows = await self._db.fetchall(
            "SELECT CAST(b.key AS INTEGER) AS bucket, t.category, count(*) AS n"
            " FROM json_each(:buckets) b"
            " JOIN tips t ON t.created_at >= json_extract(b.value, '$[0]')"
            "  AND t.created_at < json_extract(b.value, '$[1]')"
            " WHERE :everything = 1 OR t.area IN (SELECT value FROM json_each(:areas))"
            " GROUP BY b.key, t.category",
            {
                "buckets": json.dumps([[w.start, w.end] for w in buckets]),
                "everything": int(scope.everything),
                "areas": json.dumps(list(scope.areas)),
            },
        )
        result: list[dict[str, int]] = [{} for _ in buckets]
        for row in rows:
            result[int(row["bucket"])][row["category"]] = int(row["n"])
        return result

    async def subscribers(self, window: Window) -> SubscriberCounts:
        row = await self._db.fetchone(
            "SELECT count(*) AS total,"
            " coalesce(sum(created_at >= :start AND created_at < :end), 0) AS new"
            " FROM subscribers",
            {"start": window.start, "end": window.end},
        )
        return SubscriberCounts(int(row["total"]), int(row["new"])) if row else SubscriberCounts(
            0, 0
        )

    async def export_rows(self, window: Window, scope: StatsScope) -> list[ExportRow]:
        """The period's tips, oldest first, with their times, hours and the staff who acted on
        them (status changes, replies, reassignments) or were given them."""
        rows = await self._db.fetchall(
            "WITH " + _PERIOD + _CLOSINGS + ", people AS ("  # noqa: S608
            " SELECT a.tip_id, a.actor_id AS staff_id FROM period p"
            "  JOIN audit_log a ON a.tip_id = p.tip_id"
            "  AND a.action IN ('status', 'reply', 'reassign')"
            " UNION"
            " SELECT g.tip_id, g.staff_id FROM period p JOIN tip_assignees g"
            "  ON g.tip_id = p.tip_id)"
            ", staff AS (SELECT tip_id, group_concat(staff_id) AS ids FROM people"
            " GROUP BY tip_id)"
            " SELECT p.tip_id, p.ref, p.category, p.area, p.status, p.created_at,"
            " p.acknowledged_at, c.closed_at,"
            " CASE WHEN p.acknowledged_at IS NOT NULL THEN " + _ACK_HOURS + " END AS ack_hours,"
            " CASE WHEN c.closed_at IS NOT NULL THEN " + _CLOSE_HOURS + " END AS close_hours,"
            " s.ids FROM period p LEFT JOIN closings c ON c.tip_id = p.tip_id"
            " LEFT JOIN staff s ON s.tip_id = p.tip_id"
            " ORDER BY p.created_at, p.tip_id",
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


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _review(row) -> Review:  # type: ignore[no-untyped-def]
    return Review(row["month"], float(row["due_at"]), row["outcome"], row["finished_at"])
