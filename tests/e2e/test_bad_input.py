"""Bad input never changes a report or crashes the bot: stickers, polls, contacts and GIFs where
text is expected, photos where a button is expected, over-long text, edited messages, groups,
stale and forged buttons. Each gets a short hint in the user's language."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from testing.journeys import RECEIPT, press, report, staff_joins, wait_button, wait_text

HINT_MAX = 300  # a "short hint": a sentence or two


def rows(bot, sql: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Read the bot's database directly (only what is in clear: counts, states)."""
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        return db.execute(sql).fetchall()


def count(bot, table: str) -> int:  # type: ignore[no-untyped-def]
    return rows(bot, f"SELECT count(*) FROM {table}")[0][0]


def handler_errors(bot) -> list[str]:  # type: ignore[no-untyped-def]
    """Lines logged by the handlers' error handler (an update that crashed)."""
    return [line for line in bot.logs().splitlines() if "ERROR handlers." in line]


def to_text_step(emulator, resident) -> None:  # type: ignore[no-untyped-def]
    resident.send_command("/report")
    press(emulator, resident, "r:cat:theft")
    press(emulator, resident, "r:area:unsure")
    press(emulator, resident, "r:place:skip")
    press(emulator, resident, "r:when:skip")
    wait_text(emulator, resident, "5. ")


def short_hint(emulator, resident, part: str):  # type: ignore[no-untyped-def]
    hint = emulator.wait_for_message(resident, part)
    assert len(hint.text) < HINT_MAX, hint.text
    return hint


def current_step(emulator, resident):  # type: ignore[no-untyped-def]
    """Ask the bot where the report is: /report resumes a report in progress with a new prompt."""
    marker = max(m.message_id for m in emulator.messages(resident.id, include_user=True))
    resident.send_command("/report")

    def prompt():  # type: ignore[no-untyped-def]
        for message in emulator.messages(resident.id):
            if message.message_id > marker and "r:x:cancel" in message.callback_data():
                return message
        return None

    return emulator.wait_until(prompt)


def test_non_text_and_edits_and_unknown_commands_in_the_text_step_change_nothing(
    emulator, make_bot
):
    bot = make_bot()
    bot.add_officer(7004)  # all areas
    bot.start()
    staff_joins(emulator, 7004)
    resident = emulator.user(5401, "Jo", language_code="en")
    to_text_step(emulator, resident)
    first = resident.send_text("The real description")
    emulator.wait_for_message(resident, "Noted (1")

    resident.send_sticker()
    short_hint(emulator, resident, "write, or send voice notes")
    resident.send_poll("Who?", ["a", "b"])
    short_hint(emulator, resident, "write, or send voice notes")
    resident.send_contact("+84900000000", "Someone")
    short_hint(emulator, resident, "write, or send voice notes")
    resident.send_animation()
    short_hint(emulator, resident, "write, or send voice notes")
    resident.edit_text(first["message_id"], "EDITED description")
    short_hint(emulator, resident, "Edited messages are not taken")
    resident.send_command("/frobnicate", "these words")
    short_hint(emulator, resident, "did not understand")
    resident.send_text("/unknowncommand")
    short_hint(emulator, resident, "did not understand")

    assert "5. What happened?" in current_step(emulator, resident).text
    press(emulator, resident, "r:text:done")
    press(emulator, resident, "r:ev:skip")
    press(emulator, resident, "r:fu:anon")
    summary = wait_button(emulator, resident, "r:sum:send")
    assert "The real description" in summary.text
    for absent in ("EDITED", "frobnicate", "these words", "unknowncommand", "Who?", "+8490"):
        assert absent not in summary.text
    assert "Attachments: 0" in summary.text

    # While choosing what to edit there is no "back": a forged one changes nothing.
    resident.click(summary.message_id, "r:sum:edit")
    emulator.wait_until(lambda: "r:edit:when" in emulator.message(
        resident.id, summary.message_id).callback_data())
    query = resident.click_data(summary.message_id, "r:x:back")
    assert "expired" in (emulator.wait_for_callback_answer(query)["text"] or "")
    resident.click(summary.message_id, "r:edit:when")
    press(emulator, resident, "r:when:now")
    summary = wait_button(emulator, resident, "r:sum:send")
    assert "Happening now" in summary.text and "The real description" in summary.text
    assert count(bot, "tips") == 0
    assert not handler_errors(bot)


