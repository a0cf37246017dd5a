"""Statistics as people read them: periods in TIPBOT_TIMEZONE, the numbers of a period, the
short text of `/stats` and of the monthly review (reports/sending.py sends it with its chart).

A period is a range of local days `[first, end)`: this week (from Monday), this month, this
quarter, this year, the last 12 months (this month and the 11 before it) or two typed dates
(both days included). The database keeps UTC times; `Period.window` turns the local midnights
into UTC, so a tip at 01:00 on the 1st in Vietnam (18:00 the day before in UTC) counts in the
month of the 1st. The numbers are read from the database when asked for (storage/stats.py).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from rules.access import Role
from rules.areas import Areas
from storage.campaigns import CampaignCount
from storage.stats import StatsScope, SubscriberCounts, TipCounts, Window
from storage.store import Store
from texts.catalog import CATEGORIES, STATUSES, Html, plain, text
from views.counts import SMALL_COUNT, shown_campaigns, total_text

log = logging.getLogger(__name__)

#: The periods of the menu, in its order; "d" (two typed dates) comes last.
MENU_CODES = ("w", "m", "q", "y", "12")
TYPED = "d"
REVIEW = "month"
#: Up to this many days, the chart counts per week; beyond, per month.
WEEKLY_UP_TO_DAYS = 92
#: The longest period two typed dates may span.
MAX_DAYS = 3660
#: Campaigns named in the text (the most opened first).
CAMPAIGNS_SHOWN = 3
#: Areas listed in the text at most (the message must stay under Telegram's 4096 characters);
#: the chart and the export have them all.
AREAS_SHOWN = 40

_DATE = re.compile(r"\b([0-9]{1,2})\s*[/.-]\s*([0-9]{1,2})\s*[/.-]\s*([0-9]{4})\b")
_DAY = re.compile(r"[0-9]{8}")


class DatesError(ValueError):
    """Two typed dates that cannot be a period; `kind` is 'unreadable' or 'too_long'."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Period:
    code: str  # one of MENU_CODES, TYPED, or REVIEW (a month of the monthly review)
    first: date  # the first day (local)
    end: date  # the day after the last one (local)

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    def window(self, zone: tzinfo) -> Window:
        return Window(utc_text(self.first, zone), utc_text(self.end, zone))

    @property
    def weekly(self) -> bool:
        return (self.end - self.first).days <= WEEKLY_UP_TO_DAYS

    def bucket_starts(self) -> list[date]:
        """The first day of each bar of the chart: weeks from Monday, or calendar months; the
        first bar starts with the period."""
        starts = [self.first]
        while True:
            current = starts[-1]
            if self.weekly:
                following = current + timedelta(days=7 - current.weekday())
            else:
                following = _add_months(current.replace(day=1), 1)
            if following >= self.end:
                return starts
            starts.append(following)

    def bucket_windows(self, zone: tzinfo) -> list[Window]:
        starts = self.bucket_starts()
        ends = [*starts[1:], self.end]
        return [Window(utc_text(s, zone), utc_text(e, zone)) for s, e in zip(starts, ends,
                                                                              strict=True)]

    def field(self) -> str:
        """The period as button data fields: its code, or `d:<yyyymmdd>:<yyyymmdd>`."""
        if self.code == TYPED:
            return f"{TYPED}:{self.first:%Y%m%d}:{self.last:%Y%m%d}"
        return self.code


