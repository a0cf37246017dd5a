"""Word, Excel and PowerPoint files (docx, xlsx, pptx) without their authors.

These are zip packages of XML parts. The document properties name the author, who saved it
last, the company, the template, the editing time; custom properties carry whatever a company
system put there. The package is written anew with those parts emptied (custom properties
dropped, with their references), the authors of comments and tracked changes blanked, Excel's
record of the folder it was saved in removed, and every entry's time set to one neutral date
(zip times tell when and in which time zone the file was saved).
"""

from __future__ import annotations

import io
import re
import zipfile

MAX_PARTS = 5000
MAX_UNPACKED = 200 * 1024 * 1024  # a zip bomb stops here

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
CUSTOM = "docProps/custom.xml"
NEUTRAL_TIME = (1980, 1, 1, 0, 0, 0)

# Attributes that name people in any part: comment and revision authors (w:author, w:initials),
# the people part and modern comments (userId, providerId), Excel's shared-file user name.
_PERSON_ATTRIBUTE = re.compile(
    rb"(\s(?:[A-Za-z0-9_]+:)?(?:author|initials|userId|providerId|userName)=)(\"[^\"]*\"|'[^']*')"
)
# Excel's comment authors are elements: <author>Name</author>.
_AUTHOR_ELEMENT = re.compile(rb"(<(?:[A-Za-z0-9_]+:)?author>)[^<]*(</(?:[A-Za-z0-9_]+:)?author>)")
# PowerPoint's comment authors: <p:cmAuthor name="…"> and <p188:author name="…">.
_AUTHOR_TAG = re.compile(rb"<(?:[A-Za-z0-9_]+:)?(?:cmAuthor|author)\b[^>]*>")
_NAME_ATTRIBUTE = re.compile(rb"(\sname=)(\"[^\"]*\"|'[^']*')")
# Excel: <x15ac:absPath url="C:\Users\<name>\Desktop\"/>.
_ABS_PATH = re.compile(rb"(<(?:[A-Za-z0-9_]+:)?absPath\b[^>]*\surl=)(\"[^\"]*\"|'[^']*')")
_CUSTOM_OVERRIDE = re.compile(rb"<Override\b[^>]*PartName=\"/docProps/custom\.xml\"[^>]*/>")
_CUSTOM_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*Target=\"/?docProps/custom\.xml\"[^>]*/>")


class NotCleanable(Exception):
    """The package holds what this cleaner does not rewrite (macros), or is too large."""


def clean_office(data: bytes) -> bytes:
    """The package without authors. Raises NotCleanable, or zipfile.BadZipFile."""
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = source.infolist()
    if len(entries) > MAX_PARTS or sum(e.file_size for e in entries) > MAX_UNPACKED:
        raise NotCleanable("too large")
    if any(e.filename.lower().endswith("vbaproject.bin") for e in entries):
        raise NotCleanable("macros")  # a VBA project records its author's paths and names
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in entries:
            name = entry.filename
            if name == CUSTOM or entry.is_dir():
                continue
            payload = source.read(entry)
            if name == "docProps/core.xml":
                payload = EMPTY_CORE
            elif name == "docProps/app.xml":
                payload = EMPTY_APP
            elif name == "[Content_Types].xml":
                payload = _CUSTOM_OVERRIDE.sub(b"", payload)
            elif name == "_rels/.rels":
                payload = _CUSTOM_RELATIONSHIP.sub(b"", payload)
            elif name.endswith(".xml"):
                payload = _scrub_people(payload)
            fresh = zipfile.ZipInfo(name, date_time=NEUTRAL_TIME)
            fresh.compress_type = zipfile.ZIP_DEFLATED
            fresh.external_attr = 0o644 << 16
            target.writestr(fresh, payload)
    return out.getvalue()


def _scrub_people(xml: bytes) -> bytes:
    xml = _PERSON_ATTRIBUTE.sub(rb'\1""', xml)
    xml = _AUTHOR_ELEMENT.sub(rb"\1\2", xml)
    xml = _AUTHOR_TAG.sub(lambda m: _NAME_ATTRIBUTE.sub(rb'\1""', m.group(0)), xml)
    return _ABS_PATH.sub(rb'\1""', xml)
