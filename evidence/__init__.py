"""Evidence files without what identifies the resident: names, EXIF/XMP, authors, tags.

`evidence.clean.clean(data, file_name, mime_type)` takes the bytes of one file and gives back a
copy without its metadata (or raises `CannotClean` with a reason). It knows nothing of Telegram
or of the database: the report flow downloads, calls it off the event loop, names the result
`evidence-N.ext` and uploads it (see handlers/resident/evidence.py).
"""

from evidence.clean import CannotClean, Cleaned, clean

__all__ = ["CannotClean", "Cleaned", "clean"]
