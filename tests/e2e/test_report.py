"""A resident reports a tip; the officer of that commune gets it; nobody learns who sent it."""

from __future__ import annotations

import sqlite3

from testing.journeys import RECEIPT, report, staff_joins, wait_text

RESIDENT_ID = 918273645
RESIDENT_USERNAME = "lan_secret_user"
RESIDENT_NAME = "Lanxyzname"
TIP_TEXT = "Nhóm buôn gỗ lậu xyzzy-42 chở ban đêm qua cầu"
TRICKY = "<b>not bold</b> & <script>alert(1)</script> 1 < 2"


def test_full_report_reaches_the_area_officer_with_pin_and_photo_and_no_one_else(
    emulator, make_bot
):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.add_officer(7003, "a-ngo")
    bot.start()
    officer = staff_joins(emulator, 7002)
    other = staff_joins(emulator, 7003)
    resident = emulator.user(RESIDENT_ID, RESIDENT_NAME, username=RESIDENT_USERNAME)

    code = report(emulator, resident, location=(16.27, 107.23), texts=(TIP_TEXT, TRICKY), photos=1)

    card = emulator.wait_for_message(officer, lambda m: TIP_TEXT in (m.text or ""))
    assert TRICKY in card.text, "resident text reaches the officer exactly as typed"
    assert "T-" in card.text
    pin = emulator.wait_for_message(officer, lambda m: m.location is not None)
    assert abs(pin.location["latitude"] - 16.27) < 1e-6
    photo = emulator.wait_for_message(officer, lambda m: m.media_kind == "photo")
    mine = emulator.messages(resident.id, include_user=True)
    sent_photo = [m for m in mine if m.media_kind == "photo"]
    assert photo.file_id == sent_photo[-1].file_id
    assert not emulator.calls_to("forwardMessage") and not emulator.calls_to("copyMessage")
    assert not [m for m in emulator.messages(other.id) if TIP_TEXT in (m.text or "")]
    assert RECEIPT.fullmatch(code)


def _forbidden_bytes(code: str) -> list[bytes]:
    """What must appear nowhere at rest or in logs after a report."""
    values = [
        TIP_TEXT,
        "xyzzy-42",
        code,
        code.replace("-", ""),
        str(RESIDENT_ID),
        RESIDENT_USERNAME,
        RESIDENT_NAME,
    ]
    found = [v.encode() for v in values]
    found.append(RESIDENT_ID.to_bytes(8, "big"))  # an SQLite integer is stored big-endian
    return found


def test_nothing_identifying_is_stored_or_logged_during_and_after_a_report(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(RESIDENT_ID, RESIDENT_NAME, username=RESIDENT_USERNAME)

    # In the middle: the description typed, not yet sent.
    resident.send_command("/report")
    from testing.journeys import press, wait_button

    press(emulator, resident, "r:cat:forest")
    press(emulator, resident, "r:area:unsure")
    wait_button(emulator, resident, "r:place:skip")
    resident.send_text("rừng xyzzy-42 phía tây")
    press(emulator, resident, "r:when:earlier")
    wait_text(emulator, resident, "5. ")
    resident.send_text(TIP_TEXT)
    emulator.wait_for_message(resident, lambda m: "r:text:done" in m.callback_data())
    middle = bot.data_bytes() + bot.logs().encode()
    for value in _forbidden_bytes("ZZZZ-ZZZZ-ZZZZ"):
        assert value not in middle, f"{value!r} found at rest or in logs mid-report"
    press(emulator, resident, "r:x:cancel")

    code = report(emulator, resident, texts=(TIP_TEXT,), notify=True)
    emulator.wait_for_message(7002, lambda m: TIP_TEXT in (m.text or ""))
    bot.stop()  # checkpoints nothing away: the -wal file is scanned as it was left
    everything = bot.data_bytes() + bot.logs().encode()
    for value in _forbidden_bytes(code):
        assert value not in everything, f"{value!r} found at rest or in logs"


def test_kill_9_mid_conversation_resumes_where_the_resident_was(emulator, make_bot):
    from testing.journeys import press, wait_button

    bot = make_bot()
    bot.add_officer(7002, "a-ngo")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5101, "Hoa")
    resident.send_command("/report")
    press(emulator, resident, "r:cat:theft")
    press(emulator, resident, "r:area:a-ngo")
    wait_button(emulator, resident, "r:place:skip")
    resident.send_text("chợ A Lưới")
    press(emulator, resident, "r:when:today")
    wait_text(emulator, resident, "5. ")
    resident.send_text("Mất trộm xe máy lúc 3 giờ sáng")
    before = emulator.wait_for_message(resident, lambda m: "r:text:done" in m.callback_data())

    bot.kill9()
    bot.start()

    # The button sent before the crash still works: the draft was committed before the answer.
    resident.click(before.message_id, "r:text:done")
    press(emulator, resident, "r:ev:skip")
    press(emulator, resident, "r:fu:anon")
    summary = wait_button(emulator, resident, "r:sum:send")
    assert "Mất trộm xe máy" in summary.text and "chợ A Lưới" in summary.text
    press(emulator, resident, "r:sum:send")
    emulator.wait_for_message(resident, lambda m: bool(RECEIPT.search(m.text or "")))
    emulator.wait_for_message(7002, lambda m: "Mất trộm xe máy" in (m.text or ""))


