"""Access that ends when it should (SPEC "Officer"): nobody hands a tip to themselves; a move
to another area ends the tip's hand-overs; changing an officer's areas (in /officers or with
`officers add`) or deactivating them ends their hand-overs at once. After that, their `/tip`,
`/tips` and old card buttons reveal and change nothing."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from testing.journeys import press, report, staff_joins, wait_button, wait_text

REFUSED = "Không được phép"


def _card(emulator, officer_id, part):  # type: ignore[no-untyped-def]
    return emulator.wait_for_message(officer_id, lambda m: part in (m.text or "") and m.buttons)


def _ref(card) -> str:  # type: ignore[no-untyped-def]
    return next(w for w in card.text.split() if w.startswith("T-"))


def _db(bot, sql: str, params: tuple = ()) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        return db.execute(sql, params).fetchall()


def _handovers(bot) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    return [tuple(r) for r in _db(bot, "SELECT tip_id, staff_id FROM tip_assignees")]


def _tip_state(bot, tip_id: str) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    return _db(bot, "SELECT status, area, acknowledged_at FROM tips WHERE tip_id = ?",
               (int(tip_id),))[0]


def _hand_over(emulator, giver, card, tip_id: str, to: int) -> None:  # type: ignore[no-untyped-def]
    giver.click(card.message_id, f"o:mv:{tip_id}")
    menu = wait_button(emulator, giver, f"o:mo:{tip_id}:{to}")
    query = giver.click(menu.message_id, f"o:mo:{tip_id}:{to}")
    assert "Đã chuyển" in (emulator.wait_for_callback_answer(query).get("text") or "")


def _shut_out(emulator, bot, officer, card, tip_id: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    """The officer's old card buttons, `/tip REF` and `/tips` reveal and change nothing."""
    ref = _ref(card)
    state = _tip_state(bot, tip_id)
    before = len(emulator.messages(officer.id))
    kept = emulator.message(officer.id, card.message_id).text
    replayed = [
        *card.callback_data(),  # the card's own buttons: ack, reply, status, reassign
        f"o:ack:{tip_id}", f"o:st:{tip_id}", f"o:rep:{tip_id}", f"o:mv:{tip_id}",
        f"o:set:{tip_id}:verifying", f"o:set:{tip_id}:transferred", f"o:ma:{tip_id}:3",
        f"o:mo:{tip_id}:7003",
    ]
    for data in replayed:
        query = officer.click_data(card.message_id, data)
        answer = emulator.wait_for_callback_answer(query)
        assert REFUSED in (answer.get("text") or ""), data
    officer.send_command("/tip", ref)
    emulator.wait_for_message(officer, "Không có tin nào với mã này")
    officer.send_command("/tips")
    listing = emulator.wait_until(lambda: next(
        (m for m in emulator.messages(officer.id)[before:] if "Tin báo —" in (m.text or "")), None
    ))
    assert ref not in listing.text and "Không có tin nào" in listing.text
    new = emulator.messages(officer.id)[before:]
    assert not [m for m in new if secret in (m.text or "") or ref in (m.text or "")], new
    assert emulator.message(officer.id, card.message_id).text == kept, "the card is not edited"
    assert _tip_state(bot, tip_id) == state, "nothing changed"
    assert not _db(bot, "SELECT 1 FROM drafts"), "no reply or transfer was begun"


def test_a_forged_hand_over_to_oneself_is_refused_and_changes_nothing(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7006, "a-roang", name="Tâm")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    staff_joins(emulator, 7006, "Tâm")
    report(emulator, emulator.user(5601, "Nga"), texts=("Cờ bạc ở nhà kho thôn 3",))
    card = _card(emulator, 7002, "Cờ bạc ở nhà kho")
    tip_id = card.callback_data()[0].split(":")[2]

    officer.click(card.message_id, f"o:mv:{tip_id}")
    menu = wait_button(emulator, officer, f"o:mo:{tip_id}:7006")
    assert f"o:mo:{tip_id}:7002" not in menu.callback_data(), "no button to oneself"
    before = len(emulator.messages(officer.id))
    query = officer.click_data(menu.message_id, f"o:mo:{tip_id}:7002")
    answer = emulator.wait_for_callback_answer(query).get("text") or ""
    assert "tự giao" in answer
    assert _handovers(bot) == []
    assert not _db(bot, "SELECT 1 FROM audit_log WHERE action = 'reassign'")
    assert len(_db(bot, "SELECT 1 FROM outbox WHERE recipient_id = 7002")) == 1  # the card
    assert len(emulator.messages(officer.id)) == before
    assert "refused a hand-over to themselves" in bot.logs()
    assert "ERROR" not in bot.logs()


