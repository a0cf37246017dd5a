"""PDF documents rewritten with pypdf without what tells who made them, or acts when opened.

A PDF can name its author in many places besides the page text: the information dictionary
(author, title, creator tool, dates) and XMP streams, on the document and also on any image,
form, font or page thumbnail; application data (`/PieceInfo`); comment authors (`/T`) and their
dates; the file identifier; attached files (the attachments pane's `/EmbeddedFiles`, file
attachment annotations, "associated files" `/AF`, portfolios `/Collection`, rich media) that keep
their original names and content, uncleaned; digital signatures, whose certificate names the
signer (cleaning breaks the signature anyway: the bytes it covered are rewritten); the JPEG
pictures inside, with their own EXIF (a phone photo's GPS position and camera serial). A PDF can
also act when the officer opens it: JavaScript, an `/OpenAction`, additional actions (`/AA`) on
the document, its pages and fields, XFA forms (which carry scripts), launch and submit actions
that can run programs or send the officer's address out.

So every object the document still uses is visited, once, and cleaned; objects nothing uses any
more (the old XMP, the attached files) are not written. Links (`/URI` actions), form field
values and the pages' content are what the resident meant to send, and stay. A new file is
written rather than the old one patched, which also drops the earlier revisions an incremental
save keeps. Afterwards a check goes over everything that will be written and refuses the file
(`UnsafePdf`) if a carrier is still there through some path the cleaning did not expect: a
document is never sent with an attachment or a script left in it.

Time and memory are bounded: pypdf's own reading limits refuse absurd structures (a dictionary
of more than 100,000 entries), the input is at most 20 MB, a document declaring more than
`MAX_OBJECTS` objects is refused before it is copied, and the walk gives up past `MAX_NODES`
values. What stays: what the pages show (text, pictures, a visible signature's appearance),
JPEG 2000 pictures' own metadata, and pictures drawn inline in a page's content (both rare in
what phones and office programs make).
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    EncodedStreamObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

#: Objects a document may declare: pypdf copies about 20,000 a second, and a real 20 MB document
#: (a thousand-page book, a scan) has a few tens of thousands.
MAX_OBJECTS = 200_000
#: Values (dictionary entries and array items) visited before the file is refused: far above
#: what a 20 MB document of real pages holds, low enough to finish in seconds.
MAX_NODES = 2_000_000

# Removed from every dictionary: XMP, application data, edit dates, thumbnails, additional
# actions (run on open, close, focus…), associated files.
_EVERYWHERE = ("/Metadata", "/PieceInfo", "/LastModified", "/Thumb", "/AA", "/AF")
# Removed from the document catalog: what runs when the document opens, the portfolio, the
# signatures' permissions and certificate store, XFA's rendering switch.
_ROOT_KEYS = ("/OpenAction", "/Collection", "/Perms", "/DSS", "/NeedsRendering")
# Name trees removed from /Names: attachments, document scripts, slide shows.
_NAME_TREES = ("/EmbeddedFiles", "/JavaScript", "/AlternatePresentations")
# Annotations removed from pages: they hold a file (attachments, rich media, movies, screens
# playing a media clip) or a 3D model that can carry scripts.
_DROPPED_ANNOTATIONS = ("/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/3D")
# Markup annotations lose who wrote them and when.
_ANNOTATION_PERSONAL = ("/T", "/M", "/CreationDate")
# A file specification keeps nothing of the file: neither its content nor its name or path.
_FILESPEC_KEYS = ("/EF", "/RF", "/F", "/UF", "/DOS", "/Mac", "/Unix", "/Desc", "/CI", "/EP")
# A stream's external data (`/F`): a path on the author's computer.
_STREAM_EXTERNAL = ("/F", "/FFilter", "/FDecodeParms")

#: Every action type PDF 2.0 names; an action is a dictionary with one of these as /S.
_ACTION_TYPES = frozenset((
    "/GoTo", "/GoToR", "/GoToE", "/GoToDp", "/Launch", "/Thread", "/URI", "/Sound", "/Movie",
    "/Hide", "/Named", "/SubmitForm", "/ResetForm", "/ImportData", "/SetOCGState",
    "/Rendition", "/Trans", "/GoTo3DView", "/JavaScript", "/RichMediaExecute",
))  # fmt: skip
#: The actions kept, on a click only: moving in the document, a web link, showing and hiding.
_SAFE_ACTIONS = frozenset(("/GoTo", "/URI", "/Named", "/Hide", "/ResetForm", "/SetOCGState",
                           "/Trans"))
_UNSAFE_ACTIONS = _ACTION_TYPES - _SAFE_ACTIONS

# JPEG markers: APP0 (JFIF), APP2 (only an ICC colour profile) and APP14 (Adobe: how the colours
# are stored) are needed to show the picture; every other APPn (EXIF and XMP in APP1, IPTC and
# Photoshop in APP13, the multi-picture index in APP2…) and comments go.
_JPEG_APP0 = 0xE0
_JPEG_APP2 = 0xE2
_JPEG_APP14 = 0xEE
_JPEG_COM = 0xFE
_JPEG_SOS = 0xDA
_JPEG_EOI = 0xD9
_JPEG_STANDALONE = frozenset((0x01, *range(0xD0, 0xD8)))  # TEM, RST0-7: no length


class EncryptedPdf(Exception):
    """A PDF that needs a password to be read."""


class UnsafePdf(Exception):
    """Something that identifies or acts was still there after cleaning, or the file was too
    complex to go through: the document is not sent rather than sent half cleaned."""


def clean_pdf(data: bytes) -> bytes:
    """The document without metadata, attachments or scripts.

    Raises EncryptedPdf, UnsafePdf, or PdfReadError (and other pypdf errors) when unreadable.
    """
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise EncryptedPdf
    declared = sum(len(table) for table in reader.xref.values()) + len(reader.xref_objStm)
    if declared > MAX_OBJECTS:
        raise UnsafePdf("too many objects")  # copying them would take minutes
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None  # the information dictionary: author, title, dates
    writer._ID = None  # the file identifier ties the copy to the original
    root = writer.root_object
    for key in _ROOT_KEYS:
        root.pop(NameObject(key), None)
    names = root.get("/Names")
    if names is not None and isinstance(names.get_object(), DictionaryObject):
        for key in _NAME_TREES:
            names.get_object().pop(NameObject(key), None)
    form = root.get("/AcroForm")
    if form is not None and isinstance(form.get_object(), DictionaryObject):
        form.get_object().pop(NameObject("/XFA"), None)  # XFA: scripts, submit addresses, XMP
    used = _clean_everything(writer, root)
    # What nothing uses any more (the old XMP, the attachments, the signature) is not written.
    objects = writer._objects
    for index in range(len(objects)):
        if index + 1 not in used:
            objects[index] = None
    _check(writer, root)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _clean_everything(writer: PdfWriter, root: DictionaryObject) -> set[int]:
    """Clean every object reachable from the catalog; their object numbers.

    Iterative (a deep document cannot exhaust Python's stack) and bounded by MAX_NODES. A
    dictionary is cleaned before its values are followed, so what it loses is never visited
    and, unless something else uses it, never written.
    """
    used: set[int] = set()
    if root.indirect_reference is not None:
        used.add(root.indirect_reference.idnum)
    stack: list[PdfObject] = [root]
    visited = 0
    while stack:
        node = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            raise UnsafePdf("too many objects to go through")
        if isinstance(node, DictionaryObject):
            _clean_dictionary(node)
            children = list(node.values())
        elif isinstance(node, ArrayObject):
            children = list(node)
        else:
            continue
        for child in children:
            if isinstance(child, IndirectObject):
                if child.pdf is not writer or child.idnum in used:
                    continue
                used.add(child.idnum)
                target = child.get_object()
                if target is not None:
                    stack.append(target)
            elif isinstance(child, (DictionaryObject, ArrayObject)):
                stack.append(child)
    return used


def _clean_dictionary(node: DictionaryObject) -> None:
    """One dictionary without what it may carry, whatever kind of object it is."""
    for key in _EVERYWHERE:
        node.pop(NameObject(key), None)
    kind = node.get("/Type")
    if kind == "/Page":
        node.pop(NameObject("/B"), None)  # article beads lead to threads and their info
    elif kind == "/Thread":
        node.pop(NameObject("/I"), None)  # a thread's information: author, title…
    elif kind == "/OCG":
        node.pop(NameObject("/Usage"), None)  # a layer's intended user and creator tool
    if kind == "/Filespec" or "/EF" in node or "/RF" in node:
        for key in _FILESPEC_KEYS:
            node.pop(NameObject(key), None)
    if "/Annots" in node:
        _clean_annotations(node)
    for key in ("/A", "/Next"):
        if key in node:
            _drop_unsafe_actions(node, key)
    value = node.get("/V")
    if value is not None and _is_signature(value.get_object()):
        node.pop(NameObject("/V"), None)  # the signature: the signer's certificate and name
    if isinstance(node, StreamObject):
        for key in _STREAM_EXTERNAL:
            node.pop(NameObject(key), None)
        _clean_jpeg_stream(node)


def _clean_annotations(page: DictionaryObject) -> None:
    """A page's annotations without file carriers, and markup ones without their author."""
    annotations = page["/Annots"].get_object()
    if not isinstance(annotations, ArrayObject):
        page.pop(NameObject("/Annots"), None)
        return
    kept = ArrayObject()
    for entry in annotations:
        annotation = entry.get_object()
        if not isinstance(annotation, DictionaryObject):
            continue
        if _dropped(annotation):
            continue
        parent = annotation.get("/Parent")
        if (annotation.get("/Subtype") == "/Popup" and parent is not None
                and isinstance(parent.get_object(), DictionaryObject)
                and _dropped(parent.get_object())):
            continue  # the popup of a removed attachment would keep it alive
        if annotation.get("/Subtype") != "/Widget":  # a form field's /T is its name: content
            for key in _ANNOTATION_PERSONAL:
                annotation.pop(NameObject(key), None)
        kept.append(entry)
    page[NameObject("/Annots")] = kept


def _dropped(annotation: DictionaryObject) -> bool:
    return annotation.get("/Subtype") in _DROPPED_ANNOTATIONS


def _is_action(value: PdfObject | None) -> bool:
    return isinstance(value, DictionaryObject) and value.get("/S") in _ACTION_TYPES


def _drop_unsafe_actions(node: DictionaryObject, key: str) -> None:
    """Remove node[key] if it is (or, for a /Next list, holds) an action that is not safe."""
    value = node[key].get_object()
    if isinstance(value, ArrayObject):
        node[NameObject(key)] = ArrayObject(
            item for item in value
            if not (_is_action(item.get_object())
                    and item.get_object().get("/S") in _UNSAFE_ACTIONS)
        )
    elif isinstance(value, DictionaryObject) and _is_action(value) and (
        value.get("/S") in _UNSAFE_ACTIONS
    ):
        node.pop(NameObject(key), None)


def _is_signature(value: PdfObject | None) -> bool:
    return isinstance(value, DictionaryObject) and (
        "/ByteRange" in value or value.get("/Type") in ("/Sig", "/DocTimeStamp")
    )


def _clean_jpeg_stream(stream: StreamObject) -> None:
    """A JPEG picture's stream without its EXIF, XMP, IPTC, comments and trailing data."""
    filters = stream.get("/Filter")
    if filters is None:
        return
    chain = list(filters) if isinstance(filters, ArrayObject) else [filters]
    if "/DCTDecode" not in chain and "/DCT" not in chain:
        return
    if chain[-1] not in ("/DCTDecode", "/DCT"):
        raise UnsafePdf("a JPEG picture compressed again")  # no reader would show it anyway
    if len(chain) == 1:
        jpeg = stream._data  # the stored bytes are the JPEG file
    else:
        jpeg = stream.get_data()  # the other filters undone; DCTDecode gives the bytes as is
        parameters = stream.get("/DecodeParms")
        stream.pop(NameObject("/DecodeParms"), None)
        if isinstance(parameters, ArrayObject) and len(parameters) == len(chain):
            last = parameters[-1]
            if isinstance(last.get_object(), DictionaryObject):
                stream[NameObject("/DecodeParms")] = last
        stream[NameObject("/Filter")] = NameObject("/DCTDecode")
    try:
        cleaned = strip_jpeg(jpeg)
    except ValueError as error:
        raise UnsafePdf("a JPEG picture that cannot be read") from error
    stream._data = cleaned
    if isinstance(stream, EncodedStreamObject):
        stream.decoded_self = None  # pypdf's cache of the old bytes


def strip_jpeg(data: bytes) -> bytes:
    """The JPEG without the segments that can hold metadata, and nothing after its end.

    Only the headers are parsed and the compressed picture is copied byte for byte: the picture
    is exactly the same, and the cost is a scan for 0xFF bytes. Raises ValueError when the
    markers cannot be followed (the file would be refused rather than passed through).
    """
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("no JPEG start")
    out = bytearray(b"\xff\xd8")
    position = 2
    size = len(data)
    while True:
        if position >= size or data[position] != 0xFF:
            raise ValueError("marker expected")
        while position < size and data[position] == 0xFF:
            position += 1  # fill bytes
        if position >= size:
            raise ValueError("truncated marker")
        marker = data[position]
        position += 1
        if marker == _JPEG_EOI:
            out += b"\xff\xd9"
            return bytes(out)  # anything after (a second picture, a motion photo's video) goes
        if marker in _JPEG_STANDALONE:
            out += bytes((0xFF, marker))
            continue
        if position + 2 > size:
            raise ValueError("truncated segment")
        length = int.from_bytes(data[position : position + 2], "big")
        end = position + length
        if length < 2 or end > size:
            raise ValueError("bad segment length")
        body = data[position + 2 : end]
        if marker == _JPEG_SOS:
            out += b"\xff\xda" + data[position:end]
            position = _end_of_scan(data, end)
            out += data[end:position]
            if position >= size:
                return bytes(out)  # no end marker: the scan ran to the end of the data
            continue
        if _keep_segment(marker, body):
            out += bytes((0xFF, marker)) + data[position:end]
        position = end


def _keep_segment(marker: int, body: bytes) -> bool:
    if marker == _JPEG_APP0:
        return body.startswith((b"JFIF\x00", b"JFXX\x00"))
    if marker == _JPEG_APP2:
        return body.startswith(b"ICC_PROFILE\x00")
    if marker == _JPEG_APP14:
        return body.startswith(b"Adobe")
    # Frame, tables, restart interval…: the picture itself.
    return not (0xE0 <= marker <= 0xEF or marker == _JPEG_COM)


def _end_of_scan(data: bytes, position: int) -> int:
    """Where the entropy-coded data that starts at `position` ends: the next real marker."""
    size = len(data)
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= size:
            return size
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position += 1  # a stuffed 0xFF, a restart marker, or fill: still the scan
            continue
        return position


def _check(writer: PdfWriter, root: DictionaryObject) -> None:
    """Refuse the document if anything that identifies or acts is still to be written."""
    for key in _ROOT_KEYS:
        if key in root:
            raise UnsafePdf(f"{key} left")
    names = root.get("/Names")
    if names is not None and isinstance(names.get_object(), DictionaryObject):
        for key in _NAME_TREES:
            if key in names.get_object():
                raise UnsafePdf(f"{key} left")
    if writer._info is not None or writer._ID is not None:
        raise UnsafePdf("information dictionary or identifier left")
    visited = 0
    stack: list[PdfObject] = [obj for obj in writer._objects if obj is not None]
    while stack:
        node = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            raise UnsafePdf("too many objects to check")
        if isinstance(node, DictionaryObject):
            _check_dictionary(node)
            stack.extend(v for v in node.values()
                         if isinstance(v, (DictionaryObject, ArrayObject)))
        elif isinstance(node, ArrayObject):
            stack.extend(v for v in node if isinstance(v, (DictionaryObject, ArrayObject)))


def _check_dictionary(node: DictionaryObject) -> None:
    for key in (*_EVERYWHERE, "/EF", "/RF", "/JS", "/ByteRange", "/XFA"):
        if key in node:
            raise UnsafePdf(f"{key} left")
    if node.get("/Type") == "/EmbeddedFile":
        raise UnsafePdf("an embedded file left")
    if node.get("/S") in _UNSAFE_ACTIONS:
        raise UnsafePdf("an unsafe action left")
    if node.get("/Subtype") in _DROPPED_ANNOTATIONS:
        raise UnsafePdf("a file annotation left")
    if isinstance(node, StreamObject) and node.get("/Filter") in ("/DCTDecode", "/DCT"):
        try:
            again = strip_jpeg(node._data)
        except ValueError as error:
            raise UnsafePdf("a JPEG picture that cannot be read") from error
        if again != node._data:  # stripping a clean picture changes nothing
            raise UnsafePdf("a JPEG picture's metadata left")


__all__ = ["MAX_NODES", "MAX_OBJECTS", "EncryptedPdf", "PdfReadError", "UnsafePdf", "clean_pdf",
           "strip_jpeg"]
