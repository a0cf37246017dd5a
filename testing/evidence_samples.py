"""Evidence files full of identifying metadata, made on the spot (nothing downloaded).

Every sample carries the same give-aways, so a test can check that none of them survives:
the person's name, a GPS position, a camera serial, an artist and a title.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tempfile
import wave
import zipfile
from pathlib import Path

PERSON = "Nguyen Van A"
SERIAL = "SN-4417-CAMERA"
ARTIST = "Tran Thi B Recorder"
TITLE = "Ghi am nha ong Nguyen"
LOCATION = "+16.2312+107.4531/"
GPS_LATITUDE = (16, 13, 52)
#: Byte strings that must not appear in any cleaned copy.
GIVEAWAYS = (PERSON.encode(), SERIAL.encode(), ARTIST.encode(), TITLE.encode(), b"107.4531",
             b"Nguyen")


def jpeg_with_exif(orientation: int = 1, size: tuple[int, int] = (40, 20)) -> bytes:
    """A JPEG whose EXIF has GPS, an Artist, a camera serial, and an orientation."""
    from PIL import Image

    image = Image.new("RGB", size, (200, 30, 30))
    for x in range(size[0] // 2):  # the left half is blue: shows where the picture's left is
        for y in range(size[1]):
            image.putpixel((x, y), (20, 20, 220))
    exif = Image.Exif()
    exif[0x013B] = PERSON  # Artist
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = orientation
    exif[0xA431] = SERIAL  # BodySerialNumber (Exif IFD tag, accepted at top level by Pillow)
    exif[0x8298] = f"(c) {PERSON}"  # Copyright
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = GPS_LATITUDE
    gps[3] = "E"
    gps[4] = (107, 27, 11)
    out = io.BytesIO()
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{PERSON}</dc:creator></x:xmpmeta>'
    image.save(out, "JPEG", exif=exif.tobytes(), comment=PERSON.encode(), xmp=xmp.encode())
    return out.getvalue()


def png_with_text() -> bytes:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", PERSON)
    info.add_itxt("Comment", f"GPS {LOCATION}")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 120, 0)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def pdf_with_author() -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": PERSON, "/Title": TITLE, "/Creator": f"Word ({SERIAL})"})
    note = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"),
        NameObject("/Subtype"): NameObject("/Text"),
        NameObject("/Rect"): ArrayObject([]),
        NameObject("/T"): TextStringObject(ARTIST),
        NameObject("/Contents"): TextStringObject("xem trang 2"),
    })
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(note)])
    xmp = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{PERSON}</dc:creator>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    from pypdf.generic import StreamObject

    stream = StreamObject()
    stream.set_data(xmp.encode())
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    writer.root_object[NameObject("/Metadata")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
    'package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.extended-properties+xml"/>'
    '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.custom-properties+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/extended-properties" Target="docProps/app.xml"/>'
    '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>'
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_with_author() -> bytes:
    """A Word document whose properties, comments and tracked changes name its author."""
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>{PERSON}'
        f'</dc:creator><cp:lastModifiedBy>{PERSON}</cp:lastModifiedBy><dc:title>{TITLE}'
        '</dc:title><dcterms:created xsi:type="dcterms:W3CDTF">2024-05-01T07:00:00Z'
        '</dcterms:created></cp:coreProperties>'
    )
    app = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://'
        'schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Company>'
        f'Cong ty cua {PERSON}</Company><Template>Normal.dotm</Template></Properties>'
    )
    custom = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://'
        'schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://'
        'schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD'
        '505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Owner"><vt:lpwstr>'
        f'{SERIAL}</vt:lpwstr></property></Properties>'
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}">'
        '<w:body><w:p><w:r><w:t>Xe tai cho go lau luc 2 gio sang.</w:t></w:r>'
        f'<w:ins w:id="1" w:author="{PERSON}" w:date="2024-05-01T07:00:00Z"><w:r><w:t> them'
        '</w:t></w:r></w:ins></w:p></w:body></w:document>'
    )
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _RELS,
        "docProps/core.xml": core,
        "docProps/app.xml": app,
        "docProps/custom.xml": custom,
        "word/document.xml": document,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 1, 14, 3, 2)), body)
    return out.getvalue()


def docx_with_much_text(paragraphs: int = 300_000) -> bytes:
    """`docx_with_author` whose text is `paragraphs` paragraphs: a small file (XML compresses
    well, ~80 KB for 22 MB of it) that takes its cleaner seconds of parsing."""
    source = zipfile.ZipFile(io.BytesIO(docx_with_author()))
    body = "<w:p><w:r><w:t>Xe tai cho go lau luc 2 gio sang.</w:t></w:r></w:p>" * paragraphs
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            data = source.read(name)
            if name == "word/document.xml":
                data = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document '
                        f'xmlns:w="{_W}"><w:body>{body}</w:body></w:document>').encode()
            entry = zipfile.ZipInfo(name, date_time=(2024, 5, 1, 14, 3, 2))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return out.getvalue()


def mp3_with_tags() -> bytes:
    """MPEG-1 layer III frames (silent) behind an ID3v2 tag with an artist and a title."""
    from mutagen.id3 import COMM, ID3, TIT2, TPE1

    frame = b"\xff\xfb\x90\x00" + bytes(413)  # 128 kbit/s, 44.1 kHz: 417 bytes a frame
    buffer = io.BytesIO(frame * 40)
    tags = ID3()
    tags.add(TPE1(encoding=3, text=[ARTIST]))
    tags.add(TIT2(encoding=3, text=[TITLE]))
    tags.add(COMM(encoding=3, lang="vie", desc="", text=[PERSON]))
    tags.save(buffer)
    # ID3v1 at the end too, as old recorders write it.
    v1 = b"TAG" + TITLE.encode()[:30].ljust(30, b"\0") + ARTIST.encode()[:30].ljust(30, b"\0")
    return buffer.getvalue() + v1 + bytes(128 - len(v1))


def wav_with_info() -> bytes:
    """A short WAV with a LIST/INFO chunk naming the artist."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(bytes(1600))
    data = buffer.getvalue()
    artist = ARTIST.encode() + b"\0"
    info = b"INFO" + b"IART" + struct.pack("<I", len(artist)) + artist
    if len(info) % 2:
        info += b"\0"
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    body = data[12:] + chunk
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def has_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None


