"""A district adds its language by dropping `<code>.po` into TIPBOT_LANGUAGES_DIR (SPEC
"Languages"): /language offers it by its own name once complete, and the bot speaks it after it is
chosen; an incomplete catalog is not offered; a catalog that cannot be used stops the start."""

from __future__ import annotations

import json
import subprocess
import sys

from testing.journeys import press, staff_joins, wait_button, wait_text
from testing.languages import write_catalog


def test_a_complete_added_catalog_is_offered_and_used_after_choosing_it(
    emulator, make_bot, tmp_path
):
    folder = tmp_path / "languages"
    write_catalog(folder, "pac", "Pa Kô", mark="[pac] ")
    write_catalog(folder, "kuf", "Cơ Tu", mark="[kuf] ", leave_out=("help",))
    bot = make_bot(TIPBOT_LANGUAGES_DIR=str(folder))
    bot.add_officer(7002, "a-ngo")
    bot.start()
    staff_joins(emulator, 7002)
    resident = emulator.user(5611, "Lành", language_code="vi")

    resident.send_command("/language")
    chooser = wait_button(emulator, resident, "lang:pac")
    assert chooser.button_texts() == ["Tiếng Việt", "English", "Pa Kô"]  # not the incomplete Cơ Tu
    assert "lang:kuf" not in chooser.callback_data()
    # A forged press for the incomplete catalog is an expired button, and changes nothing.
    answer = emulator.wait_for_callback_answer(resident.click_data(chooser.message_id, "lang:kuf"))
    assert answer.get("text") == "Nút này đã hết hạn."

    resident.click(chooser.message_id, "lang:pac")
    wait_text(emulator, resident, "[pac] Đã chuyển sang tiếng Việt.")
    resident.send_command("/start")
    welcome = emulator.wait_for_message(resident, "[pac] Đường dây tố giác tội phạm ẩn danh")
    assert welcome.text.startswith("[pac] ")
    assert "[pac] 📝 Báo tin" in welcome.button_texts()
    resident.send_command("/report")
    prompt = emulator.wait_for_message(resident, "[pac] 1. Loại vụ việc")
    assert "[pac] 💊 Ma túy" in prompt.button_texts()
    resident.send_command("/cancel")
    emulator.wait_for_message(resident, "[pac] Đã hủy.")

    # Back to English from the same keyboard: the choice is remembered per person.
    resident.send_command("/language")
    press(emulator, resident, "lang:en")
    emulator.wait_for_message(resident, "Language set to English")
    assert "[pac]" not in bot.logs()


def test_telegrams_language_picks_an_added_complete_catalog(emulator, make_bot, tmp_path):
    folder = tmp_path / "languages"
    write_catalog(folder, "ko", "Ko", mark="[ko] ")
    write_catalog(folder, "fr", "Français", mark="[fr] ", leave_out=("welcome",))
    bot = make_bot(TIPBOT_LANGUAGES_DIR=str(folder))
    bot.start()
    korean = emulator.user(5612, "A", language_code="ko")
    korean.send_command("/start")
    assert korean.wait_for_message("113").text.startswith("[ko] ")
    french = emulator.user(5613, "B", language_code="fr")  # incomplete: the default, Vietnamese
    french.send_command("/start")
    assert french.wait_for_message("113").text.startswith("Đường dây tố giác")
    # The command menu for Korean clients is published in Korean.
    menus = [call for call in emulator.calls_to("setMyCommands")
             if call.params.get("language_code") == "ko"]
    assert menus
    commands = menus[-1].params["commands"]
    commands = json.loads(commands) if isinstance(commands, str) else commands
    assert commands and all(c["description"].startswith("[ko] ") for c in commands)


def test_a_catalog_that_cannot_be_used_stops_the_start_with_one_line(make_bot, tmp_path):
    folder = tmp_path / "languages"
    folder.mkdir()
    (folder / "pac.po").write_text("not a catalog\n", encoding="utf-8")
    bot = make_bot(TIPBOT_LANGUAGES_DIR=str(folder))
    result = subprocess.run([sys.executable, "-m", "bot"], cwd=bot.workdir, env=bot.env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"tipline: cannot start: TIPBOT_LANGUAGES_DIR: {folder / 'pac.po'}: not a valid gettext"
        " catalog (Unknown or misformatted keyword on 0)"
    ]
    assert "Traceback" not in result.stderr