def test_non_text_at_the_status_code_step_is_not_a_wrong_code(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5402, "Bảo")
    code = report(emulator, resident)

    resident.send_command("/status")
    emulator.wait_for_message(resident, "Nhập mã biên nhận")
    for send in (
        resident.send_sticker,
        lambda: resident.send_poll("?", ["a", "b"]),
        lambda: resident.send_contact("+84911111111", "X"),
        resident.send_animation,
        resident.send_photo,
    ):
        send()
        short_hint(emulator, resident, "Nhập mã biên nhận")
    resident.send_text(code)  # five non-text messages did not count as five wrong codes
    emulator.wait_for_message(resident, "Tin báo của bạn")

    # Forged, stale or repeated buttons of /status: "expired", and nothing breaks.
    def answer(query_id: str) -> str:
        return emulator.wait_for_callback_answer(query_id)["text"] or ""

    def add_button(message) -> str:  # type: ignore[no-untyped-def]
        return next(d for d in message.callback_data() if d.startswith("st:add"))

    old_view = wait_text(emulator, resident, "Tin báo của bạn")
    resident.send_command("/status", code)
    emulator.wait_until(
        lambda: wait_text(emulator, resident, "Tin báo của bạn").message_id != old_view.message_id
    )
    view = wait_text(emulator, resident, "Tin báo của bạn")
    assert "hết hạn" in answer(resident.click(old_view.message_id, add_button(old_view)))
    for forged in ("st:evil", "st:add", "st:add:000000", add_button(view) + "0"):
        assert "hết hạn" in answer(resident.click_data(view.message_id, forged)), forged
    resident.click(view.message_id, add_button(view))
    emulator.wait_for_message(resident, "Gửi thêm chữ")
    assert "hết hạn" in answer(resident.click(view.message_id, add_button(view)))
    resident.send_sticker()
    short_hint(emulator, resident, "Hãy gửi chữ, ảnh")
    assert count(bot, "tip_messages") == 0
    assert not handler_errors(bot)


def test_photo_where_a_button_is_expected_gets_a_hint_and_the_buttons_still_work(
    emulator, make_bot
):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5403, "Cường")
    resident.send_command("/report")
    wait_button(emulator, resident, "r:cat:drugs")
    resident.send_photo()
    short_hint(emulator, resident, "Hãy chọn loại vụ việc")
    resident.send_text("ma túy")
    short_hint(emulator, resident, "Hãy chọn loại vụ việc")
    press(emulator, resident, "r:cat:drugs")
    wait_button(emulator, resident, "r:area:unsure")
    resident.send_voice()
    short_hint(emulator, resident, "Hãy chọn địa bàn")
    assert "2. Địa bàn" in current_step(emulator, resident).text
    press(emulator, resident, "r:area:a-luoi")
    wait_button(emulator, resident, "r:place:skip")
    resident.send_photo()
    short_hint(emulator, resident, "gõ tên nơi chốn")
    assert "3. Nơi cụ thể" in current_step(emulator, resident).text
    assert count(bot, "tips") == 0
    assert not handler_errors(bot)


