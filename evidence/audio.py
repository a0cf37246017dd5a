"""Audio files without their tags: artist, title, album, comments, cover pictures (mutagen).

Recorder apps write the owner's name or the phone's model as artist, the place as title, and
encoders leave their settings. ID3 (v1 and v2) and APEv2 in MP3, Vorbis comments and pictures
in Ogg and FLAC go. M4A is rewritten by ffmpeg (as videos are, see evidence.video) with only its
sound: mutagen's view of an M4A is the iTunes item list, and QuickTime keeps the place (`©xyz`),
the artist and more as other atoms beside it, which mutagen neither shows nor removes. The
rewritten file is then checked atom by atom against the few atoms playback needs, so an atom
nobody thought of makes the file refused, not sent. Without ffmpeg an M4A is not cleaned. WAV
files are rebuilt from their format and sound chunks only (their LIST/INFO chunk names the
artist, and mutagen does not rewrite it). AMR has no place for tags and is kept as it is.
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
    if fmt == "m4a":
        return _m4a(data), "m4a"
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


# What an M4A written by ffmpeg's ipod muxer may hold, container by container: the sound's
# description, timing and sample tables, and an empty iTunes item list. `None`: a leaf.
_MP4_CONTAINERS: dict[bytes, frozenset[bytes]] = {
    b"": frozenset((b"ftyp", b"free", b"skip", b"wide", b"mdat", b"moov")),
    b"moov": frozenset((b"mvhd", b"trak", b"udta")),
    b"trak": frozenset((b"tkhd", b"edts", b"mdia")),
    b"edts": frozenset((b"elst",)),
    b"mdia": frozenset((b"mdhd", b"hdlr", b"minf")),
    b"minf": frozenset((b"smhd", b"dinf", b"stbl")),
    b"dinf": frozenset((b"dref",)),
    b"stbl": frozenset((b"stsd", b"stts", b"stsc", b"stsz", b"stz2", b"stco", b"co64",
                        b"stss", b"ctts", b"sgpd", b"sbgp", b"sdtp", b"cslg")),
    b"udta": frozenset((b"meta",)),
    b"meta": frozenset((b"hdlr", b"ilst")),
}
_HANDLER_NAMES = frozenset((b"", b"SoundHandler"))
_MAX_ATOMS = 10_000


def _m4a(data: bytes) -> bytes:
    """The M4A's sound in a new container without any metadata, checked atom by atom."""
    from evidence.video import VideoUnreadable, run_ffmpeg

    arguments = [
        "-map", "0:a", "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1",
        "-c", "copy", "-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "ipod",
    ]  # fmt: skip
    try:
        cleaned = run_ffmpeg(data, arguments, "m4a")
    except VideoUnreadable as error:
        raise AudioUnreadable(str(error)) from error
    check_mp4_atoms(cleaned)
    _check_no_tags(cleaned)
    return cleaned


def check_mp4_atoms(data: bytes) -> None:
    """Raise AudioUnreadable unless every atom of the file is one playback needs.

    Looks at the container itself, not at what a tag library shows of it: an atom outside the
    list (a place, an artist, XMP in a uuid atom, a second track) fails the file.
    """
    stack: list[tuple[bytes, int, int]] = [(b"", 0, len(data))]
    atoms = 0
    while stack:
        parent, position, end = stack.pop()
        allowed = _MP4_CONTAINERS[parent]
        while position < end:
            atoms += 1
            if atoms > _MAX_ATOMS or position + 8 > end:
                raise AudioUnreadable("malformed atoms")
            size, kind = struct.unpack(">I4s", data[position : position + 8])
            header = 8
            if size == 1:
                if position + 16 > end:
                    raise AudioUnreadable("malformed atoms")
                (size,) = struct.unpack(">Q", data[position + 8 : position + 16])
                header = 16
            elif size == 0 and parent == b"":
                size = end - position
            if size < header or position + size > end:
                raise AudioUnreadable("malformed atoms")
            if kind not in allowed:
                raise AudioUnreadable(f"unexpected atom {kind!r} after cleaning")
            body = data[position + header : position + size]
            if kind == b"hdlr" and body[24:].rstrip(b"\x00") not in _HANDLER_NAMES:
                raise AudioUnreadable("named handler after cleaning")
            if kind == b"ilst" and body:
                raise AudioUnreadable("items left after cleaning")
            if kind == b"dref" and not _self_contained(body):
                raise AudioUnreadable("data reference after cleaning")
            if kind in _MP4_CONTAINERS:
                skip = 4 if kind == b"meta" else 0  # meta is a full atom: version and flags
                stack.append((kind, position + header + skip, position + size))
            position += size


def _self_contained(body: bytes) -> bool:
    """A dref whose entries all say "the data is in this file" (no path or address)."""
    if len(body) < 8:
        return False
    count = int.from_bytes(body[4:8], "big")
    entries = body[8:]
    return count >= 1 and entries == (b"\x00\x00\x00\x0curl \x00\x00\x00\x01" * count)


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