def test_one_who_holds_a_tip_by_a_hand_over_may_not_move_it_into_their_area(
    emulator, make_bot  # type: ignore[no-untyped-def]
) -> None:
    """A forged move by the hand-over's holder (the review's finding): he would take the tip
    into his own area for good and shut out the officer who handed it to him."""
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7006, "a-roang", name="Tâm")
    bot.start()
    quang = staff_joins(emulator, 7002, "Quang")
    tam = staff_joins(emulator, 7006, "Tâm")
    report(emulator, emulator.user(5604, "Vân"), texts=("Khai thác gỗ lậu ở khe suối",))
    card = _card(emulator, 7002, "Khai thác gỗ lậu")
    tip_id = card.callback_data()[0].split(":")[2]
    _hand_over(emulator, quang, card, tip_id, 7006)
    given = _card(emulator, 7006, "Khai thác gỗ lậu")
    state = _tip_state(bot, tip_id)
    for data in (f"o:mo:{tip_id}:7002", f"o:ma:{tip_id}:2", f"o:ma:{tip_id}:0"):
        query = tam.click_data(given.message_id, data)
        assert REFUSED in (emulator.wait_for_callback_answer(query).get("text") or ""), data
    assert _tip_state(bot, tip_id) == state and state[1] == "hong-van"
    assert _handovers(bot) == [(int(tip_id), 7006)]
    assert not _db(bot, "SELECT 1 FROM audit_log WHERE action = 'reassign' AND actor_id = 7006")
    query = quang.click_data(card.message_id, f"o:ack:{tip_id}")  # the area's officer still acts
    assert REFUSED not in (emulator.wait_for_callback_answer(query).get("text") or "")


def test_changing_an_officers_areas_in_officers_ends_their_hand_overs_at_once(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7003, "hong-van", name="Lộc")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    colleague = staff_joins(emulator, 7003, "Lộc")
    admin = staff_joins(emulator, 7009, "Admin")
    report(emulator, emulator.user(5602, "Hạnh"), texts=("Buôn ma túy ở bãi đá sông",))
    card = _card(emulator, 7002, "Buôn ma túy ở bãi đá")
    tip_id = card.callback_data()[0].split(":")[2]
    _hand_over(emulator, colleague, _card(emulator, 7003, "Buôn ma túy"), tip_id, 7002)
    assert _handovers(bot) == [(int(tip_id), 7002)]

    admin.send_command("/officers")
    press(emulator, admin, "a:v:7002")
    press(emulator, admin, "a:ar:7002:0:s")  # starts from hong-van (bit 10)
    press(emulator, admin, "a:ar:7002:400:t1")  # add a-ngo
    chooser = wait_button(emulator, admin, "a:ar:7002:402:save")
    forged = admin.click_data(chooser.message_id, "a:ar:7002:402:t²")  # expired, no error
    assert emulator.wait_for_callback_answer(forged).get("text")
    press(emulator, admin, "a:ar:7002:402:t10")  # drop hong-van
    press(emulator, admin, "a:ar:7002:2:save")
    wait_text(emulator, admin, "Xã A Ngo")
    _shut_out(emulator, bot, officer, card, tip_id, "Buôn ma túy")
    assert _handovers(bot) == []
    audit = _db(bot, "SELECT detail FROM audit_log WHERE action = 'staff'")
    assert '"handovers_ended": 1' in audit[-1][0]


def test_officers_add_with_new_areas_ends_the_officers_hand_overs(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7003, "hong-van", name="Lộc")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    colleague = staff_joins(emulator, 7003, "Lộc")
    report(emulator, emulator.user(5603, "Thu"), texts=("Trộm trâu ở bản Pa Ring",))
    card = _card(emulator, 7002, "Trộm trâu")
    tip_id = card.callback_data()[0].split(":")[2]
    _hand_over(emulator, colleague, _card(emulator, 7003, "Trộm trâu"), tip_id, 7002)

    bot.add_officer(7002, "hong-van", name="Quang")  # the same areas again: nothing ends
    assert _handovers(bot) == [(int(tip_id), 7002)]
    bot.add_officer(7002, "a-ngo", "a-roang")  # new areas, while the bot runs
    _shut_out(emulator, bot, officer, card, tip_id, "Trộm trâu")
    assert _handovers(bot) == []


