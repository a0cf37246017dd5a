"""evidence.audio: an M4A loses the place and artist QuickTime keeps outside the iTunes item list
(which mutagen alone neither shows nor removes), and the check reads the atoms themselves."""

from __future__ import annotations

import io
import struct

import pytest

from evidence.audio import AudioUnreadable, check_mp4_atoms
from evidence.clean import NO_FFMPEG, UNREADABLE, CannotClean, clean
from testing import evidence_samples as samples

needs_ffmpeg = pytest.mark.skipif(not samples.has_ffmpeg(), reason="ffmpeg is not installed")


def m4a_with_quicktime_location() -> bytes:
    """The reviewer's case: brand M4A, ©xyz and ©ART atoms in moov/udta (QuickTime style)."""
    return samples._ffmpeg(
        "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac",
        "-metadata", f"location={samples.LOCATION}", "-metadata", f"artist={samples.ARTIST}",
        "-metadata", f"title={samples.TITLE}", "-brand", "M4A ", "-f", "mov", suffix=".m4a",
    )  # fmt: skip


def m4a_with_apple_keys() -> bytes:
    """As iPhones write: moov/meta with mdta keys for the place and the phone."""
    return samples._ffmpeg(
        "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac",
        "-metadata", "com.apple.quicktime.location.ISO6709=+16.2312+107.4531+010.000/",
        "-metadata", f"com.apple.quicktime.model=iPhone of {samples.PERSON}",
        "-movflags", "use_metadata_tags", "-brand", "M4A ", "-f", "mp4", suffix=".m4a",
    )  # fmt: skip


def _atom(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


@needs_ffmpeg
@pytest.mark.parametrize("make", [m4a_with_quicktime_location, m4a_with_apple_keys])
def test_an_m4a_loses_every_atom_but_its_sound(make) -> None:  # type: ignore[no-untyped-def]
    import mutagen

    original = make()
    assert original[8:12] == b"M4A " and b"107.4531" in original
    result = clean(original, "Ghi_am_Nguyen.m4a", "audio/mp4")
    assert (result.fmt, result.extension) == ("m4a", "m4a")
    samples.assert_clean(result.data)
    assert b"Lavf" not in result.data and b"\xa9xyz" not in result.data
    check_mp4_atoms(result.data)
    again = mutagen.File(io.BytesIO(result.data))
    assert again is not None and 0.9 < again.info.length < 1.2  # the sound is all there


@needs_ffmpeg
def test_the_atom_check_refuses_what_mutagen_does_not_see() -> None:
    import mutagen

    original = m4a_with_quicktime_location()
    tags = mutagen.File(io.BytesIO(original)).tags
    assert not tags or "\xa9xyz" not in tags  # mutagen does not show the place…
    with pytest.raises(AudioUnreadable):
        check_mp4_atoms(original)  # …the check on the atoms does
    cleaned = clean(original, "a.m4a", None).data
    moov = cleaned.index(b"moov") - 4
    (size,) = struct.unpack(">I", cleaned[moov : moov + 4])
    xmp = _atom(b"uuid", b"\xbe\x7a\xcf\xcb" + bytes(12) + samples.PERSON.encode())
    grown = cleaned[:moov] + struct.pack(">I", size + len(xmp)) + cleaned[moov + 4 : moov + size]
    with pytest.raises(AudioUnreadable):
        check_mp4_atoms(grown + xmp + cleaned[moov + size :])
    with pytest.raises(AudioUnreadable):
        check_mp4_atoms(cleaned + _atom(b"uuid", samples.PERSON.encode()))
    for broken in (cleaned[:-3], b"\x00\x00\x00\x04ftyp", b"\x00\x00\x01\x00moov"):
        with pytest.raises(AudioUnreadable):
            check_mp4_atoms(broken)


@needs_ffmpeg
def test_a_broken_m4a_is_unreadable() -> None:
    with pytest.raises(CannotClean) as caught:
        clean(b"\x00\x00\x00\x18ftypM4A " + bytes(64), "a.m4a", "audio/mp4")
    assert caught.value.reason == UNREADABLE


def test_without_ffmpeg_an_m4a_cannot_be_cleaned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(CannotClean) as caught:
        clean(b"\x00\x00\x00\x18ftypM4A " + bytes(64), "a.m4a", "audio/mp4")
    assert caught.value.reason == NO_FFMPEG
