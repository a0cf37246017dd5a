"""evidence.office: what an Office file holds inside it is cleaned too, or the file is refused.

The files are built part by part here, shaped as Word, Excel and PowerPoint write them: a
chart's workbook under word/embeddings/, a phone photo under word/media/, an attached template
on the author's disk, SharePoint's customXml, Excel's people part and printer settings. Each
cleaned copy must hold none of the give-aways, and still be a consistent package (every XML
part well formed, every internal relationship pointing at a part that is there, every r:id
used by a part defined in its .rels), which is what Word checks before it opens a file.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import time
import zipfile
from xml.etree import ElementTree

import pytest
from PIL import Image

from evidence import office
from evidence.clean import EMBEDDED, ENCRYPTED, MACROS, TOO_LARGE, UNREADABLE, CannotClean, clean
from testing import evidence_samples as samples

needs_ffmpeg = pytest.mark.skipif(not samples.has_ffmpeg(), reason="ffmpeg is not installed")

PERSON = samples.PERSON
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def package(parts: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 1, 14, 3, 2)),
                             body if isinstance(body, bytes) else body.encode())
    return out.getvalue()


def with_parts(base: bytes, parts: dict[str, bytes | str]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(base)) as source:
        merged: dict[str, bytes | str] = {name: source.read(name) for name in source.namelist()}
    merged.update(parts)
    return package(merged)


def rels(*relationships: str) -> str:
    return f'{XML}<Relationships xmlns="{PKG}">{"".join(relationships)}</Relationships>'


def relationship(rid: str, kind: str, target: str, external: bool = False) -> str:
    mode = ' TargetMode="External"' if external else ""
    return f'<Relationship Id="{rid}" Type="{R}/{kind}" Target="{target}"{mode}/>'


def parts_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def assert_no_giveaway(data: bytes) -> None:
    """No give-away in the package, in any part, nor in any package nested in it."""
    for name, body in parts_of(data).items():
        if body[:2] == b"PK":
            assert_no_giveaway(body)
            continue
        try:
            samples.assert_clean(body)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
        for left in (b"NguyenVanA", b"nguyenvana", b"C:\\Users\\Nguyen", b"PrinterOfNguyen"):
            assert left.lower() not in body.lower(), (name, left)


def assert_consistent(data: bytes) -> None:
    """What Word checks first: well-formed XML, relationships and content types that hold."""
    parts = parts_of(data)
    lower = {name.lower() for name in parts}
    for name, body in parts.items():
        if name.endswith((".xml", ".rels", ".vml")):
            ElementTree.fromstring(body)  # raises on malformed XML
        if body[:2] == b"PK":
            assert_consistent(body)
    for name, body in parts.items():
        if not name.endswith(".rels"):
            continue
        folder, _, file_name = name.rpartition("_rels/")
        source = folder + file_name.removesuffix(".rels")
        ids = set()
        for tag in re.findall(rb"<Relationship\b[^>]*>", body):
            ids.add(re.search(rb'Id="([^"]*)"', tag).group(1))  # type: ignore[union-attr]
            if b'TargetMode="External"' in tag:
                continue
            target = re.search(rb'Target="([^"]*)"', tag).group(1).decode()  # type: ignore[union-attr]
            resolved = (target.lstrip("/") if target.startswith("/")
                        else posixpath.normpath(posixpath.join(folder, target)))
            assert resolved.lower() in lower, (name, target)
        if source in parts:
            used = set(re.findall(rb'\sr:(?:id|embed|link|pict)="([^"]*)"', parts[source]))
            assert used <= ids, (source, used - ids)
    for part in re.findall(rb'PartName="/([^"]*)"', parts["[Content_Types].xml"]):
        assert part.decode().lower() in lower, part


def test_a_chart_workbook_inside_a_document_is_cleaned_too() -> None:
    """Seen to fail on the old code: the embedded .xlsx kept its core.xml creator as it was."""
    inner = with_parts(samples.docx_with_author(), {
        "xl/comments1.xml": f"<comments><authors><author>{PERSON}</author></authors></comments>",
    })
    document = with_parts(samples.docx_with_author(), {
        "word/embeddings/Microsoft_Excel_Worksheet.xlsx": inner,
        "word/charts/chart1.xml": f'{XML}<c:chartSpace xmlns:c="urn:c" xmlns:r="{R}">'
                                  '<c:externalData r:id="rId1"/></c:chartSpace>',
        "word/charts/_rels/chart1.xml.rels": rels(relationship(
            "rId1", "package", "../embeddings/Microsoft_Excel_Worksheet.xlsx")),
    })
    result = clean(document, "bao-cao.docx", None)
    assert_no_giveaway(result.data)
    assert_consistent(result.data)
    embedded = parts_of(result.data)["word/embeddings/Microsoft_Excel_Worksheet.xlsx"]
    inside = parts_of(embedded)
    assert inside["docProps/core.xml"] == office.EMPTY_CORE
    assert "docProps/custom.xml" not in inside
    assert b"Xe tai cho go" in inside["word/document.xml"]  # the chart's data stays
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(embedded)).infolist()} == {
        office.NEUTRAL_TIME}


def test_a_phone_photo_and_the_thumbnail_lose_their_exif_and_keep_their_picture() -> None:
    """Seen to fail on the old code: word/media/image1.jpeg kept GPS, artist and serial."""
    photo = samples.jpeg_with_exif(size=(40, 20))
    tiff = io.BytesIO()
    exif = Image.Exif()
    exif[0x013B] = PERSON
    Image.new("RGB", (6, 4), (9, 9, 9)).save(tiff, "TIFF", exif=exif.tobytes())
    document = with_parts(samples.docx_with_author(), {
        "word/media/image1.jpeg": photo,
        "word/media/image2.png": samples.png_with_text(),
        "word/media/image3.tiff": tiff.getvalue(),
        "docProps/thumbnail.jpeg": photo,
    })
    result = clean(document, None, None)
    assert_no_giveaway(result.data)
    parts = parts_of(result.data)
    for name, fmt, size in (("word/media/image1.jpeg", "JPEG", (40, 20)),
                            ("docProps/thumbnail.jpeg", "JPEG", (40, 20)),
                            ("word/media/image2.png", "PNG", (8, 8)),
                            ("word/media/image3.tiff", "TIFF", (6, 4))):
        with Image.open(io.BytesIO(parts[name])) as picture:
            assert (picture.format, picture.size) == (fmt, size), name  # its name still fits
            tags = picture.getexif()  # a TIFF's own layout tags are EXIF-shaped: look for people
            assert not {0x010F, 0x0110, 0x013B, 0x8298, 0x8825, 0xA431} & set(tags), name


@pytest.mark.parametrize("name, payload", [
    ("word/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
     + b"C:\\Users\\NguyenVanA\\Desktop\\so-lieu.pdf"),
    ("word/embeddings/Microsoft_Excel_97-2003_Worksheet.xls",
     b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
    ("ppt/media/hdphoto1.wdp", b"II\xbc\x01" + bytes(60)),
    ("xl/activeX/activeX1.bin", b"\x01\x02\x03" * 50),
    ("word/media/image1.png", b"\x89PNG\r\n\x1a\n broken"),  # a picture Pillow cannot read
])
def test_what_cannot_be_cleaned_inside_refuses_the_whole_file(name: str, payload: bytes) -> None:
    """An OLE object keeps the attached file's path; an old .xls its author. Not promised
    clean: the resident is asked (send as it is, or leave out). On the old code these went
    through as they were, under the promise."""
    with pytest.raises(CannotClean) as caught:
        clean(with_parts(samples.docx_with_author(), {name: payload}), None, None)
    assert caught.value.reason == EMBEDDED


def test_macros_inside_an_embedded_workbook_are_macros() -> None:
    inner = with_parts(samples.docx_with_author(), {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"})
    with pytest.raises(CannotClean) as caught:
        clean(with_parts(samples.docx_with_author(), {"word/embeddings/x.docx": inner}))
    assert caught.value.reason == MACROS


def test_packages_nested_past_the_depth_are_refused_quickly() -> None:
    """A package nested in itself 50 times: refused at MAX_DEPTH, in a fraction of a second."""
    nested = samples.docx_with_author()
    for _ in range(50):
        nested = with_parts(samples.docx_with_author(), {"word/embeddings/inner.docx": nested})
    started = time.monotonic()
    with pytest.raises(CannotClean) as caught:
        clean(nested)
    assert caught.value.reason == EMBEDDED
    assert time.monotonic() - started < 2
    shallow = samples.docx_with_author()
    for _ in range(office.MAX_DEPTH):
        shallow = with_parts(samples.docx_with_author(), {"word/embeddings/inner.docx": shallow})
    assert_no_giveaway(clean(shallow).data)  # as deep as real files go: cleaned


def test_the_size_budget_is_shared_by_every_nested_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each embedded package under the limit, together over it: refused, not unpacked."""
    monkeypatch.setattr(office, "MAX_UNPACKED", 1_000_000)
    inner = with_parts(samples.docx_with_author(), {"word/big.xml": "<a>" + " " * 400_000 + "</a>"})
    clean(with_parts(samples.docx_with_author(), {"word/embeddings/a.docx": inner}))
    with pytest.raises(CannotClean) as caught:
        clean(with_parts(samples.docx_with_author(), {
            "word/embeddings/a.docx": inner, "word/embeddings/b.docx": inner,
            "word/embeddings/c.docx": inner}))
    assert caught.value.reason == TOO_LARGE


