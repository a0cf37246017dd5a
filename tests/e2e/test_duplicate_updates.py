"""The same update delivered twice (Telegram did not hear the offset confirmation, or a webhook
answer was lost) creates no second tip and no second reply (issue 17, item 4).

Polling mode here; webhook mode's repeats are in tests/e2e/test_webhook.py. The emulator's
`redeliver` serves an update again with its update_id, whatever the bot's offset. Every absence
is asserted only after positive events that do not depend on the deduplication: the emulator
saw the bot fetch the repeat and confirm past it, then the bot answered a later message of the
same chat (a chat's updates are handled in order, so the repeat is behind us by then), and where
the answer goes through the outbox, the outbox has nothing pending.
"""

from __future__ import annotations

import sqlite3

from emulator import Emulator, UserHandle
from testing.harness import wait
from testing.journeys import RECEIPT, report, staff_joins

SENDS = ("sendMessage", "editMessageText", "sendPhoto", "sendLocation", "copyMessage")


def _update_id(emulator: Emulator, kind: str, match) -> int:  # type: ignore[no-untyped-def]
    found = [u["update_id"] for u in emulator.updates_sent(kind) if match(u[kind])]
    assert found, f"no {kind} update matched"
    return found[-1]


def _bot_calls(emulator: Emulator, chat_id: int) -> int:
    return sum(len(emulator.calls_to(m, chat_id=chat_id)) for m in SENDS)


def _redeliver_and_settle(emulator: Emulator, bot, update_id: int, chat: UserHandle) -> None:  # type: ignore[no-untyped-def]
    """Deliver `update_id` again, wait until the bot fetched it and confirmed past it, then
    until the chat's next message (sent after the repeat) was answered."""
    emulator.redeliver(update_id)
    wait(lambda: emulator.redeliveries_pending == 0)
    chat.send_command("/help")
    emulator.wait_for_message(chat, "Cách dùng")


def test_a_tip_sent_twice_is_one_tip_one_card_and_one_receipt(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7002)
    resident = emulator.user(5401, "Hoa")
    code = report(emulator, resident, texts=("Đánh bạc ở nhà văn hóa thôn 3",))
    emulator.wait_for_message(officer, lambda m: "nhà văn hóa" in (m.text or ""))
    send = _update_id(emulator, "callback_query", lambda q: q.get("data") == "r:sum:send")
    resident_calls = _bot_calls(emulator, resident.id)
    officer_calls = _bot_calls(emulator, officer.id)
    answers = len(emulator.calls_to("answerCallbackQuery"))

    _redeliver_and_settle(emulator, bot, send, resident)

    receipts = [m for m in emulator.messages(resident.id) if RECEIPT.search(m.text or "")]
    assert len(receipts) == 1 and code in (receipts[0].text or "")
    help_answer = 1
    assert _bot_calls(emulator, resident.id) == resident_calls + help_answer, (
        "the repeated 'send' got an answer of its own"
    )
    assert _bot_calls(emulator, officer.id) == officer_calls, "a second card (or an edit)"
    assert len(emulator.calls_to("answerCallbackQuery")) == answers
    cards = [m for m in emulator.messages(officer.id) if "nhà văn hóa" in (m.text or "")]
    assert len(cards) == 1


def test_a_message_delivered_twice_mid_report_is_written_once(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7002)
    resident = emulator.user(5402, "Minh")
    first = "Xe chở gỗ lậu qua đèo lúc 2 giờ sáng"
    # The description arrives twice before the resident presses "done": once written.
    report_texts = (first, "Biển số 75C-xxxx")
    original_send_text = resident.send_text

    def send_text_twice(text: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent = original_send_text(text, *args, **kwargs)
        if text == first:
            emulator.wait_until(  # the first delivery was handled (not consumed: see report)
                lambda: any("r:text:done" in m.callback_data()
                            for m in emulator.messages(resident.id))
            )
            update_id = _update_id(emulator, "message", lambda m: m.get("text") == first)
            emulator.redeliver(update_id)
            wait(lambda: emulator.redeliveries_pending == 0)
        return sent

    resident.send_text = send_text_twice  # type: ignore[method-assign]
    report(emulator, resident, texts=report_texts)
    card = emulator.wait_for_message(officer, lambda m: "đèo" in (m.text or ""))
    assert card.text.count(first) == 1, card.text


def test_an_officers_reply_delivered_twice_reaches_the_resident_once(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Vân")
    bot.start()
    officer = staff_joins(emulator, 7002, "Vân")
    resident = emulator.user(5403, "Ngọc")
    report(emulator, resident, texts=("Trộm bò ở bản Pa Ring",), notify=True)
    card = emulator.wait_for_message(officer, lambda m: "Trộm bò" in (m.text or "") and m.buttons)
    tip_id = card.callback_data()[0].split(":")[2]
    officer.click(card.message_id, f"o:rep:{tip_id}")
    emulator.wait_for_message(officer, "người báo")
    question = "Con bò màu gì?"
    officer.send_text(question)
    emulator.wait_for_message(resident, lambda m: question in (m.text or ""))
    reply = _update_id(emulator, "message", lambda m: m.get("text") == question)

    _redeliver_and_settle(emulator, bot, reply, officer)
    # The resident's lane too: a later message of theirs is answered, so any push is out.
    resident.send_command("/help")
    emulator.wait_for_message(resident, "Cách dùng")

    wait(lambda: _outbox(bot, "state = 'pending'") == 0)
    assert _outbox(bot, "kind = 'resident_reply'") == 1, "the reply was stored twice"
    pushes = [m for m in emulator.messages(resident.id) if question in (m.text or "")]
    assert len(pushes) == 1, "the resident got the officer's reply twice"
    # The reply mode ends with the first reply, so a repeat handled again would not be a
    # second reply either; the line says it was not handled at all.
    assert "delivered again; not handled twice" in bot.logs()


def _outbox(bot, where: str) -> int:  # type: ignore[no-untyped-def]
    with sqlite3.connect(bot.data / "tipline.db") as db:
        return int(db.execute(f"SELECT count(*) FROM outbox WHERE {where}").fetchone()[0])
