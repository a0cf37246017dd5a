"""Word, Excel and PowerPoint files (docx, xlsx, pptx) without their authors.

These are zip packages of parts. The document properties name the author, who saved it last,
the company, the template, the editing time; custom properties carry whatever a company system
put there. The package is written anew, part by part, and no part goes out unread:

- XML parts: the properties emptied (custom properties dropped, with their references); the
  authors of comments, tracked changes, threaded comments, co-authoring records, pivot-table
  refreshes and shared-workbook users blanked; user folders (`C:\\Users\\<name>\\`) in any
  attribute or text renamed; Word's document variables removed.
- Relationship parts (`*.rels`): every external target that is not a web or mail hyperlink (an
  attached template, a linked workbook, a linked picture or OLE object: all file paths on the
  author's computer or server) is blanked. Internal relationships stay, so the document opens.
- Parts dropped whole, with the relationships and content types that point at them and the
  `r:id` that refer to those relationships: `customXml/` (SharePoint's author, account id,
  document id; bibliography sources go with it), `docProps/custom.xml`, the printer settings
  (a Windows DEVMODE: the printer's name, often the office's or the computer's), and digital
  signatures (a certificate names the signer, and the rewrite voids the signature anyway).
- Embedded Office packages (a chart's workbook in `word/embeddings/`, a pasted slide…) are
  cleaned by this same cleaner, recursively, down to `MAX_DEPTH`, within one budget of parts,
  unpacked bytes and pixels for the whole file: a zip bomb or a package nested in itself stops
  at a bound, not at the machine's memory.
- Pictures (`media/`, the thumbnail) are encoded anew by evidence.images, in their own format
  (EXIF: GPS, camera serial, owner). Audio and video parts go through the cleaner the caller
  passes in (evidence.clean's, the one for files sent alone). EMF/WMF drawings keep their
  vector records, with the EMF description blanked; one that carries an embedded photo's
  EXIF or XMP is not cleaned.
- Anything else (an OLE object `.bin`, an old `.doc`/`.xls` inside, ActiveX controls, a format
  Pillow cannot read): the whole file is refused with `EMBEDDED`. Dropping such a part would
  leave a document that Word repairs or refuses, and keeping it would break the promise the
  resident is given ("without place, device or author"): an OLE package holds the attached
  file's full path, an old `.xls` its author. The resident is told, and chooses to send it as
  it is or not at all (handlers/resident/report.py), as for any file that cannot be cleaned.

Every entry's time is set to one neutral date (zip times tell when and in which time zone the
file was saved); zip comments and extra fields are not copied.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from PIL import Image

from evidence.images import MAX_PIXELS, clean_image
from evidence.sniff import detect

MAX_PARTS = 5000  # for the whole file, embedded packages included
MAX_UNPACKED = 200 * 1024 * 1024  # a zip bomb stops here (all levels together)
#: The top package is depth 0; a chart's workbook inside a document is depth 1. A package
#: deeper than this is refused: nothing real nests further, and each level multiplies the work.
MAX_DEPTH = 2
#: Pixels decoded for all the pictures of one file together: a small docx can hold many
#: highly compressible pictures of 80 megapixels, each seconds of CPU and hundreds of MB.
MAX_TOTAL_PIXELS = 2 * MAX_PIXELS

#: Reasons NotCleanable gives (evidence.clean maps them to what the resident is told).
MACROS = "macros"
TOO_LARGE = "too_large"
EMBEDDED = "embedded"
ENCRYPTED = "encrypted"

EMPTY_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
EMPTY_APP = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-'
    b'properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'docPropsVTypes"/>'
)
NEUTRAL_TIME = (1980, 1, 1, 0, 0, 0)

#: Parts dropped whole (lower-case part names, without the leading "/").
_DROPPED = re.compile(
    r"^(?:docprops/custom\.xml|customxml/.*|_xmlsignatures/.*"
    r"|package/services/digital-signature/.*|(?:.*/)?printersettings/[^/]*)$"
)
#: Embedded fonts: the font maker's files (Word obfuscates them, so no content check applies).
_FONT = re.compile(r"^(?:.*/)?fonts/[^/]*\.(?:odttf|fntdata|ttf|otf)$")

# Attributes that name people in any part: comment and revision authors (w:author, w:initials),
# the people part and modern comments (userId, providerId), Excel's shared-file user name, the
# last person who refreshed a pivot table.
_PERSON_ATTRIBUTE = re.compile(
    rb"(\s(?:[A-Za-z0-9_]+:)?(?:author|initials|userId|providerId|userName|refreshedBy)=)"
    rb"(\"[^\"]*\"|'[^']*')"
)
# Excel's comment authors are elements: <author>Name</author>.
_AUTHOR_ELEMENT = re.compile(rb"(<(?:[A-Za-z0-9_]+:)?author>)[^<]*(</(?:[A-Za-z0-9_]+:)?author>)")
# Tags whose name= or displayName= is a person: PowerPoint's <p:cmAuthor name="…"> and
# <p188:author name="…">, PowerPoint's co-authoring <pc:chgData name="…">, Excel's shared
# workbook <userInfo name="…">, Excel's threaded-comment <person displayName="…">. Only these:
# elsewhere name= and displayName= are sheet, table or style names the file needs.
_PERSON_TAG = re.compile(
    rb"<(?:[A-Za-z0-9_]+:)?(?:cmAuthor|author|chgData|userInfo|person)\b[^>]*>"
)
_NAME_ATTRIBUTE = re.compile(rb"(\s(?:name|displayName)=)(\"[^\"]*\"|'[^']*')")
# Excel: <x15ac:absPath url="C:\Users\<name>\Desktop\"/>.
_ABS_PATH = re.compile(rb"(<(?:[A-Za-z0-9_]+:)?absPath\b[^>]*\surl=)(\"[^\"]*\"|'[^']*')")
# A user's folder anywhere (data connections, mail-merge sources, field codes):
# C:\Users\<name>\, C:/Documents and Settings/<name>/, file:///Users/<name>/, /home/<name>/.
# The match starts at the separator before the folder (not at the drive), which keeps the scan
# of a large part fast; a separator after a letter is a web address's path, not a disk's.
_USER_FOLDER = re.compile(
    rb"(?i)((?<![A-Za-z0-9._~-])(?:\\|/|%5c|%2f)"
    rb"(?:users|documents and settings|home)(?:\\|/|%5c|%2f)+)"
    rb"(?!user(?:\\|/|%5c|%2f|\"|'|<|$))[^\\/\"'<>&%]+"
)
# Word's document variables (settings.xml): values templates and macros store, names included.
_DOC_VARS = re.compile(rb"<w:docVars\b(?:[^>]*/>|.*?</w:docVars>)", re.DOTALL)
# SVG pictures: Inkscape and Illustrator write the author and the file's own path.
_SVG_METADATA = re.compile(rb"<(?:[A-Za-z0-9_]+:)?metadata\b(?:[^>]*/>|.*?</(?:[A-Za-z0-9_]+:)?"
                           rb"metadata>)", re.DOTALL)
_SVG_PATH_ATTRIBUTE = re.compile(
    rb"\s(?:sodipodi:docname|inkscape:export-filename|sodipodi:absref|inkscape:dataloss"
    rb"|xml:base)=(?:\"[^\"]*\"|'[^']*')"
)

_RELATIONSHIP = re.compile(rb"<(?:[A-Za-z0-9_]+:)?Relationship\b[^>]*>")
_OVERRIDE = re.compile(rb"<(?:[A-Za-z0-9_]+:)?Override\b[^>]*>")
_HYPERLINK_SCHEMES = (b"http://", b"https://", b"mailto:")
#: Inside an EMF or WMF: the marks of a photo's EXIF or XMP (EMF+ can embed a whole JPEG).
_PHOTO_METADATA = (b"Exif\x00\x00", b"http://ns.adobe.com/xap/1.0/", b"<x:xmpmeta",
                   b"tEXt", b"iTXt", b"zTXt")

#: Cleans an embedded audio, video or PDF part of format `fmt`: (bytes, extension).
MediaCleaner = Callable[[bytes, str], tuple[bytes, str]]

_PICTURES = ("jpeg", "png", "gif", "webp", "tiff", "bmp")
_PACKAGES = ("docx", "xlsx", "pptx")
_PIL_FORMAT = {"tiff": "TIFF", "bmp": "BMP"}


class NotCleanable(Exception):
    """The package holds what this cleaner does not rewrite; `reason` is one of the above."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Budget:
    """What the whole file may still cost, shared by every package nested in it."""

    parts: int
    unpacked: int
    pixels: int

    def take(self, parts: int, unpacked: int) -> None:
        self.parts -= parts
        self.unpacked -= unpacked
        if self.parts < 0 or self.unpacked < 0:
            raise NotCleanable(TOO_LARGE)

    def take_pixels(self, pixels: int) -> None:
        self.pixels -= pixels
        if self.pixels < 0:
            raise NotCleanable(TOO_LARGE)


