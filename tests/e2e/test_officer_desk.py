"""The officer's desk: acknowledge, work and close a tip, talk with the resident without
either learning who the other is, list tips, and be reminded when a tip waits too long."""

from __future__ import annotations

import asyncio
import base64
import sqlite3

from testing.journeys import press, report, staff_joins, wait_button, wait_text


def _card(emulator, officer_id, part):  # type: ignore[no-untyped-def]
    return emulator.wait_for_message(officer_id, lambda m: part in (m.text or "") and m.buttons)


def _ref(card) -> str:  # type: ignore[no-untyped-def]
    return next(w for w in card.text.split() if w.startswith("T-"))


def _card_now(emulator, officer_id, message_id):  # type: ignore[no-untyped-def]
    return emulator.message(officer_id, message_id)


def test_acknowledge_verify_resolve_updates_the_card_and_the_audit_chain(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7003, "hong-van", name="Hùng")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    staff_joins(emulator, 7003, "Hùng")
    report(emulator, emulator.user(5301, "Lê"), texts=("Có người lạ vào rừng đầu nguồn",))
    card = _card(emulator, 7002, "rừng đầu nguồn")
    other_card = _card(emulator, 7003, "rừng đầu nguồn")
    tip_id = card.callback_data()[0].split(":")[2]

    officer.click(card.message_id, f"o:ack:{tip_id}")
    emulator.wait_until(lambda: "Quang" in (_card_now(emulator, 7003, other_card.message_id).text))
    assert "đã nhận" in _card_now(emulator, 7003, other_card.message_id).text
    for status in ("verifying", "resolved"):
        officer.click(card.message_id, f"o:st:{tip_id}")
        press(emulator, officer, f"o:set:{tip_id}:{status}")
    emulator.wait_until(lambda: "Đã xử lý" in _card_now(emulator, 7003, other_card.message_id).text)
    closed = _card_now(emulator, 7003, other_card.message_id)
    assert not closed.buttons, "a closed card has no actions"

    ok = bot.cli("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "5 entries" in ok.stdout  # two `officers add`, then ack, verifying, resolved
    with sqlite3.connect(bot.data / "tipline.db") as db:
        db.execute("UPDATE audit_log SET actor_id = 7003 WHERE audit_id = 4")  # a status change
    broken = bot.cli("audit", "verify")
    assert broken.returncode == 1
    assert "entry 4" in broken.stderr


def test_reply_reaches_a_resident_who_asked_and_their_answer_reaches_the_officer(
    emulator, make_bot
):
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Vân")
    bot.start()
    officer = staff_joins(emulator, 7002, "Vân")
    resident = emulator.user(5302, "Ngọc")
    report(emulator, resident, texts=("Trộm bò ở bản Pa Ring",), notify=True)
    card = _card(emulator, 7002, "Trộm bò")
    tip_id = card.callback_data()[0].split(":")[2]

    officer.click(card.message_id, f"o:rep:{tip_id}")
    emulator.wait_for_message(officer, "người báo")
    officer.send_text("Cảm ơn. Con bò màu gì? <i>cần</i> & gấp")
    emulator.wait_for_message(officer, "✅")
    pushed = emulator.wait_for_message(resident, lambda m: "Con bò màu gì?" in (m.text or ""))
    assert "<i>cần</i> & gấp" in pushed.text
    assert "Vân" not in pushed.text and "7002" not in pushed.text
    push_call = next(c for c in emulator.calls_to("sendMessage", chat_id=resident.id)
                     if "Con bò màu gì?" in str(c.params.get("text")))
    assert str(push_call.params.get("disable_notification")).lower() == "true", (
        "a push to the reporter must not ring: an officer could watch whose phone does"
    )

    resident.click(pushed.message_id, f"rr:{tip_id}")
    emulator.wait_for_message(resident, lambda m: "st:close" in m.callback_data())
    resident.send_text("Bò vàng, có đốm trắng")
    addition = emulator.wait_for_message(officer, lambda m: "Bò vàng" in (m.text or ""))
    assert "Ngọc" not in addition.text and "5302" not in addition.text


def test_reply_to_an_anonymous_tip_waits_for_the_resident_in_status(emulator, make_bot):
    from testing.journeys import RECEIPT

    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7002)
    resident = emulator.user(5303, "Sơn")
    code = report(emulator, resident, texts=("Ổ cờ bạc sau chợ",))
    card = _card(emulator, 7002, "Ổ cờ bạc")
    tip_id = card.callback_data()[0].split(":")[2]
    officer.click(card.message_id, f"o:rep:{tip_id}")
    emulator.wait_for_message(officer, "người báo")
    officer.send_text("Đã xác minh, cảm ơn bạn")
    emulator.wait_for_message(officer, "✅")
    assert not [m for m in emulator.messages(resident.id) if "Đã xác minh" in (m.text or "")]
    assert RECEIPT.fullmatch(code)
    resident.send_command("/status", code.lower().replace("-", ""))
    view = emulator.wait_for_message(resident, lambda m: "Đã xác minh, cảm" in (m.text or ""))
    assert "Cán bộ" in view.text


