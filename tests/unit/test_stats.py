"""Statistics without Telegram: periods in the configured zone, the SQL counts against counts made
independently here, the chart (a PNG with every Vietnamese letter), the spreadsheet (written in
memory only) and the monthly review's decisions with a moved clock."""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import warnings
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from itertools import pairwise
from statistics import median
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from telegram.error import Forbidden

from emulator.files import image_size
from reports.chart import render_chart
from reports.spreadsheet import TipContent, build_workbook
from reports.stats import (
    DatesError,
    Period,
    bare_label,
    collect,
    month_period,
    parse_dates,
    period_from_fields,
    period_of,
    report_text,
)
from rules.areas import load_areas
from storage.stats import StatsScope
from storage.store import open_store
from testing.stats_seed import SeedTip, iso, seed
from texts.catalog import CATEGORIES, MESSAGES, plain
from workers.monthly_review import GRACE_SECONDS, decide, due_at, plan, run_review

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AREAS = load_areas(None)
CODES = [a.code for a in AREAS]
EVERYTHING = StatsScope(everything=True)
JUNE = Period("d", date(2025, 6, 1), date(2025, 7, 1))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


# --- periods -------------------------------------------------------------------------------


def test_the_menu_periods_on_a_wednesday_in_june():
    today = date(2025, 6, 4)
    shown = {
        code: (p.first.isoformat(), p.last.isoformat())
        for code in ("w", "m", "q", "y", "12")
        if (p := period_of(code, today))
    }
    assert shown == {
        "w": ("2025-06-02", "2025-06-08"),
        "m": ("2025-06-01", "2025-06-30"),
        "q": ("2025-04-01", "2025-06-30"),
        "y": ("2025-01-01", "2025-12-31"),
        "12": ("2024-07-01", "2025-06-30"),
    }
    assert period_of("x", today) is None
    assert period_of("q", date(2025, 12, 31)).first == date(2025, 10, 1)
    assert period_of("12", date(2025, 1, 15)).first == date(2024, 2, 1)


def test_a_period_starts_at_local_midnight_which_is_the_day_before_in_utc():
    window = JUNE.window(TZ)
    assert window.start == "2025-05-31T17:00:00+00:00"
    assert window.end == "2025-06-30T17:00:00+00:00"
    # 00:30 on 1 June in Vietnam is still 31 May in UTC, and inside June's window
    assert window.start <= iso(local("2025-06-01 00:30")) < window.end
    assert iso(local("2025-05-31 23:59")) < window.start


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("01/06/2025 30/06/2025", "2025-06-01", "2025-06-30"),
        ("1/6/2025 - 30/6/2025", "2025-06-01", "2025-06-30"),
        ("30/06/2025 01/06/2025", "2025-06-01", "2025-06-30"),  # either order
        ("từ 01.06.2025 đến 15.06.2025", "2025-06-01", "2025-06-15"),
        ("05/06/2025 05/06/2025", "2025-06-05", "2025-06-05"),  # one day
    ],
)
def test_two_typed_dates_make_a_period_with_both_days(typed, first, last):
    period = parse_dates(typed)
    assert (period.code, period.first.isoformat(), period.last.isoformat()) == ("d", first, last)


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("01/06/2025", "unreadable"),
        ("01/06/2025 02/06/2025 03/06/2025", "unreadable"),
        ("31/02/2025 01/03/2025", "unreadable"),
        ("hôm qua và hôm nay", "unreadable"),
        ("01/06/1999 01/07/1999", "unreadable"),
        ("", "unreadable"),
        ("01/01/2001 01/01/2020", "too_long"),
    ],
)
def test_dates_that_make_no_period_are_refused(typed, kind):
    with pytest.raises(DatesError) as raised:
        parse_dates(typed)
    assert raised.value.kind == kind


def test_a_typed_period_travels_in_button_data_and_forged_data_is_refused():
    period = parse_dates("01/06/2025 30/06/2025")
    assert period.field() == "d:20250601:20250630"
    assert period_from_fields(tuple(period.field().split(":")), date(2025, 7, 1)) == period
    assert period_from_fields(("m",), date(2025, 7, 1)) == period_of("m", date(2025, 7, 1))
    for forged in [
        ("d", "2025061", "20250630"),
        ("d", "20251301", "20251302"),
        ("d", "２０２５０６０１", "20250630"),
        ("d", "20000101", "20300101"),  # longer than 10 years
        ("d", "20250601"),
        ("z",),
        (),
        ("m", "x"),
    ]:
        assert period_from_fields(forged, date(2025, 7, 1)) is None, forged


