"""Staffing the line: an admin's one-time /invite link, and `python -m bot officers add|list`."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from contextlib import closing
from datetime import datetime
from zoneinfo import ZoneInfo

from rules.areas import load_areas
from testing.journeys import press, report, staff_joins, wait_button, wait_text

LINK = re.compile(r"https://t\.me/tipline_test_bot\?start=inv-([A-Za-z0-9_-]+)")
AREAS = [area.code for area in load_areas(None)]  # the bundled list, in the file's order


def make_invite(emulator, admin, codes: tuple[str, ...]) -> str:  # type: ignore[no-untyped-def]
    """The admin runs /invite, toggles `codes`, creates the link; returns the link's text."""
    admin.send_command("/invite")
    message = wait_button(emulator, admin, "inv:0:t0")
    mask = 0
    for code in codes:
        index = AREAS.index(code)
        admin.click(message.message_id, f"inv:{mask:x}:t{index}")
        mask ^= 1 << index
        emulator.wait_until(
            lambda m=mask: f"inv:{m:x}:make"
            in emulator.message(admin.id, message.message_id).callback_data()
        )
    admin.click(message.message_id, f"inv:{mask:x}:make")
    return emulator.wait_until(
        lambda: LINK.search(emulator.message(admin.id, message.message_id).text or "")
    ).group(0)


