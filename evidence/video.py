"""Videos and animations without container metadata, rewritten by ffmpeg (from Debian).

Phones write the place (`location`, QuickTime's ISO 6709 key), make, model and software into
the container, and cameras add data tracks (GPS telemetry) and subtitle tracks with GPS. ffmpeg
copies the picture and sound streams as they are (`-c copy`: no quality lost, fast) into a new
container with no global, stream or chapter metadata, no attached pictures, no data or subtitle
tracks, and no encoder tag (`bitexact`). Without the `ffmpeg` program nothing is guessed: the
caller is told it cannot clean videos.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

TIMEOUT = 120.0
# format code -> (ffmpeg muxer, extension)
CONTAINERS = {
    "mp4": ("mp4", "mp4"),
    "mov": ("mov", "mov"),
    "3gp": ("3gp", "3gp"),
    "mkv": ("matroska", "mkv"),
    "webm": ("webm", "webm"),
    "avi": ("avi", "avi"),
}


class FfmpegMissing(Exception):
    """No `ffmpeg` on PATH."""


class VideoUnreadable(Exception):
    """ffmpeg refused the file, or took too long."""


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


def clean_video(data: bytes, fmt: str) -> tuple[bytes, str]:
    """The video rewritten without metadata: (bytes, extension)."""
    muxer, extension = CONTAINERS[fmt]
    arguments = [
        "-map", "0:V?", "-map", "0:a?",
        "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1",
        "-c", "copy",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-f", muxer,
    ]  # fmt: skip
    return run_ffmpeg(data, arguments, extension), extension


#: Where ffmpeg's private folders go when set (evidence/isolated.py sets it in its child to a
#: folder of the parent's, which the parent removes whatever becomes of the child).
SCRATCH: str | None = None


def memory_folder() -> str | None:
    """The memory-backed folder when the system has one (evidence should not touch the disk),
    else the default; mkdtemp makes a private (0700), randomly named folder there."""
    shm = "/dev/shm"  # noqa: S108
    return shm if os.access(shm, os.W_OK) else None


def run_ffmpeg(data: bytes, arguments: list[str], extension: str) -> bytes:
    """ffmpeg's output for `data` given as its input, with `arguments` before the output file.

    Shared by videos and M4A sound (evidence.audio): one place for the private scratch folder,
    the time limit and the checks on what ffmpeg did. Raises FfmpegMissing or VideoUnreadable.
    """
    ffmpeg = ffmpeg_path()
    if ffmpeg is None:
        raise FfmpegMissing
    with tempfile.TemporaryDirectory(prefix="tipline-", dir=SCRATCH or memory_folder()) as folder:
        source = os.path.join(folder, "in")
        target = os.path.join(folder, f"out.{extension}")
        with open(source, "wb") as handle:
            handle.write(data)
        command = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                   "-i", source, *arguments, target]
        try:
            result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
                command, capture_output=True, timeout=TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise VideoUnreadable("ffmpeg took too long") from error
        if result.returncode != 0 or not os.path.exists(target):
            raise VideoUnreadable(f"ffmpeg exit {result.returncode}")
        with open(target, "rb") as handle:
            cleaned = handle.read()
    if not cleaned:
        raise VideoUnreadable("ffmpeg wrote nothing")
    return cleaned
