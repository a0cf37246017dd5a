"""Every delivery to staff re-checks, when it is sent, that the recipient may still see the tip
(the rule of the desk's buttons), and one evidence file Telegram refuses does not sink a card."""

from __future__ import annotations

import sqlite3

from testing.journeys import press, report, staff_joins, wait_text


def _card(emulator, officer_id, part):  # type: ignore[no-untyped-def]
    return emulator.wait_for_message(officer_id, lambda m: part in (m.text or "") and m.buttons)


def _add_from_status(emulator, resident, code: str, addition: str) -> None:  # type: ignore[no-untyped-def]
    """The resident comes back with /status and adds a line to their tip."""
    before = len(emulator.messages(resident.id))
    resident.send_command("/status", code)
    view = emulator.wait_until(lambda: next(
        (m for m in emulator.messages(resident.id)[before:]
         if any(d.startswith("st:add") for d in m.callback_data())), None
    ))
    resident.click(view.message_id, next(d for d in view.callback_data() if d.startswith("st:add")))
    emulator.wait_for_message(resident, "Gửi thêm chữ")
    resident.send_text(addition)
    emulator.wait_for_message(resident, "Đã nhận")


def _with_text(emulator, chat_id: int, part: str) -> list:  # type: ignore[type-arg]
    return [m for m in emulator.messages(chat_id) if part in (m.text or "")]


def _outbox(bot, recipient_id: int) -> list[tuple[str, str, str | None]]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(bot.data / "tipline.db") as db:
        return db.execute(
            "SELECT kind, state, last_error FROM outbox WHERE recipient_id = ? ORDER BY outbox_id",
            (recipient_id,),
        ).fetchall()


def _pending(bot) -> int:  # type: ignore[no-untyped-def]
    with sqlite3.connect(bot.data / "tipline.db") as db:
        return int(db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0])


def test_a_deactivated_officer_gets_no_more_additions_and_their_card_is_not_edited(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7003, "hong-van", name="Lộc")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    staff_joins(emulator, 7003, "Lộc")
    admin = staff_joins(emulator, 7009, "Admin")
    resident = emulator.user(5401, "Mai")
    code = report(emulator, resident, texts=("Buôn bán pháo nổ ở chợ phiên",))
    card = _card(emulator, 7002, "pháo nổ")
    leaked = _card(emulator, 7003, "pháo nổ")
    tip_id = card.callback_data()[0].split(":")[2]

    admin.send_command("/officers")
    press(emulator, admin, "a:v:7003")
    press(emulator, admin, "a:de:7003")
    wait_text(emulator, admin, "ngừng hoạt động")

    _add_from_status(emulator, resident, code, "Bổ sung: kho pháo sau nhà văn hóa")
    emulator.wait_for_message(officer, lambda m: "kho pháo sau nhà văn hóa" in (m.text or ""))

    officer.click(card.message_id, f"o:ack:{tip_id}")
    emulator.wait_until(lambda: "Quang" in emulator.message(7002, card.message_id).text)
    # Every delivery queued so far (the addition, the card edits) was tried and ended.
    emulator.wait_until(lambda: _pending(bot) == 0, timeout=20)
    assert not _with_text(emulator, 7003, "kho pháo"), "no addition for a deactivated officer"
    kept = emulator.message(7003, leaked.message_id)
    assert kept.text == leaked.text, "the deactivated officer's card shows nothing new"
    assert "Quang" not in kept.text
    assert not [c for c in emulator.calls_to("editMessageText")
                if str(c.params.get("chat_id")) == "7003"]
    assert ("addition", "pending") not in [r[:2] for r in _outbox(bot, 7003)]


