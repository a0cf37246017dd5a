"""What a file really is, from its first bytes (the name and the MIME type only break ties).

A file's name and declared type come from the sender's phone and can be anything; the cleaner
must pick its method from the content, or a PDF named `.jpg` would go through unread.
"""

from __future__ import annotations

# ISO base media "ftyp" brands: audio-only, QuickTime, 3GPP, and still images (HEIF/AVIF).
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
_QUICKTIME_BRANDS = {b"qt  "}
_3GP_BRANDS = {b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3g2a", b"3g2b", b"3g2c"}
_STILL_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
                 b"avif", b"avis"}


def detect(data: bytes, file_name: str | None = None, mime_type: str | None = None) -> str | None:
    """A format code ("jpeg", "pdf", "docx", "mp3", "mp4"…) or None when unknown."""
    name = (file_name or "").lower()
    mime = (mime_type or "").lower()
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}.get(head[8:12])
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _office_flavour(data)
    if head[4:8] == b"ftyp" and len(head) >= 12:
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return "m4a"
        if brand in _QUICKTIME_BRANDS:
            return "mov"
        if brand in _3GP_BRANDS:
            return "3gp"
        if brand in _STILL_BRANDS:
            return None  # HEIF/AVIF stills: no well-kept cleaner here
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in data[:64] else "mkv"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and (
        name.endswith(".mp3") or mime in ("audio/mpeg", "audio/mp3")
    ):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"#!AMR"):
        return "amr"
    if head.startswith(b"BM") and (name.endswith(".bmp") or mime == "image/bmp"):
        return "bmp"
    if (name.endswith(".txt") or mime == "text/plain") and _is_text(data):
        return "txt"
    return None


def _office_flavour(data: bytes) -> str | None:
    """docx, xlsx or pptx from the zip's part names (read lazily, no extraction)."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for part, flavour in (
        ("word/document.xml", "docx"),
        ("xl/workbook.xml", "xlsx"),
        ("ppt/presentation.xml", "pptx"),
    ):
        if part in names:
            return flavour
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
