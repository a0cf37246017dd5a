"""Evidence files reach officers as clean, renamed copies: the resident's name, GPS, camera,
author and tags are gone; a file the bot cannot clean is the resident's choice."""

from __future__ import annotations

import io
import re

from emulator import Emulator, UserHandle
from testing import evidence_samples as samples
from testing.journeys import (
    FILE_KINDS,
    at_evidence_step,
    officer_files,
    press,
    send_after_evidence,
    staff_joins,
    to_evidence_step,
    wait_button,
    wait_text,
)

RESIDENT_ID = 55501234
OFFICER_ID = 7002
NEUTRAL_NAME = re.compile(r"evidence-\d+\.[a-z0-9]+")




def _cleaned_copies(emulator: Emulator, resident: UserHandle) -> list:
    return [m for m in emulator.messages(resident.id)
            if m.media_kind in FILE_KINDS and "evidence-" in (m.text or "")]


def _wait_copies(emulator: Emulator, resident: UserHandle, count: int, timeout: float = 30):
    return emulator.wait_until(
        lambda: (copies := _cleaned_copies(emulator, resident)) and len(copies) >= count
        and copies, timeout=timeout,
    )


def test_officers_get_clean_renamed_copies_of_a_jpeg_pdf_docx_mp3_and_mp4(emulator, make_bot):
    bot = make_bot()
    officer, resident = at_evidence_step(emulator, bot, OFFICER_ID, RESIDENT_ID)

    sent = [
        resident.send_document(samples.jpeg_with_exif(), "Nguyen_Van_A.jpg", "image/jpeg"),
        resident.send_document(samples.pdf_with_author(), "Nguyen_Van_A_evidence.pdf",
                               "application/pdf"),
        resident.send_document(
            samples.docx_with_author(), "Nguyen_Van_A.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        resident.send_audio(samples.mp3_with_tags(), "Nguyen_Van_A_ghi_am.mp3"),
    ]
    if samples.has_ffmpeg():
        sent.append(resident.send_video(samples.mp4_with_location(), file_name="VID_Nguyen.mp4"))
    originals = {next(c[k]["file_id"] for k in FILE_KINDS if k in c) for c in sent}

    copies = _wait_copies(emulator, resident, len(sent))
    assert all("🧹" in (c.text or "") for c in copies)
    summary = send_after_evidence(emulator, resident)
    for number, extension in enumerate(("jpg", "pdf", "docx", "mp3", "mp4")[: len(sent)], 1):
        assert f"evidence-{number}.{extension}" in summary

    files = officer_files(emulator, officer, len(sent))
    assert len(files) == len(sent)
    uploads = {u.file_id: u for u in emulator.uploads()}
    for message in files:
        assert message.file_id not in originals, "an original reached the officer"
        stored = uploads[message.file_id]  # a new upload by the bot, not the resident's file
        assert NEUTRAL_NAME.fullmatch(stored.file_name or ""), stored.file_name
        samples.assert_clean(stored.data)
    assert {m.media_kind for m in files} >= {"document", "audio"}
    if samples.has_ffmpeg():
        assert "video" in {m.media_kind for m in files}
    # The officers' copies are exactly what the resident was shown.
    assert {m.file_id for m in files} == {c.file_id for c in copies}
    logs = bot.logs()
    assert "Nguyen" not in logs
    for file_id in originals | {m.file_id for m in files}:
        assert file_id not in logs
        assert file_id.encode() not in bot.data_bytes()


def test_a_file_that_cannot_be_cleaned_is_named_and_the_resident_chooses(emulator, make_bot):
    bot = make_bot()
    officer, resident = at_evidence_step(emulator, bot, OFFICER_ID, RESIDENT_ID)

    resident.send_document(b"\x00\x01 unknown blob one", "So_do_Nguyen.xyz", "application/x-foo")
    asked = wait_text(emulator, resident, "So_do_Nguyen.xyz", timeout=20)
    assert "evd" in " ".join(asked.callback_data())
    leave_out = next(d for d in asked.callback_data() if d.startswith("r:evd:"))
    # Going on is refused while a file waits for the choice.
    step = wait_button(emulator, resident, "r:ev:skip")
    query = resident.click(step.message_id, "r:ev:skip")
    answer = emulator.wait_for_callback_answer(query)
    assert "1" in (answer.get("text") or "")
    resident.click(asked.message_id, leave_out)
    wait_text(emulator, resident, "tin báo sẽ được gửi mà không có tệp này")

    second = b"\x00\x02 unknown blob two, sent as it is"
    resident.send_document(second, "Nguyen_ban_ve.xyz", "application/x-foo")
    asked = wait_text(emulator, resident, "Nguyen_ban_ve.xyz", timeout=20)
    keep = next(d for d in asked.callback_data() if d.startswith("r:evk:"))
    resident.click(asked.message_id, keep)
    _wait_copies(emulator, resident, 1)
    summary = send_after_evidence(emulator, resident)
    assert "evidence-2.xyz" in summary and "nguyên trạng" in summary

    files = officer_files(emulator, officer, 1)
    assert len(files) == 1
    stored = emulator.stored_file(files[0].file_id)
    assert stored.origin == "bot" and stored.file_name == "evidence-2.xyz"
    assert stored.data == second  # as it is: only renamed
    card = wait_text(emulator, officer, "Xe chở hàng lậu")
    assert "T-" in (card.text or "")


def test_a_file_over_20_mb_is_too_large_and_can_still_go_as_it_is(emulator, make_bot):
    bot = make_bot()
    officer, resident = at_evidence_step(emulator, bot, OFFICER_ID, RESIDENT_ID)

    big = resident.send_document(b"%PDF-1.4\n" + bytes(20 * 1024 * 1024), "lon.pdf")
    asked = wait_text(emulator, resident, "20 MB", timeout=20)
    assert not emulator.calls_to("getFile"), "the size is checked before downloading"
    resident.click(asked.message_id, next(d for d in asked.callback_data() if "evk" in d))
    wait_text(emulator, resident, "đúng như bạn đã gửi", timeout=20)
    send_after_evidence(emulator, resident)
    files = officer_files(emulator, officer, 1)
    # Too large to fetch: the only way is the resident's own file id, which they chose.
    assert files[0].file_id == big["document"]["file_id"]


def test_without_ffmpeg_a_video_cannot_be_cleaned_and_is_left_out(emulator, make_bot, tmp_path):
    bare = tmp_path / "bin-without-ffmpeg"
    bare.mkdir()
    bot = make_bot(PATH=str(bare))
    bot.add_officer(OFFICER_ID)
    bot.start()
    officer = staff_joins(emulator, OFFICER_ID)
    resident = emulator.user(RESIDENT_ID, "Cư dân")
    to_evidence_step(emulator, resident)

    resident.send_video(b"\x00\x00\x00\x18ftypmp42" + bytes(256), file_name="VID_20240501.mp4")
    asked = wait_text(emulator, resident, "công cụ làm sạch video", timeout=20)
    resident.click(asked.message_id, next(d for d in asked.callback_data() if "evd" in d))
    wait_text(emulator, resident, "không có tệp này")
    press(emulator, resident, "r:ev:skip")
    press(emulator, resident, "r:fu:anon")
    press(emulator, resident, "r:sum:send")
    card = wait_text(emulator, officer, "Xe chở hàng lậu")
    assert "T-" in (card.text or "")
    assert not [m for m in emulator.messages(officer.id) if m.media_kind in FILE_KINDS]


def test_a_video_note_gets_a_face_warning_and_a_photo_goes_as_it_is(emulator, make_bot):
    bot = make_bot()
    officer, resident = at_evidence_step(emulator, bot, OFFICER_ID, RESIDENT_ID)

    note = resident.send_video_note()
    wait_text(emulator, resident, "khuôn mặt")
    photo = resident.send_photo()
    emulator.wait_for_message(resident, lambda m: "(2/" in (m.text or ""))
    send_after_evidence(emulator, resident)
    files = officer_files(emulator, officer, 2)
    assert {m.file_id for m in files} == {
        note["video_note"]["file_id"], photo["photo"][-1]["file_id"]
    }
    assert not emulator.calls_to("getFile")


def test_a_large_file_being_cleaned_does_not_hold_up_another_resident(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(OFFICER_ID)
    bot.start()
    staff_joins(emulator, OFFICER_ID)
    resident = emulator.user(RESIDENT_ID, "Cư dân")
    other = emulator.user(RESIDENT_ID + 1, "Người khác")
    to_evidence_step(emulator, resident)
    # An 18 MB PDF: pypdf takes a while over it, in a worker thread.
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(400):
        writer.add_blank_page(100, 100)
    writer.add_metadata({"/Author": samples.PERSON})
    out = io.BytesIO()
    writer.write(out)
    resident.send_document(out.getvalue() + b"%" + bytes(18 * 1024 * 1024), "lon.pdf")
    wait_text(emulator, resident, "⏳")
    other.send_command("/start")
    emulator.wait_for_message(other, "113", timeout=2)
    _wait_copies(emulator, resident, 1, timeout=60)


def test_a_cleaning_cut_off_by_kill_9_starts_again_and_the_tip_gets_the_clean_copy(
    emulator, make_bot
):
    bot = make_bot()
    officer, resident = at_evidence_step(emulator, bot, OFFICER_ID, RESIDENT_ID)

    emulator.inject("latency", method="getFile", delay=8, times=1)
    resident.send_document(samples.pdf_with_author(), "Nguyen_Van_A.pdf", "application/pdf")
    wait_text(emulator, resident, "⏳")
    bot.kill9()  # the download is still waiting: the draft says "being cleaned"
    emulator.clear_faults()
    bot.start()

    step = wait_button(emulator, resident, "r:ev:skip")
    query = resident.click(step.message_id, "r:ev:skip")
    assert "làm sạch" in (emulator.wait_for_callback_answer(query).get("text") or "")
    copies = _wait_copies(emulator, resident, 1, timeout=20)
    assert "evidence-1.pdf" in (copies[0].text or "")
    send_after_evidence(emulator, resident)
    files = officer_files(emulator, officer, 1)
    assert files[0].file_id == copies[0].file_id
    samples.assert_clean(emulator.stored_file(files[0].file_id).data)
