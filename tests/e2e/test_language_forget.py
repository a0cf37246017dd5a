"""/language switches every answer that follows; /forget unlinks this chat from every tip."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from storage.receipt_codes import normalise_receipt_code
from testing.campaign import with_store
from testing.journeys import press, report, staff_joins, wait_button
from texts.catalog import plain


def linked_tips(bot) -> int:  # type: ignore[no-untyped-def]
    """How many tips carry a notification chat (encrypted; only its presence is visible)."""
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        return db.execute("SELECT count(*) FROM tips WHERE notify_chat IS NOT NULL").fetchone()[0]


def rows(bot, table: str) -> int:  # type: ignore[no-untyped-def]
    assert table in ("drafts", "preferences")
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def drafts(bot) -> int:  # type: ignore[no-untyped-def]
    return rows(bot, "drafts")


def notify_chats(bot, codes) -> list[int | None]:  # type: ignore[no-untyped-def]
    """The notification chat of each tip, by receipt code, as the officer's side opens it."""

    async def read(store):  # type: ignore[no-untyped-def]
        tips = [await store.tips.by_receipt_code(normalise_receipt_code(code) or "")
                for code in codes]
        return [tip.notify_chat for tip in tips]

    return with_store(bot, read)


FORGET_DONE = plain("vi", "forget_done")


def test_language_switches_to_english_and_back(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "a-ngo")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5601, "Lành", language_code="vi")
    resident.send_command("/language")
    chooser = wait_button(emulator, resident, "lang:en")
    resident.click(chooser.message_id, "lang:en")
    emulator.wait_for_message(resident, "Language set to English")
    # A double tap: the second press of the same button arrives after the message changed.
    emulator.wait_for_callback_answer(resident.click_data(chooser.message_id, "lang:en"))

    resident.send_command("/start")
    welcome = emulator.wait_for_message(resident, "113")
    assert "Anonymous crime tip-off line" in welcome.text
    assert "📝 Report" in welcome.button_texts()
    resident.send_command("/help")
    emulator.wait_for_message(resident, "How to use")
    resident.send_command("/report")
    emulator.wait_for_message(resident, "New report")
    prompt = emulator.wait_for_message(resident, "1. Kind of incident")
    assert "💊 Drugs" in prompt.button_texts()
    resident.send_sticker()
    emulator.wait_for_message(resident, "choose the kind of incident")
    resident.send_command("/cancel")
    emulator.wait_for_message(resident, "Cancelled")
    resident.send_command("/status", "ZZZZ-ZZZZ-ZZZZ")
    emulator.wait_for_message(resident, "No tip has this code")

    # From the /start menu, back to Vietnamese.
    press(emulator, resident, "m:lang")
    press(emulator, resident, "lang:vi")
    emulator.wait_for_message(resident, "Đã chuyển sang tiếng Việt")
    resident.send_command("/help")
    emulator.wait_for_message(resident, "Cách dùng")
    assert not [line for line in bot.logs().splitlines() if "ERROR handlers." in line]


def test_forget_unlinks_this_chat_from_every_tip_and_only_this_chat(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7002)
    resident = emulator.user(5602, "Nga")
    codes = [
        report(emulator, resident, texts=("Tin một",), notify=True),
        report(emulator, resident, texts=("Tin hai",), notify=True),
        report(emulator, resident, texts=("Tin ba",), notify=False),
    ]
    neighbour = emulator.user(5603, "Hùng")
    theirs = report(emulator, neighbour, texts=("Tin của người khác",), notify=True)
    emulator.wait_for_message(officer, lambda m: "Tin của người khác" in (m.text or ""))
    assert linked_tips(bot) == 3
    assert notify_chats(bot, [*codes, theirs]) == [5602, 5602, None, 5603]

    # A /status session open on one of the tips is closed as well: no link to a tip remains.
    resident.send_command("/status", codes[0])
    emulator.wait_for_message(resident, "Tin báo của bạn")
    view = wait_button(emulator, resident, "st:close")
    resident.send_command("/forget")
    done = emulator.wait_for_message(resident, "từng gắn với tin báo")
    assert linked_tips(bot) == 1, "the neighbour's link stays"
    assert notify_chats(bot, [*codes, theirs]) == [None, None, None, 5603]
    assert drafts(bot) == 0, "nothing about the resident remains linked to a tip"
    add = next(d for d in view.callback_data() if d.startswith("st:add"))
    query = resident.click(view.message_id, add)
    assert "hết hạn" in (emulator.wait_for_callback_answer(query)["text"] or "")

    resident.send_command("/forget")  # again: nothing left, nothing breaks
    again = emulator.wait_for_message(resident, "từng gắn với tin báo")
    # Whoever holds the phone learns nothing from the answer: two links or none, the same words.
    assert again.text == done.text == FORGET_DONE
    # A neighbour who never had a link gets those words too.
    stranger = emulator.user(5604, "Lan")
    stranger.send_command("/forget")
    assert emulator.wait_for_message(stranger, "từng gắn với tin báo").text == FORGET_DONE
    # The codes still work: the resident can check back on their own.
    for code in codes:
        resident.send_command("/status", code)
        emulator.wait_for_message(resident, "Tin báo của bạn")
    assert linked_tips(bot) == 1
    assert not [line for line in bot.logs().splitlines() if "2 tip" in line or "forgot" in line]


def test_forget_also_ends_a_report_in_progress_and_the_language_choice(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "a-ngo")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5602, "Lành", language_code="vi")
    resident.send_command("/language")
    press(emulator, resident, "lang:en")
    emulator.wait_for_message(resident, "Language set to English")
    resident.send_command("/report")
    emulator.wait_for_message(resident, "1. Kind of incident")
    assert drafts(bot) == 1 and rows(bot, "preferences") == 1
    resident.send_command("/forget")
    emulator.wait_for_message(resident, "language choice")  # answered in the language it had
    assert drafts(bot) == 0
    assert rows(bot, "preferences") == 0
    resident.send_command("/help")
    emulator.wait_for_message(resident, "Cách dùng")  # back to Telegram's language (vi)


def test_a_third_forget_within_ten_minutes_waits_and_changes_nothing(emulator, make_bot):
    """Each /forget opens every tip's notification chat: a person gets two in 10 minutes, so
    a repeated /forget cannot slow the line for everyone; the third is told to wait."""
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5605, "Mai")
    for _ in range(2):
        resident.send_command("/forget")
        assert emulator.wait_for_message(resident, "từng gắn với tin báo").text == FORGET_DONE
    code = report(emulator, resident, texts=("Tin sau khi quên",), notify=True)
    resident.send_command("/language")
    press(emulator, resident, "lang:en")
    emulator.wait_for_message(resident, "Language set to English")
    assert linked_tips(bot) == 1 and rows(bot, "preferences") == 1

    resident.send_command("/forget")
    emulator.wait_for_message(resident, plain("en", "forget_later"))
    assert linked_tips(bot) == 1, "the refused /forget unlinked nothing"
    assert notify_chats(bot, [code]) == [5605]
    assert rows(bot, "preferences") == 1, "nor removed the language choice"
    resident.send_command("/help")
    emulator.wait_for_message(resident, "How to use")
    # Someone else's /forget is not limited by this person's.
    other = emulator.user(5606, "Bình")
    other.send_command("/forget")
    assert emulator.wait_for_message(other, "từng gắn với tin báo").text == FORGET_DONE