def utc_text(day: date, zone: tzinfo) -> str:
    """Local midnight at the start of `day`, as the UTC ISO text of the `*_at` columns."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    return midnight.astimezone(UTC).isoformat(timespec="seconds")


def local_today(zone: tzinfo, now: float | None = None) -> date:
    moment = datetime.now(zone) if now is None else datetime.fromtimestamp(now, zone)
    return moment.date()


def _add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def period_of(code: str, today: date) -> Period | None:
    """A period of the menu, as it is on `today` (local); None for an unknown code."""
    month = today.replace(day=1)
    if code == "w":
        first = today - timedelta(days=today.weekday())
        return Period(code, first, first + timedelta(days=7))
    if code == "m":
        return Period(code, month, _add_months(month, 1))
    if code == "q":
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return Period(code, first, _add_months(first, 3))
    if code == "y":
        return Period(code, date(today.year, 1, 1), date(today.year + 1, 1, 1))
    if code == "12":
        return Period(code, _add_months(month, -11), _add_months(month, 1))
    return None


def month_period(month: str) -> Period:
    """The review period of a month 'YYYY-MM'."""
    year, number = (int(p) for p in month.split("-"))
    first = date(year, number, 1)
    return Period(REVIEW, first, _add_months(first, 1))


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def typed_period(first: date, last: date) -> Period:
    if last < first:
        first, last = last, first
    if (last - first).days + 1 > MAX_DAYS:
        raise DatesError("too_long")
    return Period(TYPED, first, last + timedelta(days=1))


def parse_dates(typed: str) -> Period:
    """Two dates typed `dd/mm/yyyy` (in either order, both days included); DatesError else."""
    found = _DATE.findall(typed or "")
    if len(found) != 2:
        raise DatesError("unreadable")
    days = []
    for day, month, year in found:
        try:
            days.append(date(int(year), int(month), int(day)))
        except ValueError:
            raise DatesError("unreadable") from None
    if any(d.year < 2000 for d in days):
        raise DatesError("unreadable")
    return typed_period(days[0], days[1])


def period_from_fields(fields: tuple[str, ...], today: date) -> Period | None:
    """The inverse of `Period.field` for button data (checked strictly; None if not valid)."""
    if len(fields) == 1:
        return period_of(fields[0], today)
    if len(fields) == 3 and fields[0] == TYPED and all(_DAY.fullmatch(f) for f in fields[1:]):
        try:
            first, last = (date(int(f[:4]), int(f[4:6]), int(f[6:])) for f in fields[1:])
            return typed_period(first, last)
        except ValueError:  # not a day of the calendar, or too long (DatesError)
            return None
    return None


# --- the numbers of a period ---------------------------------------------------------------


@dataclass(frozen=True)
class StatsReport:
    period: Period
    scope: StatsScope
    counts: TipCounts
    #: (first day of the bar, tips per category) for the chart
    series: list[tuple[date, dict[str, int]]]
    subscribers: SubscriberCounts
    #: campaign links (all time: their counters keep no dates), per campaign and category, of
    #: the campaigns a list may name (views/counts.py); None outside every-area scope
    campaigns: list[CampaignCount] | None


async def collect(store: Store, period: Period, scope: StatsScope, zone: tzinfo) -> StatsReport:
    """Every number of a period, read from the database now (SQL aggregations only)."""
    window = period.window(zone)
    counts = await store.stats.tip_counts(window, scope, period.bucket_windows(zone))
    subscribers = await store.stats.subscribers(window)
    campaigns = await store.campaigns.listed_counts(SMALL_COUNT) if scope.everything else None
    return StatsReport(
        period=period,
        scope=scope,
        counts=counts,
        series=list(zip(period.bucket_starts(), counts.per_bucket, strict=True)),
        subscribers=subscribers,
        campaigns=campaigns,
    )


def scope_of(role: Role) -> StatsScope:
    """Admins and officers of all areas see every area; other officers their own areas."""
    if role.is_admin or role.all_areas:
        return StatsScope(everything=True)
    return StatsScope(everything=False, areas=tuple(sorted(role.areas)))


# --- as text -------------------------------------------------------------------------------


def day_text(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def period_name(language: str, period: Period) -> str:
    """"this month", "the last 12 months", "05/2025" ... in `language` (plain text)."""
    for code, key in (
        ("w", "period_w"),
        ("m", "period_m"),
        ("q", "period_q"),
        ("y", "period_y"),
        ("12", "period_12"),
        ("d", "period_d"),
        ("month", "period_month"),
    ):
        if code == period.code:
            return plain(language, key, month=f"{period.first:%m/%Y}")
    return period.code


def hours_text(language: str, hours: float | None) -> str:
    if hours is None:
        return plain(language, "stats_no_median")
    shown = f"{hours:.1f}"
    if language == "vi":
        shown = shown.replace(".", ",")
    return plain(language, "stats_hours", hours=shown)


def bare_label(label: str) -> str:
    """A catalog label without its emoji ("💊 Ma túy" -> "Ma túy"), for the chart (its font has
    every Vietnamese letter but no emoji: a missing glyph is drawn as an empty box) and the
    spreadsheet's cells."""
    kept = "".join(
        ch for ch in label
        if unicodedata.category(ch) not in ("So", "Cs", "Co", "Cf") and ch not in "\ufe0e\ufe0f"
    )
    return " ".join(kept.split())