async def _seed(bot, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Store tips directly (setup only): the listing itself is driven through Telegram."""
    from storage.store import open_store
    from storage.tips import Delivery, NewTip

    store = await open_store(bot.data / "tipline.db", base64.b64decode(bot.env["TIPBOT_KEY"]))
    refs = []
    try:
        for number in range(count):
            async with store.db.transaction():
                tip, _code = await store.tips.insert(
                    NewTip("theft", "hong-van", False, {"text": f"seed {number}"}),
                    Delivery(1, ()),
                )
            await store.db.execute(
                "UPDATE tips SET created_at = ? WHERE tip_id = ?",
                (f"2026-01-01T00:{number:02d}:00+00:00", tip.tip_id),
            )
            refs.append(tip.ref)
    finally:
        await store.close()
    return refs


def test_tips_lists_25_open_tips_newest_first_ten_a_page_and_filters_by_status(
    emulator, make_bot
):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    refs = asyncio.run(_seed(bot, 25))
    bot.start()
    officer = staff_joins(emulator, 7002)
    officer.send_command("/tips")
    page = wait_text(emulator, officer, "1/3")
    seen: list[str] = []
    for number in (1, 2, 3):
        page = wait_text(emulator, officer, f"{number}/3")
        seen += [w for w in page.text.split() if w.startswith("T-")]
        if number < 3:
            officer.click(page.message_id, f"ol:all:{number}")
    assert seen == list(reversed(refs))
    officer.click(page.message_id, "ol:resolved:0")
    wait_text(emulator, officer, "Không có tin nào")


def test_officer_of_another_area_can_neither_see_nor_change_a_tip(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.add_officer(7005, "a-ngo")
    bot.start()
    staff_joins(emulator, 7002)
    intruder = staff_joins(emulator, 7005)
    report(emulator, emulator.user(5304, "Hà"), texts=("Ma túy ở bến xe",))
    card = _card(emulator, 7002, "Ma túy ở bến xe")
    ref = _ref(card)
    tip_id = card.callback_data()[0].split(":")[2]
    before = len(emulator.messages(intruder.id))
    own_message = emulator.messages(intruder.id)[-1].message_id  # forged presses come from here
    forged = [f"o:set:{tip_id}:resolved", f"o:ma:{tip_id}:1", f"o:mo:{tip_id}:7005", "o:ack:99"]
    for data in [*card.callback_data(), *forged]:
        query = intruder.click_data(own_message, data)
        answer = emulator.wait_for_callback_answer(query)
        assert "Không được phép" in (answer.get("text") or "")
    intruder.send_command("/tip", ref)
    refusal = emulator.wait_for_message(intruder, "Không có tin")
    intruder.send_command("/tip", "T-ZZZZZZ")
    assert emulator.wait_for_message(intruder, "Không có tin").text == refusal.text
    assert not [m for m in emulator.messages(intruder.id)[before:] if "Ma túy" in (m.text or "")]
    assert "Mới tiếp nhận" in emulator.message(7002, card.message_id).text


def test_a_deactivated_officers_old_buttons_stop_working(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7002)
    admin = staff_joins(emulator, 7009)
    report(emulator, emulator.user(5305, "Kim"), texts=("Gây rối ở quán karaoke",))
    card = _card(emulator, 7002, "karaoke")
    tip_id = card.callback_data()[0].split(":")[2]
    admin.send_command("/officers")
    press(emulator, admin, "a:v:7002")
    press(emulator, admin, "a:de:7002")
    wait_text(emulator, admin, "ngừng hoạt động")
    query = officer.click(card.message_id, f"o:ack:{tip_id}")
    assert "Không được phép" in emulator.wait_for_callback_answer(query).get("text", "")
    officer.send_command("/tips")
    emulator.wait_for_message(officer, "Không được phép")


def test_unacknowledged_tip_reminds_then_escalates_once_each_across_a_restart(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009", TIPBOT_ACK_MINUTES="0.1")  # 6 s, urgent 1.5 s
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    admin = staff_joins(emulator, 7009)
    report(emulator, emulator.user(5306, "Dũng"), texts=("Đang đánh nhau ở cầu",), when="now")
    ref = _ref(_card(emulator, 7002, "Đang đánh nhau"))
    emulator.wait_for_message(7002, "⏰", timeout=20)
    bot.kill9()
    bot.start()
    emulator.wait_for_message(admin, lambda m: "Đang đánh nhau" in (m.text or ""), timeout=20)
    emulator.wait_for_message(admin, "chuyển lên bạn")
    # Several more scans: a second urgent tip, reported now, is reminded and then escalated by
    # scans that all came after the first tip's escalation.
    report(emulator, emulator.user(5307, "Em"), texts=("Cướp giật ở chợ",), when="now")
    later = _ref(_card(emulator, 7002, "Cướp giật"))
    emulator.wait_for_message(admin, lambda m: "chuyển lên bạn" in (m.text or "")
                              and later in m.text, timeout=20)
    bot.stop()

    def about(chat: int, mark: str) -> list[str]:
        return [m.text for m in emulator.messages(chat) if mark in (m.text or "") and ref in m.text]

    assert len(about(7002, "⏰")) == 1
    assert len(about(admin.id, "chuyển lên bạn")) == 1
    assert not about(7002, "chuyển lên bạn")


def test_reassign_to_another_area_and_to_a_named_officer(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7005, "a-ngo", name="Hùng")
    bot.add_officer(7006, "a-roang", name="Tâm")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    staff_joins(emulator, 7005, "Hùng")
    staff_joins(emulator, 7006, "Tâm")
    report(emulator, emulator.user(5307, "Yến"), texts=("Khai thác vàng trái phép",))
    card = _card(emulator, 7002, "Khai thác vàng")
    tip_id = card.callback_data()[0].split(":")[2]

    officer.click(card.message_id, f"o:mv:{tip_id}")
    menu = wait_button(emulator, officer, f"o:ma:{tip_id}:1")
    officer.click(menu.message_id, f"o:ma:{tip_id}:1")  # a-ngo, second in the areas file
    moved = _card(emulator, 7005, "Khai thác vàng")
    emulator.wait_until(
        lambda: "Đã chuyển sang địa bàn" in emulator.message(7002, card.message_id).text
    )
    query = officer.click(card.message_id, f"o:ack:{tip_id}")  # no longer theirs
    assert "Không được phép" in emulator.wait_for_callback_answer(query).get("text", "")

    hung = emulator.user(7005)
    hung.click(moved.message_id, f"o:mv:{tip_id}")
    menu = wait_button(emulator, hung, f"o:mo:{tip_id}:7006")
    hung.click(menu.message_id, f"o:mo:{tip_id}:7006")
    given = _card(emulator, 7006, "Khai thác vàng")
    tam = emulator.user(7006)
    tam.click(given.message_id, f"o:ack:{tip_id}")  # the named officer may act on it
    emulator.wait_until(lambda: "Tâm" in emulator.message(7006, given.message_id).text)


def test_admin_changes_areas_promotes_and_cannot_demote_a_permanent_admin(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    admin = staff_joins(emulator, 7009, "Admin")
    admin.send_command("/officers")
    press(emulator, admin, "a:v:7002")
    press(emulator, admin, "a:ar:7002:0:s")
    press(emulator, admin, "a:ar:7002:400:t1")  # add a-ngo to hong-van (bit 10)
    press(emulator, admin, "a:ar:7002:402:save")
    wait_text(emulator, admin, "Xã A Ngo")
    press(emulator, admin, "a:pr:7002")
    emulator.wait_until(lambda: {"invite", "officers"} <= {
        c["command"] for c in emulator.commands({"type": "chat", "chat_id": 7002})
    })
    officer.send_command("/officers")
    wait_text(emulator, officer, "Cán bộ và quản trị")
    query = officer.click_data(emulator.messages(officer.id)[-1].message_id, "a:dm:7009")
    emulator.wait_for_callback_answer(query)
    listing = bot.cli("officers", "list").stdout
    assert "admin (permanent)" in next(line for line in listing.splitlines() if "7009" in line)
    quang = next(line for line in listing.splitlines() if line.startswith("7002"))
    assert "a-ngo" in quang and "hong-van" in quang and "admin" in quang
    ok = bot.cli("audit", "verify")
    assert ok.returncode == 0


def test_status_changes_reach_a_notified_resident_without_officer_detail_and_transfer_names_agency(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    admin = staff_joins(emulator, 7009, "Admin")
    resident = emulator.user(5308, "Thu")
    report(emulator, resident, texts=("Vận chuyển gỗ lậu qua biên giới",), notify=True)
    card = _card(emulator, 7002, "gỗ lậu")
    tip_id = card.callback_data()[0].split(":")[2]

    officer.click(card.message_id, f"o:ack:{tip_id}")
    told = emulator.wait_for_message(resident, "🔔")
    assert "Cán bộ đã nhận" in told.text and "Quang" not in told.text

    officer.click(card.message_id, f"o:st:{tip_id}")
    press(emulator, officer, f"o:set:{tip_id}:transferred")
    emulator.wait_for_message(officer, "cơ quan nào")
    officer.send_text("Đồn Biên phòng A Đớt")
    emulator.wait_until(
        lambda: "Đồn Biên phòng A Đớt" in emulator.message(7002, card.message_id).text
    )
    told = emulator.wait_for_message(resident, "🔔")
    assert "Đã chuyển cơ quan khác" in told.text and "Biên phòng" not in told.text

    # Closed: the officer cannot change it any more, an admin can reopen it.
    query = officer.click_data(card.message_id, f"o:set:{tip_id}:verifying")
    assert emulator.wait_for_callback_answer(query).get("text")
    admin.send_command("/tip", _ref(card))
    admin_card = _card(emulator, 7009, "gỗ lậu")
    admin.click(admin_card.message_id, f"o:st:{tip_id}")
    press(emulator, admin, f"o:set:{tip_id}:acknowledged")
    emulator.wait_until(lambda: "Cán bộ đã nhận" in emulator.message(7002, card.message_id).text)
    assert bot.cli("audit", "verify").returncode == 0


def test_an_officers_forgotten_reply_never_captures_what_they_later_write_as_a_resident(
    emulator, make_bot
):
    from testing.journeys import RECEIPT

    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    other_resident = emulator.user(5309, "Lan")
    report(emulator, other_resident, texts=("Tin của người khác",), notify=True)
    card = _card(emulator, 7002, "Tin của người khác")
    tip_id = card.callback_data()[0].split(":")[2]
    officer.click(card.message_id, f"o:rep:{tip_id}")
    emulator.wait_for_message(officer, "người báo")

    # The officer, as a resident, reports and checks their own tip instead of replying.
    code = report(emulator, officer, texts=("Tin riêng của tôi",))
    assert RECEIPT.fullmatch(code)
    officer.send_command("/status")
    emulator.wait_for_message(officer, "K7QM-4XPA-9TZD")
    officer.send_text(code)
    emulator.wait_for_message(officer, "Tin báo của bạn")
    # Now a real reply: it reaches the resident through the outbox, after anything captured before.
    officer.click(card.message_id, f"o:rep:{tip_id}")
    emulator.wait_for_message(officer, "người báo")
    officer.send_text("Trả lời thật")
    emulator.wait_for_message(other_resident, lambda m: "Trả lời thật" in (m.text or ""),
                              timeout=20)
    leaked = [m for m in emulator.messages(other_resident.id) if code in (m.text or "")
              or "Tin riêng" in (m.text or "")]
    assert not leaked, "the officer's own words reached another tip's resident"


def test_the_card_header_follows_the_status_and_a_change_confirms_itself_in_one_line(
    emulator, make_bot
):
    from testing.journeys import press, report, staff_joins, wait_text

    bot = make_bot()
    bot.add_officer(7102, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7102)
    report(emulator, emulator.user(5701, "Dân"))
    card = emulator.wait_for_message(officer, lambda m: "o:ack:" in "".join(m.callback_data()))
    assert "🆕" in card.text.split("\n")[0] and "Mới" in card.text.split("\n")[0]
    officer.click(card.message_id, next(d for d in card.callback_data() if d.startswith("o:ack:")))
    emulator.wait_until(lambda: "📥" in emulator.message(officer.id, card.message_id).text)
    header = emulator.message(officer.id, card.message_id).text.split("\n")[0]
    assert "🆕" not in header and "Cán bộ đã nhận" in header
    officer.click(card.message_id, next(d for d in card.callback_data() if d.startswith("o:st:")))
    prompt = emulator.wait_for_message(officer, lambda m: any(
        d.startswith("o:set:") and d.endswith(":verifying") for d in m.callback_data()))
    press(emulator, officer, next(d for d in prompt.callback_data() if d.endswith(":verifying")))
    confirmed = wait_text(emulator, officer, "Đang xác minh.")
    assert confirmed.message_id == prompt.message_id and not confirmed.callback_data()
    emulator.wait_until(lambda: "🔍" in emulator.message(officer.id, card.message_id).text)
