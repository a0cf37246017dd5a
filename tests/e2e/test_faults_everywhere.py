"""Telegram failing at every Bot API method the bot uses (issue 17, item 2): 429 with
retry_after, 500, 502, a reset connection, a timeout, and 403 for one subscriber. While the
faults last, a resident sends a tip, an officer replies to an earlier one and an admin starts a
broadcast. Once the faults stop: the tip reached its officer, the reply reached its resident,
every broadcast recipient is accounted for (sent, or counted uncertain/failed where Telegram's
answer left the outcome unknown: never twice), the outbox has drained, and no call was
repeated in a busy loop.

The faults are the next calls of any method (getUpdates aside), in order, so each kind meets
whatever the bot happens to call then: answerCallbackQuery, editMessageText, sendMessage,
sendLocation... (the methods met are asserted, so the test says what it covered).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from emulator import Emulator
from testing.campaign import ADMIN, OFFICER, press_prefix, received, seed_subscribers
from testing.harness import wait
from testing.journeys import RECEIPT, press, report, staff_joins, wait_button, wait_text

#: (kind, times, options): consumed in this order by the next calls after the injection.
FAULTS = (
    ("429", 3, {"retry_after": 1}),
    ("5xx", 3, {"status": 500}),
    ("reset", 3, {}),
    ("5xx", 3, {"status": 502}),
    ("timeout", 1, {"delay": 6.0}),
    ("reset", 2, {}),
)
SUBSCRIBERS = range(610_001, 610_006)
BODY = "Thông báo: họp dân tối nay tại nhà văn hóa"


def _outbox(bot, where: str) -> int:  # type: ignore[no-untyped-def]
    with sqlite3.connect(bot.data / "tipline.db") as db:
        return int(db.execute(f"SELECT count(*) FROM outbox WHERE {where}").fetchone()[0])


def _told_to_try_again(emulator: Emulator, query_id: str) -> bool:
    """The admin's press `query_id` was answered "try again", or the chat was told so. Only the
    admin's own: the resident's press under the same faults may be told "try again" too, and
    taking that for the admin's made the test confirm a second broadcast."""
    answer = emulator.callback_answer(query_id) or {}
    if "thử lại" in str(answer.get("text", "")):
        return True
    told = emulator.calls_to("sendMessage", ADMIN)
    return any(c.ok and "thử lại" in str(c.params.get("text", "")) for c in told)


def _press_go(emulator: Emulator, admin) -> str:  # type: ignore[no-untyped-def]
    """Press the newest broadcast confirmation; the press's query id."""
    message = emulator.wait_until(lambda: next(
        (m for m in reversed(emulator.messages(admin.id))
         if not m.deleted and any(d.startswith("bc:go:") for d in m.callback_data())), None))
    data = next(d for d in message.callback_data() if d.startswith("bc:go:"))
    return str(admin.click(message.message_id, data))


def _broadcast_states(bot) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(bot.data / "tipline.db") as db:
        rows = db.execute("SELECT state, count(*) FROM broadcast_recipients GROUP BY state")
        return {state: count for state, count in rows}


def _report_until_summary(emulator: Emulator, resident, text: str) -> None:  # type: ignore[no-untyped-def]
    resident.send_command("/report")
    press(emulator, resident, "r:cat:drugs")
    press(emulator, resident, "r:area:unsure")
    press(emulator, resident, "r:place:skip")
    press(emulator, resident, "r:when:today")
    wait_text(emulator, resident, "5. ")
    resident.send_text(text)
    press(emulator, resident, "r:text:done")
    press(emulator, resident, "r:ev:skip")
    press(emulator, resident, "r:fu:anon")
    wait_button(emulator, resident, "r:sum:send")