def test_a_card_queued_before_deactivation_ends_not_entitled_and_is_never_shown(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van")
    bot.add_officer(7003, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    staff_joins(emulator, 7003)
    admin = staff_joins(emulator, 7009, "Admin")
    emulator.inject("5xx", method="sendMessage", chat_id=7003)  # the card waits in the outbox
    report(emulator, emulator.user(5402, "Lan"), texts=("Người lạ dò hỏi đường lên bản",))
    _card(emulator, 7002, "dò hỏi đường")
    emulator.wait_until(lambda: _outbox(bot, 7003) and _outbox(bot, 7003)[0][2], timeout=20)

    admin.send_command("/officers")
    press(emulator, admin, "a:v:7003")
    press(emulator, admin, "a:de:7003")
    wait_text(emulator, admin, "ngừng hoạt động")
    emulator.clear_faults()

    emulator.wait_until(lambda: _outbox(bot, 7003)[0][1] == "failed", timeout=30)
    assert _outbox(bot, 7003) == [("card", "failed", "not entitled")]
    assert not _with_text(emulator, 7003, "dò hỏi đường")
    logs = bot.logs()
    assert "staff 7003 no longer entitled" in logs
    assert "dò hỏi đường" not in logs


def test_after_a_move_to_another_area_the_old_officer_gets_neither_additions_nor_reminders(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ACK_MINUTES="0.2")  # reminder after 12 s
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7005, "a-ngo", name="Hùng")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    staff_joins(emulator, 7005, "Hùng")
    resident = emulator.user(5403, "Hoa")
    code = report(emulator, resident, texts=("Đốt rừng làm rẫy trái phép",))
    card = _card(emulator, 7002, "Đốt rừng")
    tip_id = card.callback_data()[0].split(":")[2]

    officer.click(card.message_id, f"o:mv:{tip_id}")
    press(emulator, officer, f"o:ma:{tip_id}:1")  # a-ngo, second in the areas file
    _card(emulator, 7005, "Đốt rừng")

    _add_from_status(emulator, resident, code, "Bổ sung: cháy lan sang đồi thông")
    emulator.wait_for_message(7005, lambda m: "cháy lan sang đồi thông" in (m.text or ""))
    emulator.wait_for_message(7005, "⏰", timeout=30)
    # The reminder's rows were queued together for every holder: once none is pending, anything
    # for the old area would have been sent.
    emulator.wait_until(lambda: _pending(bot) == 0, timeout=20)
    assert not _with_text(emulator, 7002, "cháy lan"), "no addition for the old area"
    assert not _with_text(emulator, 7002, "⏰"), "no reminder for the old area"
    assert [r[:2] for r in _outbox(bot, 7002)] == [("card", "sent")]


def test_a_refused_evidence_file_is_noted_and_the_card_still_counts(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    emulator.inject("400", method="sendPhoto", chat_id=7002, times=1,
                    description="VOICE_MESSAGES_FORBIDDEN")
    report(emulator, emulator.user(5404, "Bình"), texts=("Xe chở gỗ không biển số",), photos=2)
    card = _card(emulator, 7002, "Xe chở gỗ")
    ref = next(w for w in card.text.split() if w.startswith("T-"))
    tip_id = card.callback_data()[0].split(":")[2]

    note = emulator.wait_for_message(officer, "không hiển thị được")
    assert f"{ref}: tệp 1/2" in note.text and "ảnh" in note.text
    photo = emulator.wait_for_message(officer, lambda m: m.media_kind == "photo")
    assert f"{ref} · tệp 2/2" in (photo.text or "")
    emulator.wait_until(lambda: _outbox(bot, 7002) == [("card", "sent", None)])

    officer.click(card.message_id, f"o:ack:{tip_id}")  # the card was recorded: it is edited
    emulator.wait_until(lambda: "Quang" in emulator.message(7002, card.message_id).text)
    assert len([m for m in emulator.messages(7002) if ref in (m.text or "") and m.buttons]) == 1


def test_a_card_queued_for_a_hand_over_ends_not_entitled_when_the_tip_moves_away(
    emulator, make_bot
):
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7005, "a-ngo", name="Hùng")
    bot.add_officer(7006, "a-roang", name="Tâm")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    staff_joins(emulator, 7005, "Hùng")
    staff_joins(emulator, 7006, "Tâm")
    report(emulator, emulator.user(5405, "Sương"), texts=("Vận chuyển pháo lậu qua cửa khẩu",))
    card = _card(emulator, 7002, "pháo lậu")
    tip_id = card.callback_data()[0].split(":")[2]

    emulator.inject("5xx", method="sendMessage", chat_id=7006)  # Tâm's card waits
    officer.click(card.message_id, f"o:mv:{tip_id}")
    press(emulator, officer, f"o:mo:{tip_id}:7006")
    emulator.wait_until(lambda: _outbox(bot, 7006) and _outbox(bot, 7006)[0][2], timeout=20)
    officer.click(card.message_id, f"o:mv:{tip_id}")
    press(emulator, officer, f"o:ma:{tip_id}:1")  # to a-ngo: the hand-over to Tâm ends
    _card(emulator, 7005, "pháo lậu")
    emulator.clear_faults()

    emulator.wait_until(lambda: _outbox(bot, 7006)[0][1] == "failed", timeout=30)
    assert _outbox(bot, 7006) == [("card", "failed", "not entitled")]
    assert not _with_text(emulator, 7006, "pháo lậu")
    assert "staff 7006 no longer entitled" in bot.logs()
