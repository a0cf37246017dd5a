"""An Office file reaches officers clean inside too, or the resident is told it cannot be.

A docx carrying a phone photo (EXIF with GPS, artist, camera serial) and a chart's workbook
that names its author goes to the officer with neither; a docx carrying an OLE object is
named to the resident with the reason, never with the "cleaned" promise.
"""

from __future__ import annotations

import io
import zipfile

from testing import evidence_samples as samples
from testing.journeys import (
    at_evidence_step,
    officer_files,
    send_after_evidence,
    wait_text,
)

RESIDENT_ID = 55501301
OFFICER_ID = 7002
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx_with(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(samples.docx_with_author())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry, source.read(entry))
        for name, body in parts.items():
            target.writestr(name, body)
    return out.getvalue()


def _assert_clean_package(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            body = package.read(name)
            if body[:2] == b"PK":
                _assert_clean_package(body)
            else:
                samples.assert_clean(body)


def test_an_office_file_is_clean_inside_or_the_resident_chooses(emulator, make_bot):
    """Seen to fail on the old code (the probe of review 3): the officer's copy kept the
    photo's EXIF and the embedded workbook's author."""
    bot = make_bot()
    officer, resident = at_evidence_step(emulator, bot, OFFICER_ID, RESIDENT_ID)

    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"C:\\Users\\NguyenVanA\\a.pdf"
    resident.send_document(_docx_with({"word/embeddings/oleObject1.bin": ole}),
                           "co_doi_tuong.docx", DOCX)
    asked = wait_text(emulator, resident, "co_doi_tuong.docx", timeout=30)
    assert "bên trong" in (asked.text or "")  # the reason: something inside cannot be cleaned
    assert "Bản đã làm sạch" not in (asked.text or "")
    leave_out = next(d for d in asked.callback_data() if d.startswith("r:evd:"))
    resident.click(asked.message_id, leave_out)
    wait_text(emulator, resident, "tin báo sẽ được gửi mà không có tệp này")

    resident.send_document(_docx_with({
        "word/media/image1.jpeg": samples.jpeg_with_exif(),
        "word/embeddings/Microsoft_Excel_Worksheet.xlsx": samples.docx_with_author(),
    }), "bao-cao.docx", DOCX)
    emulator.wait_until(lambda: any("evidence-" in (m.text or "") and m.media_kind == "document"
                                    for m in emulator.messages(resident.id)), timeout=30)
    send_after_evidence(emulator, resident)
    files = officer_files(emulator, officer, 1, kinds=("document",))
    assert len(files) == 1
    stored = emulator.stored_file(files[0].file_id)
    assert stored.file_name.startswith("evidence-") and stored.file_name.endswith(".docx")
    _assert_clean_package(stored.data)
    with zipfile.ZipFile(io.BytesIO(stored.data)) as package:
        assert package.read("word/media/image1.jpeg")[:3] == b"\xff\xd8\xff"  # still a photo
