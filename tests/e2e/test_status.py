"""A resident comes back with their receipt code: /status shows the tip, guessing is limited,
and what they add reaches the officer who holds the tip."""

from __future__ import annotations

import re

from testing.journeys import report, staff_joins

TIP_TEXT = "Có người lạ chở hàng cấm qua bản lúc nửa đêm"
VIEW_VI = "Tin báo của bạn"
VIEW_EN = "Your tip"


def forgiving(code: str) -> str:
    """The code as a resident might retype it: lower case, no dashes, spaces, O/l for 0/1."""
    raw = code.replace("-", "")
    typed = f"{raw[:3]} {raw[3:7]}  {raw[7:]}".lower()
    return typed.replace("0", "o").replace("1", "l")


def test_status_with_a_forgivingly_typed_code_shows_the_tip(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5301, "Hạnh")
    code = report(emulator, resident, texts=(TIP_TEXT,))

    resident.send_command("/status")
    emulator.wait_for_message(resident, "K7QM-4XPA-9TZD")  # asks for the code, with an example
    resident.send_text(forgiving(code))
    view = emulator.wait_for_message(resident, VIEW_VI)
    assert "Mới tiếp nhận" in view.text, "the status is shown"
    assert "Ma túy" in view.text and "Hồng Vân" in view.text
    assert len(re.findall(r"\d\d/\d\d/\d{4} \d\d:\d\d", view.text)) >= 2, (
        "sent and updated dates are shown (in TIPBOT_TIMEZONE)"
    )
    assert any(d.startswith("st:add") for d in view.callback_data())
    assert code not in view.text, "the code is not echoed back"

    # The code as the command's argument, in lower case with spaces instead of dashes.
    resident.send_command("/status", code.lower().replace("-", " "))
    again = emulator.wait_for_message(resident, VIEW_VI)
    assert "Mới tiếp nhận" in again.text

    # Neither the typed code nor the resident shows up in the logs.
    logs = bot.logs()
    for secret in (code, code.replace("-", ""), forgiving(code), str(resident.id), TIP_TEXT):
        assert secret not in logs, secret


def test_six_wrong_codes_in_a_row_are_rate_limited_even_when_the_sixth_is_right(
    emulator, make_bot
):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5302, "Sam", language_code="en")
    code = report(emulator, resident, texts=(TIP_TEXT,))

    resident.send_command("/status")
    emulator.wait_for_message(resident, "receipt code")
    wrong = ("ZZZZ-ZZZZ-ZZZZ", "hello", "ZZZZ-ZZZZ-ZZZY", "1234", "YYYY-YYYY-YYYY")
    for guess in wrong:
        resident.send_text(guess)
        emulator.wait_for_message(resident, "No tip has this code")
    resident.send_text(code)  # the sixth attempt is right, but is not even looked up
    limited = emulator.wait_for_message(resident, "try again")
    assert VIEW_EN not in limited.text
    resident.send_command("/status", code)  # as the argument: still limited
    emulator.wait_for_message(resident, "try again")
    assert not [m for m in emulator.messages(resident.id) if VIEW_EN in (m.text or "")]

    # The limit is per user: someone else holding the code is not affected.
    other = emulator.user(5303, "Other", language_code="en")
    other.send_command("/status", code)
    emulator.wait_for_message(other, VIEW_EN)


