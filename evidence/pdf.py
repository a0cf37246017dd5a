"""PDF documents rewritten with pypdf without their document information and XMP.

The information dictionary holds the author, the title, the creator tool and dates; XMP holds
the same and more (often the author's account name). Writing a new file, rather than patching
the old one, also drops earlier revisions that an incremental save keeps in the file. Annotation
authors (`/T`) and the file identifier are removed too.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import NameObject

_PRIVATE_KEYS = ("/Metadata", "/PieceInfo")


class EncryptedPdf(Exception):
    """A PDF that needs a password to be read."""


def clean_pdf(data: bytes) -> bytes:
    """The document without metadata. Raises EncryptedPdf, or PdfReadError when unreadable."""
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise EncryptedPdf
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    root = writer.root_object
    for key in _PRIVATE_KEYS:
        root.pop(NameObject(key), None)
    for page in writer.pages:
        for key in _PRIVATE_KEYS:
            page.pop(NameObject(key), None)
        for annotation in page.get("/Annots") or []:
            target = annotation.get_object()
            if hasattr(target, "pop"):
                target.pop(NameObject("/T"), None)  # the comment's author
    writer._ID = None  # the file identifier ties the copy to the original
    # Objects no longer referenced (the old XMP stream, the information dictionary) would
    # still be written: drop them.
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


__all__ = ["EncryptedPdf", "PdfReadError", "clean_pdf"]