def test_over_long_text_is_refused_once_the_description_is_full(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7004)  # all areas
    bot.start()
    officer = staff_joins(emulator, 7004)
    resident = emulator.user(5404, "Dũng")
    resident.send_command("/report")
    press(emulator, resident, "r:cat:fraud")
    press(emulator, resident, "r:area:unsure")
    wait_button(emulator, resident, "r:place:skip")
    resident.send_text("x" * 600)
    short_hint(emulator, resident, "dài quá")
    press(emulator, resident, "r:place:skip")
    press(emulator, resident, "r:when:today")
    wait_text(emulator, resident, "5. ")

    long_text = "&<" * 2048  # 4096 characters, each one escaped for HTML
    resident.send_text(long_text)
    emulator.wait_for_message(resident, "Đã ghi nhận (1")
    for _ in range(3):
        resident.send_text(long_text)
        short_hint(emulator, resident, "đã đủ dài")
    resident.send_text("Kết thúc mô tả")
    emulator.wait_for_message(resident, "Đã ghi nhận (2")
    press(emulator, resident, "r:text:done")
    press(emulator, resident, "r:ev:skip")
    press(emulator, resident, "r:fu:anon")
    summary = wait_button(emulator, resident, "r:sum:send")
    assert "&<&<" in summary.text and "…" in summary.text
    press(emulator, resident, "r:sum:send")
    receipt = emulator.wait_for_message(resident, lambda m: bool(RECEIPT.search(m.text or "")))
    assert receipt.text
    card = emulator.wait_for_message(officer, lambda m: "&<&<" in (m.text or ""), timeout=20)
    ref = next(word for word in card.text.split() if word.startswith("T-"))
    ending = emulator.wait_for_message(officer, lambda m: "Kết thúc mô tả" in (m.text or ""))
    assert ref in ending.text
    received = "".join(
        m.text for m in emulator.messages(officer.id) if "&<" in (m.text or "")
    )
    assert received.count("&<") == 2048, "the whole description reaches the officer"
    assert not handler_errors(bot)


def test_group_chat_gets_at_most_one_hint_and_nothing_is_stored(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5405, "Em")
    group = emulator.group("Thôn 3", members=[resident])
    written = resident.send_text("Có người buôn ma túy ở chợ thôn 3", chat=group)
    resident.send_photo(chat=group)
    resident.edit_text(written["message_id"], "sửa lại", chat=group)
    resident.send_command("/report", chat=group)
    hint = group.wait_for_message("nhắn riêng")
    assert len(hint.text) < HINT_MAX
    # A post in a channel the bot administers (the emulator has no user-side helper for it).
    channel = emulator.channel("Tin tức xã")
    command = "/report@tipline_test_bot"
    emulator._push_update("channel_post", {
        "message_id": 1, "date": emulator.now(),
        "chat": {"id": channel.id, "type": "channel", "title": "Tin tức xã"},
        "sender_chat": {"id": channel.id, "type": "channel", "title": "Tin tức xã"},
        "text": command, "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
    })
    # Updates are handled in order: once a private /start is answered, the group is done.
    resident.send_command("/start")
    emulator.wait_for_message(resident, "113")
    assert len(group.messages()) == 1, [m.text for m in group.messages()]
    assert not channel.messages()
    private = [m for m in emulator.messages(resident.id) if m.callback_data()]
    assert all(not any(d.startswith("r:") for d in m.callback_data()) for m in private)
    assert count(bot, "drafts") == 0 and count(bot, "tips") == 0
    assert not handler_errors(bot)
    logs = bot.logs()
    assert "ma túy ở chợ" not in logs and str(resident.id) not in logs