def test_invite_link_registers_the_first_opener_for_the_chosen_areas_only_once(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.start()
    admin = staff_joins(emulator, 7009)
    link = make_invite(emulator, admin, ("a-ngo", "hong-van"))
    token = LINK.fullmatch(link).group(1)
    invite_text = wait_text(emulator, admin, link).text
    assert "A Ngo" in invite_text and "Hồng Vân" in invite_text and "72" in invite_text

    newcomer = emulator.user(7100, "Officer Hà")
    newcomer.send_command("/start", f"inv-{token}")
    welcome = emulator.wait_for_message(newcomer, "cán bộ")
    assert "A Ngo" in welcome.text and "Hồng Vân" in welcome.text
    listing = bot.cli("officers", "list").stdout
    line = next(row for row in listing.splitlines() if row.startswith("7100\t"))
    assert "a-ngo, hong-van" in line and "reachable" in line

    report(emulator, emulator.user(5501, "Resident"), area="a-ngo", texts=("Tin cho xã A Ngo",))
    emulator.wait_for_message(newcomer, lambda m: "Tin cho xã A Ngo" in (m.text or ""), timeout=20)
    report(emulator, emulator.user(5502, "Resident 2"), area="a-luoi", texts=("Tin thị trấn",))
    emulator.wait_for_message(admin, lambda m: "Tin thị trấn" in (m.text or ""), timeout=20)
    assert not [m for m in emulator.messages(newcomer.id) if "Tin thị trấn" in (m.text or "")]

    # The same link a second time, by someone else: refused, and they are not an officer.
    second = emulator.user(7101, "Someone else")
    second.send_command("/start", f"inv-{token}")
    emulator.wait_for_message(second, "không hợp lệ")
    assert "7101\t" not in bot.cli("officers", "list").stdout

    # A resident may not invite; an expired link is refused.
    resident = emulator.user(5503, "Resident 3")
    resident.send_command("/invite")
    emulator.wait_for_message(resident, "Không được phép")
    assert not [m for m in emulator.messages(resident.id) if m.callback_data()]
    expired = LINK.fullmatch(make_invite(emulator, admin, ("a-luoi",))).group(1)
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db, db:
        db.execute(
            "UPDATE invites SET expires_at = '2020-01-01T00:00:00+00:00' WHERE used_by IS NULL"
        )
    late = emulator.user(7102, "Late officer")
    late.send_command("/start", f"inv-{expired}")
    emulator.wait_for_message(late, "không hợp lệ")
    assert "7102\t" not in bot.cli("officers", "list").stdout

    # Cancelling an invite (twice: a double tap) creates nothing.
    admin.send_command("/invite")
    chooser = wait_button(emulator, admin, "inv:0:x")
    admin.click(chooser.message_id, "inv:0:t3")
    emulator.wait_until(lambda: "inv:8:make" in emulator.message(admin.id,
                                                                chooser.message_id).callback_data())
    admin.click(chooser.message_id, "inv:0:x")
    emulator.wait_until(lambda: not emulator.message(admin.id, chooser.message_id).buttons)
    emulator.wait_for_callback_answer(admin.click_data(chooser.message_id, "inv:0:x"))
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        assert db.execute("SELECT count(*) FROM invites").fetchone()[0] == 2
    admin.send_command("/help")
    emulator.wait_for_message(admin, "/invite")
    assert not [line for line in bot.logs().splitlines() if "ERROR handlers." in line]
    assert bot.stop() == 0


def test_officers_add_rejects_unknown_areas_and_replaces_areas_when_run_again(make_bot):
    bot = make_bot()  # never started: the command line works before the bot ever ran
    unknown = bot.cli("officers", "add", "4242", "--area", "hong-van", "--area", "atlantis")
    assert unknown.returncode == 2
    assert "atlantis" in unknown.stderr
    for code in ("a-luoi", "a-ngo", "hong-van", "trung-son"):
        assert code in unknown.stderr, "the valid codes are listed"
    assert "Traceback" not in unknown.stderr

    first = bot.cli("officers", "add", "4242", "--area", "a-ngo", "--name", "Cán bộ Lâm")
    assert first.returncode == 0, first.stderr
    second = bot.cli("officers", "add", "4242", "--area", "hong-van", "--area", "a-roang")
    assert second.returncode == 0, second.stderr
    listing = bot.cli("officers", "list")
    assert listing.returncode == 0, listing.stderr
    lines = [row for row in listing.stdout.splitlines() if row.startswith("4242\t")]
    assert len(lines) == 1, listing.stdout
    assert "a-roang, hong-van" in lines[0] and "a-ngo" not in lines[0]
    assert "Cán bộ Lâm" in lines[0], "the name given first is kept"
    assert "pending" in lines[0]


def _token(link: str) -> str:
    return LINK.fullmatch(link).group(1)


def _key(token: str) -> str:
    """An invite's name in /invite's revoke buttons: its token hash's first 8 bytes."""
    return hashlib.sha256(token.encode()).digest()[:8].hex()


def _staff_line(bot, user_id: int) -> str | None:  # type: ignore[no-untyped-def]
    listing = bot.cli("officers", "list").stdout
    return next((row for row in listing.splitlines() if row.startswith(f"{user_id}\t")), None)


def _promote(emulator, admin, user_id: int) -> None:  # type: ignore[no-untyped-def]
    admin.send_command("/officers")
    press(emulator, admin, f"a:v:{user_id}")
    press(emulator, admin, f"a:pr:{user_id}")
    emulator.wait_until(lambda: "invite" in {
        c["command"] for c in emulator.commands({"type": "chat", "chat_id": user_id})
    })


def _change(emulator, admin, user_id: int, op: str) -> None:  # type: ignore[no-untyped-def]
    """In /officers: deactivate ("de") or demote ("dm") `user_id`, and wait for it."""
    admin.send_command("/officers")
    press(emulator, admin, f"a:v:{user_id}")
    detail = wait_button(emulator, admin, f"a:{op}:{user_id}")
    admin.click(detail.message_id, f"a:{op}:{user_id}")
    emulator.wait_until(
        lambda: f"a:{op}:{user_id}" not in emulator.message(admin.id,
                                                            detail.message_id).callback_data()
    )


def _opens(emulator, user, token: str, answer: str):  # type: ignore[no-untyped-def]
    user.send_command("/start", f"inv-{token}")
    return emulator.wait_for_message(user, answer)


def test_a_deactivated_promoted_admin_opening_their_own_unused_invite_stays_out(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    quang = staff_joins(emulator, 7002, "Quang")
    admin = staff_joins(emulator, 7009, "Admin")
    _promote(emulator, admin, 7002)
    token = _token(make_invite(emulator, quang, ("a-ngo",)))
    _change(emulator, admin, 7002, "de")
    before = _staff_line(bot, 7002)
    assert before is not None and "deactivated" in before

    told = _opens(emulator, quang, token, "ngừng hoạt động")
    assert "quản trị viên" in told.text
    assert _staff_line(bot, 7002) == before, "still deactivated, same areas, nothing changed"
    quang.send_command("/invite")
    emulator.wait_for_message(quang, "Không được phép")
    quang.send_command("/tips")
    emulator.wait_until(lambda: len([m for m in emulator.messages(quang.id)
                                     if "Không được phép" in (m.text or "")]) == 2)
    # Their invite died with their deactivation: a newcomer cannot use it either.
    _opens(emulator, emulator.user(7100, "Newcomer"), token, "không hợp lệ")
    assert _staff_line(bot, 7100) is None
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        row = db.execute("SELECT used_by, end_reason FROM invites").fetchone()
        assert row == (None, "creator_deactivated")
        refused = db.execute(
            "SELECT actor_id, detail FROM audit_log WHERE action = 'invite_refused'"
        ).fetchall()
    assert refused == [(7002, '{"reason": "deactivated"}')]


def test_an_invite_dies_when_its_creator_is_deactivated_demoted_or_no_longer_permanent(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009,7008")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.add_officer(7003, "hong-van", name="Lộc")
    bot.start()
    quang = staff_joins(emulator, 7002, "Quang")
    loc = staff_joins(emulator, 7003, "Lộc")
    admin = staff_joins(emulator, 7009, "Admin")
    second_admin = staff_joins(emulator, 7008, "Admin 2")
    _promote(emulator, admin, 7002)
    _promote(emulator, admin, 7003)
    of_quang = _token(make_invite(emulator, quang, ("a-ngo",)))
    of_loc = _token(make_invite(emulator, loc, ("a-roang",)))
    of_second = _token(make_invite(emulator, second_admin, ("a-luoi",)))

    _change(emulator, admin, 7002, "de")
    _change(emulator, admin, 7003, "dm")
    _opens(emulator, emulator.user(7100, "New 1"), of_quang, "không hợp lệ")
    _opens(emulator, emulator.user(7101, "New 2"), of_loc, "không hợp lệ")
    _promote(emulator, admin, 7003)  # promoted again: the dead invite stays dead
    _opens(emulator, emulator.user(7102, "New 3"), of_loc, "không hợp lệ")

    bot.stop()
    bot.env["TIPBOT_ADMIN_IDS"] = "7009"  # 7008 is no longer a permanent admin
    bot.start()
    _opens(emulator, emulator.user(7103, "New 4"), of_second, "không hợp lệ")
    for newcomer in (7100, 7101, 7102, 7103):
        assert _staff_line(bot, newcomer) is None
    admin.send_command("/invite")
    wait_button(emulator, admin, "inv:0:t0")
    assert not [m for m in emulator.messages(admin.id) if "Lời mời còn hiệu lực" in (m.text or "")]


def test_invite_lists_the_open_invites_and_a_revoked_link_is_dead(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    quang = staff_joins(emulator, 7002, "Quang")
    admin = staff_joins(emulator, 7009, "Admin <Một>")
    _promote(emulator, admin, 7002)
    first = _token(make_invite(emulator, admin, ("a-ngo", "hong-van")))
    second = _token(make_invite(emulator, quang, ("a-roang",)))

    admin.send_command("/invite")
    listing = wait_button(emulator, admin, f"inv:rv:{_key(first)}")
    assert f"inv:rv:{_key(second)}" in listing.callback_data()
    assert "Lời mời còn hiệu lực (2)" in listing.text
    assert "A Ngo" in listing.text and "Hồng Vân" in listing.text and "A Roàng" in listing.text
    assert "Admin <Một>" in listing.text and "Quang" in listing.text
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        expiries = [row[0] for row in db.execute("SELECT expires_at FROM invites")]
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    for stamp in expiries:
        local = datetime.fromisoformat(stamp).astimezone(zone).strftime("%d/%m/%Y %H:%M")
        assert local in listing.text
    assert not re.search(r"\d{4}-\d\d-\d\d", listing.text), "no ISO or UTC time shown"

    # An admin demoted since cannot use the revoke button they were shown.
    quang.send_command("/invite")
    their_list = wait_button(emulator, quang, f"inv:rv:{_key(first)}")
    _change(emulator, admin, 7002, "dm")
    query = quang.click(their_list.message_id, f"inv:rv:{_key(first)}")
    assert "Không được phép" in emulator.wait_for_callback_answer(query).get("text", "")

    query = admin.click(listing.message_id, f"inv:rv:{_key(first)}")
    assert "thu hồi" in emulator.wait_for_callback_answer(query).get("text", "")
    emulator.wait_until(lambda: "Không còn lời mời" in emulator.message(
        admin.id, listing.message_id).text)  # Quang's died with his demotion
    again = admin.click_data(listing.message_id, f"inv:rv:{_key(first)}")  # a double tap
    assert "không còn hiệu lực" in emulator.wait_for_callback_answer(again).get("text", "")
    forged = admin.click_data(listing.message_id, "inv:rv:zz")
    assert emulator.wait_for_callback_answer(forged).get("text")

    _opens(emulator, emulator.user(7100, "Newcomer"), first, "không hợp lệ")
    assert _staff_line(bot, 7100) is None
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        revokes = db.execute(
            "SELECT actor_id, detail FROM audit_log WHERE action = 'invite_revoke'"
        ).fetchall()
    assert len(revokes) == 1 and revokes[0][0] == 7009
    assert _key(first) in revokes[0][1] and "a-ngo,hong-van" in revokes[0][1]
    assert bot.cli("audit", "verify").returncode == 0
    assert not [line for line in bot.logs().splitlines() if "ERROR" in line]


def test_the_creator_and_the_permanent_admins_are_told_who_used_a_link(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009,7008")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    quang = staff_joins(emulator, 7002, "Quang")
    admin = staff_joins(emulator, 7009, "Admin")
    staff_joins(emulator, 7008, "Admin 2")
    _promote(emulator, admin, 7002)
    token = _token(make_invite(emulator, quang, ("a-ngo", "hong-van")))

    newcomer = emulator.user(7100, "<b>Hà</b> & Co")
    _opens(emulator, newcomer, token, "Bạn đã được đăng ký làm cán bộ")
    for staff_id in (7002, 7009, 7008):
        notice = emulator.wait_for_message(staff_id, "đã dùng liên kết mời")
        assert "<b>Hà</b> & Co" in notice.text, "the first name is shown as typed (escaped)"
        assert "7100" in notice.text and "A Ngo" in notice.text and "Hồng Vân" in notice.text
        assert len([m for m in emulator.messages(staff_id)
                    if "đã dùng liên kết mời" in (m.text or "")]) == 1
    assert not [m for m in emulator.messages(newcomer.id) if "đã dùng" in (m.text or "")]
    line = _staff_line(bot, 7100)
    assert line is not None and "officer" in line and "admin" not in line


def test_an_officer_or_admin_opening_an_invite_changes_nothing_and_it_stays_usable(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    quang = staff_joins(emulator, 7002, "Quang")
    admin = staff_joins(emulator, 7009, "Admin")
    token = _token(make_invite(emulator, admin, ("a-ngo",)))
    before = _staff_line(bot, 7002)

    _opens(emulator, quang, token, "đã được đăng ký rồi")
    _opens(emulator, admin, token, "đã được đăng ký rồi")  # the admin tries their own link
    assert _staff_line(bot, 7002) == before
    assert "officer" not in (_staff_line(bot, 7009) or "")
    assert not [m for m in emulator.messages(admin.id) if "đã dùng liên kết" in (m.text or "")]

    newcomer = emulator.user(7100, "Officer Hà")
    welcome = _opens(emulator, newcomer, token, "Bạn đã được đăng ký làm cán bộ")
    assert "A Ngo" in welcome.text
    assert "a-ngo" in (_staff_line(bot, 7100) or "")