def test_the_pixel_budget_stops_many_large_pictures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "MAX_TOTAL_PIXELS", 5_000)
    picture = io.BytesIO()
    Image.new("RGB", (50, 40)).save(picture, "PNG")
    clean(with_parts(samples.docx_with_author(), {"word/media/image1.png": picture.getvalue()}))
    with pytest.raises(CannotClean) as caught:
        clean(with_parts(samples.docx_with_author(), {
            f"word/media/image{n}.png": picture.getvalue() for n in range(1, 4)}))
    assert caught.value.reason == TOO_LARGE


def test_paths_on_the_authors_disk_leave_the_relationships_links_stay() -> None:
    """Seen to fail on the old code: .rels parts were copied as they were (attached template,
    linked workbook), with the author's Windows account in the path."""
    settings_rels = rels(relationship(
        "rId1", "attachedTemplate",
        "file:///C:\\Users\\NguyenVanA\\AppData\\Roaming\\Microsoft\\Templates\\Normal.dotm",
        external=True))
    document_rels = rels(
        relationship("rId1", "hyperlink", "https://congan.example.vn/tin", external=True),
        relationship("rId2", "hyperlink", "file:///C:\\Users\\NguyenVanA\\Desktop\\a.docx",
                     external=True),
        relationship("rId3", "image", "file:///\\\\PC-NGUYENVANA\\anh\\1.jpg", external=True),
        relationship("rId4", "settings", "settings.xml"),
    )
    external_rels = rels(relationship(
        "rId1", "externalLinkPath", "file:///C:\\Users\\NguyenVanA\\Documents\\so-lieu.xlsx",
        external=True))
    result = clean(with_parts(samples.docx_with_author(), {
        "word/settings.xml": f'{XML}<w:settings xmlns:w="urn:w" xmlns:r="{R}">'
                             '<w:attachedTemplate r:id="rId1"/></w:settings>',
        "word/_rels/settings.xml.rels": settings_rels,
        "word/_rels/document.xml.rels": document_rels,
        "xl/externalLinks/_rels/externalLink1.xml.rels": external_rels,
    }))
    assert_no_giveaway(result.data)
    assert_consistent(result.data)
    parts = parts_of(result.data)
    kept = parts["word/_rels/document.xml.rels"]
    assert b'Target="https://congan.example.vn/tin"' in kept  # a link the document shows
    assert b'Target="settings.xml"' in kept  # internal: the document still finds its parts
    assert kept.count(b'Target=""') == 2
    assert b'Target=""' in parts["word/_rels/settings.xml.rels"]
    assert b'Target=""' in parts["xl/externalLinks/_rels/externalLink1.xml.rels"]


