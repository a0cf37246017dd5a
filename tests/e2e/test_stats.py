"""/stats, /export and the monthly review end to end, against the emulator.

A few tips go through the real report flow; the volume (and tips in June 2025, around the local
midnight that starts the month: 00:00 in Vietnam is 17:00 the day before in UTC) is stored
through the storage functions before the bot starts. Every number the bot shows is compared with
a count made here from the seeded list.
"""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
import time
from collections import Counter
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from statistics import median
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from emulator.files import image_size
from reports.stats import local_today, month_key
from rules.areas import load_areas
from testing.campaign import with_store
from testing.journeys import press, report, staff_joins, wait_text
from testing.stats_seed import SeedTip, seed
from texts.catalog import CATEGORIES, STATUSES, plain

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AREAS = load_areas(None)
ADMIN, OFFICER, RESIDENT, SECOND_ADMIN = 7301, 7302, 7303, 7305
JUNE_FIRST, JUNE_LAST = date(2025, 6, 1), date(2025, 6, 30)
TYPED_JUNE = "01/06/2025 30/06/2025"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


BOUNDARY = [
    SeedTip("drugs", "hong-van", utc("2025-05-31 16:59:59")),  # 23:59:59 on 31 May in Vietnam
    SeedTip("drugs", "hong-van", utc("2025-05-31 17:00:00")),  # 00:00 on 1 June
    SeedTip("theft", "a-luoi", utc("2025-05-31 18:30:00"),  # 01:30 on 1 June
            (("acknowledged", 2.0, OFFICER), ("resolved", 20.0, OFFICER))),
    SeedTip("forest", None, utc("2025-06-30 16:59:00")),  # 23:59 on 30 June
    SeedTip("forest", "hong-van", utc("2025-06-30 17:00:00")),  # 00:00 on 1 July
]


def volume(count: int) -> list[SeedTip]:
    rng = random.Random(2025)
    histories = [(), (("acknowledged", 1.0, OFFICER),),
                 (("verifying", 3.0, OFFICER), ("unfounded", 40.0, OFFICER))]
    return [
        SeedTip(rng.choice(CATEGORIES), rng.choice(["hong-van", "a-luoi", "a-ngo", None]),
                utc("2025-05-20 00:00") + timedelta(minutes=rng.randrange(0, 60 * 24 * 50)),
                rng.choice(histories))
        for _ in range(count)
    ]


def in_june(tips: list[SeedTip], areas: set[str] | None = None) -> list[SeedTip]:
    return [
        t for t in tips
        if JUNE_FIRST <= t.created.astimezone(TZ).date() <= JUNE_LAST
        and (areas is None or t.area in areas)
    ]


def hours(value: float) -> str:
    return f"{value:.1f} giờ".replace(".", ",")


def area_name(code: str | None) -> str:
    return plain("vi", "area_unsure") if code is None else AREAS.name(code, "vi")


def assert_counts(shown: str, tips: list[SeedTip], *, total_line: str) -> None:
    """The text says exactly these numbers per category, area and status."""
    assert f"{total_line} {len(tips)}" in shown, shown
    for counts, label in (
        (Counter(t.category for t in tips), lambda c: plain("vi", f"cat_{c}")),
        (Counter(t.status for t in tips), lambda s: plain("vi", f"status_{s}")),
    ):
        for key, n in counts.items():
            assert f"• {label(key)}: {n}\n" in shown + "\n", (key, n, shown)
    for category in CATEGORIES:
        if category not in {t.category for t in tips}:
            assert f"• {plain('vi', f'cat_{category}')}:" not in shown
    for status in STATUSES:
        if status not in {t.status for t in tips}:
            assert f"• {plain('vi', f'status_{status}')}:" not in shown
    for code, n in Counter(t.area for t in tips).items():
        assert f"• {area_name(code)}: {n}\n" in shown + "\n", (code, n, shown)


def has_totals(message) -> bool:  # type: ignore[no-untyped-def]
    return "Tổng số tin báo nhận được" in (message.text or "")


def newest(emulator, chat: int, since: int, predicate):  # type: ignore[no-untyped-def]
    def find():  # type: ignore[no-untyped-def]
        for message in emulator.messages(chat)[since:]:
            if predicate(message):
                return message
        return None

    return emulator.wait_until(find, timeout=15)