def test_bars_are_weeks_from_monday_up_to_a_quarter_and_months_beyond():
    assert [d.isoformat() for d in JUNE.bucket_starts()] == [
        "2025-06-01", "2025-06-02", "2025-06-09", "2025-06-16", "2025-06-23", "2025-06-30",
    ]  # fmt: skip
    year = period_of("y", date(2025, 6, 4))
    assert not year.weekly
    assert [d.month for d in year.bucket_starts()] == list(range(1, 13))
    windows = JUNE.bucket_windows(TZ)
    assert windows[0].start == JUNE.window(TZ).start and windows[-1].end == JUNE.window(TZ).end
    assert all(a.end == b.start for a, b in pairwise(windows))


# --- the counts ----------------------------------------------------------------------------


def _random_tips(seed_value: int, count: int) -> list[SeedTip]:
    """Tips from mid-May to mid-July with random kinds, areas and histories."""
    rng = random.Random(seed_value)
    start = utc("2025-05-15 00:00")
    histories = [
        (),
        (("acknowledged", 1.0, 7002),),
        (("acknowledged", 2.0, 7002), ("verifying", 5.0, 7003)),
        (("resolved", 30.0, 7002),),
        (("acknowledged", 0.5, 7002), ("unfounded", 12.0, 7003)),
        (("transferred", 48.0, 7002),),
    ]
    return [
        SeedTip(
            category=rng.choice(CATEGORIES),
            area=rng.choice([*CODES[:6], None]),
            created=start + timedelta(minutes=rng.randrange(0, 60 * 24 * 60)),
            changes=rng.choice(histories),
        )
        for _ in range(count)
    ]


#: Around the first and the last local midnight of June (Vietnam is UTC+7).
BOUNDARY = [
    SeedTip("drugs", "hong-van", utc("2025-05-31 16:59:59")),  # 23:59:59 on 31 May: May
    SeedTip("drugs", "hong-van", utc("2025-05-31 17:00:00")),  # 00:00 on 1 June: June
    SeedTip("theft", "a-luoi", utc("2025-05-31 18:30:00")),  # 01:30 on 1 June: June
    SeedTip("forest", None, utc("2025-06-30 16:59:00")),  # 23:59 on 30 June: June
    SeedTip("forest", "a-luoi", utc("2025-06-30 17:00:00")),  # 00:00 on 1 July: July
]


def _expected(tips: list[SeedTip], period: Period, areas: set[str] | None = None):
    """Counts made here, from each tip's local day, without SQL."""
    chosen = [
        t for t in tips
        if period.first <= t.created.astimezone(TZ).date() < period.end
        and (areas is None or t.area in areas)
    ]
    return (
        Counter(t.category for t in chosen),
        Counter(t.area for t in chosen),
        Counter(t.status for t in chosen),
        chosen,
    )


async def test_counts_match_an_independent_count_around_the_vietnamese_midnight(store):
    tips = BOUNDARY + _random_tips(13, 300)
    await seed(store, tips)
    counts = await store.stats.tip_counts(JUNE.window(TZ), EVERYTHING)
    categories, areas, statuses, chosen = _expected(tips, JUNE)
    assert counts.total == len(chosen)
    assert counts.by_category == dict(categories)
    assert counts.by_area == dict(areas)
    assert counts.by_status == dict(statuses)
    # the boundary tips: the first and last of May's side stay out, the three of June are in
    june_boundary = [t for t in BOUNDARY if t in chosen]
    assert len(june_boundary) == 3

    # An officer's scope: only their areas (a tip of no area is not theirs).
    mine = {"hong-van", "a-luoi"}
    scoped = await store.stats.tip_counts(
        JUNE.window(TZ), StatsScope(everything=False, areas=tuple(sorted(mine)))
    )
    categories, areas, statuses, chosen = _expected(tips, JUNE, mine)
    assert scoped.total == len(chosen)
    assert scoped.by_category == dict(categories)
    assert scoped.by_area == dict(areas)
    assert scoped.by_status == dict(statuses)

    # The per-week bars add up to the same numbers, per category.
    bars = (await store.stats.tip_counts(JUNE.window(TZ), EVERYTHING,
                                         JUNE.bucket_windows(TZ))).per_bucket
    summed: Counter[str] = Counter()
    for bar in bars:
        summed.update(bar)
    assert dict(summed) == counts.by_category
    first_week = [t for t in tips if t.created.astimezone(TZ).date() == date(2025, 6, 1)]
    assert sum(bars[0].values()) == len(first_week)  # Sunday 1 June, a bar of its own


