"""evidence.clean: each kind of file comes out without who made it, and still opens."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from evidence.clean import (
    ENCRYPTED,
    MACROS,
    MAX_BYTES,
    NO_FFMPEG,
    TOO_LARGE,
    UNKNOWN_TYPE,
    UNREADABLE,
    CannotClean,
    clean,
)
from testing import evidence_samples as samples

needs_ffmpeg = pytest.mark.skipif(not samples.has_ffmpeg(), reason="ffmpeg is not installed")


def test_a_jpeg_loses_gps_artist_serial_and_comment_and_stays_upright() -> None:
    original = samples.jpeg_with_exif(orientation=6, size=(40, 20))
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(0x8825)  # the sample does carry GPS
    result = clean(original, "Nguyen_Van_A.jpg", "image/jpeg")
    assert (result.fmt, result.extension) == ("jpeg", "jpg")
    samples.assert_clean(result.data)
    with Image.open(io.BytesIO(result.data)) as after:
        assert dict(after.getexif()) == {}
        assert "comment" not in after.info and "xmp" not in after.info
        # Orientation 6 (rotate 90° clockwise) is applied to the pixels: 40x20 becomes 20x40,
        # and the blue left half is now on top.
        assert after.size == (20, 40)
        red, _green, blue = after.convert("RGB").getpixel((10, 5))
        assert blue > 150 and red < 100


def test_a_png_loses_its_text_chunks() -> None:
    result = clean(samples.png_with_text(), "anh.png", "image/png")
    assert result.extension == "png"
    samples.assert_clean(result.data)
    with Image.open(io.BytesIO(result.data)) as after:
        assert after.size == (8, 8) and not getattr(after, "text", {})


def test_a_pdf_loses_author_title_xmp_and_annotation_author() -> None:
    from pypdf import PdfReader

    result = clean(samples.pdf_with_author(), "Nguyen_Van_A_evidence.pdf", "application/pdf")
    assert result.extension == "pdf"
    samples.assert_clean(result.data)
    reader = PdfReader(io.BytesIO(result.data))
    assert len(reader.pages) == 1
    assert not reader.metadata
    assert "/Metadata" not in reader.trailer["/Root"]
    assert "/ID" not in reader.trailer
    note = reader.pages[0]["/Annots"][0].get_object()
    assert note["/Contents"] == "xem trang 2" and "/T" not in note


def test_an_encrypted_pdf_cannot_be_cleaned() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(10, 10)
    writer.encrypt("mat-khau")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(CannotClean) as caught:
        clean(out.getvalue(), "x.pdf", "application/pdf")
    assert caught.value.reason == ENCRYPTED


def test_a_docx_loses_its_author_company_custom_properties_and_revision_author() -> None:
    result = clean(samples.docx_with_author(), "Nguyen_Van_A.docx", None)
    assert result.extension == "docx"
    samples.assert_clean(result.data)
    with zipfile.ZipFile(io.BytesIO(result.data)) as package:
        names = package.namelist()
        assert "docProps/custom.xml" not in names
        assert b"custom.xml" not in package.read("[Content_Types].xml")
        assert b"custom.xml" not in package.read("_rels/.rels")
        assert b"<dc:creator>" not in package.read("docProps/core.xml")
        assert b'w:author=""' in package.read("word/document.xml")
        assert b"Xe tai cho go" in package.read("word/document.xml")  # the content stays
        assert {info.date_time for info in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_an_xlsx_loses_comment_authors_and_its_folder() -> None:
    workbook = (
        b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac">'
        b'<x15ac:absPath url="C:\\Users\\Nguyen Van A\\Desktop\\"/></workbook>'
    )
    comments = b"<comments><authors><author>Nguyen Van A</author></authors></comments>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("xl/workbook.xml", workbook)
        package.writestr("xl/comments1.xml", comments)
        package.writestr("docProps/core.xml", "<dc:creator>Nguyen Van A</dc:creator>")
    result = clean(out.getvalue(), "so-lieu.xlsx", None)
    assert result.extension == "xlsx"
    samples.assert_clean(result.data)


def test_an_office_file_with_macros_is_not_cleaned() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document/>")
        package.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0")
    with pytest.raises(CannotClean) as caught:
        clean(out.getvalue(), "a.docm", None)
    assert caught.value.reason == MACROS


def test_an_mp3_loses_id3_v2_and_v1() -> None:
    import mutagen

    original = samples.mp3_with_tags()
    assert mutagen.File(io.BytesIO(original)).tags["TPE1"].text == [samples.ARTIST]
    result = clean(original, "ghi-am.mp3", "audio/mpeg")
    assert result.extension == "mp3"
    samples.assert_clean(result.data)
    again = mutagen.File(io.BytesIO(result.data))
    assert again is not None and not again.tags
    assert b"TAG" not in result.data[-128:]


def test_a_wav_keeps_only_its_sound() -> None:
    import wave

    result = clean(samples.wav_with_info(), "ghi-am.wav", "audio/wav")
    samples.assert_clean(result.data)
    with wave.open(io.BytesIO(result.data)) as sound:
        assert sound.getnframes() == 800


@needs_ffmpeg
def test_a_flac_loses_comments_and_cover_picture() -> None:
    from mutagen.flac import FLAC

    result = clean(samples.flac_with_tags(), "a.flac", "audio/flac")
    samples.assert_clean(result.data)
    again = FLAC(io.BytesIO(result.data))
    assert not again.tags and not again.pictures


@needs_ffmpeg
def test_an_mp4_loses_location_title_and_track_names() -> None:
    result = clean(samples.mp4_with_location(), "VID_Nguyen.mp4", "video/mp4")
    assert (result.fmt, result.extension) == ("mp4", "mp4")
    samples.assert_clean(result.data)
    assert b"Lavf" not in result.data  # no encoder tag either
    assert b"moov" in result.data and b"mdat" in result.data


def test_without_ffmpeg_a_video_cannot_be_cleaned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    with pytest.raises(CannotClean) as caught:
        clean(video, "v.mp4", "video/mp4")
    assert caught.value.reason == NO_FFMPEG


@needs_ffmpeg
def test_a_broken_video_is_unreadable() -> None:
    with pytest.raises(CannotClean) as caught:
        clean(b"\x00\x00\x00\x18ftypmp42" + bytes(64), "v.mp4", "video/mp4")
    assert caught.value.reason == UNREADABLE


def test_the_content_decides_not_the_name() -> None:
    # A PDF named .jpg is cleaned as a PDF; a zip that is no Office file is unknown.
    result = clean(samples.pdf_with_author(), "photo.jpg", "image/jpeg")
    assert result.extension == "pdf"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "x")
    for data in (out.getvalue(), b"\x00\x01 binary blob", b"MZ\x90\x00 an exe"):
        with pytest.raises(CannotClean) as caught:
            clean(data, "Nguyen_Van_A.docx", None)
        assert caught.value.reason == UNKNOWN_TYPE


def test_broken_files_are_unreadable_not_crashes() -> None:
    for data in (b"\xff\xd8\xff\xe0 broken jpeg", b"%PDF-1.4 nothing else", b"ID3\x04 broken"):
        with pytest.raises(CannotClean) as caught:
            clean(data, "x", None)
        assert caught.value.reason == UNREADABLE


def test_too_large_and_plain_text() -> None:
    with pytest.raises(CannotClean) as caught:
        clean(b"x" * (MAX_BYTES + 1), "big.txt", "text/plain")
    assert caught.value.reason == TOO_LARGE
    result = clean("Biển số 75A-123.45".encode(), "ghi-chu.txt", "text/plain")
    assert result.extension == "txt"
