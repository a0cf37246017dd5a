"""The officer's copies of a PDF with an attached file and of an M4A with a QuickTime place
(the review's probe, real bot and emulator): neither the attachment, its name, nor the place
and artist reach the officer."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter

from testing import evidence_samples as samples
from testing.journeys import (
    FILE_KINDS,
    at_evidence_step,
    officer_files,
    send_after_evidence,
)

RESIDENT_ID = 55501311
OFFICER_ID = 7002


def _pdf_with_attachment() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf_with_author())))
    writer.add_attachment("Nguyen_Van_A_original.docx", samples.docx_with_author())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _m4a_with_location() -> bytes:
    return samples._ffmpeg(
        "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac",
        "-metadata", f"location={samples.LOCATION}", "-metadata", f"artist={samples.ARTIST}",
        "-brand", "M4A ", "-f", "mov", suffix=".m4a",
    )  # fmt: skip


@pytest.mark.skipif(not samples.has_ffmpeg(), reason="ffmpeg is not installed")
def test_officer_gets_the_pdf_without_its_attachment_and_the_m4a_without_its_place(
    emulator, make_bot
):
    bot = make_bot()
    officer, resident = at_evidence_step(emulator, bot, OFFICER_ID, RESIDENT_ID)
    resident.send_document(_pdf_with_attachment(), "bao-cao.pdf", "application/pdf")
    resident.send_audio(_m4a_with_location(), "ghi-am.m4a")
    emulator.wait_until(lambda: len([m for m in emulator.messages(resident.id)
                                     if m.media_kind in FILE_KINDS
                                     and "evidence-" in (m.text or "")]) >= 2, timeout=30)
    send_after_evidence(emulator, resident)
    files = officer_files(emulator, officer, 2)
    uploads = {u.file_id: u for u in emulator.uploads()}
    received = {uploads[m.file_id].file_name: uploads[m.file_id].data for m in files}
    assert set(received) == {"evidence-1.pdf", "evidence-2.m4a"}
    pdf = received["evidence-1.pdf"]
    samples.assert_clean(pdf)
    assert PdfReader(io.BytesIO(pdf)).attachments == {}
    assert b"PK\x03\x04" not in pdf
    m4a = received["evidence-2.m4a"]
    samples.assert_clean(m4a)
    assert b"\xa9xyz" not in m4a and m4a[4:8] == b"ftyp"
