"""A broadcast goes on only while the admin who started it is one (review 3, finding 7).

The attack: with a stolen admin phone, send every subscriber "confirm your tip at
t.me/<lookalike bot>". Deactivating the admin (on the command line or in /officers) stopped their
schedules but not the broadcast: the probe saw 12 of 12 subscribers get it although the admin
was deactivated after 2. Now the change stops it in its own transaction, the broadcaster checks
the creator's role while it sends (an id taken out of TIPBOT_ADMIN_IDS at a restart), and any
other admin sees the running broadcasts in /broadcast and stops them. What was delivered before
stays delivered.

The broadcasts run at 1 message a second, so there is time to act between two messages.
"""

from __future__ import annotations

import json
import time

from testing.campaign import received, seed_subscribers, start_broadcast, with_store
from testing.harness import wait
from testing.journeys import press, staff_joins, wait_button, wait_text

ADMIN, SECOND, OFFICER = 7011, 7012, 7013
SUBSCRIBERS = range(640_201, 640_213)
BODY = "Xác nhận tin báo của bạn tại https://t.me/evil_lookalike_bot?start=x"


def _delivered(emulator, ids) -> int:  # type: ignore[no-untyped-def]
    return sum(received(emulator, i, BODY) for i in ids)


def _state(bot, broadcast_id: int = 1) -> str:  # type: ignore[no-untyped-def]
    async def read(store):  # type: ignore[no-untyped-def]
        broadcast = await store.broadcasts.get(broadcast_id)
        return broadcast.state if broadcast else "missing"

    return str(with_store(bot, read))


def _audit(bot, action: str) -> list[tuple[int, dict]]:  # type: ignore[type-arg,no-untyped-def]
    async def read(store):  # type: ignore[no-untyped-def]
        return await store.db.fetchall(
            "SELECT actor_id, detail FROM audit_log WHERE action = ? ORDER BY audit_id",
            (action,))

    return [(r["actor_id"], json.loads(r["detail"] or "{}")) for r in with_store(bot, read)]


def _nothing_more_arrives(emulator, bot, ids) -> int:  # type: ignore[no-untyped-def]
    """Once the broadcast is stopped and its calls in flight answered, no message follows."""
    wait(lambda: _state(bot) == "stopped", timeout=15)
    wait(lambda: with_store(bot, lambda s: s.broadcasts.counts(1)).sending == 0, timeout=15)
    settled = _delivered(emulator, ids)
    time.sleep(3.5)  # 3 more messages would have gone at 1 a second
    assert _delivered(emulator, ids) == settled
    assert settled < len(ids)
    counts = with_store(bot, lambda s: s.broadcasts.counts(1))
    assert counts.cancelled == len(ids) - settled
    return settled


