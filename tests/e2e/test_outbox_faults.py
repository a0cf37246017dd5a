"""The outbox worker's answers to Telegram's errors (workers/delivery.py `_deliver_due`), reached
through the emulator's fault injection with the real bot.

The request layer (telegram_api/request.py) absorbs a 429 whose retry_after is at most
MAX_SINGLE_WAIT (8 s): a longer one reaches the worker as RetryAfter, which must pause the row
(and the rows claimed behind it) for that long, then send it. A Bad Request ends the row: "chat
not found" marks the officer unreachable and moves the tip on; any other one to a resident ends
that row quietly. (A Bad Request refused to a staff card, the remaining branch, is
tests/e2e/test_report.py::test_a_tip_that_reached_nobody_is_told_to_the_admin_telegram_refused_the_card_to.)
Calls are counted from the emulator: no busy loop.
"""

from __future__ import annotations

import sqlite3

from telegram_api.request import MAX_SINGLE_WAIT
from testing.journeys import report, staff_joins

OFFICER, ADMIN = 7002, 7009


def _rows(bot, recipient: str) -> list[tuple[str, str, str | None, int]]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(bot.data / "tipline.db") as db:
        return db.execute(
            "SELECT kind, state, last_error, attempts FROM outbox WHERE recipient = ?"
            " ORDER BY outbox_id", (recipient,)
        ).fetchall()


def _with(text: str):  # type: ignore[no-untyped-def]
    return lambda m: text in (m.text or "")


def test_a_long_retry_after_pauses_the_row_that_long_then_the_card_arrives(emulator, make_bot):
    retry_after = int(MAX_SINGLE_WAIT) + 1  # past what the request layer waits out itself
    bot = make_bot()
    bot.add_officer(OFFICER, "hong-van")
    bot.start()
    staff_joins(emulator, OFFICER)
    rule = emulator.inject("429", method="sendMessage", chat_id=OFFICER, times=1,
                           retry_after=retry_after)
    report(emulator, emulator.user(5601, "An"), texts=("Tụ tập đua xe ở đê",))
    card = emulator.wait_for_message(OFFICER, _with("Tụ tập đua xe"), timeout=retry_after + 15)
    emulator.wait_until(lambda: [r[:2] for r in _rows(bot, "staff") if r[0] == "card"]
                        == [("card", "sent")])
    assert rule.times == 0 and rule.hits == 1
    calls = [c for c in emulator.calls_to("sendMessage", chat_id=OFFICER)
             if "Tụ tập đua xe" in str(c.params.get("text"))]
    refused, sent = calls[0], calls[-1]
    assert refused.error_code == 429 and sent.ok and sent.result["message_id"] == card.message_id
    assert len(calls) == 2, "the row was tried again during Telegram's pause"
    assert sent.time - refused.time >= retry_after - 0.5, (refused.time, sent.time)
    assert f"Telegram asks to wait {retry_after} s" in bot.logs()


def test_chat_not_found_marks_the_officer_unreachable_and_the_tip_goes_on(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN))
    bot.add_officer(OFFICER, "hong-van")
    bot.start()
    staff_joins(emulator, OFFICER)
    staff_joins(emulator, ADMIN)
    emulator.inject("400", method="sendMessage", chat_id=OFFICER,
                    description="Bad Request: chat not found")
    report(emulator, emulator.user(5602, "Bình"), texts=("Khai thác cát trái phép",))
    emulator.wait_for_message(ADMIN, _with("Khai thác cát"), timeout=20)
    cards = [c for c in emulator.calls_to("sendMessage", chat_id=OFFICER)
             if "Khai thác cát" in str(c.params.get("text"))]
    assert len(cards) == 1, "a Bad Request is not retried"
    staff = [r for r in _rows(bot, "staff") if r[0] == "card"]
    assert staff[0][:3] == ("card", "unreachable", "Bad request: chat not found"), staff
    assert "staff 7002 unreachable" in bot.logs()
    # Known unreachable now: the next tip goes past the officer without a call.
    report(emulator, emulator.user(5603, "Cúc"), texts=("Tin thứ hai",))
    emulator.wait_for_message(ADMIN, _with("Tin thứ hai"), timeout=20)
    assert not [c for c in emulator.calls_to("sendMessage", chat_id=OFFICER)
                if "Tin thứ hai" in str(c.params.get("text"))]


def test_a_bad_request_to_the_resident_ends_that_row_once_and_the_next_one_arrives(
    emulator, make_bot
):
    bot = make_bot()
    bot.add_officer(OFFICER, "hong-van")
    bot.start()
    officer = staff_joins(emulator, OFFICER)
    resident = emulator.user(5604, "Dũng")
    report(emulator, resident, texts=("Trộm chó ban đêm",), notify=True)
    card = emulator.wait_for_message(OFFICER, lambda m: "Trộm chó" in (m.text or "") and m.buttons)
    tip_id = card.callback_data()[0].split(":")[2]
    rule = emulator.inject("400", method="sendMessage", chat_id=resident.id, times=1,
                           description="Bad Request: can't parse entities")
    for answer in ("Trả lời thứ nhất", "Trả lời thứ hai"):
        officer.click(card.message_id, f"o:rep:{tip_id}")
        emulator.wait_for_message(officer, "người báo")
        before = len(emulator.messages(OFFICER))
        officer.send_text(answer)
        emulator.wait_until(lambda b=before: any(
            "✅" in (m.text or "") for m in emulator.messages(OFFICER)[b:]))
    # The second reply arrives, after the first one's row has ended: nothing is stuck behind it.
    emulator.wait_for_message(resident, _with("Trả lời thứ hai"), timeout=20)
    emulator.wait_until(lambda: [r[1] for r in _rows(bot, "resident")] == ["failed", "sent"])
    assert rule.hits == 1
    assert not [m for m in emulator.messages(resident.id) if "Trả lời thứ nhất" in (m.text or "")]
    first = [c for c in emulator.calls_to("sendMessage", chat_id=resident.id)
             if "Trả lời thứ nhất" in str(c.params.get("text"))]
    assert len(first) == 1, "a Bad Request is not retried"
    rows = [r[:3] for r in _rows(bot, "resident")]
    assert rows == [
        ("resident_reply", "failed", "bad request"), ("resident_reply", "sent", None)], rows
    logs = bot.logs()
    assert "to the resident not delivered: BadRequest" in logs
    assert "Trả lời" not in logs