def test_moving_a_tip_to_another_area_ends_its_hand_overs(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7005, "a-ngo", name="Hùng")
    bot.add_officer(7006, "a-roang", name="Tâm")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    hung = staff_joins(emulator, 7005, "Hùng")
    tam = staff_joins(emulator, 7006, "Tâm")
    report(emulator, emulator.user(5604, "Vân"), texts=("Khai thác gỗ lậu ở khe suối",))
    card = _card(emulator, 7002, "Khai thác gỗ lậu")
    tip_id = card.callback_data()[0].split(":")[2]
    _hand_over(emulator, officer, card, tip_id, 7006)
    given = _card(emulator, 7006, "Khai thác gỗ lậu")

    # The hand-over works: Tâm lists the tip. He holds it only by the hand-over, so he
    # cannot hand it on (only an admin or an officer of the tip's area can).
    tam.send_command("/tips")
    assert _ref(card) in wait_text(emulator, tam, "Tin báo —").text
    query = tam.click_data(given.message_id, f"o:mo:{tip_id}:7005")
    assert REFUSED in (emulator.wait_for_callback_answer(query).get("text") or "")
    assert _handovers(bot) == [(int(tip_id), 7006)]

    officer.click(card.message_id, f"o:mv:{tip_id}")
    press(emulator, officer, f"o:ma:{tip_id}:1")  # a-ngo, second in the areas file
    moved = _card(emulator, 7005, "Khai thác gỗ lậu")
    _shut_out(emulator, bot, tam, given, tip_id, "Khai thác gỗ lậu")
    assert _handovers(bot) == []

    kept = emulator.message(7006, given.message_id).text
    hung.click(moved.message_id, f"o:ack:{tip_id}")
    emulator.wait_until(lambda: "Hùng" in emulator.message(7005, moved.message_id).text)
    assert emulator.message(7006, given.message_id).text == kept, "Tâm's card shows nothing new"
    detail = _db(bot, "SELECT detail FROM audit_log WHERE action = 'reassign'")[-1][0]
    assert '"area": "a-ngo"' in detail and '"handovers_ended": 1' in detail


def test_deactivating_an_officer_ends_their_hand_overs_for_good(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7006, "a-roang", name="Tâm")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    tam = staff_joins(emulator, 7006, "Tâm")
    admin = staff_joins(emulator, 7009, "Admin")
    report(emulator, emulator.user(5605, "Lý"), texts=("Lừa đảo bán đất rừng",))
    card = _card(emulator, 7002, "Lừa đảo bán đất")
    tip_id = card.callback_data()[0].split(":")[2]
    _hand_over(emulator, officer, card, tip_id, 7006)
    given = _card(emulator, 7006, "Lừa đảo bán đất")

    admin.send_command("/officers")
    press(emulator, admin, "a:v:7006")
    press(emulator, admin, "a:de:7006")
    detail = wait_text(emulator, admin, "ngừng hoạt động")
    press(emulator, admin, "a:re:7006")  # reactivated: the hand-over does not come back
    emulator.wait_until(
        lambda: "đang nhận tin" in emulator.message(admin.id, detail.message_id).text
    )
    _shut_out(emulator, bot, tam, given, tip_id, "Lừa đảo bán đất")
    assert _handovers(bot) == []


def test_an_admin_of_the_settings_deactivated_in_officers_loses_every_right_at_once(
    emulator, make_bot  # type: ignore[no-untyped-def]
) -> None:
    """A stolen phone of an admin listed in TIPBOT_ADMIN_IDS (the review's finding): the list
    said "deactivated" while /tips, /export and /invite still worked. Now nothing does, their
    invites die, and an admin cannot deactivate themselves (nobody could undo it then)."""
    import re

    bot = make_bot(TIPBOT_ADMIN_IDS="7009,7010")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    staff_joins(emulator, 7002, "Quang")
    admin = staff_joins(emulator, 7009, "Admin")
    thief = staff_joins(emulator, 7010, "Stolen")
    thief.send_command("/invite")
    choice = wait_button(emulator, thief, "inv:0:all")
    thief.click(choice.message_id, "inv:0:all")
    link = wait_text(emulator, thief, "start=inv-").text or ""
    token = re.search(r"start=(inv-[A-Za-z0-9_-]+)", link).group(1)  # type: ignore[union-attr]
    report(emulator, emulator.user(5605, "Ly"), texts=("Lừa đảo bán đất rừng",))
    _card(emulator, 7002, "Lừa đảo bán đất")

    admin.send_command("/officers")
    press(emulator, admin, "a:v:7009")
    own = wait_button(emulator, admin, "a:ls")
    assert "a:de:7009" not in own.callback_data(), "no button to deactivate oneself"
    query = admin.click_data(own.message_id, "a:de:7009")  # forged: refused
    assert REFUSED in (emulator.wait_for_callback_answer(query).get("text") or "")
    assert _db(bot, "SELECT active FROM staff WHERE user_id = 7009") == [(1,)]
    admin.send_command("/officers")
    press(emulator, admin, "a:v:7010")
    detail = wait_button(emulator, admin, "a:de:7010")
    emulator.wait_for_callback_answer(admin.click(detail.message_id, "a:de:7010"))
    assert _db(bot, "SELECT active FROM staff WHERE user_id = 7010") == [(0,)]

    before = len(emulator.messages(thief.id))
    for command in ("/tips", "/export", "/invite", "/stats"):
        thief.send_command(command)
    emulator.wait_until(lambda: len(emulator.messages(thief.id)) >= before + 4)
    new = emulator.messages(thief.id)[before:]
    assert not [m for m in new if "Lừa đảo" in (m.text or "") or m.media_kind == "document"]
    assert not [m for m in new if "start=inv-" in (m.text or "")]
    accomplice = emulator.user(5999, "Accomplice")
    accomplice.send_command("/start", token)
    emulator.wait_for_message(accomplice, lambda m: bool(m.text))
    assert not _db(bot, "SELECT 1 FROM staff WHERE user_id = 5999")