async def test_medians_of_hours_to_acknowledge_and_to_close(store):
    day = utc("2025-06-10 03:00")
    tips = [
        SeedTip("drugs", "a-luoi", day, (("acknowledged", 1.0, 7002),)),
        SeedTip("drugs", "a-luoi", day, (("acknowledged", 2.0, 7002), ("resolved", 5.0, 7002))),
        SeedTip("drugs", "a-luoi", day, (("verifying", 4.0, 7002), ("unfounded", 7.0, 7002))),
        # closed, reopened, closed again: it counts from its last closing
        SeedTip("theft", "a-luoi", day, (("resolved", 3.0, 7002), ("acknowledged", 4.0, 7002),
                                          ("transferred", 8.0, 7002))),
        SeedTip("theft", "a-luoi", day),  # never touched
    ]
    ids = await seed(store, tips)
    # A tip closed with no audit entry (as an old database might hold) has no closing time.
    lonely = (await seed(store, [SeedTip("other", None, day)]))[0]
    await store.db.execute("UPDATE tips SET status = 'resolved' WHERE tip_id = ?", (lonely,))
    counts = await store.stats.tip_counts(JUNE.window(TZ), EVERYTHING)
    assert counts.acknowledged == 4
    assert counts.median_ack_hours == pytest.approx(median([1.0, 2.0, 4.0, 3.0]))
    assert counts.closed == 3
    assert counts.median_close_hours == pytest.approx(median([5.0, 7.0, 8.0]))
    rows = {r.tip_id: r for r in await store.stats.export_rows(JUNE.window(TZ), EVERYTHING)}
    assert rows[ids[3]].close_hours == pytest.approx(8.0)
    assert rows[ids[3]].closed_at == iso(day + timedelta(hours=8))
    assert rows[ids[0]].closed_at is None and rows[ids[0]].ack_hours == pytest.approx(1.0)
    assert rows[ids[4]].ack_hours is None and rows[lonely].close_hours is None
    # No tips at all: no median, and nothing breaks.
    empty = await store.stats.tip_counts(period_of("m", date(2030, 1, 1)).window(TZ), EVERYTHING)
    assert (empty.total, empty.median_ack_hours, empty.median_close_hours) == (0, None, None)


async def test_times_rounded_to_the_hour_still_give_hours(store):
    """A later change keeps clear times to the hour: an acknowledgement within the hour of
    arrival then reads 0 hours, never a negative number."""
    created = utc("2025-06-10 03:00")
    tip_id = (await seed(store, [SeedTip("drugs", "a-luoi", created,
                                         (("acknowledged", 0.0, 7002),))]))[0]
    await store.db.execute(
        "UPDATE tips SET acknowledged_at = '2025-06-10T03:00:00+00:00' WHERE tip_id = ?",
        (tip_id,),
    )
    counts = await store.stats.tip_counts(JUNE.window(TZ), EVERYTHING)
    assert counts.median_ack_hours == 0.0


async def test_export_rows_name_the_staff_who_acted_or_were_given_the_tip(store):
    await store.staff.upsert_officer(7005, areas=("a-luoi",), all_areas=False,
                                     display_name="Cán bộ E")
    day = utc("2025-06-10 03:00")
    ids = await seed(store, [
        SeedTip("drugs", "a-luoi", day + timedelta(hours=2), (("acknowledged", 1.0, 7002),
                                                              ("resolved", 2.0, 7003))),
        SeedTip("theft", "a-luoi", day, assignees=(7005,)),
    ])
    await store.audit.record(7004, "view", ids[0])  # reading a tip is not acting on it
    await store.audit.record(7006, "reply", ids[0])
    rows = await store.stats.export_rows(JUNE.window(TZ), EVERYTHING)
    assert [r.tip_id for r in rows] == [ids[1], ids[0]]  # oldest first
    assert rows[1].staff_ids == (7002, 7003, 7006)
    assert rows[0].staff_ids == (7005,)


