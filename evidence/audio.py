"""Audio files without their tags: artist, title, album, comments, cover pictures (mutagen).

Recorder apps write the owner's name or the phone's model as artist, the place as title, and
encoders leave their settings. ID3 (v1 and v2) and APEv2 in MP3, the MP4 item list in M4A,
Vorbis comments and pictures in Ogg and FLAC go. WAV files are rebuilt from their format and
sound chunks only (their LIST/INFO chunk names the artist, and mutagen does not rewrite it).
AMR has no place for tags and is kept as it is.
"""

from __future__ import annotations

import contextlib
import io
import struct

import mutagen
from mutagen.apev2 import APENoHeaderError
from mutagen.apev2 import delete as delete_ape
from mutagen.flac import FLAC


class AudioUnreadable(Exception):
    """mutagen could not read the file, or tags were still there afterwards."""


EXTENSIONS = {"mp3": "mp3", "m4a": "m4a", "ogg": "ogg", "flac": "flac", "wav": "wav",
              "amr": "amr"}
_WAV_KEEP = {b"fmt ", b"data", b"fact"}
# FLAC metadata blocks kept: STREAMINFO, PADDING, SEEKTABLE (no application data, cue
# sheets, comments or pictures).
_FLAC_KEEP = {0, 1, 3}


def clean_audio(data: bytes, fmt: str) -> tuple[bytes, str]:
    """The sound without tags: (bytes, extension)."""
    if fmt == "wav":
        return _wav(data), "wav"
    if fmt == "amr":
        return data, "amr"
    buffer = io.BytesIO(data)
    try:
        audio = mutagen.File(buffer)
    except mutagen.MutagenError as error:
        raise AudioUnreadable(str(error)) from error
    if audio is None:
        raise AudioUnreadable("not an audio file mutagen knows")
    try:
        if isinstance(audio, FLAC):
            audio.clear_pictures()  # type: ignore[no-untyped-call]  # mutagen: no annotations
            audio.metadata_blocks = [b for b in audio.metadata_blocks if b.code in _FLAC_KEEP]
            audio.tags = None
            buffer.seek(0)
            audio.save(buffer, deleteid3=True)
        else:
            buffer.seek(0)
            audio.delete(buffer)
        if fmt == "mp3":
            buffer.seek(0)
            with contextlib.suppress(APENoHeaderError):
                delete_ape(buffer)
    except mutagen.MutagenError as error:
        raise AudioUnreadable(str(error)) from error
    cleaned = buffer.getvalue()
    _check_no_tags(cleaned)
    return cleaned, EXTENSIONS[fmt]


def _check_no_tags(data: bytes) -> None:
    try:
        again = mutagen.File(io.BytesIO(data))
    except mutagen.MutagenError as error:
        raise AudioUnreadable(str(error)) from error
    if again is None:
        raise AudioUnreadable("unreadable after cleaning")
    tags = again.tags
    if tags is not None and len(tags.keys()) > 0:
        raise AudioUnreadable("tags left after cleaning")
    if isinstance(again, FLAC) and again.pictures:
        raise AudioUnreadable("pictures left after cleaning")


def _wav(data: bytes) -> bytes:
    """RIFF/WAVE with only its fmt, fact and data chunks."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioUnreadable("not a WAV file")
    chunks: list[bytes] = []
    position = 12
    seen_data = False
    while position + 8 <= len(data):
        chunk_id = data[position : position + 4]
        (size,) = struct.unpack("<I", data[position + 4 : position + 8])
        body = data[position + 8 : position + 8 + size]
        if len(body) < size and chunk_id != b"data":
            raise AudioUnreadable("truncated WAV chunk")
        if chunk_id in _WAV_KEEP:
            padded = body + (b"\x00" if len(body) % 2 else b"")
            chunks.append(chunk_id + struct.pack("<I", len(body)) + padded)
            seen_data = seen_data or chunk_id == b"data"
        position += 8 + size + (size % 2)
    if not seen_data:
        raise AudioUnreadable("WAV without sound")
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