def _ffmpeg(*arguments: str, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"sample{suffix}"
        subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *arguments,
             str(target)],
            check=True, capture_output=True, timeout=60,
        )
        return target.read_bytes()


def mp4_with_location() -> bytes:
    """A one-second MP4 whose container says where, who and what (needs ffmpeg)."""
    return _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-f", "lavfi",
        "-i", "sine=frequency=440", "-t", "1", "-c:v", "mpeg4", "-c:a", "aac",
        "-metadata", f"title={TITLE}", "-metadata", f"location={LOCATION}",
        "-metadata", f"artist={ARTIST}", "-metadata", f"comment={PERSON} {SERIAL}",
        "-metadata:s:v", f"handler_name={SERIAL}",
        suffix=".mp4",
    )  # fmt: skip


def flac_with_tags() -> bytes:
    """A FLAC with Vorbis comments and a cover picture (needs ffmpeg)."""
    from mutagen.flac import FLAC, Picture

    data = _ffmpeg("-f", "lavfi", "-i", "sine=frequency=300", "-t", "0.5", suffix=".flac")
    buffer = io.BytesIO(data)
    audio = FLAC(buffer)
    audio["artist"] = ARTIST
    audio["title"] = TITLE
    picture = Picture()
    picture.data = jpeg_with_exif()
    picture.mime = "image/jpeg"
    audio.add_picture(picture)
    buffer.seek(0)
    audio.save(buffer)
    return buffer.getvalue()


def assert_clean(data: bytes) -> None:
    """None of the give-aways is in `data` (case-insensitive, also as UTF-16)."""
    lowered = data.lower()
    for giveaway in GIVEAWAYS:
        assert giveaway.lower() not in lowered, giveaway
        assert giveaway.decode().encode("utf-16-le").lower() not in lowered, giveaway