def area_label(language: str, areas: Areas, code: str | None) -> str:
    if code is None:
        return plain(language, "area_unsure")
    return areas.name(code, language) or code


def ordered_areas(counts: dict[str | None, int], areas: Areas) -> list[str | None]:
    """Areas in the order of the areas file, unknown codes after them, "not sure" last."""
    known = [a.code for a in areas if counts.get(a.code)]
    others = sorted(c for c in counts if c is not None and c not in areas and counts[c])
    return [*known, *others, *([None] if counts.get(None) else [])]


def scope_text(language: str, scope: StatsScope, areas: Areas) -> str:
    if scope.everything:
        return plain(language, "stats_scope_all")
    names = ", ".join(area_label(language, areas, code) for code in scope.areas)
    return plain(language, "stats_scope_areas", areas=names or "—")


def report_text(language: str, report: StatsReport, areas: Areas) -> Html:
    counts = report.counts

    def lines(items: list[tuple[str, int]]) -> Html:
        if not items:
            return text(language, "stats_nothing")
        return Html("\n".join(text(language, "stats_line", name=n, count=c) for n, c in items))

    categories = [
        (plain(language, f"cat_{c}"), counts.by_category[c])
        for c in CATEGORIES
        if counts.by_category.get(c)
    ]
    categories += [(c, n) for c, n in sorted(counts.by_category.items()) if c not in CATEGORIES]
    statuses = [
        (plain(language, f"status_{s}"), counts.by_status[s])
        for s in STATUSES
        if counts.by_status.get(s)
    ]
    statuses += [(s, n) for s, n in sorted(counts.by_status.items()) if s not in STATUSES]
    shown_areas = ordered_areas(counts.by_area, areas)
    if len(shown_areas) > AREAS_SHOWN:  # a large areas file: the busiest ones, then the rest
        shown_areas = sorted(shown_areas, key=lambda c: -counts.by_area[c])[:AREAS_SHOWN]
    by_area = [(area_label(language, areas, code), counts.by_area[code]) for code in shown_areas]
    others = [c for c in counts.by_area if c not in shown_areas and counts.by_area[c]]
    area_lines = lines(by_area)
    if others:
        area_lines = Html(area_lines + "\n" + text(
            language, "stats_more_areas", count=len(others),
            tips=sum(counts.by_area[c] for c in others),
        ))
    campaigns = Html("")
    if report.campaigns is not None:
        # No total over every campaign: codes nobody opened are among its parts, at 0, so the
        # rule of views/counts.py always leaves it out. The campaigns named are those with a
        # count of 5 or more, most shown openings first, each with its totals by that rule.
        top = [
            text(language, "stats_campaign_line", code=c.campaign,
                 starts=total_text(c.starts, language), tips=total_text(c.tips, language))
            for c in shown_campaigns(report.campaigns, CATEGORIES)[:CAMPAIGNS_SHOWN]
        ]
        if not top:
            top = [Html("\n" + text(language, "stats_nothing"))]
        campaigns = text(language, "stats_campaigns", top=Html("".join(top)))
    return text(
        language,
        "stats_report",
        period=period_name(language, report.period),
        first=day_text(report.period.first),
        last=day_text(report.period.last),
        scope=scope_text(language, report.scope, areas),
        total=counts.total,
        categories=lines(categories),
        areas=area_lines,
        statuses=lines(statuses),
        ack=hours_text(language, counts.median_ack_hours),
        acknowledged=counts.acknowledged,
        close=hours_text(language, counts.median_close_hours),
        closed=counts.closed,
        campaigns=campaigns,
        subscribers=report.subscribers.total,
        new_subscribers=report.subscribers.new,
    )


def chart_caption(language: str, report: StatsReport) -> Html:
    return text(
        language,
        "stats_chart_caption",
        period=period_name(language, report.period),
        first=day_text(report.period.first),
        last=day_text(report.period.last),
    )