def test_additions_from_status_reach_the_officer_who_holds_the_tip(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.add_officer(7003, "a-ngo")
    bot.start()
    officer = staff_joins(emulator, 7002)
    other = staff_joins(emulator, 7003)
    resident = emulator.user(5304, "Thu")
    code = report(emulator, resident, texts=(TIP_TEXT,))
    card = emulator.wait_for_message(officer, lambda m: TIP_TEXT in (m.text or ""))
    ref = next(word for word in card.text.split() if word.startswith("T-"))

    resident.send_command("/status", code)
    emulator.wait_for_message(resident, VIEW_VI)
    view = [m for m in emulator.messages(resident.id) if VIEW_VI in (m.text or "")][-1]
    resident.click(view.message_id, next(d for d in view.callback_data() if d.startswith("st:add")))
    emulator.wait_for_message(resident, "Gửi thêm chữ")
    resident.send_text("Bổ sung: xe máy biển 75 <b>&</b>")
    emulator.wait_for_message(resident, "Đã nhận")
    resident.send_photo(caption="ảnh chụp từ xa")
    emulator.wait_for_message(resident, "Đã nhận")

    addition = emulator.wait_for_message(
        officer, lambda m: "Bổ sung: xe máy biển 75 <b>&</b>" in (m.text or "")
    )
    assert ref in addition.text
    photo = emulator.wait_for_message(officer, lambda m: m.media_kind == "photo", timeout=15)
    sent = [m for m in emulator.messages(resident.id, include_user=True) if m.media_kind == "photo"]
    assert photo.file_id == sent[-1].file_id, "the photo is sent again by its file id"
    assert ref in (photo.text or "")
    assert not emulator.calls_to("forwardMessage") and not emulator.calls_to("copyMessage")
    assert not [m for m in emulator.messages(other.id) if "Bổ sung" in (m.text or "")]

    # The resident sees their own additions in the thread.
    resident.send_command("/status", code)
    view = emulator.wait_for_message(resident, VIEW_VI)
    assert "Bổ sung: xe máy biển 75" in view.text


def test_status_in_the_middle_of_a_report_keeps_the_report(emulator, make_bot):
    from testing.journeys import press, wait_button, wait_text

    bot = make_bot()
    bot.add_officer(7002, "a-ngo")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5305, "Quang")
    code = report(emulator, resident, area="a-ngo", texts=("Tin cũ",))
    resident.send_command("/report")
    press(emulator, resident, "r:cat:gambling")
    press(emulator, resident, "r:area:a-ngo")
    press(emulator, resident, "r:place:skip")
    press(emulator, resident, "r:when:skip")
    wait_text(emulator, resident, "5. ")
    resident.send_text("Sới bạc sau nhà văn hoá")
    emulator.wait_for_message(resident, "Đã ghi nhận (1")

    resident.send_command("/status", code)
    emulator.wait_for_message(resident, "dở dang")
    resident.send_command("/status")
    emulator.wait_for_message(resident, "dở dang")
    press(emulator, resident, "r:resume:")
    press(emulator, resident, "r:text:done")
    press(emulator, resident, "r:ev:skip")
    press(emulator, resident, "r:fu:anon")
    summary = wait_button(emulator, resident, "r:sum:send")
    assert "Sới bạc sau nhà văn hoá" in summary.text, "the report in progress was kept"


def test_additions_to_one_tip_are_limited_per_hour(emulator, make_bot):
    """A flood of additions must not hold up other tips' cards: 30 an hour, then a kind no."""
    import asyncio
    import base64

    from storage.store import open_store

    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5411, "Nga")
    code = report(emulator, resident)

    async def pretend_30_recent_additions() -> None:
        store = await open_store(bot.data / "tipline.db", base64.b64decode(bot.env["TIPBOT_KEY"]))
        try:
            tip = await store.tips.by_receipt_code(code)
            for number in range(30):
                await store.tips.add_resident_message(tip, {"text": f"n{number}"}, ())
        finally:
            await store.close()

    asyncio.run(pretend_30_recent_additions())
    resident.send_command("/status", code)
    view = emulator.wait_for_message(resident, lambda m: any(
        d.startswith("st:add") for d in m.callback_data()))
    add = next(d for d in view.callback_data() if d.startswith("st:add"))
    resident.click(view.message_id, add)
    emulator.wait_for_message(resident, lambda m: "st:close" in m.callback_data())
    resident.send_text("Thêm một tin nữa")
    emulator.wait_for_message(resident, "30 tin bổ sung")
