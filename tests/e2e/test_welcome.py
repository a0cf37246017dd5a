"""A newcomer opens the bot: the welcome of SPEC, in their language, with the menus set."""

from __future__ import annotations

import subprocess
import sys

from testing.harness import ROOT


def test_start_greets_in_vietnamese_by_default_with_privacy_notice_and_113(emulator, make_bot):
    make_bot().start()
    resident = emulator.user(5001, "Lan", language_code="vi")
    resident.send_command("/start")
    welcome = emulator.wait_for_message(resident, "113")
    assert "tố giác" in welcome.text
    assert "Telegram" in welcome.text  # Telegram itself knows who writes to a bot
    assert welcome.buttons, "the welcome offers a menu"


def test_start_greets_in_english_for_an_english_telegram_client(emulator, make_bot):
    make_bot().start()
    resident = emulator.user(5002, "John", language_code="en")
    resident.send_command("/start")
    welcome = emulator.wait_for_message(resident, "113")
    assert "Anonymous crime tip-off line" in welcome.text


def test_unknown_deep_link_is_a_plain_start(emulator, make_bot):
    make_bot().start()
    resident = emulator.user(5003, "Mai")
    resident.send_command("/start", "nonsense-payload")
    assert "tố giác" in emulator.wait_for_message(resident, "113").text


def test_command_menus_are_set_per_language_and_role(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS="7001")
    bot.add_officer(7002, "hong-van", name="Officer Vân")
    bot.start()
    for staff_id in (7001, 7002):  # Telegram lets the bot set a chat's menu once they wrote
        staff = emulator.user(staff_id, f"Staff {staff_id}")
        staff.send_command("/start")
        emulator.wait_for_message(staff, "113")
    for staff_id in (7001, 7002):
        emulator.wait_until(lambda s=staff_id: emulator.commands({"type": "chat", "chat_id": s}))
    resident_vi = {c["command"] for c in emulator.commands()}
    resident_en = {c["command"] for c in emulator.commands(language_code="en")}
    assert {"start", "report", "status", "language", "help", "cancel"} <= resident_vi
    assert resident_vi == resident_en
    assert "invite" not in resident_vi
    admin = {c["command"] for c in emulator.commands({"type": "chat", "chat_id": 7001})}
    officer = {c["command"] for c in emulator.commands({"type": "chat", "chat_id": 7002})}
    assert {"invite", "tips"} <= admin
    assert "tips" in officer and "invite" not in officer


def test_bot_without_master_key_exits_2_naming_the_variable(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TIPBOT_TOKEN": "123:abc"}
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )
    assert result.returncode == 2
    assert "TIPBOT_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_officer_and_an_admin_are_greeted_with_their_areas_open_tips_and_commands(
    emulator, make_bot
):
    from testing.journeys import report

    bot = make_bot(TIPBOT_ADMIN_IDS="5091")
    bot.start()
    bot.add_officer(5090, "hong-van", "a-ngo", name="Trung úy Hải")
    officer = emulator.user(5090, "Hải", language_code="vi")
    officer.send_command("/start")
    welcome = emulator.wait_for_message(officer, "113")
    assert "Trung úy Hải" in welcome.text and "cán bộ tiếp nhận" in welcome.text
    assert "Hồng Vân" in welcome.text and "A Ngo" in welcome.text
    assert "Tin báo đang mở: 0" in welcome.text and "/tips" in welcome.text
    assert "m:report" in welcome.callback_data(), "the resident part stays available"

    report(emulator, emulator.user(5092, "Dân"))
    officer.send_command("/help")
    help_text = emulator.wait_for_message(officer, "/tip ").text
    assert "Tin báo đang mở: 1" in help_text and "/report" in help_text

    admin = emulator.user(5091, "Quản trị", language_code="en")
    admin.send_command("/start")
    greeting = emulator.wait_for_message(admin, "113")
    assert "you are an admin" in greeting.text and "all areas" in greeting.text
    assert "Open tips: 1" in greeting.text

    resident = emulator.user(5093, "Lan", language_code="vi")
    resident.send_command("/start")
    assert "👮" not in emulator.wait_for_message(resident, "113").text