async def test_subscribers_now_and_new_in_the_period(store):
    for user in (1, 2, 3):
        await store.subscribers.subscribe(user, user, "vi")
    await store.db.execute(
        "UPDATE subscribers SET created_at = '2025-05-31T16:00:00+00:00' WHERE subscriber_id = 1"
    )
    await store.db.execute(
        "UPDATE subscribers SET created_at = '2025-05-31T18:00:00+00:00' WHERE subscriber_id = 2"
    )
    counts = await store.stats.subscribers(JUNE.window(TZ))
    assert (counts.total, counts.new) == (3, 1)


async def test_the_text_lists_what_was_counted_in_both_languages(store):
    await seed(store, BOUNDARY)
    await store.campaigns.count_start("thang6", "drugs")
    report = await collect(store, JUNE, EVERYTHING, TZ)
    vi = report_text("vi", report, AREAS)
    assert "Tổng số tin báo nhận được: <b>3</b>" in vi
    assert "Ma túy: <b>1</b>" in vi and "Trộm cắp: <b>1</b>" in vi
    assert "Xã Hồng Vân: <b>1</b>" in vi and "Thị trấn A Lưới: <b>1</b>" in vi
    assert "Không rõ: <b>1</b>" in vi
    assert "Mới tiếp nhận: <b>3</b>" in vi
    assert "01/06/2025 – 30/06/2025" in vi
    # One campaign opening names no campaign (views/counts.py), and there is no total over
    # every campaign.
    assert "Liên kết chiến dịch" in vi and "thang6" not in vi
    en = report_text("en", report, AREAS)
    assert "Tips received: <b>3</b>" in en and "By area" in en
    scoped = await collect(store, JUNE, StatsScope(False, ("hong-van",)), TZ)
    assert scoped.campaigns is None  # campaign counters are district-wide
    assert "Liên kết chiến dịch" not in report_text("vi", scoped, AREAS)


async def test_campaign_counts_in_the_text_the_review_and_the_spreadsheet_hide_one_person(store):
    """The attack of docs/campaign.md: an admin pads one category of a fresh campaign with 5
    openings, then the target opens another category once and reports. /stats (and the monthly
    review, which sends the same text) and the spreadsheet read the same before and after."""
    from storage.tips import Delivery, NewTip

    for _ in range(5):
        await store.campaigns.count_start("lang1", "drugs")

    async def shown() -> tuple[str, str, list[tuple[object, ...]]]:
        report = await collect(store, JUNE, EVERYTHING, TZ)
        book = load_workbook(BytesIO(build_workbook(
            "vi", report, [], AREAS, {}, TZ, contents=None, made_at=datetime(2025, 7, 1, 8),
        )))
        lines = [r for r in book["Tổng hợp"].iter_rows(values_only=True)
                 if r[0] and "chiến dịch" in str(r[0]) and "Thời điểm" not in str(r[0])]
        return report_text("vi", report, AREAS), report_text("en", report, AREAS), lines

    before = await shown()
    await store.campaigns.count_start("lang1", "theft")
    async with store.db.transaction():
        await store.tips.insert(
            NewTip("theft", None, False, {"text": "x"}, campaign="lang1"), Delivery(1, ())
        )
    after = await shown()
    assert before == after
    vi, en, lines = after
    assert "<code>lang1</code>: — lượt mở, — tin" in vi
    assert "<code>lang1</code>: — openings, — tips" in en
    assert "dưới 5" not in vi.split("Liên kết chiến dịch")[1].split("Người đăng ký")[0]
    assert lines == [("Lượt mở liên kết chiến dịch (từ trước đến nay) — lang1", "—"),
                     ("Tin báo từ liên kết chiến dịch (từ trước đến nay) — lang1", "—")]


async def test_a_campaign_total_is_shown_when_every_category_has_5(store):
    for category in CATEGORIES:
        for _ in range(5):
            await store.campaigns.count_start("lon", category)
    report = await collect(store, JUNE, EVERYTHING, TZ)
    assert f"<code>lon</code>: {5 * len(CATEGORIES)} lượt mở, — tin" in report_text(
        "vi", report, AREAS)


# --- the chart -----------------------------------------------------------------------------


