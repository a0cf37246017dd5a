"""Every time a person reads is in TIPBOT_TIMEZONE, written dd/mm/yyyy HH:MM (SPEC "Officer"),
on every surface that shows one: the card, /tips, the /tip thread, /status, /schedules and the
broadcast report. A tip's arrival and a thread message's time are the exact ones (sealed with
the tip), not the hour the database keeps in clear.

The zone here is not Vietnam's on purpose (India, UTC+05:30): a time shown in UTC, in a zone
written into the code, or cut from the stored hour, would not match.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from testing.campaign import (
    ADMIN,
    received,
    seed_subscribers,
    start_broadcast,
    with_store,
)
from testing.journeys import press, report, staff_joins, wait_text

ZONE_NAME = "Asia/Kolkata"
ZONE = ZoneInfo(ZONE_NAME)
SHOWN = re.compile(r"\b\d\d/\d\d/\d{4} \d\d:\d\d\b")
OFFICER = 7002


def _minutes(start: float, end: float, zone=ZONE) -> set[str]:  # type: ignore[no-untyped-def]
    """The dd/mm/yyyy HH:MM readings, in `zone`, of every second of [start, end]."""
    return {
        datetime.fromtimestamp(second, UTC).astimezone(zone).strftime("%d/%m/%Y %H:%M")
        for second in range(int(start) - 1, int(end) + 2)
    }


def _shown_times(text: str) -> list[str]:
    return SHOWN.findall(text)


def _reported(emulator, make_bot, words: str, **report_args):  # type: ignore[no-untyped-def]
    """The bot with an officer, a resident's report; (bot, officer, resident, code, card,
    the readings the arrival may have)."""
    bot = make_bot(TIPBOT_TIMEZONE=ZONE_NAME)
    bot.add_officer(OFFICER, "hong-van", name="Quang")
    bot.start()
    officer = staff_joins(emulator, OFFICER, "Quang")
    resident = emulator.user(5501, "Lan")
    before = time.time()
    code = report(emulator, resident, texts=(words,), **report_args)
    after = time.time()
    card = emulator.wait_for_message(officer, lambda m: words in (m.text or "") and m.buttons)
    return bot, officer, resident, code, card, _minutes(before, after)


def _assert_local(shown: str, expected: set[str], start: float, end: float) -> None:
    assert shown in expected, (shown, sorted(expected))
    assert shown not in _minutes(start, end, UTC), "not UTC"


def test_the_card_says_when_the_tip_was_received_in_local_time(emulator, make_bot):
    start = time.time()
    _bot, _officer, _resident, _code, card, arrival = _reported(
        emulator, make_bot, "Có người lạ vào rừng đầu nguồn"
    )
    line = next(line for line in card.text.split("\n") if line.startswith("Nhận lúc:"))
    (shown,) = _shown_times(line)
    _assert_local(shown, arrival, start, time.time())
    assert "T" not in line.removeprefix("Nhận lúc:"), "no ISO time"


def test_tips_lists_each_tip_with_its_local_arrival_time(emulator, make_bot):
    start = time.time()
    _bot, officer, _resident, _code, card, arrival = _reported(
        emulator, make_bot, "Sới bạc sau chợ"
    )
    ref = next(w for w in card.text.split() if w.startswith("T-"))
    officer.send_command("/tips")
    page = wait_text(emulator, officer, "Tin báo — ")
    line = next(line for line in page.text.split("\n") if ref in line)
    (shown,) = _shown_times(line)
    _assert_local(shown, arrival, start, time.time())


def test_the_tip_thread_shows_each_message_at_its_local_time(emulator, make_bot):
    start = time.time()
    _bot, officer, _resident, _code, card, _arrival = _reported(
        emulator, make_bot, "Buôn ma túy ở bến xe"
    )
    ref = next(w for w in card.text.split() if w.startswith("T-"))
    tip_id = card.callback_data()[0].split(":")[2]
    officer.click(card.message_id, f"o:rep:{tip_id}")
    emulator.wait_for_message(officer, "người báo")
    before = time.time()
    officer.send_text("Đã nắm thông tin")
    emulator.wait_for_message(officer, "✅")
    replied = _minutes(before, time.time())
    officer.send_command("/tip", ref)
    entry = emulator.wait_for_message(officer, lambda m: (m.text or "").startswith("💬"))
    assert "Quang" in entry.text and "Đã nắm thông tin" in entry.text
    (shown,) = _shown_times(entry.text)
    _assert_local(shown, replied, start, time.time())


def test_status_shows_sent_updated_and_the_thread_in_local_time(emulator, make_bot):
    start = time.time()
    _bot, officer, resident, code, card, arrival = _reported(
        emulator, make_bot, "Trộm trâu ở thôn 3"
    )
    tip_id = card.callback_data()[0].split(":")[2]
    officer.click(card.message_id, f"o:rep:{tip_id}")
    emulator.wait_for_message(officer, "người báo")
    before = time.time()
    officer.send_text("Cảm ơn bạn, chúng tôi đang xác minh")
    emulator.wait_for_message(officer, "✅")
    replied = _minutes(before, time.time())
    resident.send_command("/status", code)
    view = emulator.wait_for_message(resident, "Tin báo của bạn")
    lines = view.text.split("\n")
    (sent,) = _shown_times(next(line for line in lines if line.startswith("Gửi lúc:")))
    (updated,) = _shown_times(next(line for line in lines if line.startswith("Cập nhật:")))
    (answer,) = _shown_times(next(line for line in lines if "chúng tôi đang xác minh" in line))
    end = time.time()
    _assert_local(sent, arrival, start, end)
    _assert_local(updated, replied, start, end)  # the reply changed the tip
    _assert_local(answer, replied, start, end)


def test_schedules_lists_the_next_post_in_local_time(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN), TIPBOT_TIMEZONE=ZONE_NAME)
    bot.start()
    admin = emulator.user(ADMIN, "Quản trị", started=True)
    admin.send_command("/schedule")
    press(emulator, admin, "sch:c:rot")
    press(emulator, admin, "sch:f:daily")
    wait_text(emulator, admin, "Mấy giờ?")
    admin.send_text("8h")
    summary = wait_text(emulator, admin, f"08:00 ({ZONE_NAME})")
    press(emulator, admin, "sch:save")
    wait_text(emulator, admin, "Đã lưu lịch #1")
    schedule = with_store(bot, lambda s: s.schedules.get(1))
    expected = datetime.fromtimestamp(schedule.next_run_at, ZONE).strftime("%d/%m/%Y %H:%M")
    assert expected.endswith(" 08:00")
    assert expected in summary.text

    admin.send_command("/schedules")
    listing = wait_text(emulator, admin, "#1")
    next_line = next(line for line in listing.text.split("\n") if line.startswith("Lần tới:"))
    assert _shown_times(next_line) == [expected]


def test_the_broadcast_report_says_when_it_started_and_ended_in_local_time(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN), TIPBOT_TIMEZONE=ZONE_NAME)
    ids = seed_subscribers(emulator, bot, range(650_001, 650_004))
    bot.start()
    admin = emulator.user(ADMIN, "Quản trị", started=True)
    body = "Họp dân tối nay tại nhà văn hóa"
    start = time.time()
    start_broadcast(emulator, admin, body, len(ids))
    final = wait_text(emulator, admin, "đã gửi xong.", timeout=30)
    end = time.time()
    assert all(received(emulator, u, body) == 1 for u in ids)
    line = next(line for line in final.text.split("\n") if line.startswith("Bắt đầu:"))
    started, ended = _shown_times(line)
    _assert_local(started, _minutes(start, end), start, end)
    _assert_local(ended, _minutes(start, end), start, end)
