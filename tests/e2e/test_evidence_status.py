"""Files added from /status are cleaned too: officers get `evidence-N` copies without who
made them; a file the bot cannot clean waits for the resident's choice."""

from __future__ import annotations

import re

from emulator import Emulator, UserHandle
from testing import evidence_samples as samples
from testing.journeys import open_additions, report, staff_joins, wait_text

OFFICER_ID = 7002
FILE_KINDS = ("document", "audio", "video", "animation", "photo", "voice", "video_note")




def _officer_files(emulator: Emulator, officer: UserHandle) -> list:
    return [m for m in emulator.messages(officer.id) if m.media_kind in FILE_KINDS]


def test_a_file_added_from_status_reaches_the_officer_cleaned_and_renamed(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(OFFICER_ID, "hong-van")
    bot.start()
    officer = staff_joins(emulator, OFFICER_ID)
    resident = emulator.user(5304, "Thu")
    code = report(emulator, resident, texts=("Buôn gỗ lậu ở khe suối.",))
    wait_text(emulator, officer, "Buôn gỗ lậu")
    open_additions(emulator, resident, code)

    original = resident.send_document(samples.pdf_with_author(), "Nguyen_Van_A_evidence.pdf",
                                      "application/pdf", caption="biên bản")
    copy = wait_text(emulator, resident, "evidence-1.pdf", timeout=20)
    assert copy.media_kind == "document"
    wait_text(emulator, resident, "Đã nhận")
    delivered = emulator.wait_until(lambda: _officer_files(emulator, officer), timeout=20)
    assert delivered[0].file_id == copy.file_id != original["document"]["file_id"]
    stored = emulator.stored_file(delivered[0].file_id)
    assert stored.origin == "bot" and stored.file_name == "evidence-1.pdf"
    samples.assert_clean(stored.data)
    assert wait_text(emulator, officer, "biên bản")

    # A file it cannot clean: left out, it never reaches the officer.
    resident.send_document(b"\x00 blob", "Nguyen_so_do.xyz", "application/x-foo")
    asked = wait_text(emulator, resident, "Nguyen_so_do.xyz", timeout=20)
    resident.click(asked.message_id, next(d for d in asked.callback_data() if "evd" in d))
    wait_text(emulator, resident, "không được gửi cho cán bộ")
    # Another: sent as it is, renamed.
    resident.send_document(b"\x00 blob kept", "Nguyen_ban_ve.xyz", "application/x-foo")
    asked = wait_text(emulator, resident, "Nguyen_ban_ve.xyz", timeout=20)
    resident.click(asked.message_id, next(d for d in asked.callback_data() if "evk" in d))
    emulator.wait_until(lambda: len(_officer_files(emulator, officer)) >= 2, timeout=20)
    files = _officer_files(emulator, officer)
    assert len(files) == 2
    kept = emulator.stored_file(files[1].file_id)
    assert kept.origin == "bot" and re.fullmatch(r"evidence-3\.xyz", kept.file_name or "")
    assert kept.data == b"\x00 blob kept"
    assert "Nguyen" not in bot.logs()
