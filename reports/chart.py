"""The chart of `/stats` and of the monthly review: one PNG, drawn headless.

Top: tips per week (or per month, for periods longer than about a quarter), stacked by category.
Bottom: one bar per area of the scope (every area of the areas file for admins). Labels are in
the reader's language, in DejaVu Sans (shipped with matplotlib), which has every Vietnamese
letter with its diacritics; a test fails on any "Glyph ... missing from font" warning.

Drawn with matplotlib's object API and the Agg canvas (no pyplot, no global figure state), so
`render_chart` can run in a worker thread (`asyncio.to_thread`) while other chats are answered.
"""

from __future__ import annotations

from io import BytesIO

from reports.stats import StatsReport, area_label
from reports.stats import bare_label as chart_label
from rules.areas import Areas
from texts.catalog import CATEGORIES, plain

FONT = "DejaVu Sans"
DPI = 100
WIDTH_INCHES = 10.0
#: One colour per category, in the order of CATEGORIES (matplotlib's tab10).
COLOURS = (
    "#d62728", "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#2ca02c", "#e377c2",
    "#7f7f7f",
)  # fmt: skip
AREA_COLOUR = "#1f77b4"
#: About the width of one character of a 9-point label, to leave room for the longest one.
CHAR_INCHES = 0.075


def chart_areas(report: StatsReport, areas: Areas) -> list[str | None]:
    """The areas with a bar: the scope's areas (every area of the file when it is everything),
    then codes no longer in the file and "not sure", when they have tips."""
    counts = report.counts.by_area
    if report.scope.everything:
        listed: list[str | None] = [a.code for a in areas]
    else:
        listed = [code for code in (a.code for a in areas) if code in report.scope.areas]
        listed += [c for c in report.scope.areas if c not in listed]
    extra = sorted(c for c in counts if c is not None and c not in listed and counts[c])
    return [*listed, *extra, *([None] if counts.get(None) else [])]


def bucket_label(report: StatsReport, index: int) -> str:
    first = report.series[index][0]
    return f"{first:%d/%m}" if report.period.weekly else f"{first:%m/%Y}"


def render_chart(report: StatsReport, language: str, areas: Areas) -> bytes:
    """The chart as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font = FontProperties(family=FONT, size=10)
    small = FontProperties(family=FONT, size=9)
    title_font = FontProperties(family=FONT, size=12, weight="bold")
    area_codes = chart_areas(report, areas)
    area_rows = max(len(area_codes), 2)
    top_height, bottom_height = 4.0, 0.8 + 0.28 * area_rows
    height = top_height + bottom_height + 1.2
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    FigureCanvasAgg(figure)
    # Fixed margins (in inches): room for the area names on the left and the legend on the
    # right. A layout engine would measure every label twice and cost half the drawing time.
    names = [chart_label(area_label(language, areas, code)) for code in area_codes]
    legend = [chart_label(plain(language, f"cat_{c}")) for c in CATEGORIES]
    left = min(3.5, 0.35 + CHAR_INCHES * max((len(n) for n in names), default=8))
    right = min(3.5, 0.6 + CHAR_INCHES * max(len(n) for n in legend))
    figure.subplots_adjust(left=left / WIDTH_INCHES, right=1 - right / WIDTH_INCHES,
                           top=1 - 0.45 / height, bottom=0.4 / height,
                           hspace=0.95 / ((top_height + bottom_height) / 2))
    top, bottom = figure.subplots(2, 1, height_ratios=[top_height, bottom_height])

    # Tips per week or month, stacked by category.
    positions = list(range(len(report.series)))
    stacked = [0] * len(positions)
    drawn = False
    for colour, category in zip(COLOURS, CATEGORIES, strict=True):
        values = [counts.get(category, 0) for _, counts in report.series]
        if not any(values):
            continue
        top.bar(positions, values, bottom=stacked, color=colour, width=0.75,
                label=chart_label(plain(language, f"cat_{category}")))
        stacked = [a + b for a, b in zip(stacked, values, strict=True)]
        drawn = True
    title = "stats_chart_weeks" if report.period.weekly else "stats_chart_months"
    top.set_title(chart_label(plain(language, title)), fontproperties=title_font, loc="left")
    top.set_xticks(positions, [bucket_label(report, i) for i in positions],
                   fontproperties=small, rotation=45 if len(positions) > 8 else 0)
    top.set_ylabel(chart_label(plain(language, "stats_chart_tips")), fontproperties=font)
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.spines[["top", "right"]].set_visible(False)
    if drawn:
        top.legend(prop=small, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    else:
        top.set_ylim(0, 1)
        top.text(0.5, 0.5, chart_label(plain(language, "stats_chart_empty")),
                 transform=top.transAxes,
                 ha="center", va="center", fontproperties=font, color="#555555")

    # One bar per area.
    values = [report.counts.by_area.get(code, 0) for code in area_codes]
    rows = list(range(len(area_codes)))
    bars = bottom.barh(rows, values, color=AREA_COLOUR, height=0.7)
    bottom.bar_label(bars, padding=3, fontproperties=small)
    bottom.set_yticks(rows, names, fontproperties=small)
    bottom.invert_yaxis()
    bottom.set_title(chart_label(plain(language, "stats_chart_areas")), fontproperties=title_font,
                     loc="left")
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_xlim(0, max([*values, 1]) * 1.12)
    bottom.spines[["top", "right"]].set_visible(False)
    for label in [*top.get_yticklabels(), *bottom.get_xticklabels()]:
        label.set_fontproperties(small)

    buffer = BytesIO()
    # A light compression: drawing, not squeezing the last kilobytes, is what a reader waits for.
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 3})
    return buffer.getvalue()
