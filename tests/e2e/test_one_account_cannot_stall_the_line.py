"""One account cannot stall everyone: floods are silenced, chats run side by side in order,
forged button data is "expired", and a person's tips a day are limited."""

from __future__ import annotations

import threading

from testing.campaign import with_store
from testing.harness import wait
from testing.journeys import RECEIPT, report, staff_joins
from texts.catalog import plain, text

OFFICER = 6100
FLOODER, NEIGHBOUR = 6201, 6202


def _slow_down(language: str = "vi") -> str:
    return str(text(language, "slow_down")).split("\n")[0]


def test_a_flood_of_100_messages_gets_one_slow_down_and_nobody_else_waits(emulator, make_bot):
    emulator.set_rate_limits(True)  # Telegram's real flood limits: 30/s, 1/s per chat
    bot = make_bot()
    bot.start()
    bot.add_officer(OFFICER, "hong-van", name="Cán bộ")
    flooder = emulator.user(FLOODER, "Nhanh")
    neighbour = emulator.user(NEIGHBOUR, "Hàng xóm")
    for index in range(100):
        flooder.send_text(f"tin nhắn {index}")
    neighbour.send_command("/start")
    emulator.wait_for_message(neighbour, "113", timeout=15)
    # Not a stopwatch (a busy machine makes any bound flaky) but the order of the answers: the
    # flooder's 20 answers leave at Telegram's 1 a second for a chat, so had the neighbour
    # waited behind the flood, its answer would have come after them, some 20 s later.
    answered = len(emulator.messages(FLOODER))
    assert answered <= 5, f"the neighbour's /start waited behind {answered} answers of a flood"

    emulator.wait_until(
        lambda: any(_slow_down() in (m.text or "") for m in emulator.messages(FLOODER)),
        timeout=60,
    )
    # The "slow down" is the 21st update of the flooder's lane: the answers to the 20 before it
    # were sent first, the 79 after it were dropped as they came. Counted once the bot is done
    # with every one of the 100 (each marked done in the database only after its handler, and
    # so its answer, finished): an answer past the limit would be among them by then.
    flood = [u["update_id"] for u in emulator.updates_sent("message")
             if u["message"]["from"]["id"] == FLOODER]
    assert len(flood) == 100

    async def all_done(store):  # type: ignore[no-untyped-def]
        states = [await store.updates_seen.state(emulator.bot_id, n) for n in flood]
        return all(state == "done" for state in states)

    wait(lambda: with_store(bot, all_done), timeout=90, interval=0.5)
    texts = [m.text or "" for m in emulator.messages(FLOODER)]
    assert sum(_slow_down() in t for t in texts) == 1
    assert len(texts) <= 21, "messages past the limit were answered"
    # Silenced for a minute: a message now gets no answer.
    before = len(emulator.messages(FLOODER))
    flooder.send_text("còn đó không?")
    asked = emulator.updates_sent("message")[-1]["update_id"]
    # Not a pause: the bot is done with that update (dropped by the flood guard: long polling
    # marks every update that leaves its lane done in the database), then nothing came of it.
    wait(lambda: with_store(bot, lambda store: store.updates_seen.state(
        emulator.bot_id, asked)) == "done", timeout=20)
    assert len(emulator.messages(FLOODER)) == before
    logs = bot.logs()
    assert "Traceback" not in logs
    assert str(FLOODER) not in logs and "Nhanh" not in logs