def wait_chart(emulator, chat: int, since: int, caption: str):  # type: ignore[no-untyped-def]
    """The chart that followed: a photo the emulator accepted, with its PNG bytes."""
    photo = newest(emulator, chat, since,
                   lambda m: m.media_kind == "photo" and caption in (m.text or ""))
    data = emulator.file_bytes(photo.file_id)
    assert data is not None and data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = image_size(data)
    assert 600 <= width <= 2000 and 400 <= height <= 3000, (width, height)
    assert len(data) < 10 * 1024 * 1024
    return photo


def test_stats_match_an_independent_count_for_admins_and_officers(emulator, make_bot):
    seeded = BOUNDARY + volume(150)
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN))
    with_store(bot, lambda store: seed(store, seeded))
    bot.start()
    bot.add_officer(OFFICER, "hong-van", name="Cán bộ Hồng Vân")
    admin = staff_joins(emulator, ADMIN, "Quản trị")
    officer = staff_joins(emulator, OFFICER, "Cán bộ")
    resident = emulator.user(RESIDENT, "Dân")
    # Three tips through the real report flow, today.
    today_tips = [("drugs", "hong-van"), ("gambling", "a-luoi"), ("drugs", None)]
    for category, area in today_tips:
        report(emulator, resident, category=category, area=area)

    # The admin types June's dates: every area, June's tips only.
    before = len(emulator.messages(ADMIN))
    admin.send_command("/stats")
    press(emulator, admin, "ss:p:d")
    wait_text(emulator, admin, "dd/mm/yyyy")
    admin.send_text(TYPED_JUNE)
    answer = newest(emulator, ADMIN, before, has_totals)
    assert "01/06/2025 – 30/06/2025 · toàn bộ địa bàn" in answer.text
    june = in_june(seeded)
    assert len([t for t in BOUNDARY if t in june]) == 3
    assert_counts(answer.text, june, total_line="Tổng số tin báo nhận được:")
    assert "Liên kết chiến dịch" in answer.text
    closings = [t.changes[-1][1] for t in june if t.status in ("resolved", "unfounded")]
    acks = [t.changes[0][1] for t in june if t.changes]
    assert f"đến khi đóng: {hours(median(closings))} ({len(closings)} tin)" in answer.text
    assert f"đến khi cán bộ nhận: {hours(median(acks))} ({len(acks)} tin)" in answer.text
    wait_chart(emulator, ADMIN, before, "01/06/2025 – 30/06/2025")

    # This month: the three reported today (the seeded ones are a year and more ago).
    before = len(emulator.messages(ADMIN))
    admin.send_command("/stats")
    press(emulator, admin, "ss:p:m")
    answer = newest(emulator, ADMIN, before, has_totals)
    now = datetime.now(TZ)
    expected = [SeedTip(c, a, now) for c, a in today_tips]
    assert_counts(answer.text, expected, total_line="Tổng số tin báo nhận được:")
    wait_chart(emulator, ADMIN, before, "Tháng này")

    # The officer of Hồng Vân sees only Hồng Vân's tips. They had started a reply on today's
    # card: asking for dates ends it, so the dates never reach the resident as a reply.
    card = emulator.wait_until(lambda: next(
        (m for m in emulator.messages(OFFICER)
         if any(d.startswith("o:rep:") for d in m.callback_data())), None))
    press(emulator, officer, next(d for d in card.callback_data() if d.startswith("o:rep:")))
    wait_text(emulator, officer, "người báo")
    before = len(emulator.messages(OFFICER))
    officer.send_command("/stats")
    press(emulator, officer, "ss:p:d")
    wait_text(emulator, officer, "dd/mm/yyyy")
    officer.send_text("30/06/2025 - 01/06/2025")  # either order
    answer = newest(emulator, OFFICER, before, has_totals)
    assert "địa bàn: Xã Hồng Vân" in answer.text
    assert_counts(answer.text, in_june(seeded, {"hong-van"}),
                  total_line="Tổng số tin báo nhận được:")
    assert "Liên kết chiến dịch" not in answer.text
    wait_chart(emulator, OFFICER, before, "01/06/2025 – 30/06/2025")
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        assert db.execute("SELECT count(*) FROM tip_messages").fetchone()[0] == 0

    # Dates that make no period are explained; /cancel ends the question.
    officer.send_command("/stats")
    press(emulator, officer, "ss:p:d")
    wait_text(emulator, officer, "dd/mm/yyyy")
    officer.send_text("hôm qua")
    wait_text(emulator, officer, "Chưa đọc được hai ngày")
    officer.send_text("01/01/2001 01/01/2020")
    wait_text(emulator, officer, "dài nhất là 10 năm")
    officer.send_command("/cancel")
    wait_text(emulator, officer, "Đã hủy.")
    officer.send_text(TYPED_JUNE)
    wait_text(emulator, officer, "Mình chưa hiểu")  # no longer read as dates

    # Both commands are in the menus of those who may use them, and in /help.
    emulator.wait_until(lambda: emulator.commands({"type": "chat", "chat_id": OFFICER}))
    officer_menu = {c["command"] for c in emulator.commands({"type": "chat", "chat_id": OFFICER})}
    assert "stats" in officer_menu and "export" not in officer_menu
    emulator.wait_until(lambda: emulator.commands({"type": "chat", "chat_id": ADMIN}))
    admin_menu = {c["command"] for c in emulator.commands({"type": "chat", "chat_id": ADMIN})}
    assert {"stats", "export"} <= admin_menu
    assert "stats" not in {c["command"] for c in emulator.commands()}
    admin.send_command("/help")
    help_text = wait_text(emulator, admin, "/export — xuất bảng tính").text
    assert "/stats — thống kê" in help_text

    logs = bot.logs()
    assert "missing from font" not in logs
    assert "Traceback" not in logs
    assert emulator.calls_to("sendPhoto") and all(c.ok for c in emulator.calls_to("sendPhoto"))