def test_stale_and_forged_buttons_say_expired_or_not_allowed_and_change_nothing(
    emulator, make_bot
):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5406, "Giang")

    def answer(query_id: str) -> str:
        return emulator.wait_for_callback_answer(query_id)["text"] or ""

    # Buttons of a finished report.
    report(emulator, resident)
    # Each step took the buttons off the one before, so none is left on screen; a client
    # still showing old ones (or replaying them) is told they have expired.
    messages = emulator.messages(resident.id)
    assert not [d for m in messages for d in m.callback_data() if d.startswith("r:")]
    stale = [
        (m.message_id, data)
        for m in messages
        for data in ("r:cat:drugs", "r:area:hong-van", "r:when:today", "r:text:done",
                     "r:ev:skip", "r:fu:anon", "r:sum:send", "r:x:back", "r:x:cancel")
    ]
    for message_id, data in stale[:: max(1, len(stale) // 12)]:
        assert "hết hạn" in answer(resident.click_data(message_id, data)), data
    assert count(bot, "tips") == 1 and count(bot, "drafts") == 0

    # Buttons of a cancelled report.
    resident.send_command("/report")
    press(emulator, resident, "r:cat:theft")
    press(emulator, resident, "r:area:a-luoi")
    place_prompt = wait_button(emulator, resident, "r:place:skip")
    resident.send_text("bến xe")
    press(emulator, resident, "r:x:cancel")
    emulator.wait_for_message(resident, "Đã hủy")
    # The next prompt took this one's buttons away; a client that still shows them is told
    # they have expired.
    shown = emulator.message(resident.id, place_prompt.message_id)
    assert "r:place:skip" not in shown.callback_data()
    assert "hết hạn" in answer(resident.click_data(place_prompt.message_id, "r:place:skip"))
    assert count(bot, "drafts") == 0 and count(bot, "tips") == 1

    # Forged data while a report is in progress.
    resident.send_command("/report")
    prompt = wait_button(emulator, resident, "r:cat:drugs")
    assert "hết hạn" in answer(resident.click_data(prompt.message_id, "r:cat:evil"))
    resident.click(prompt.message_id, "r:cat:drugs")
    wait_button(emulator, resident, "r:area:unsure")
    forged = [
        "r:area:nowhere",
        "r:ap:99",
        "r:cat:theft",  # a button of another step
        "r:zz:1",
        "r:x:back:extra",
        "x",
        "r:" + "ü" * 31,  # 64 bytes
        "%$#@!" * 12 + "abcd",  # 64 bytes
        "lang:xx",
        "st:add",
        "m:evil",
    ]
    for data in forged:
        assert "hết hạn" in answer(resident.click_data(prompt.message_id, data)), data
    for data in ("inv:ff:make", "inv:0:all", "inv:3:t1"):
        assert "Không được phép" in answer(resident.click_data(prompt.message_id, data)), data
    assert count(bot, "invites") == 0
    resumed = current_step(emulator, resident)
    assert "2. Địa bàn" in resumed.text
    resident.click(resumed.message_id, "r:area:a-ngo")
    emulator.wait_until(
        lambda: "3. Nơi cụ thể" in emulator.message(resident.id, resumed.message_id).text
    )
    assert count(bot, "tips") == 1

    resident.send_command("/start")
    emulator.wait_for_message(resident, "113")
    assert not handler_errors(bot)
    assert bot.stop() == 0, "a clean SIGTERM stop exits with status 0"


def test_a_live_location_moving_is_not_answered_as_an_edited_message(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "a-ngo")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5407, "Khánh")
    resident.send_command("/report")
    press(emulator, resident, "r:cat:smuggling")
    press(emulator, resident, "r:area:a-ngo")
    wait_button(emulator, resident, "r:place:skip")
    live = resident.send_content(
        {"location": {"latitude": 16.2, "longitude": 107.2, "live_period": 900}}
    )
    wait_button(emulator, resident, "r:when:now")
    for step in range(1, 4):  # Telegram sends each move of a live location as an edit
        moved = dict(live, edit_date=emulator.now())
        moved["location"] = {"latitude": 16.2 + step / 1000, "longitude": 107.2,
                             "live_period": 900}
        emulator._push_update("edited_message", moved)
    assert "4. " in current_step(emulator, resident).text
    hints = [m for m in emulator.messages(resident.id) if "Tin đã sửa" in (m.text or "")]
    assert not hints, "no hint for each move of a live location"
    assert not handler_errors(bot)
