"""An admin schedules the campaign rotation; it posts once at its time, again after a restart,
to each subscriber in their language and to the channels; a paused schedule posts nothing.

The clock is moved, not waited for: between runs the test sets the schedule's stored next
occurrence a few seconds ahead, as if the bot had been stopped until just before it.
"""

from __future__ import annotations

import time

from testing.campaign import ADMIN, seed_subscribers, with_store
from testing.harness import wait
from testing.journeys import press, wait_text
from workers.scheduler import campaign_messages

VI, EN = 640_001, 640_002


def _move_clock(bot, schedule_id: int, seconds: float) -> float:  # type: ignore[no-untyped-def]
    due = time.time() + seconds
    with_store(bot, lambda s: s.schedules.set_next_run(schedule_id, due))
    return due


def _posts(emulator, chat: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.text or "" for m in emulator.messages(chat)]


def test_a_schedule_posts_at_its_time_after_restarts_and_not_when_paused(emulator, make_bot):
    channel = emulator.channel("Tin A Lưới", username="alnews")
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN), TIPBOT_CHANNELS="@alnews")
    seed_subscribers(emulator, bot, [VI])
    seed_subscribers(emulator, bot, [EN], language="en")
    bot.start()
    admin = emulator.user(ADMIN, "Quản trị", started=True)

    # Mondays and Thursdays at 08:00, the bundled rotation.
    admin.send_command("/schedule")
    press(emulator, admin, "sch:c:rot")
    press(emulator, admin, "sch:f:weekly")
    press(emulator, admin, "sch:w:0")
    emulator.wait_until(
        lambda: any("✅ T2" in b for m in emulator.messages(ADMIN) for b in m.button_texts())
    )
    press(emulator, admin, "sch:w:3")
    emulator.wait_until(
        lambda: any("✅ T5" in b for m in emulator.messages(ADMIN) for b in m.button_texts())
    )
    press(emulator, admin, "sch:w:done")
    wait_text(emulator, admin, "Mấy giờ?")
    admin.send_text("8h")
    wait_text(emulator, admin, "Thứ Hai, Thứ Năm lúc 08:00 (Asia/Ho_Chi_Minh)")
    press(emulator, admin, "sch:save")
    wait_text(emulator, admin, "Đã lưu lịch #1")
    schedule = with_store(bot, lambda s: s.schedules.get(1))
    assert time.strftime("%H:%M", time.gmtime(schedule.next_run_at)) == "01:00"  # 08:00 +07

    first, second = campaign_messages()[0], campaign_messages()[1]
    title_vi = first.texts["vi"].split("\n")[0]
    title_en = first.texts["en"].split("\n")[0]

    # Restart just before its time: it posts once, at its time.
    bot.stop()
    due = _move_clock(bot, 1, 3.0)
    bot.start()
    emulator.wait_for_message(VI, lambda m: "Báo tin ẩn danh" in (m.text or ""), timeout=10)
    assert time.time() >= due - 1.0
    emulator.wait_for_message(EN, lambda m: "Report anonymously" in (m.text or ""), timeout=5)
    emulator.wait_for_message(channel.id, lambda m: "Báo tin ẩn danh" in (m.text or ""))
    # The broadcast is finished (every recipient's message sent or given up) and the timer moved
    # on: a second post of this occurrence would have been queued and sent before.
    emulator.wait_until(lambda: with_store(bot, lambda s: s.schedules.get(1)).next_run_at
                        > time.time() + 3600)
    emulator.wait_until(lambda: "schedule 1 posted as broadcast" in bot.logs())
    # No broadcast left to send or report: a second one queued for this occurrence would have
    # been sent by now (waiting for the log line alone counted before it went out).
    wait(lambda: with_store(bot, lambda s: s.broadcasts.has_work()) is False, timeout=30)
    admin.send_command("/schedules")
    wait_text(emulator, admin, "#1")
    assert len(_posts(emulator, VI)) == len(_posts(emulator, EN)) == 1
    assert _posts(emulator, VI)[0].startswith(_plain(title_vi))
    assert _posts(emulator, EN)[0].startswith(_plain(title_en))
    assert "https://t.me/tipline_test_bot?start=report" in _posts(emulator, VI)[0]
    schedule = with_store(bot, lambda s: s.schedules.get(1))
    assert schedule.next_run_at > time.time() + 3600 and schedule.last_outcome == "sent"

    # After another restart it posts again, the next message of the rotation.
    bot.stop()
    _move_clock(bot, 1, 2.5)
    bot.start()
    emulator.wait_for_message(VI, lambda m: "biên nhận" in (m.text or ""), timeout=10)
    assert _posts(emulator, VI)[1].startswith(_plain(second.texts["vi"].split("\n")[0]))

    # Paused while running: its time passes and nothing is posted. What shows its time has
    # passed is a second schedule, due a little after it, that does post (the broadcasts go
    # out in the order they were queued, so a post of the paused one would come first).
    bot.stop()
    due = _move_clock(bot, 1, 6.0)
    later = with_store(bot, lambda s: s.schedules.create(
        content={"kind": "rotation"}, frequency="daily", at_time="08:00",
        next_run_at=due + 2.0, created_by=ADMIN))
    bot.start()
    admin.send_command("/schedules")
    wait_text(emulator, admin, "#1")
    press(emulator, admin, "sch:p:1")
    wait_text(emulator, admin, "⏸ tạm dừng")
    assert time.time() < due, "paused before its time"
    wait(lambda: f"schedule {later} posted as broadcast" in bot.logs(), timeout=30)
    wait(lambda: with_store(bot, lambda s: s.broadcasts.has_work()) is False, timeout=30)
    assert len(_posts(emulator, VI)) == 3  # the two before, and the later schedule's
    assert len(_posts(emulator, channel.id)) == 3
    assert "schedule 1 posted" not in bot.logs().split("schedule 1 registered")[-1]
    assert "Traceback" not in bot.logs()


def _plain(html_line: str) -> str:
    return html_line.replace("<b>", "").replace("</b>", "")