def test_tip_survives_a_failing_officer_chat_and_a_kill_9_after_the_receipt(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    emulator.inject("5xx", chat_id=7002)
    resident = emulator.user(5102, "Tuấn")
    report(emulator, resident, texts=("Đánh bạc ở nhà văn hoá thôn",))
    emulator.wait_until(lambda: len(emulator.calls_to("sendMessage", chat_id=7002)) >= 2)
    bot.kill9()
    emulator.clear_faults()
    bot.start()
    # A delivery cut by the crash is claimed for at most 30 s, then sent again.
    emulator.wait_for_message(7002, lambda m: "Đánh bạc" in (m.text or ""), timeout=45)


def test_blocked_area_officer_hands_the_tip_to_all_area_officers_and_admins_are_told(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van")
    bot.add_officer(7004)  # all areas
    bot.start()
    staff_joins(emulator, 7002).block()
    staff_joins(emulator, 7004)
    admin = staff_joins(emulator, 7009)
    report(emulator, emulator.user(5103, "Bình"), texts=("Buôn lậu qua cửa khẩu Hồng Vân",))
    emulator.wait_for_message(7004, lambda m: "Buôn lậu" in (m.text or ""), timeout=20)
    emulator.wait_for_message(admin, lambda m: "T-" in (m.text or "") and "⚠️" in m.text)


def test_a_tip_that_reached_nobody_is_told_to_the_admin_telegram_refused_the_card_to(
    emulator, make_bot
):
    """The area's officer blocked the bot and the admin's card was refused (a Bad Request):
    the tip reached nobody, and that admin, who can still be written to, is told so."""
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002).block()
    admin = staff_joins(emulator, 7009)
    refused = emulator.inject("400", method="sendMessage", chat_id=7009, times=1)
    report(emulator, emulator.user(5106, "Cường"), texts=("Buôn gỗ lậu ở bản A Đớt",))
    notice = emulator.wait_for_message(admin, lambda m: "chưa chuyển được cho ai" in (m.text or ""))
    assert refused.times == 0, "the admin's card was the call refused"
    assert "T-" in notice.text
    assert not any("Buôn gỗ lậu" in (m.text or "") for m in emulator.messages(admin.id))


def test_officer_added_on_command_line_gets_tips_only_after_writing_to_the_bot(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7009)
    officer = emulator.user(7002, "Vân")
    report(emulator, emulator.user(5104, "An"), texts=("Tin thứ nhất",))
    emulator.wait_for_message(7009, lambda m: "Tin thứ nhất" in (m.text or ""))
    assert not emulator.calls_to("sendMessage", chat_id=7002)
    officer.send_command("/start")
    emulator.wait_for_message(officer, "113")
    report(emulator, emulator.user(5105, "Ba"), texts=("Tin thứ hai",))
    emulator.wait_for_message(officer, lambda m: "Tin thứ hai" in (m.text or ""))


def _outbox_pending(bot) -> int:  # type: ignore[no-untyped-def]
    with sqlite3.connect(bot.data / "tipline.db") as db:
        return int(db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0])


def test_five_reports_all_arrive_through_429s_and_502s(emulator, make_bot):
    """Each resident goes through /report once while Telegram answers 15 % of the bot's calls
    with a 429 and 15 % with a 502 (not applied): each sees exactly one receipt, and the officer
    gets exactly one card per tip."""
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    too_many = emulator.inject("429", probability=0.15, retry_after=1)
    bad_gateway = emulator.inject("5xx", probability=0.15)
    codes = {}
    for number in range(5):
        resident = emulator.user(5200 + number, f"R{number}")
        codes[resident.id] = report(emulator, resident, texts=(f"Báo tin số {number}",))
    for number in range(5):
        emulator.wait_for_message(7002, lambda m, n=number: f"Báo tin số {n}" in (m.text or "")
                                  and bool(m.buttons), timeout=30)
    emulator.clear_faults()
    faulted = [c for c in emulator.calls if c.fault in ("429", "5xx")]
    assert too_many.hits >= 3 and bad_gateway.hits >= 3, (too_many.hits, bad_gateway.hits)
    assert len(faulted) == too_many.hits + bad_gateway.hits
    assert {c.method for c in faulted} >= {"sendMessage"}
    # Anything sent twice has arrived once the outbox is empty and each resident's chat has
    # answered a later message.
    emulator.wait_until(lambda: _outbox_pending(bot) == 0, timeout=30)
    for user_id in codes:
        emulator.user(user_id).send_command("/help")
        emulator.wait_for_message(user_id, "/report")
    assert len(set(codes.values())) == 5
    for user_id, code in codes.items():
        receipts = [m for m in emulator.messages(user_id) if RECEIPT.search(m.text or "")]
        assert [RECEIPT.search(m.text or "").group(1) for m in receipts] == [code], user_id
    for number in range(5):
        cards = [m for m in emulator.messages(7002)
                 if f"Báo tin số {number}" in (m.text or "") and m.buttons]
        assert len(cards) == 1, (number, len(cards))