def test_deactivating_the_admin_on_the_command_line_stops_their_broadcast(
    emulator, make_bot, database  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot(**database, TIPBOT_ADMIN_IDS=str(ADMIN), TIPBOT_BROADCAST_RATE="1")
    ids = seed_subscribers(emulator, bot, SUBSCRIBERS)
    bot.start()
    admin = emulator.user(ADMIN, "Quản trị", started=True)
    start_broadcast(emulator, admin, BODY, len(ids))
    emulator.wait_until(lambda: _delivered(emulator, ids) >= 2, timeout=20)

    result = bot.cli("officers", "deactivate", str(ADMIN))
    assert result.returncode == 0, result.stderr
    at_deactivation = _delivered(emulator, ids)
    settled = _nothing_more_arrives(emulator, bot, ids)
    assert settled <= at_deactivation + 2  # at most the calls already in flight
    assert "0 schedules paused, 1 broadcasts stopped" in result.stdout
    assert "broadcast 1 stopped" in result.stdout
    assert "already delivered stay with their recipients" in result.stdout
    change = _audit(bot, "staff")[-1]
    assert change == (0, {"broadcasts_stopped": [1], "change": "deactivate (command line)",
                          "target": ADMIN})
    # The stolen phone hears nothing more: no final report, no progress.
    wait(lambda: "broadcast 1: no final report: staff" in bot.logs(), timeout=15)
    assert not any("đã dừng" in (m.text or "") and "Không gửi (đã dừng)" in (m.text or "")
                   for m in emulator.messages(ADMIN))
    assert bot.cli("audit", "verify").returncode == 0
    assert "Traceback" not in bot.logs()


def test_demoting_the_admin_in_officers_stops_their_broadcast(
    emulator, make_bot  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot(TIPBOT_ADMIN_IDS=str(SECOND), TIPBOT_BROADCAST_RATE="1")
    ids = seed_subscribers(emulator, bot, SUBSCRIBERS)
    bot.add_officer(ADMIN, "hong-van", name="Hòa")
    bot.start()
    second = staff_joins(emulator, SECOND, "Admin")
    creator = staff_joins(emulator, ADMIN, "Hòa")
    second.send_command("/officers")
    press(emulator, second, f"a:v:{ADMIN}")
    press(emulator, second, f"a:pr:{ADMIN}")
    wait_button(emulator, second, f"a:dm:{ADMIN}")
    start_broadcast(emulator, creator, BODY, len(ids))
    emulator.wait_until(lambda: _delivered(emulator, ids) >= 2, timeout=20)

    press(emulator, second, f"a:dm:{ADMIN}")
    wait_button(emulator, second, f"a:pr:{ADMIN}")
    _nothing_more_arrives(emulator, bot, ids)
    actor, change = _audit(bot, "staff")[-1]
    assert (actor, change["change"], change["broadcasts_stopped"]) == (SECOND, "demote", [1])
    # Its old stop button is refused now: no longer an admin.
    stop = wait_button(emulator, creator, "bc:stop:1")
    query = creator.click(stop.message_id, "bc:stop:1")
    assert "Không được phép" in (emulator.wait_for_callback_answer(query).get("text") or "")
    assert "Traceback" not in bot.logs()


def test_another_admin_sees_and_stops_a_running_broadcast_and_no_one_else_can(
    emulator, make_bot  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot(TIPBOT_ADMIN_IDS=f"{ADMIN},{SECOND}", TIPBOT_BROADCAST_RATE="1")
    ids = seed_subscribers(emulator, bot, SUBSCRIBERS)
    bot.add_officer(OFFICER, "hong-van", name="Lan")
    bot.start()
    admin = emulator.user(ADMIN, "Quản trị", started=True)
    second = staff_joins(emulator, SECOND, "Phó")
    officer = staff_joins(emulator, OFFICER, "Lan")
    start_broadcast(emulator, admin, BODY, len(ids))
    emulator.wait_until(lambda: _delivered(emulator, ids) >= 1, timeout=20)

    # An officer's forged press of the stop button stops nothing.
    own = wait_text(emulator, officer, "113")
    forged = officer.click_data(own.message_id, "bc:stop:1")
    assert "Không được phép" in (emulator.wait_for_callback_answer(forged).get("text") or "")
    assert _state(bot) == "sending"

    second.send_command("/broadcast")
    listing = wait_text(emulator, second, "Thông báo đang gửi")
    assert "#1 của Quản trị" in listing.text
    assert "«Xác nhận tin báo của bạn tại https://t.me/evil_lookalike_bo…»" in listing.text
    assert "không thu hồi được" in listing.text
    assert "⏹ Dừng #1" in listing.button_texts()
    wait_text(emulator, second, "Hãy gửi nội dung")  # the usual question follows
    query = second.click(listing.message_id, "bc:stop:1")
    assert "Đã dừng" in (emulator.wait_for_callback_answer(query).get("text") or "")
    _nothing_more_arrives(emulator, bot, ids)
    assert _audit(bot, "broadcast") == [(SECOND, {"broadcast": 1, "change": "stop",
                                                  "creator": ADMIN})]
    # The creator, still an admin, gets the final report; a second press changes nothing.
    wait_text(emulator, admin, "Thông báo #1 đã dừng.")
    again = second.click(listing.message_id, "bc:stop:1")
    assert "đã gửi xong hoặc đã dừng" in (
        emulator.wait_for_callback_answer(again).get("text") or "")
    assert len(_audit(bot, "broadcast")) == 1
    second.send_command("/cancel")
    second.send_command("/broadcast")
    wait(lambda: sum("Hãy gửi nội dung" in (m.text or "")
                     for m in emulator.messages(SECOND)) == 2, timeout=10)
    assert sum("Thông báo đang gửi" in (m.text or "") for m in emulator.messages(SECOND)) == 1
    assert "Traceback" not in bot.logs()


def test_an_admin_taken_out_of_the_settings_has_their_broadcast_stopped_at_the_restart(
    emulator, make_bot  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot(TIPBOT_ADMIN_IDS=f"{ADMIN},{SECOND}", TIPBOT_BROADCAST_RATE="1")
    ids = seed_subscribers(emulator, bot, SUBSCRIBERS)
    bot.start()
    admin = emulator.user(ADMIN, "Quản trị", started=True)
    start_broadcast(emulator, admin, BODY, len(ids))
    emulator.wait_until(lambda: _delivered(emulator, ids) >= 2, timeout=20)
    bot.stop()
    bot.env["TIPBOT_ADMIN_IDS"] = str(SECOND)  # the operator edits the settings and restarts
    bot.start()
    _nothing_more_arrives(emulator, bot, ids)
    assert f"broadcast 1 stopped: its creator, staff {ADMIN}, is no longer an admin" in (
        bot.logs())
    assert _audit(bot, "broadcast") == [(0, {"broadcast": 1, "change": "stop", "creator": ADMIN,
                                             "reason": "creator_not_admin"})]
    assert bot.cli("audit", "verify").returncode == 0
    assert "Traceback" not in bot.logs()