def _report_with_everything(language_sample: int = 3):  # type: ignore[no-untyped-def]
    from reports.stats import StatsReport
    from storage.stats import SubscriberCounts, TipCounts

    by_area = {code: (i % 5) + language_sample for i, code in enumerate(CODES)}
    by_area[None] = 2
    series = [(start, {c: (i + j) % 4 for j, c in enumerate(CATEGORIES)})
              for i, start in enumerate(JUNE.bucket_starts())]
    counts = TipCounts(
        total=sum(by_area.values()), by_category=dict.fromkeys(CATEGORIES, 3), by_area=by_area,
        by_status={"new": 5}, acknowledged=0, median_ack_hours=None, closed=0,
        median_close_hours=None,
    )
    return StatsReport(JUNE, EVERYTHING, counts, series, SubscriberCounts(0, 0), [])


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_chart_is_a_png_with_every_label_drawn(language):
    """Fails on matplotlib's "Glyph ... missing from font(s)" warning: every Vietnamese letter
    of the categories, areas and titles must be in the font."""
    report = _report_with_everything()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_chart(report, language, AREAS)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = image_size(png)
    # Telegram's photo limits: at most 10 MB, width + height at most 10000, ratio under 20.
    assert 600 <= width <= 2000 and 600 <= height <= 3000
    assert width + height <= 10000 and max(width, height) / min(width, height) < 20
    assert len(png) < 10 * 1024 * 1024