def test_no_tip_reply_or_broadcast_is_lost_through_every_kind_of_fault(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN), TIPBOT_BROADCAST_RATE="25")
    bot.add_officer(OFFICER)  # every area
    ids = seed_subscribers(emulator, bot, SUBSCRIBERS)
    bot.start()
    officer = staff_joins(emulator, OFFICER)
    admin = emulator.user(ADMIN, "Quản trị", started=True)
    asker = emulator.user(5501, "Hỏi")
    report(emulator, asker, texts=("Trộm bò ở bản Pa Ring",), notify=True)
    card = emulator.wait_for_message(officer, lambda m: "Trộm bò" in (m.text or "") and m.buttons)
    tip_id = card.callback_data()[0].split(":")[2]
    resident = emulator.user(5502, "Lan")
    _report_until_summary(emulator, resident, "Đánh bạc ở nhà văn hóa thôn 3")
    admin.send_command("/broadcast")
    wait_text(emulator, admin, f"tới {len(ids)} người đăng ký")
    admin.send_text(BODY)
    emulator.wait_until(
        lambda: any(d.startswith("bc:go:") for m in emulator.messages(admin.id)
                    for d in m.callback_data())
    )
    officer.click(card.message_id, f"o:rep:{tip_id}")
    wait_text(emulator, officer, "người báo")

    # Faults on.
    start = len(emulator.calls)
    rules = [emulator.inject(kind, times=times, **options) for kind, times, options in FAULTS]
    emulator.inject("403", chat_id=ids[2], times=1)  # one subscriber blocked the bot
    press(emulator, resident, "r:sum:send")
    officer.send_text("Con bò màu gì?")
    go = _press_go(emulator, admin)
    wait(lambda: all(rule.times == 0 for rule in rules), timeout=40)
    # A confirmation whose progress message Telegram failed to take queues nothing and tells
    # the admin "try again" (the press's answer, or a message when the press was already
    # answered): the admin confirms again, from the same preview or, if a fault took its
    # buttons, from a new /broadcast.
    wait(lambda: bool(_broadcast_states(bot)) or _told_to_try_again(emulator, go), timeout=20)
    pressed_again = None  # where in the calls the admin's second confirmation begins
    if not _broadcast_states(bot):
        pressed_again = len(emulator.calls) - start
        if not any(d.startswith("bc:go:") for m in emulator.messages(admin.id)
                   for d in m.callback_data()):
            admin.send_command("/broadcast")
            wait_text(emulator, admin, f"tới {len(ids)} người đăng ký")
            admin.send_text(BODY)
            emulator.wait_until(
                lambda: any(d.startswith("bc:go:") for m in emulator.messages(admin.id)
                            for d in m.callback_data())
            )
        press_prefix(emulator, admin, "bc:go:")

    # Faults off: everything arrives.
    tip_card = emulator.wait_until(
        lambda: [m for m in emulator.messages(officer.id)
                 if "nhà văn hóa thôn 3" in (m.text or "")],
        timeout=40,
    )
    assert len({next(w for w in m.text.split() if w.startswith("T-")) for m in tip_card}) == 1
    emulator.wait_until(
        lambda: [m for m in emulator.messages(asker.id) if "Con bò màu gì?" in (m.text or "")],
        timeout=40,
    )
    # The receipt: shown, or owed and shown at the resident's next message.
    if not any(RECEIPT.search(m.text or "") for m in emulator.messages(resident.id)):
        resident.send_command("/help")
    emulator.wait_until(
        lambda: any(RECEIPT.search(m.text or "") for m in emulator.messages(resident.id)),
        timeout=20,
    )
    wait_text(emulator, admin, "đã gửi xong.", timeout=40)
    wait(lambda: _outbox(bot, "state = 'pending'") == 0, timeout=40)
    assert _outbox(bot, "state != 'sent'") == 0, "an outbox row failed"

    states = _broadcast_states(bot)
    assert sum(states.values()) == len(ids), states
    assert set(states) <= {"sent", "uncertain", "failed", "removed"}, states
    for user_id in ids:
        assert received(emulator, user_id, BODY) <= 1, user_id
    assert received(emulator, ids[2], BODY) == 0
    assert states.get("sent", 0) == sum(received(emulator, u, BODY) for u in ids)

    faulted = [c for c in emulator.calls[start:] if c.fault]
    kinds = {c.fault for c in faulted}
    assert kinds == {"429", "5xx", "reset", "timeout", "403"}, kinds
    methods = {c.method for c in faulted}
    assert len(methods) >= 3, methods  # the faults met several of the bot's methods
    # No busy loop: a call that failed is not made again at once, and not endlessly.
    calls = emulator.calls[start:]
    by_call: dict[tuple[str, str], list[float]] = defaultdict(list)
    for call in calls:
        if call.method != "getUpdates":
            by_call[call.fingerprint()].append(call.clock)
    for fingerprint, clocks in by_call.items():
        assert len(clocks) <= 5, (fingerprint[0], len(clocks))
    for index, call in enumerate(calls):
        if not call.fault or call.method == "getUpdates":
            continue
        again = [(i, c.clock) for i, c in enumerate(calls[index + 1:], index + 1)
                 if c.fingerprint() == call.fingerprint()]
        if not again:
            continue
        # The admin's second press does again what the first did (the preview loses its
        # buttons once more): the person repeated it, not the bot.
        if pressed_again is not None and index < pressed_again <= again[0][0]:
            continue
        assert again[0][1] - call.clock >= 0.2, (call.method, call.fault, again[0][1] - call.clock)
    polls = [c for c in calls if c.method == "getUpdates"]
    elapsed = calls[-1].clock - calls[0].clock
    assert len(polls) < 10 + 10 * elapsed, "getUpdates in a busy loop"