def _workbook(emulator, chat: int, since: int):  # type: ignore[no-untyped-def]
    document = newest(emulator, chat, since, lambda m: m.media_kind == "document")
    assert document.raw["document"]["file_name"].endswith(".xlsx")
    return document, load_workbook(BytesIO(emulator.file_bytes(document.file_id)))


def _exports(bot) -> list[tuple[int, dict]]:  # type: ignore[no-untyped-def]
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        rows = db.execute(
            "SELECT actor_id, detail FROM audit_log WHERE action = 'export' ORDER BY audit_id"
        ).fetchall()
    return [(actor, json.loads(detail)) for actor, detail in rows]


def _temporary_files() -> set[str]:
    folder = tempfile.gettempdir()
    from pathlib import Path

    return {p.name for p in Path(folder).glob("openpyxl*")}


def test_export_has_the_periods_rows_content_only_when_chosen_and_is_audited(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN))
    ids = with_store(bot, lambda store: seed(store, BOUNDARY))
    refs = with_store(bot, lambda store: _refs(store, ids))
    bot.start()
    bot.add_officer(OFFICER, "hong-van", name="Cán bộ Hồng Vân")
    admin = staff_joins(emulator, ADMIN, "Quản trị")
    officer = staff_joins(emulator, OFFICER, "Cán bộ")
    resident = emulator.user(RESIDENT, "Dân")
    report(emulator, resident, texts=("Có người bán =ma túy gần cầu <b>đêm</b>.",))
    # The officer replies on the card: the thread of the export with content.
    card = emulator.wait_until(lambda: next(
        (m for m in emulator.messages(OFFICER)
         if any(d.startswith("o:rep:") for d in m.callback_data())), None))
    press(emulator, officer, next(d for d in card.callback_data() if d.startswith("o:rep:")))
    wait_text(emulator, officer, "người báo")
    officer.send_text("Đã tiếp nhận, đang xác minh.")
    emulator.wait_until(lambda: with_store(bot, lambda store: _replies(store, ids[-1] + 1)))
    temporary_before = _temporary_files()

    # Without content, for two typed dates: June's three tips, no text.
    before = len(emulator.messages(ADMIN))
    admin.send_command("/export")
    press(emulator, admin, "ex:p:d")
    wait_text(emulator, admin, "dd/mm/yyyy")
    admin.send_text(TYPED_JUNE)
    press(emulator, admin, "ex:c:0:d:20250601:20250630")
    document, book = _workbook(emulator, ADMIN, before)
    assert "3 tin báo, không kèm nội dung" in document.text
    sheet = book["Tin báo"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert "Nội dung" not in header and "Trao đổi" not in header
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in rows) == sorted(refs[1:4])
    theft = next(r for r in rows if r[0] == refs[2])
    assert theft[1] == datetime(2025, 6, 1, 1, 30) and theft[3] == datetime(2025, 6, 1, 21, 30)
    assert theft[4] == "Trộm cắp" and theft[5] == "Thị trấn A Lưới" and theft[6] == "Đã xử lý"
    assert theft[7] == "Cán bộ Hồng Vân" and (theft[8], theft[9]) == (2.0, 20.0)
    assert sheet.cell(row=2, column=2).is_date
    summary = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(values_only=True) if r[0]}
    assert summary["Tổng số tin báo"] == 3 and summary["Ma túy"] == 1
    assert summary["Phá rừng, săn bắt trái phép"] == 1 and summary["Số tin đã đóng"] == 1

    # With content, this month: the tip reported today, with its text as the resident wrote it.
    before = len(emulator.messages(ADMIN))
    admin.send_command("/export")
    press(emulator, admin, "ex:p:m")
    press(emulator, admin, "ex:c:1:m")
    document, book = _workbook(emulator, ADMIN, before)
    assert "kèm nội dung và trao đổi" in document.text
    sheet = book["Tin báo"]
    header = [c.value for c in sheet[1]]
    assert header[-3:] == ["Nơi cụ thể", "Nội dung", "Trao đổi"]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 1
    assert rows[0][11].value == "Có người bán =ma túy gần cầu <b>đêm</b>."
    assert rows[0][10].value == "cầu treo thôn 2"
    assert rows[0][11].data_type == "s"
    assert rows[0][7].value == "Cán bộ Hồng Vân"
    assert rows[0][12].value.endswith("] Cán bộ Hồng Vân: Đã tiếp nhận, đang xác minh.")

    # The officer cannot export, with content or without (a forged button).
    welcome = emulator.messages(OFFICER)[0]
    for data in ("ex:c:1:m", "ex:c:0:m", "ex:p:m"):
        query = officer.click_data(welcome.message_id, data)
        answer = emulator.wait_until(lambda q=query: emulator.callback_answer(q), timeout=10)
        assert answer.get("text") == plain("vi", "not_allowed")
    officer.send_command("/export")
    wait_text(emulator, officer, plain("vi", "not_allowed"))
    assert not [m for m in emulator.messages(OFFICER) if m.media_kind == "document"]

    # Forged or stale data from an admin: "expired", nothing exported, no error logged.
    welcome = emulator.messages(ADMIN)[0]
    for data in ("ss:p:zz", "ss:p:d:1", "ss:x", "ex:c:2:m", "ex:c:1:d:20251301:20251302",
                 "ex:c:1:d:20000101:20300101", "ex:c:1:m:x", "ex:p:", "ex:c:1:d:２０２５0601:1"):
        query = admin.click_data(welcome.message_id, data)
        answer = emulator.wait_until(lambda q=query: emulator.callback_answer(q), timeout=10)
        assert answer.get("text") == plain("vi", "button_expired"), data
    assert len([m for m in emulator.messages(ADMIN) if m.media_kind == "document"]) == 2

    # Both exports are in the audit log, by the admin, saying which had content. (The chain is
    # not verified here: the seeding moved the times of earlier entries.)
    exports = _exports(bot)
    assert [(actor, d["content"], d["tips"]) for actor, d in exports] == [
        (ADMIN, False, 3), (ADMIN, True, 1),
    ]
    assert exports[0][1]["first"] == "2025-06-01" and exports[0][1]["last"] == "2025-06-30"

    # Nothing was left on disk: no spreadsheet in the bot's folder, no openpyxl temporary file.
    assert not [p for p in bot.workdir.rglob("*") if p.suffix == ".xlsx"]
    assert _temporary_files() <= temporary_before
    assert "Traceback" not in bot.logs() and " ERROR " not in bot.logs()
    assert "Có người bán" not in bot.logs() and "đang xác minh" not in bot.logs()