def test_the_glyph_check_does_catch_a_missing_glyph():
    """The check above would see a letter the font lacks (here a Chinese one)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure()
    FigureCanvasAgg(figure)
    figure.text(0.5, 0.5, "漢", fontfamily="DejaVu Sans")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure.savefig(BytesIO(), format="png")
    assert any("missing from font" in str(w.message) for w in caught)


def test_labels_lose_their_emoji_but_keep_their_diacritics():
    assert bare_label(plain("vi", "cat_drugs")) == "Ma túy"
    assert bare_label(plain("vi", "cat_forest")) == "Phá rừng, săn bắt trái phép"
    assert bare_label("❔ Không rõ") == "Không rõ"
    for key in MESSAGES:
        if key.startswith("cat_"):
            assert bare_label(plain("vi", key))


def test_an_empty_period_still_draws_a_chart():
    from reports.stats import StatsReport
    from storage.stats import SubscriberCounts, TipCounts

    counts = TipCounts(0, {}, {}, {}, 0, None, 0, None)
    series = [(d, {}) for d in JUNE.bucket_starts()]
    report = StatsReport(JUNE, StatsScope(False, ("a-luoi",)), counts, series,
                         SubscriberCounts(0, 0), None)
    assert render_chart(report, "vi", AREAS)[:4] == b"\x89PNG"


# --- the spreadsheet -----------------------------------------------------------------------


async def test_the_spreadsheet_opens_with_dates_a_frozen_header_and_no_file_on_disk(
    store, monkeypatch, tmp_path
):
    tips = [*BOUNDARY, SeedTip("fraud", "a-luoi", utc("2025-06-12 02:00"),
                               (("acknowledged", 1.5, 7002), ("resolved", 26.0, 7002)))]
    ids = await seed(store, tips)
    report = await collect(store, JUNE, EVERYTHING, TZ)
    rows = await store.stats.export_rows(JUNE.window(TZ), EVERYTHING)
    contents = {
        tip_id: TipContent("cầu treo", f"=HYPERLINK(\"http://x\") nội dung {tip_id}\x01",
                           "[12/06/2025 10:00] Người báo: thêm")
        for tip_id in ids
    }

    def no_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the export touched the disk")

    import openpyxl.worksheet._writer as sheet_writer

    monkeypatch.setattr(sheet_writer, "create_temporary_file", no_disk)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_disk)
    monkeypatch.setattr(tempfile, "mkstemp", no_disk)
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    data = {}
    for with_content in (False, True):
        data[with_content] = build_workbook(
            "vi", report, rows, AREAS, {7002: "Cán bộ Minh"}, TZ,
            contents=contents if with_content else None, made_at=datetime.now(TZ),
        )
    assert list(folder.iterdir()) == []

    plain_book = load_workbook(BytesIO(data[False]))
    assert plain_book.sheetnames == ["Tin báo", "Tổng hợp"]
    sheet = plain_book["Tin báo"]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width > 8
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Mã tin", "Nhận lúc", "Cán bộ nhận lúc", "Đóng lúc"]
    assert "Nội dung" not in header
    body = list(sheet.iter_rows(min_row=2))
    assert len(body) == 4  # June's tips only
    fraud = next(r for r in body if r[4].value == "Lừa đảo")
    assert fraud[1].is_date and fraud[1].value == datetime(2025, 6, 12, 9, 0)  # local time
    assert fraud[1].number_format == "dd/mm/yyyy hh:mm"
    assert fraud[2].value == datetime(2025, 6, 12, 10, 30) and fraud[3].is_date
    assert (fraud[8].value, fraud[9].value) == (1.5, 26.0)
    assert fraud[6].value == "Đã xử lý" and fraud[7].value == "Cán bộ Minh"
    midnight = next(r for r in body if r[1].value == datetime(2025, 6, 1, 0, 0))
    assert midnight[5].value == "Xã Hồng Vân"

    summary = {r[0]: r[1] for r in plain_book["Tổng hợp"].iter_rows(values_only=True) if r[0]}
    assert summary["Tổng số tin báo"] == report.counts.total == 4
    assert summary["Lừa đảo"] == 1 and summary["Ma túy"] == 1 and summary["Không rõ"] == 1
    assert summary["Số tin đã đóng"] == 1 and summary["Trung vị số giờ đến khi đóng"] == 26.0

    with_content = load_workbook(BytesIO(data[True]))["Tin báo"]
    header = [c.value for c in with_content[1]]
    assert header[-3:] == ["Nơi cụ thể", "Nội dung", "Trao đổi"]
    cell = with_content.cell(row=2, column=12)
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"  # text, not a formula
    assert "\x01" not in cell.value


# --- the monthly review --------------------------------------------------------------------


def at(text: str) -> float:
    return local(text).timestamp()


def test_the_review_of_a_month_is_due_on_the_first_of_the_next_at_eight():
    assert due_at("2025-05", TZ) == at("2025-06-01 08:00")
    assert datetime.fromtimestamp(due_at("2025-05", TZ), UTC).strftime("%d %H:%M") == "01 01:00"
    assert due_at("2025-12", TZ) == at("2026-01-01 08:00")
    assert month_period("2025-12").end == date(2026, 1, 1)


def test_decide_waits_fires_up_to_a_day_late_and_skips_beyond():
    due = at("2025-06-01 08:00")
    assert decide(due, at("2025-06-01 07:59")) == "wait"
    assert decide(due, due - 0.5) == "fire"
    assert decide(due, at("2025-06-01 08:01")) == "fire"
    assert decide(due, due + GRACE_SECONDS) == "fire"
    assert decide(due, due + GRACE_SECONDS + 1) == "skip"


class Sent:
    def __init__(self, fail_for: int | None = None, delay: float = 0.0) -> None:
        self.copies: list[tuple[int, str]] = []
        self.fail_for = fail_for
        self.delay = delay

    async def __call__(self, admin_id: int, month: str) -> None:
        await asyncio.sleep(self.delay)
        if admin_id == self.fail_for:
            raise Forbidden("bot was blocked by the user")
        self.copies.append((admin_id, month))


async def test_the_review_is_sent_once_across_restarts_between_0759_and_0801(tmp_path):
    key, path = os.urandom(32), tmp_path / "r.db"
    sent = Sent()
    store = await open_store(path, key)
    assert await plan(store, at("2025-05-20 10:00"), TZ) == "2025-05"
    assert await run_review(store, "2025-05", now=at("2025-06-01 07:59"), admins=[1, 2],
                            send=sent) == "wait"
    await store.close()  # stopped at 07:59
    store = await open_store(path, key)  # started again just before 08:00
    assert await run_review(store, "2025-05", now=at("2025-06-01 08:00:00") + 0.2,
                            admins=[1, 2], send=sent) == "sent"
    assert await run_review(store, "2025-05", now=at("2025-06-01 08:00:30"), admins=[1, 2],
                            send=sent) == "done"
    await store.close()
    store = await open_store(path, key)  # and again at 08:01
    assert await plan(store, at("2025-06-01 08:01"), TZ) == "2025-06"
    assert await run_review(store, "2025-05", now=at("2025-06-01 08:01"), admins=[1, 2],
                            send=sent) == "done"
    assert sent.copies == [(1, "2025-05"), (2, "2025-05")]
    assert (await store.reviews.get("2025-05")).outcome == "sent"
    assert (await store.reviews.get("2025-06")).due_at == at("2025-07-01 08:00")
    await store.close()


async def test_two_processes_at_the_same_moment_send_each_admin_one_copy(tmp_path):
    key, path = os.urandom(32), tmp_path / "two.db"
    first, second = await open_store(path, key), await open_store(path, key)
    try:
        await plan(first, at("2025-05-20 10:00"), TZ)
        sent = Sent(delay=0.02)
        now = at("2025-06-01 08:00:01")
        await asyncio.gather(
            run_review(first, "2025-05", now=now, admins=[1, 2, 3], send=sent),
            run_review(second, "2025-05", now=now, admins=[1, 2, 3], send=sent),
        )
        assert sorted(sent.copies) == [(1, "2025-05"), (2, "2025-05"), (3, "2025-05")]
    finally:
        await first.close()
        await second.close()


async def test_a_review_more_than_a_day_late_is_skipped(store):
    await plan(store, at("2025-05-20 10:00"), TZ)
    sent = Sent()
    assert await run_review(store, "2025-05", now=at("2025-06-02 08:00") + 1, admins=[1],
                            send=sent) == "skipped"
    assert sent.copies == [] and (await store.reviews.get("2025-05")).outcome == "skipped"
    assert await run_review(store, "2025-05", now=at("2025-06-02 09:00"), admins=[1],
                            send=sent) == "done"


async def test_a_review_a_few_hours_late_is_still_sent(store):
    await plan(store, at("2025-05-20 10:00"), TZ)
    sent = Sent()
    assert await run_review(store, "2025-05", now=at("2025-06-01 15:00"), admins=[1],
                            send=sent) == "sent"
    assert sent.copies == [(1, "2025-05")]


async def test_a_copy_that_failed_or_was_cut_off_is_not_sent_again(store):
    await plan(store, at("2025-05-20 10:00"), TZ)
    assert await store.reviews.claim("2025-05", 3)  # a process died while sending to 3
    sent = Sent(fail_for=2)
    await run_review(store, "2025-05", now=at("2025-06-01 08:00"), admins=[1, 2, 3], send=sent)
    assert sent.copies == [(1, "2025-05")]
    assert await store.reviews.sends("2025-05") == {1: "sent", 2: "failed", 3: "sending"}


async def test_only_the_month_in_progress_is_planned(store):
    """A month that ended before the bot first ran has no review."""
    assert await plan(store, at("2025-06-01 07:00"), TZ) == "2025-06"
    assert await store.reviews.get("2025-05") is None
    assert [r.month for r in await store.reviews.pending()] == ["2025-06"]


def test_a_large_areas_file_keeps_the_text_under_telegrams_limit():
    from emulator.formatting import char_len, parse_formatted
    from reports.stats import AREAS_SHOWN, StatsReport
    from rules.areas import parse_areas
    from storage.stats import SubscriberCounts, TipCounts

    many = parse_areas("".join(
        f'[[area]]\ncode = "xa-{n}"\nvi = "Xã Hương Nguyên Thượng Số {n}"\n'
        f'en = "Huong Nguyen Thuong commune number {n}"\n'
        for n in range(150)
    ))
    by_area = {f"xa-{n}": n + 1 for n in range(150)}
    counts = TipCounts(sum(by_area.values()), {"drugs": sum(by_area.values())}, by_area,
                       {"new": sum(by_area.values())}, 0, None, 0, None)
    report = StatsReport(JUNE, EVERYTHING, counts, [(d, {}) for d in JUNE.bucket_starts()],
                         SubscriberCounts(0, 0), [])
    for language in ("vi", "en"):
        shown, _ = parse_formatted(report_text(language, report, many), "HTML")
        assert char_len(shown) <= 4096
    shown, _ = parse_formatted(report_text("vi", report, many), "HTML")
    assert "Số 149: 150" in shown  # the busiest areas are named
    rest = 150 - AREAS_SHOWN
    assert f"{rest} địa bàn khác: {sum(range(1, rest + 1))}" in shown
    assert render_chart(report, "vi", many)[:4] == b"\x89PNG"


def test_an_officer_with_no_areas_gets_empty_numbers_and_a_chart():
    from reports.stats import StatsReport
    from storage.stats import SubscriberCounts, TipCounts

    report = StatsReport(JUNE, StatsScope(False, ()), TipCounts(0, {}, {}, {}, 0, None, 0, None),
                         [(d, {}) for d in JUNE.bucket_starts()], SubscriberCounts(0, 0), None)
    assert "Tổng số tin báo nhận được: <b>0</b>" in report_text("vi", report, AREAS)
    assert render_chart(report, "vi", AREAS)[:4] == b"\x89PNG"
