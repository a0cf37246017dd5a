"""A schedule posts only while the admin who made it is one (the review's finding 3): an admin
deactivated or demoted in /officers, or taken out of TIPBOT_ADMIN_IDS and the bot restarted,
posts nothing more to every subscriber and channel. The schedule is paused, not deleted: another
admin sees in /schedules why, takes it over, and it posts again under them.

The clock is moved as in test_campaign_schedule.py: between runs the schedule's stored next
occurrence is set a few seconds ahead. That its time came and went without a post is shown by a
second schedule of a live admin, due two seconds after it, that does post (the broadcasts go out
in the order they were queued, so a post of the first would have come before).
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

import pytest

from testing.campaign import seed_subscribers, with_store
from testing.harness import wait
from testing.journeys import press, staff_joins, wait_button, wait_text

ADMIN, CREATOR, VI = 7009, 7010, 640_101
POSTED = "Báo tin ẩn danh"  # the footer of every post of the rotation


def _db(bot, sql: str) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        return db.execute(sql).fetchall()


def _posts(emulator, chat: int) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for m in emulator.messages(chat) if POSTED in (m.text or ""))


def _make_schedule(emulator, user) -> None:  # type: ignore[no-untyped-def]
    user.send_command("/schedule")
    press(emulator, user, "sch:c:rot")
    press(emulator, user, "sch:f:daily")
    wait_text(emulator, user, "Mấy giờ?")
    user.send_text("8h")
    press(emulator, user, "sch:save")
    wait_text(emulator, user, "Đã lưu lịch #1")


def _move_clock(bot, seconds: float) -> float:  # type: ignore[no-untyped-def]
    due = time.time() + seconds
    with_store(bot, lambda s: s.schedules.set_next_run(1, due))
    return due


def _quiet(bot) -> None:  # type: ignore[no-untyped-def]
    wait(lambda: with_store(bot, lambda s: s.broadcasts.has_work()) is False, timeout=30)


def _its_time_passes_without_a_post(emulator, bot) -> None:  # type: ignore[no-untyped-def]
    """Restarted just before schedule #1's time, beside a live admin's schedule due after it."""
    bot.stop()
    due = _move_clock(bot, 6.0)
    later = with_store(bot, lambda s: s.schedules.create(
        content={"kind": "rotation"}, frequency="daily", at_time="08:00",
        next_run_at=due + 2.0, created_by=ADMIN))
    bot.start()
    wait(lambda: f"schedule {later} posted as broadcast" in bot.logs(), timeout=30)
    _quiet(bot)
    assert time.time() > due
    assert _posts(emulator, VI) == 1, "only the live admin's schedule posted"
    assert "schedule 1 posted" not in bot.logs()


def _taken_over_it_posts_again(emulator, bot, admin, creator_name: str) -> None:  # type: ignore[no-untyped-def]
    admin.send_command("/schedules")
    listing = wait_text(emulator, admin, f"người tạo ({creator_name}) không còn quyền quản trị")
    assert "#1" in listing.text
    button = wait_button(emulator, admin, "sch:r:1")
    assert "▶️ Tiếp quản #1" in button.button_texts()
    query = admin.click(button.message_id, "sch:r:1")
    answer = emulator.wait_for_callback_answer(query).get("text") or ""
    assert "từ nay bạn là người tạo" in answer
    wait_text(emulator, admin, "#1 ▶️ đang chạy")
    assert _db(bot, "SELECT active, created_by FROM schedules WHERE schedule_id = 1") == [
        (1, ADMIN)]
    took = _db(bot, "SELECT actor_id, detail FROM audit_log WHERE action = 'schedule'"
                    " AND detail LIKE '%take_over%'")
    assert took == [(ADMIN, f'{{"change": "take_over", "creator_before": {CREATOR},'
                            ' "schedule": 1}')]
    bot.stop()
    _move_clock(bot, 3.0)
    bot.start()
    wait(lambda: "schedule 1 posted as broadcast" in bot.logs(), timeout=30)
    emulator.wait_until(lambda: _posts(emulator, VI) == 2, timeout=30)
    assert bot.cli("audit", "verify").returncode == 0
    assert "Traceback" not in bot.logs()


@pytest.mark.parametrize("how", ["deactivated", "demoted"])
def test_a_schedule_of_an_admin_deactivated_or_demoted_is_paused_and_taken_over(
    emulator, make_bot, how  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN), TIPBOT_CHANNELS="@alnews")
    channel = emulator.channel("Tin A Lưới", username="alnews")
    seed_subscribers(emulator, bot, [VI])
    bot.add_officer(CREATOR, "hong-van", name="Hòa")
    bot.start()
    admin = staff_joins(emulator, ADMIN, "Admin")
    creator = staff_joins(emulator, CREATOR, "Hòa")
    admin.send_command("/officers")
    press(emulator, admin, f"a:v:{CREATOR}")
    press(emulator, admin, f"a:pr:{CREATOR}")
    wait_button(emulator, admin, f"a:dm:{CREATOR}")
    _make_schedule(emulator, creator)

    press(emulator, admin, f"a:{'de' if how == 'deactivated' else 'dm'}:{CREATOR}")
    wait_button(emulator, admin, f"a:{'re' if how == 'deactivated' else 'pr'}:{CREATOR}")
    # Paused with the change, in its transaction; the staff entry says so.
    assert _db(bot, "SELECT active FROM schedules") == [(0,)]
    change = _db(bot, "SELECT detail FROM audit_log WHERE action = 'staff'")[-1][0]
    assert '"schedules_paused": 1' in change
    assert ('"change": "deactivate"' if how == "deactivated" else '"change": "demote"') in change

    _its_time_passes_without_a_post(emulator, bot)
    assert sum(1 for m in emulator.messages(channel.id) if POSTED in (m.text or "")) == 1
    _taken_over_it_posts_again(emulator, bot, admin, "Hòa")


def test_a_schedule_of_an_admin_taken_out_of_the_settings_is_paused_at_the_restart(
    emulator, make_bot  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot(TIPBOT_ADMIN_IDS=f"{ADMIN},{CREATOR}")
    seed_subscribers(emulator, bot, [VI])
    bot.start()
    admin = staff_joins(emulator, ADMIN, "Admin")
    creator = staff_joins(emulator, CREATOR, "Hòa")
    _make_schedule(emulator, creator)

    bot.env["TIPBOT_ADMIN_IDS"] = str(ADMIN)  # the operator edits the settings and restarts
    _its_time_passes_without_a_post(emulator, bot)
    assert f"schedule 1 paused: its creator, staff {CREATOR}, is no longer an admin" in (
        bot.logs())
    paused = _db(bot, "SELECT actor_id, detail FROM audit_log WHERE action = 'schedule'")
    assert paused == [(0, f'{{"change": "pause", "creator": {CREATOR}, "on": "start",'
                          ' "reason": "creator_not_admin", "schedule": 1}')]
    creator.send_command("/schedules")  # no longer an admin: refused
    emulator.wait_for_message(creator, "Không được phép")
    _taken_over_it_posts_again(emulator, bot, admin, "Hòa")