def test_twenty_residents_reporting_at_once_each_get_their_receipt_in_order(emulator, make_bot):
    bot = make_bot()
    bot.start()
    bot.add_officer(OFFICER, "hong-van", name="Cán bộ")
    staff_joins(emulator, OFFICER)
    codes: dict[int, str] = {}
    failures: list[BaseException] = []

    def resident_reports(user_id: int) -> None:
        try:
            resident = emulator.user(user_id, f"Người {user_id}")
            lines = tuple(f"Người {user_id} dòng {n}." for n in range(1, 4))
            codes[user_id] = report(emulator, resident, texts=lines)
        except BaseException as error:  # reported after join
            failures.append(error)

    threads = [
        threading.Thread(target=resident_reports, args=(7000 + n,)) for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert len(set(codes.values())) == 20

    def cards() -> list[str]:
        return [
            m.text or ""
            for m in emulator.messages(OFFICER)
            if "o:ack:" in "".join(m.callback_data())
        ]

    emulator.wait_until(lambda: len(cards()) >= 20, timeout=60)
    bodies = cards()
    assert len(bodies) == 20
    for n in range(20):
        user_id = 7000 + n
        (body,) = [b for b in bodies if f"Người {user_id} dòng 1." in b]
        # Each resident's three messages reached the tip in the order they were sent.
        first, second, third = (body.index(f"Người {user_id} dòng {k}.") for k in (1, 2, 3))
        assert first < second < third
        # Each resident saw exactly one receipt.
        receipts = [m for m in emulator.messages(user_id) if RECEIPT.search(m.text or "")]
        assert len(receipts) == 1
    assert "Traceback" not in bot.logs()


def test_forged_button_numbers_are_expired_and_never_logged_as_errors(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(OFFICER))
    bot.start()
    bot.add_officer(OFFICER, "hong-van", name="Cán bộ")
    officer = staff_joins(emulator, OFFICER)
    resident = emulator.user(FLOODER, "Dân")
    report(emulator, resident)
    card = emulator.wait_for_message(officer, lambda m: "o:ack:" in "".join(m.callback_data()))
    forged = [
        "o:ack:²", "o:ack:1²", "o:ack:" + "9" * 30, "o:mo:1:" + "9" * 30, "o:mo:1:²",
        "o:ma:1:²", "ol:all:²", "ol:all:" + "9" * 40, "a:areas:²", "a:t:" + "9" * 30,
        "sch:dd:²", "sch:d:" + "9" * 30, "bc:stop:²", "bc:stop:" + "9" * 30, "inv:ffff²:make",
    ]
    for data in forged:
        query = officer.click_data(card.message_id, data)
        answer = emulator.wait_until(lambda q=query: emulator.callback_answer(q), timeout=10)
        assert answer.get("text") in {
            plain("vi", "button_expired"), plain("vi", "not_allowed")
        }, (data, answer)
    welcome = emulator.messages(FLOODER)[0]
    for data in ("r:ap:²", "r:ap:" + "9" * 30, "rr:²", "rr:" + "9" * 30, "st:x:²"):
        query = resident.click_data(welcome.message_id, data)
        answer = emulator.wait_until(lambda q=query: emulator.callback_answer(q), timeout=10)
        assert answer is not None, data
    logs = bot.logs()
    assert " ERROR " not in logs, logs[-3000:]
    assert "Traceback" not in logs


def test_a_tip_past_the_daily_limit_gets_a_kind_answer_with_113(emulator, make_bot):
    bot = make_bot(TIPBOT_MAX_TIPS_PER_DAY="1")
    bot.start()
    bot.add_officer(OFFICER, "hong-van", name="Cán bộ")
    staff_joins(emulator, OFFICER)
    resident = emulator.user(FLOODER, "Dân")
    report(emulator, resident)
    resident.send_command("/report")
    refusal = emulator.wait_for_message(resident, "thử lại sau")
    assert "24" not in (refusal.text or ""), "the answer does not say why: no count of past tips"
    assert "113" in (refusal.text or "")
    # A neighbour is not affected by someone else's count.
    neighbour = emulator.user(NEIGHBOUR, "Hàng xóm")
    assert RECEIPT.fullmatch(report(emulator, neighbour))
    # Nothing about the limited resident is kept in clear.
    data = bot.data_bytes()
    assert str(FLOODER).encode() not in data