def test_line_without_staff_says_so_and_stores_nothing(emulator, make_bot):
    bot = make_bot()
    bot.start()
    resident = emulator.user(5106, "Cúc")
    resident.send_command("/report")
    reply = emulator.wait_for_message(resident, "113")
    assert "chưa có cán bộ" in reply.text
    assert not [m for m in emulator.messages(resident.id) if m.callback_data()]


def test_a_receipt_that_telegram_failed_to_show_is_issued_again_at_the_next_message(
    emulator, make_bot
):
    from testing.journeys import press, wait_button

    bot = make_bot()
    bot.add_officer(7002, "a-ngo")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5107, "Phúc")
    resident.send_command("/report")
    press(emulator, resident, "r:cat:theft")
    press(emulator, resident, "r:area:a-ngo")
    press(emulator, resident, "r:place:skip")
    press(emulator, resident, "r:when:today")
    wait_text(emulator, resident, "5. ")
    resident.send_text("Có người lạ dò hỏi nhà dân")
    press(emulator, resident, "r:text:done")
    press(emulator, resident, "r:ev:skip")
    press(emulator, resident, "r:fu:anon")
    wait_button(emulator, resident, "r:sum:send")
    # Every attempt at the receipt fails (4 tries within the call), then Telegram is back.
    emulator.inject("5xx", method="sendMessage", chat_id=resident.id, times=4)
    press(emulator, resident, "r:sum:send")
    emulator.wait_for_message(7002, lambda m: "dò hỏi nhà dân" in (m.text or ""))
    emulator.wait_until(
        lambda: len([c for c in emulator.calls_to("sendMessage", chat_id=resident.id)
                     if not c.ok]) >= 4
    )
    assert not [m for m in emulator.messages(resident.id) if RECEIPT.search(m.text or "")]

    resident.send_text("Mã của tôi đâu?")
    again = emulator.wait_for_message(resident, lambda m: bool(RECEIPT.search(m.text or "")))
    assert "mã mới" in again.text
    code = RECEIPT.search(again.text).group(1)
    resident.send_command("/status", code)
    emulator.wait_for_message(resident, "Mới tiếp nhận")
    assert len([m for m in emulator.messages(7002) if "dò hỏi nhà dân" in (m.text or "")]) == 1


def test_each_step_takes_the_buttons_off_the_step_before(emulator, make_bot):
    from testing.journeys import press, staff_joins, wait_button, wait_text

    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5481, "Hạnh")
    resident.send_command("/report")
    press(emulator, resident, "r:cat:theft")
    press(emulator, resident, "r:area:a-luoi")
    wait_button(emulator, resident, "r:place:skip")
    resident.send_text("bến xe")
    press(emulator, resident, "r:when:today")
    for line in ("Mất xe máy.", "Xe màu đỏ."):
        resident.send_text(line)
        emulator.wait_for_message(resident, lambda m: "r:text:done" in m.callback_data())

    def with_cancel() -> list[int]:
        messages = emulator.messages(resident.id)
        return [m.message_id for m in messages if "r:x:cancel" in m.callback_data()]

    emulator.wait_until(lambda: len(with_cancel()) == 1, timeout=5)  # else two sets of buttons
    press(emulator, resident, "r:x:cancel")
    wait_text(emulator, resident, "Đã hủy")


def test_a_resident_can_speak_the_description_in_voice_notes(emulator, make_bot):
    from testing.journeys import press, staff_joins, wait_button, wait_text

    bot = make_bot()
    bot.add_officer(7002, "a-luoi")
    bot.start()
    officer = staff_joins(emulator, 7002)
    resident = emulator.user(5483, "Già làng")
    resident.send_command("/report")
    press(emulator, resident, "r:cat:forest")
    press(emulator, resident, "r:area:a-luoi")
    press(emulator, resident, "r:place:skip")
    press(emulator, resident, "r:when:today")
    wait_text(emulator, resident, "5. ")
    resident.send_voice()
    first = wait_text(emulator, resident, "Đã ghi nhận tin nhắn thoại (1)")
    assert "Giọng nói có thể bị nhận ra" in first.text  # the voice warning, once
    resident.send_voice()
    second = wait_text(emulator, resident, "Đã ghi nhận tin nhắn thoại (2)")
    assert "Giọng nói có thể bị nhận ra" not in second.text
    press(emulator, resident, "r:text:done")
    press(emulator, resident, "r:ev:skip")
    press(emulator, resident, "r:fu:anon")
    summary = wait_button(emulator, resident, "r:sum:send")
    assert "🎙 2 tin nhắn thoại" in summary.text
    press(emulator, resident, "r:sum:send")
    card = emulator.wait_for_message(officer, lambda m: "o:ack:" in "".join(m.callback_data()))
    assert "Mô tả bằng giọng nói: 2 tin nhắn thoại" in card.text
    emulator.wait_until(
        lambda: len([m for m in emulator.messages(officer.id) if m.media_kind == "voice"]) == 2
    )
