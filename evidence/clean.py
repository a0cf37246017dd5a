"""One evidence file in, the same evidence out without what identifies who made it.

`clean(data, file_name, mime_type)` picks the method from the content (see `sniff.detect`),
never from the name alone, and returns `Cleaned(data, extension, fmt)`; the caller names the
copy `evidence-N.<extension>`. When it cannot, it raises `CannotClean(reason)` with one of
`REASONS`, which the resident is told before choosing to send the file as it is or to leave
it out. Pure: no Telegram, no database, no logging of anything the file holds.
"""

from __future__ import annotations

import logging
import zipfile
import zlib
from dataclasses import dataclass

from evidence.sniff import detect

#: The Bot API downloads files up to 20 MB; larger ones cannot be fetched, so not cleaned.
MAX_BYTES = 20 * 1024 * 1024

UNKNOWN_TYPE = "unknown_type"
TOO_LARGE = "too_large"
NO_FFMPEG = "no_ffmpeg"
UNREADABLE = "unreadable"
ENCRYPTED = "encrypted"
MACROS = "macros"
#: An Office file holding something inside it that cannot be cleaned (an OLE object, an old
#: .doc or .xls, an unreadable picture): see evidence/office.py.
EMBEDDED = "embedded"
#: Its cleaning took longer than the limit (evidence/isolated.py) and was stopped.
TOO_SLOW = "too_slow"
REASONS = (UNKNOWN_TYPE, TOO_LARGE, NO_FFMPEG, UNREADABLE, ENCRYPTED, MACROS, EMBEDDED,
           TOO_SLOW)

# The libraries log what they read at DEBUG (Pillow prints every EXIF tag, the artist and
# the GPS position included): whatever the bot's log level, they say only errors.
for _library in ("PIL", "pypdf", "mutagen"):
    logging.getLogger(_library).setLevel(logging.ERROR)

IMAGES = ("jpeg", "png", "gif", "webp", "tiff", "bmp")
OFFICE = ("docx", "xlsx", "pptx")
AUDIO = ("mp3", "m4a", "ogg", "flac", "wav", "amr")
VIDEO = ("mp4", "mov", "3gp", "mkv", "webm", "avi")


class CannotClean(Exception):
    """The file could not be cleaned; `reason` is one of REASONS."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    extension: str
    #: the format found in the content ("jpeg", "pdf", "mp4"…)
    fmt: str


def clean(data: bytes, file_name: str | None = None, mime_type: str | None = None) -> Cleaned:
    """`data` without metadata, or CannotClean. CPU-bound: run it off the event loop."""
    if len(data) > MAX_BYTES:
        raise CannotClean(TOO_LARGE)
    fmt = detect(data, file_name, mime_type)
    if fmt is None:
        raise CannotClean(UNKNOWN_TYPE)
    cleaned, extension = _by_format(data, fmt)
    return Cleaned(cleaned, extension, fmt)


def _by_format(data: bytes, fmt: str) -> tuple[bytes, str]:
    # Imported per family: a bot that never sees a PDF never loads pypdf.
    if fmt in IMAGES:
        from evidence.images import clean_image

        try:
            return clean_image(data, fmt)
        except Exception as error:  # Pillow: UnidentifiedImageError, DecompressionBombError…
            raise CannotClean(UNREADABLE) from error
    if fmt == "pdf":
        from evidence.pdf import EncryptedPdf, clean_pdf

        try:
            return clean_pdf(data), "pdf"
        except EncryptedPdf as error:
            raise CannotClean(ENCRYPTED) from error
        except Exception as error:  # pypdf's errors on malformed files are of many kinds
            raise CannotClean(UNREADABLE) from error
    if fmt in OFFICE:
        from evidence.office import NotCleanable, clean_office

        try:
            # Embedded audio, video and PDF parts are cleaned as if sent alone (_by_format).
            return clean_office(data, media=_by_format), fmt
        except NotCleanable as error:
            raise CannotClean(error.reason if error.reason in REASONS else UNREADABLE) from error
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
                NotImplementedError, zlib.error) as error:
            # damaged entries, or a compression method zipfile does not know (deflate64)
            raise CannotClean(UNREADABLE) from error
    if fmt in AUDIO:
        from evidence.audio import AudioUnreadable, clean_audio
        from evidence.video import FfmpegMissing as NoFfmpeg

        try:
            return clean_audio(data, fmt)
        except NoFfmpeg as error:  # M4A is rewritten by ffmpeg
            raise CannotClean(NO_FFMPEG) from error
        except AudioUnreadable as error:
            raise CannotClean(UNREADABLE) from error
    if fmt in VIDEO:
        from evidence.video import FfmpegMissing, VideoUnreadable, clean_video

        try:
            return clean_video(data, fmt)
        except FfmpegMissing as error:
            raise CannotClean(NO_FFMPEG) from error
        except VideoUnreadable as error:
            raise CannotClean(UNREADABLE) from error
    if fmt == "txt":
        return data, "txt"  # plain text has no metadata; only its name, which is replaced
    raise CannotClean(UNKNOWN_TYPE)