async def _replies(store, tip_id):  # type: ignore[no-untyped-def]
    return [m for m in await store.tips.thread(tip_id) if m.author == "officer"]


async def _refs(store, ids):  # type: ignore[no-untyped-def]
    return [(await store.tips.by_id(i)).ref for i in ids]


def _reviews(emulator, chat: int) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    texts = [m for m in emulator.messages(chat) if "Sơ kết tháng" in (m.text or "")]
    photos = [m for m in emulator.messages(chat) if m.media_kind == "photo"]
    return texts, photos


def test_the_monthly_review_arrives_once_on_time_across_a_restart(emulator, make_bot):
    """The clock is moved, not waited for: the review's stored time is set a few seconds
    ahead while the bot is stopped, as if it were 07:59:56 on the 1st; it then arrives at
    08:00, and a restart at "08:01" sends nothing more."""
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN))
    bot.start()
    bot.add_officer(OFFICER, "hong-van", name="Cán bộ")
    bot.add_officer(SECOND_ADMIN, "a-luoi", name="Quản trị 2")
    with_store(bot, lambda store: store.staff.set_admin(SECOND_ADMIN, True))
    for staff in (ADMIN, OFFICER, SECOND_ADMIN):
        staff_joins(emulator, staff)
    resident = emulator.user(RESIDENT, "Dân")
    report(emulator, resident, category="theft", area="a-luoi")
    month = month_key(local_today(TZ))
    planned = with_store(bot, lambda store: store.reviews.get(month))
    assert planned is not None and planned.outcome is None
    first_of_next = datetime.fromtimestamp(planned.due_at, TZ)
    assert (first_of_next.day, first_of_next.hour, first_of_next.minute) == (1, 8, 0)

    bot.stop()
    due = time.time() + 4.0
    with_store(bot, lambda store: store.reviews.set_due(month, due))
    bot.start()
    assert time.time() < due, "started before the review's time"
    review = emulator.wait_for_message(ADMIN, lambda m: "Sơ kết tháng" in (m.text or ""),
                                       timeout=20)
    assert time.time() >= due - 1.0
    shown_month = f"{local_today(TZ):%m/%Y}"
    assert f"Sơ kết tháng {shown_month}" in review.text
    assert "Tổng số tin báo nhận được: 1" in review.text
    assert "• Thị trấn A Lưới: 1" in review.text
    wait_chart(emulator, ADMIN, 0, "Tháng " + shown_month)
    emulator.wait_for_message(SECOND_ADMIN, lambda m: "Sơ kết tháng" in (m.text or ""))
    wait_chart(emulator, SECOND_ADMIN, 0, "Tháng " + shown_month)

    bot.stop()  # and started again at "08:01"
    # A review of another month falls due 2 s after the start: once the admins have it, the
    # restart's timers have all run (a second copy of this month's review would have come first).
    with_store(bot, lambda store: store.reviews.plan("2001-01", time.time() + 2.0))
    bot.start()
    for admin_id in (ADMIN, SECOND_ADMIN):
        emulator.wait_for_message(admin_id, lambda m: "Sơ kết tháng 01/2001" in (m.text or ""),
                                  timeout=20)
        wait_chart(emulator, admin_id, 0, "Tháng 01/2001")
    for admin_id in (ADMIN, SECOND_ADMIN):
        texts, photos = _reviews(emulator, admin_id)
        texts = [m for m in texts if shown_month in m.text]
        photos = [m for m in photos if shown_month in (m.text or "")]
        assert (len(texts), len(photos)) == (1, 1), admin_id
    assert _reviews(emulator, OFFICER) == ([], [])
    assert with_store(bot, lambda store: store.reviews.get(month)).outcome == "sent"
    assert "Traceback" not in bot.logs()


def test_a_monthly_review_missed_by_more_than_a_day_is_skipped(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN))
    bot.start()
    admin = staff_joins(emulator, ADMIN)
    month = month_key(local_today(TZ))
    bot.stop()
    with_store(bot, lambda store: store.reviews.set_due(month, time.time() - 25 * 3600))
    bot.start()
    emulator.wait_until(
        lambda: with_store(bot, lambda store: store.reviews.get(month)).outcome == "skipped"
    )
    # Logged once the review is recorded skipped, after anything it would have sent.
    emulator.wait_until(lambda: "missed by more than a day" in bot.logs())
    admin.send_command("/start")
    emulator.wait_for_message(admin, "113")
    assert _reviews(emulator, ADMIN) == ([], [])