@dataclass
class _Relationships:
    """The package's .rels parts, cleaned, and the relationship ids removed per source part."""

    cleaned: dict[str, bytes] = field(default_factory=dict)
    removed: dict[str, set[bytes]] = field(default_factory=dict)


def clean_office(data: bytes, media: MediaCleaner | None = None) -> bytes:
    """The package without authors. Raises NotCleanable, or zipfile.BadZipFile.

    `media` cleans embedded audio, video and PDF parts; without it such parts make the file
    NotCleanable(EMBEDDED) (this module cannot import evidence.clean, which imports it).
    """
    return _clean_package(data, _Budget(MAX_PARTS, MAX_UNPACKED, MAX_TOTAL_PIXELS), 0, media)


def _clean_package(data: bytes, budget: _Budget, depth: int, media: MediaCleaner | None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        entries = [entry for entry in source.infolist() if not entry.is_dir()]
        # zipfile stops reading an entry at its declared size (and then checks its CRC), so
        # the declared sizes are a true bound of what reading them costs.
        budget.take(len(entries), sum(entry.file_size for entry in entries))
        if any(entry.filename.lower().endswith("vbaproject.bin") for entry in entries):
            raise NotCleanable(MACROS)  # a VBA project records its author's paths and names
        if any(entry.flag_bits & 0x1 for entry in entries):
            raise NotCleanable(ENCRYPTED)
        dropped = {e.filename.lower() for e in entries if _DROPPED.match(e.filename.lower())}
        relationships = _Relationships()
        for entry in entries:
            if entry.filename.endswith(".rels") and entry.filename.lower() not in dropped:
                _clean_relationships(entry.filename, source.read(entry), dropped, relationships)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in entries:
                name = entry.filename
                if name.lower() in dropped:
                    continue
                if name in relationships.cleaned:
                    payload = relationships.cleaned[name]
                else:
                    removed = relationships.removed.get(name.lower(), set())
                    payload = _clean_part(name, source.read(entry), dropped, removed,
                                          budget, depth, media)
                fresh = zipfile.ZipInfo(name, date_time=NEUTRAL_TIME)
                fresh.compress_type = zipfile.ZIP_DEFLATED
                fresh.external_attr = 0o644 << 16
                target.writestr(fresh, payload)
    return out.getvalue()


def _clean_part(
    name: str,
    payload: bytes,
    dropped: set[str],
    removed: set[bytes],
    budget: _Budget,
    depth: int,
    media: MediaCleaner | None,
) -> bytes:
    """One part, cleaned by what its content is; NotCleanable when it cannot be."""
    if name == "docProps/core.xml":
        return EMPTY_CORE
    if name == "docProps/app.xml":
        return EMPTY_APP
    if name == "[Content_Types].xml":
        return _OVERRIDE.sub(lambda m: _keep_override(m.group(0), dropped), payload)
    if _is_xml(payload):
        xml = _forget_relationships(payload, removed)
        if name.lower().endswith(".svg"):
            xml = _SVG_PATH_ATTRIBUTE.sub(b"", _SVG_METADATA.sub(b"", xml))
        return _scrub_people(xml)
    if payload[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise NotCleanable(EMBEDDED)  # UTF-16 XML: the byte patterns above would not see it
    if _FONT.match(name.lower()):
        return payload
    vector = _clean_vector(payload)
    if vector is not None:
        return vector
    fmt = detect(payload, name)
    if fmt in _PACKAGES:
        if depth >= MAX_DEPTH:
            raise NotCleanable(EMBEDDED)
        return _clean_package(payload, budget, depth + 1, media)
    if fmt in _PICTURES:
        return _clean_picture(payload, fmt, budget)
    if fmt is not None and media is not None:
        try:
            cleaned, extension = media(payload, fmt)
        except Exception as error:  # the media cleaner's own refusals, of many kinds
            raise NotCleanable(EMBEDDED) from error
        if extension == posixpath.splitext(name)[1].lstrip(".").lower():
            return cleaned
    raise NotCleanable(EMBEDDED)


def _is_xml(payload: bytes) -> bool:
    return payload.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<"


def _scrub_people(xml: bytes) -> bytes:
    xml = _PERSON_ATTRIBUTE.sub(rb'\1""', xml)
    xml = _AUTHOR_ELEMENT.sub(rb"\1\2", xml)
    xml = _PERSON_TAG.sub(lambda m: _NAME_ATTRIBUTE.sub(rb'\1""', m.group(0)), xml)
    xml = _ABS_PATH.sub(rb'\1""', xml)
    lowered = xml.lower()
    if b"users" in lowered or b"settings" in lowered or b"home" in lowered:
        xml = _USER_FOLDER.sub(rb"\1user", xml)
    return _DOC_VARS.sub(b"", xml)


def _attribute(tag: bytes, name: bytes) -> bytes | None:
    found = re.search(rb"\s" + name + rb"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", tag)
    if found is None:
        return None
    return found.group(1) if found.group(1) is not None else found.group(2)


def _clean_relationships(
    name: str, payload: bytes, dropped: set[str], relationships: _Relationships
) -> None:
    """One .rels part: external paths blanked, relationships to dropped parts removed.

    A .rels part `dir/_rels/x.xml.rels` belongs to `dir/x.xml` and its targets are relative
    to `dir/` (`_rels/.rels` belongs to the package). The ids removed are kept so that the
    source part can lose its `r:id` references to them.
    """
    folder, _, file_name = name.rpartition("_rels/")
    source_part = (folder + file_name.removesuffix(".rels")).lower()
    removed: set[bytes] = set()

    def one(match: re.Match[bytes]) -> bytes:
        tag = match.group(0)
        target = _attribute(tag, b"Target") or b""
        if (_attribute(tag, b"TargetMode") or b"").lower() == b"external":
            kind = _attribute(tag, b"Type") or b""
            if kind.endswith(b"/hyperlink") and target.lower().startswith(_HYPERLINK_SCHEMES):
                return tag  # a link the document shows: its content, not its author's disk
            return re.sub(rb"(\sTarget\s*=\s*)(\"[^\"]*\"|'[^']*')", rb'\1""', tag)
        if _resolve(folder, target) in dropped:
            removed.add(_attribute(tag, b"Id") or b"")
            return b""
        return tag

    relationships.cleaned[name] = _scrub_people(_RELATIONSHIP.sub(one, payload))
    relationships.removed[source_part] = removed


def _resolve(folder: str, target: bytes) -> str:
    """The lower-case part name an internal target points at, from the .rels' folder."""
    path = unquote(target.decode("utf-8", "replace")).replace("\\", "/")
    if path.startswith("/"):
        return posixpath.normpath(path.lstrip("/")).lower()
    return posixpath.normpath(posixpath.join(folder.rstrip("/"), path)).lower()


def _keep_override(tag: bytes, dropped: set[str]) -> bytes:
    part = (_attribute(tag, b"PartName") or b"").decode("utf-8", "replace")
    return b"" if unquote(part).lstrip("/").lower() in dropped else tag


def _forget_relationships(xml: bytes, removed: set[bytes]) -> bytes:
    """`xml` without references to the relationships removed from its .rels part.

    A <w:printerSettings r:id> element goes whole (its r:id is required); elsewhere (Excel's
    <pageSetup r:id>) the optional attribute goes.
    """
    for identifier in removed:
        if not identifier:
            continue
        quoted = re.escape(identifier)
        xml = re.sub(rb"<(?:[A-Za-z0-9_]+:)?printerSettings\b[^>]*\sr:id=\"" + quoted
                     + rb"\"[^>]*/>", b"", xml)
        xml = re.sub(rb"\sr:id=\"" + quoted + rb"\"", b"", xml)
    return xml


def _clean_picture(payload: bytes, fmt: str, budget: _Budget) -> bytes:
    """The picture encoded anew by evidence.images, kept in its format so its name still fits.

    evidence.images writes TIFF and BMP as PNG; here the clean pixels are written back as
    TIFF or BMP (from a fresh image, which carries no tags), since the part's name and the
    package's content types say what it is.
    """
    try:
        with Image.open(io.BytesIO(payload)) as probe:
            width, height = probe.size
        budget.take_pixels(width * height)
        cleaned, _ = clean_image(payload, fmt)
        if fmt in _PIL_FORMAT:
            with Image.open(io.BytesIO(cleaned)) as picture:
                picture.load()
                fresh = picture.copy()
            fresh.info = {}
            out = io.BytesIO()
            fresh.save(out, _PIL_FORMAT[fmt])
            cleaned = out.getvalue()
    except NotCleanable:
        raise
    except Image.DecompressionBombError as error:
        raise NotCleanable(TOO_LARGE) from error
    except Exception as error:  # Pillow's errors on damaged pictures are of many kinds
        raise NotCleanable(EMBEDDED) from error
    return cleaned


def _clean_vector(payload: bytes) -> bytes | None:
    """An EMF or WMF drawing with its description blanked; None when it is neither.

    Their records are drawing commands (the picture itself); the EMF header's description
    names the program and, by its choice, the picture's file. A photo embedded through EMF+
    would keep its EXIF: such a drawing is not cleaned (NotCleanable).
    """
    is_emf = len(payload) >= 88 and payload[:4] == b"\x01\x00\x00\x00" and payload[40:44] == b" EMF"
    is_wmf = payload[:4] == b"\xd7\xcd\xc6\x9a" or payload[:6] in (
        b"\x01\x00\x09\x00\x00\x03", b"\x02\x00\x09\x00\x00\x03")
    if not (is_emf or is_wmf):
        return None
    if any(mark in payload for mark in _PHOTO_METADATA):
        raise NotCleanable(EMBEDDED)
    if not is_emf:
        return payload
    header_size, = struct.unpack_from("<I", payload, 4)
    characters, offset = struct.unpack_from("<II", payload, 44)
    end = offset + 2 * characters
    if characters and offset >= 88 and end <= min(header_size, len(payload)):
        return payload[:offset] + bytes(end - offset) + payload[end:]
    return payload