def test_sharepoint_custom_xml_goes_with_everything_that_points_at_it() -> None:
    """Seen to fail on the old code: customXml/item1.xml kept SharePoint's DisplayName."""
    custom = (f'{XML}<p:properties xmlns:p="http://schemas.microsoft.com/office/2006/metadata/'
              'properties"><documentManagement><Author><UserInfo><DisplayName>'
              f'{PERSON}</DisplayName><AccountId>12</AccountId></UserInfo></Author>'
              '</documentManagement></p:properties>')
    types = parts_of(samples.docx_with_author())["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/customXml/itemProps1.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.customXmlProperties+xml"/></Types>')
    result = clean(with_parts(samples.docx_with_author(), {
        "[Content_Types].xml": types,
        "customXml/item1.xml": custom,
        "customXml/itemProps1.xml": f'{XML}<ds:datastoreItem xmlns:ds="urn:ds" ds:itemID="x"/>',
        "customXml/_rels/item1.xml.rels": rels(relationship(
            "rId1", "customXmlProps", "itemProps1.xml")),
        "word/_rels/document.xml.rels": rels(
            relationship("rId1", "customXml", "../customXml/item1.xml"),
            relationship("rId2", "styles", "styles.xml")),
        "word/styles.xml": f'{XML}<w:styles xmlns:w="urn:w"/>',
    }))
    assert_no_giveaway(result.data)
    assert_consistent(result.data)
    parts = parts_of(result.data)
    assert not [name for name in parts if name.startswith("customXml/")]
    assert b"customXml" not in parts["word/_rels/document.xml.rels"]
    assert b'Target="styles.xml"' in parts["word/_rels/document.xml.rels"]
    assert b"customXml" not in parts["[Content_Types].xml"]


def test_every_place_office_writes_a_person_is_blanked_and_names_it_needs_stay() -> None:
    """Excel's people part (displayName), shared-workbook users, pivot refreshes, PowerPoint's
    comment authors and co-authoring records, Word's people and document variables, a user
    folder in a data connection. The old code left the first four and the last two."""
    person = (f'{XML}<personList xmlns="urn:tc"><person displayName="{PERSON}" '
              'id="{6F0E0D5C-0000-0000-0000-000000000000}" userId="nguyenvana@example.vn" '
              'providerId="AD"/></personList>')
    users = f'{XML}<users xmlns="urn:x"><userInfo guid="{{1}}" name="{PERSON}" id="1"/></users>'
    pivot = (f'{XML}<pivotCacheDefinition xmlns="urn:x" refreshedBy="{PERSON}" '
             'refreshedDate="45000.5"/>')
    table = f'{XML}<table xmlns="urn:x" id="1" name="Bang1" displayName="Bang1" ref="A1:B2"/>'
    authors = (f'{XML}<p:cmAuthorLst xmlns:p="urn:p"><p:cmAuthor id="1" name="{PERSON}" '
               'initials="NVA" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>')
    changes = (f'{XML}<pc:chgInfo xmlns:pc="urn:pc"><pc:docChgLst><pc:chgData name="{PERSON}" '
               'userId="S::nguyenvana@example.vn::1" providerId="AD"/></pc:docChgLst>'
               '</pc:chgInfo>')
    people = (f'{XML}<w15:people xmlns:w15="urn:w15"><w15:person w15:author="{PERSON}">'
              '<w15:presenceInfo w15:providerId="AD" w15:userId="nguyenvana@example.vn"/>'
              '</w15:person></w15:people>')
    settings = (f'{XML}<w:settings xmlns:w="urn:w"><w:docVars><w:docVar w:name="Owner" '
                f'w:val="{PERSON}"/></w:docVars><w:zoom w:percent="100"/></w:settings>')
    connections = (f'{XML}<connections xmlns="urn:x"><connection id="1" name="so-lieu" '
                   'odcFile="C:\\Users\\Nguyen Van A\\Documents\\My Data Sources\\a.odc">'
                   '<dbPr connection="Data Source=C:\\Users\\NguyenVanA\\so-lieu.accdb"/>'
                   '</connection></connections>')
    comments = (f'{XML}<w:comments xmlns:w="urn:w"><w:comment w:id="0" w:author="{PERSON}" '
                'w:initials="NVA"><w:p><w:r><w:t>xem lai</w:t></w:r></w:p></w:comment>'
                '</w:comments>')
    result = clean(with_parts(samples.docx_with_author(), {
        "xl/persons/person.xml": person, "xl/revisions/userNames.xml": users,
        "xl/pivotCache/pivotCacheDefinition1.xml": pivot, "xl/tables/table1.xml": table,
        "ppt/commentAuthors.xml": authors, "ppt/changesInfos/changesInfo1.xml": changes,
        "word/people.xml": people, "word/settings.xml": settings,
        "xl/connections.xml": connections, "word/comments.xml": comments,
    }))
    assert_no_giveaway(result.data)
    assert_consistent(result.data)
    parts = parts_of(result.data)
    assert b'displayName="Bang1"' in parts["xl/tables/table1.xml"]  # Excel needs this one
    assert b'name="so-lieu"' in parts["xl/connections.xml"]
    assert b"C:\\Users\\user\\Documents" in parts["xl/connections.xml"]
    assert b'<w:zoom w:percent="100"/>' in parts["word/settings.xml"]
    assert b"xem lai" in parts["word/comments.xml"]


def test_printer_settings_and_signatures_go_with_their_references() -> None:
    """A DEVMODE names the printer (the office's, the computer's); a signature its signer."""
    devmode = "PrinterOfNguyen".encode("utf-16-le").ljust(64, b"\0") + bytes(156)
    sheet = (f'{XML}<worksheet xmlns="urn:x" xmlns:r="{R}"><sheetData/>'
             '<pageSetup paperSize="9" orientation="portrait" r:id="rId1"/></worksheet>')
    root_rels = parts_of(samples.docx_with_author())["_rels/.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/package/2006/'
        b'relationships/digital-signature/origin" Target="_xmlsignatures/origin.sigs"/>'
        b"</Relationships>")
    result = clean(with_parts(samples.docx_with_author(), {
        "_rels/.rels": root_rels,
        "xl/worksheets/sheet1.xml": sheet,
        "xl/worksheets/_rels/sheet1.xml.rels": rels(relationship(
            "rId1", "printerSettings", "../printerSettings/printerSettings1.bin")),
        "xl/printerSettings/printerSettings1.bin": devmode,
        "_xmlsignatures/origin.sigs": b"",
        "_xmlsignatures/sig1.xml": f"<Signature><X509Certificate>{PERSON}</X509Certificate>"
                                   "</Signature>",
        "_xmlsignatures/_rels/origin.sigs.rels": rels(relationship(
            "rId1", "digital-signature/signature", "sig1.xml")),
    }))
    assert_no_giveaway(result.data)
    assert_consistent(result.data)
    parts = parts_of(result.data)
    assert not [n for n in parts if "printerSettings" in n or n.startswith("_xmlsignatures")]
    assert b'<pageSetup paperSize="9" orientation="portrait"/>' in parts[
        "xl/worksheets/sheet1.xml"]
    assert b"digital-signature" not in parts["_rels/.rels"]
    assert b"word/document.xml" in parts["_rels/.rels"]


def _emf(description: str, extra: bytes = b"") -> bytes:
    text = description.encode("utf-16-le")
    header = bytearray(108)
    struct.pack_into("<II", header, 0, 1, 108 + len(text))
    header[40:44] = b" EMF"
    struct.pack_into("<II", header, 44, len(description), 108)
    eof = struct.pack("<IIIII", 14, 20, 0, 0, 20)
    return bytes(header) + text + extra + eof


def test_a_drawing_loses_its_description_a_drawing_with_a_photo_is_refused() -> None:
    drawing = _emf(f"Word\0C:\\Users\\NguyenVanA\\{PERSON}.emf\0\0")
    result = clean(with_parts(samples.docx_with_author(), {"word/media/image1.emf": drawing}))
    assert_no_giveaway(result.data)
    kept = parts_of(result.data)["word/media/image1.emf"]
    assert len(kept) == len(drawing) and kept[40:44] == b" EMF" and kept[-20:] == drawing[-20:]
    with pytest.raises(CannotClean) as caught:
        clean(with_parts(samples.docx_with_author(), {
            "word/media/image1.emf": _emf("Word\0\0", samples.jpeg_with_exif())}))
    assert caught.value.reason == EMBEDDED


@needs_ffmpeg
def test_a_video_in_a_presentation_loses_its_place() -> None:
    """Seen to pass through the old code with its location and artist."""
    result = clean(with_parts(samples.docx_with_author(), {
        "ppt/media/media1.mp4": samples.mp4_with_location()}))
    assert_no_giveaway(result.data)
    assert parts_of(result.data)["ppt/media/media1.mp4"][4:8] == b"ftyp"


def test_damaged_or_locked_entries_get_a_reason_not_a_crash() -> None:
    """Seen to fail on the old code: an entry flagged encrypted raised RuntimeError, past the
    exceptions evidence.clean turned into a reason (a crash instead of a kind answer)."""
    good = samples.docx_with_author()
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    damaged = bytearray(good)
    damaged[start:start + 8] = b"\xff" * 8
    with pytest.raises(CannotClean) as caught:
        clean(bytes(damaged))
    assert caught.value.reason == UNREADABLE
    locked = bytearray(good)
    for offset in [m.start() for m in re.finditer(b"PK\x03\x04", good)]:
        locked[offset + 6] |= 1  # the "encrypted" flag, as a password-protected zip has it
    for offset in [m.start() for m in re.finditer(b"PK\x01\x02", good)]:
        locked[offset + 8] |= 1
    with pytest.raises(CannotClean) as caught:
        clean(bytes(locked))
    assert caught.value.reason == ENCRYPTED
