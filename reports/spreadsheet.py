"""The spreadsheet of `/export`: one row per tip and a summary sheet, built in memory.

Sheet 1 has one row per tip of the period (reference, received, acknowledged and closed in local
time, kind, area, status, the officers' display names, hours to acknowledge and to close), and
with content also the exact place, the text and the thread. Sheet 2 has the numbers of `/stats`
for the same period. The header row is frozen, the columns have widths, and times are real date
cells (naive, in TIPBOT_TIMEZONE) with a `dd/mm/yyyy hh:mm` format that Excel and LibreOffice
show as dates.

Nothing touches the disk: openpyxl writes each worksheet through a temporary file of its own,
and tip content must never be written in clear, so the sheets are written into memory
(`_InMemoryWriter`, the one place that relies on openpyxl's internals) and zipped into a
BytesIO. Every text cell is a string cell (a resident's `=HYPERLINK(...)` stays text, never a
formula), without the control characters the format refuses, and cut at Excel's 32,767
characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from io import BytesIO
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

from reports.stats import (
    StatsReport,
    area_label,
    bare_label,
    ordered_areas,
    period_name,
    scope_text,
)
from rules.areas import Areas
from storage.stats import ExportRow
from texts.catalog import CATEGORIES, STATUSES, plain
from views.counts import shown_campaigns, total_text

DATE_FORMAT = "dd/mm/yyyy hh:mm"
DAY_FORMAT = "dd/mm/yyyy"
HOURS_FORMAT = "0.0"
CELL_LIMIT = 32_767
#: Telegram bots may send documents up to 50 MB.
MAX_BYTES = 50 * 1000 * 1000


@dataclass(frozen=True)
class TipContent:
    """What a resident wrote, and the thread, as the cells show them (export with content)."""

    place: str
    text: str
    thread: str


def local_datetime(moment: str | None, zone: tzinfo) -> datetime | None:
    """A stored UTC ISO time as a naive local datetime (what a spreadsheet cell holds)."""
    if not moment:
        return None
    return datetime.fromisoformat(moment).astimezone(zone).replace(tzinfo=None)


def clean(value: str) -> str:
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value if len(value) <= CELL_LIMIT else value[: CELL_LIMIT - 1] + "…"


def build_workbook(
    language: str,
    report: StatsReport,
    rows: Iterable[ExportRow],
    areas: Areas,
    names: Mapping[int, str],
    zone: tzinfo,
    *,
    contents: Mapping[int, TipContent] | None,
    made_at: datetime,
) -> bytes:
    """The .xlsx file as bytes. `contents` (tip id -> content) only for an export with
    content; `names` are staff display names by id."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")

    columns: list[tuple[str, float]] = [
        (plain(language, "xlsx_ref"), 11),
        (plain(language, "xlsx_created"), 17),
        (plain(language, "xlsx_acknowledged"), 17),
        (plain(language, "xlsx_closed"), 17),
        (plain(language, "xlsx_category"), 20),
        (plain(language, "xlsx_area"), 22),
        (plain(language, "xlsx_status"), 24),
        (plain(language, "xlsx_officers"), 28),
        (plain(language, "xlsx_ack_hours"), 12),
        (plain(language, "xlsx_close_hours"), 12),
    ]
    if contents is not None:
        columns += [
            (plain(language, "xlsx_place"), 30),
            (plain(language, "xlsx_text"), 60),
            (plain(language, "xlsx_thread"), 60),
        ]
    tips = _sheet(workbook, plain(language, "xlsx_sheet_tips"), [w for _, w in columns])

    def cell(value: Any, *, number_format: str | None = None, style: Any = None) -> Any:
        if isinstance(value, str):
            value = clean(value)
        made = WriteOnlyCell(tips, value)
        if isinstance(value, str):
            made.data_type = "s"  # text stays text: never a formula
        if number_format:
            made.number_format = number_format
        if style is not None:
            made.alignment = style
        return made

    header = []
    for title, _ in columns:
        heading = cell(title)
        heading.font = bold
        header.append(heading)
    tips.append(header)
    for row in rows:
        staff = ", ".join(names.get(i, f"#{i}") for i in row.staff_ids)
        values = [
            cell(row.ref, style=top),
            cell(local_datetime(row.created_at, zone), number_format=DATE_FORMAT, style=top),
            cell(local_datetime(row.acknowledged_at, zone), number_format=DATE_FORMAT, style=top),
            cell(local_datetime(row.closed_at, zone), number_format=DATE_FORMAT, style=top),
            cell(bare_label(plain(language, f"cat_{row.category}")) if row.category in CATEGORIES
                 else row.category, style=top),
            cell(bare_label(area_label(language, areas, row.area)), style=top),
            cell(plain(language, f"status_{row.status}") if row.status in STATUSES
                 else row.status, style=top),
            cell(staff, style=top),
            cell(_hours(row.ack_hours), number_format=HOURS_FORMAT, style=top),
            cell(_hours(row.close_hours), number_format=HOURS_FORMAT, style=top),
        ]
        if contents is not None:
            content = contents.get(row.tip_id, TipContent("", "", ""))
            values += [
                cell(content.place, style=wrap),
                cell(content.text, style=wrap),
                cell(content.thread, style=wrap),
            ]
        tips.append(values)

    _summary(workbook, language, report, areas, zone, contents is not None, made_at)
    buffer = BytesIO()
    with ZipFile(buffer, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        _InMemoryWriter(workbook, archive).save()
    return buffer.getvalue()


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _summary(
    workbook: Any,
    language: str,
    report: StatsReport,
    areas: Areas,
    zone: tzinfo,
    with_content: bool,
    made_at: datetime,
) -> None:
    """The numbers of /stats for the period, label | value, section by section."""
    sheet = _sheet(workbook, plain(language, "xlsx_sheet_summary"), [48, 22])
    bold = Font(bold=True)
    counts = report.counts

    def line(label: str, value: Any = None, *, heading: bool = False,
             number_format: str | None = None) -> None:
        first = WriteOnlyCell(sheet, clean(label))
        first.data_type = "s"
        if heading:
            first.font = bold
        second = WriteOnlyCell(sheet, clean(value) if isinstance(value, str) else value)
        if isinstance(value, str):
            second.data_type = "s"
        if number_format:
            second.number_format = number_format
        sheet.append([first, second])

    def median(value: float | None) -> float | str:
        return "—" if value is None else round(value, 1)

    line(plain(language, "xlsx_summary_title"), heading=True)
    line(plain(language, "xlsx_summary_period"), period_name(language, report.period))
    line(plain(language, "xlsx_summary_from"), datetime.combine(report.period.first,
                                                                 datetime.min.time()),
         number_format=DAY_FORMAT)
    line(plain(language, "xlsx_summary_to"), datetime.combine(report.period.last,
                                                               datetime.min.time()),
         number_format=DAY_FORMAT)
    line(plain(language, "xlsx_summary_scope"), scope_text(language, report.scope, areas))
    line(plain(language, "xlsx_summary_content"),
         plain(language, "xlsx_yes") if with_content else plain(language, "xlsx_no"))
    line(plain(language, "xlsx_summary_total"), counts.total)
    line("")
    line(plain(language, "xlsx_summary_by_category"), heading=True)
    for category in CATEGORIES:
        line(bare_label(plain(language, f"cat_{category}")), counts.by_category.get(category, 0))
    for category, n in sorted(counts.by_category.items()):
        if category not in CATEGORIES:
            line(category, n)
    line("")
    line(plain(language, "xlsx_summary_by_area"), heading=True)
    for code in ordered_areas(counts.by_area, areas):
        line(bare_label(area_label(language, areas, code)), counts.by_area[code])
    line("")
    line(plain(language, "xlsx_summary_by_status"), heading=True)
    for status in STATUSES:
        line(plain(language, f"status_{status}"), counts.by_status.get(status, 0))
    for status, n in sorted(counts.by_status.items()):
        if status not in STATUSES:
            line(status, n)
    line("")
    line(plain(language, "xlsx_summary_ack"), median(counts.median_ack_hours),
         number_format=HOURS_FORMAT)
    line(plain(language, "xlsx_summary_acknowledged"), counts.acknowledged)
    line(plain(language, "xlsx_summary_close"), median(counts.median_close_hours),
         number_format=HOURS_FORMAT)
    line(plain(language, "xlsx_summary_closed"), counts.closed)
    if report.campaigns is not None:
        # As in /stats and /campaign (views/counts.py): no total over every campaign, only the
        # campaigns with a count of 5 or more, each with its totals when every category has 5
        # or more ("—" otherwise).
        for shown in shown_campaigns(report.campaigns, CATEGORIES):
            line(f"{plain(language, 'xlsx_summary_campaign_starts')} — {shown.campaign}",
                 _count_or_text(total_text(shown.starts, language)))
            line(f"{plain(language, 'xlsx_summary_campaign_tips')} — {shown.campaign}",
                 _count_or_text(total_text(shown.tips, language)))
    line(plain(language, "xlsx_summary_subscribers"), report.subscribers.total)
    line(plain(language, "xlsx_summary_new_subscribers"), report.subscribers.new)
    line("")
    line(plain(language, "xlsx_summary_made"), made_at.replace(tzinfo=None, microsecond=0),
         number_format=DATE_FORMAT)
    line(plain(language, "xlsx_summary_times", zone=str(zone)))


def _count_or_text(shown: str) -> int | str:
    return int(shown) if shown.isdigit() else shown


# --- writing without temporary files ------------------------------------------------------


def _sheet(workbook: Any, title: str, widths: list[float]) -> Any:
    """A write-only worksheet whose XML goes to memory; frozen header and column widths are
    set before its first row is written (write-only sheets write them first)."""
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet._writer = WorksheetWriter(sheet, out=BytesIO())
    sheet._writer.write_top()
    return sheet


class _InMemoryWriter(ExcelWriter):  # type: ignore[misc]  # openpyxl has no type hints
    """openpyxl's ExcelWriter, taking each sheet's XML from memory instead of a file."""

    def write_worksheet(self, ws: Any) -> None:
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        if not ws.closed:
            ws.close()
        writer = ws._writer
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], writer.out.getvalue())
        self.manifest.append(ws)
