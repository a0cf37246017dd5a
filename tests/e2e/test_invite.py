"""Staffing the line: an admin's one-time /invite link, and `python -m bot officers add|list`."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

from bot.areas import load_areas
from tests.e2e.journeys import report, staff_joins, wait_button, wait_text

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
