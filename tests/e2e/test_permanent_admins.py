"""The permanent admins (TIPBOT_ADMIN_IDS) stay in charge (the review's findings A and B): a
promoted admin, or their stolen phone, cannot deactivate, reactivate, promote or demote one in
/officers, not even with forged button data; the command line deactivates and reactivates any
account; and a deactivated permanent admin gets no invite notice, no tip and does not count as
staffing the line."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from testing.journeys import press, report, staff_joins, wait_button, wait_text
from tests.e2e.test_invite import _opens, _promote, _token, make_invite

REFUSED = "Không được phép"
PERMANENT_ONLY = "Chỉ quản trị viên thường trực"
NOTICE = "đã dùng liên kết mời"


def _db(bot, sql: str, params: tuple = ()) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    with closing(sqlite3.connect(bot.data / "tipline.db", timeout=10)) as db:
        return db.execute(sql, params).fetchall()


def _active(bot, user_id: int) -> int:  # type: ignore[no-untyped-def]
    return _db(bot, "SELECT active FROM staff WHERE user_id = ?", (user_id,))[0][0]


def _answer(emulator, user, message_id: int, data: str) -> str:  # type: ignore[no-untyped-def]
    return emulator.wait_for_callback_answer(user.click_data(message_id, data)).get("text") or ""


def test_a_promoted_admin_cannot_shut_out_a_permanent_admin(emulator, make_bot):  # type: ignore[no-untyped-def]
    bot = make_bot(TIPBOT_ADMIN_IDS="7009")
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    rogue = staff_joins(emulator, 7002, "Quang")
    admin = staff_joins(emulator, 7009, "Admin")
    _promote(emulator, admin, 7002)

    rogue.send_command("/officers")
    press(emulator, rogue, "a:v:7009")
    detail = wait_button(emulator, rogue, "a:ls")
    offered = detail.callback_data()
    for op in ("de", "re", "pr", "dm"):
        assert f"a:{op}:7009" not in offered, offered
    audit_before = _db(bot, "SELECT count(*) FROM audit_log WHERE action = 'staff'")
    for op in ("de", "re", "pr", "dm"):  # forged: refused kindly, nothing changes
        assert PERMANENT_ONLY in _answer(emulator, rogue, detail.message_id, f"a:{op}:7009"), op
    assert _active(bot, 7009) == 1
    assert _db(bot, "SELECT count(*) FROM audit_log WHERE action = 'staff'") == audit_before
    refused = _db(bot, "SELECT actor_id, detail FROM audit_log WHERE action = 'staff_refused'")
    assert len(refused) == 4 and all(actor == 7002 and '"target": 7009' in d
                                     for actor, d in refused)
    assert "refused: de of permanent admin 7009" in bot.logs()

    # The permanent admin keeps /officers and deactivates the rogue.
    admin.send_command("/officers")
    press(emulator, admin, "a:v:7002")
    own = wait_button(emulator, admin, "a:de:7002")
    assert "đã ngừng" not in (own.text or "")
    assert emulator.wait_for_callback_answer(admin.click(own.message_id, "a:de:7002"))
    emulator.wait_until(lambda: _active(bot, 7002) == 0)
    rogue.send_command("/officers")
    wait_text(emulator, rogue, REFUSED)
    # Nor is a permanent admin offered a button to deactivate themselves (it is refused).
    press(emulator, admin, "a:ls")
    press(emulator, admin, "a:v:7009")
    mine = wait_button(emulator, admin, "a:ls")
    assert "a:de:7009" not in mine.callback_data()
    assert REFUSED in _answer(emulator, admin, mine.message_id, "a:de:7009")
    assert _active(bot, 7009) == 1
    assert bot.cli("audit", "verify").returncode == 0
    assert "ERROR" not in bot.logs()


def test_the_command_line_deactivates_and_reactivates_a_permanent_admin(emulator, make_bot):  # type: ignore[no-untyped-def]
    """A stolen phone of a permanent admin: deactivated from the command line while the bot
    runs, it gets no invite notice and no tip; another permanent admin still gets both, and
    a promoted admin cannot reactivate it."""
    bot = make_bot(TIPBOT_ADMIN_IDS="7009,7010")
    bot.add_officer(7002, "a-roang", name="Quang")
    bot.start()
    quang = staff_joins(emulator, 7002, "Quang")
    admin = staff_joins(emulator, 7009, "Admin")
    stolen = staff_joins(emulator, 7010, "Stolen")
    _promote(emulator, admin, 7002)

    result = bot.cli("officers", "deactivate", "7010")
    assert result.returncode == 0, result.stderr
    assert "deactivated" in result.stdout
    assert _active(bot, 7010) == 0
    assert "deactivated" in bot.cli("officers", "list").stdout
    again = bot.cli("officers", "deactivate", "7010")
    assert again.returncode == 0 and "nothing changed" in again.stdout
    missing = bot.cli("officers", "reactivate", "4242")
    assert missing.returncode == 2 and "no staff member 4242" in missing.stderr
    stolen.send_command("/officers")
    wait_text(emulator, stolen, REFUSED)

    # A promoted admin may not bring the stolen account back.
    quang.send_command("/officers")
    press(emulator, quang, "a:v:7010")
    detail = wait_button(emulator, quang, "a:ls")
    assert "a:re:7010" not in detail.callback_data()
    assert PERMANENT_ONLY in _answer(emulator, quang, detail.message_id, "a:re:7010")
    assert _active(bot, 7010) == 0

    # An invite used: the live permanent admin and the creator are told, the stolen phone not.
    token = _token(make_invite(emulator, quang, ("a-ngo",)))
    newcomer = emulator.user(7100, "Hà")
    _opens(emulator, newcomer, token, "Bạn đã được đăng ký làm cán bộ")
    emulator.wait_for_message(7009, NOTICE)
    emulator.wait_for_message(7002, NOTICE)

    # A tip of an area with no officer goes to the admins: not to the stolen phone.
    report(emulator, emulator.user(5611, "Nga"), texts=("Buôn lậu gỗ ở bãi sông",))
    emulator.wait_for_message(7009, lambda m: "Buôn lậu gỗ" in (m.text or "") and m.buttons)
    assert not _db(bot, "SELECT 1 FROM outbox WHERE recipient_id = 7010")
    assert not [m for m in emulator.messages(7010)
                if NOTICE in (m.text or "") or "Buôn lậu gỗ" in (m.text or "")]

    result = bot.cli("officers", "reactivate", "7010")
    assert result.returncode == 0 and "reactivated" in result.stdout, result.stderr
    assert _active(bot, 7010) == 1
    stolen.send_command("/officers")
    wait_button(emulator, stolen, "a:v:7009")
    changes = [d for (d,) in _db(bot, "SELECT detail FROM audit_log"
                                 " WHERE action = 'staff' AND actor_id = 0")]
    assert any('"deactivate (command line)"' in d and '"target": 7010' in d for d in changes)
    assert any('"reactivate (command line)"' in d and '"target": 7010' in d for d in changes)
    verify = bot.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "ERROR" not in bot.logs()


def test_a_line_staffed_only_by_a_deactivated_permanent_admin_takes_no_tip(emulator, make_bot):  # type: ignore[no-untyped-def]
    bot = make_bot(TIPBOT_ADMIN_IDS="7010")
    bot.start()
    staff_joins(emulator, 7010, "Stolen")
    assert bot.cli("officers", "deactivate", "7010").returncode == 0
    resident = emulator.user(5612, "Lan")
    resident.send_command("/report")
    emulator.wait_for_message(resident, "chưa có cán bộ tiếp nhận")
    assert not _db(bot, "SELECT 1 FROM tips")
