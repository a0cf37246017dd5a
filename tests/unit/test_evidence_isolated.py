"""evidence/isolated.py: cleaning in a child process, bounded in time, without the line's
secrets, answering as `clean` does. These run the real child (`python -m evidence.isolated`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from pathlib import Path

import pytest

from evidence import isolated, video
from evidence.clean import TOO_SLOW, UNKNOWN_TYPE, UNREADABLE, CannotClean, clean
from testing import evidence_samples as samples


async def test_a_file_is_cleaned_in_the_child_as_in_the_bot() -> None:
    for data, name in ((samples.jpeg_with_exif(), "a.jpg"), (samples.docx_with_author(), "a.docx"),
                       (samples.pdf_with_author(), "a.pdf")):
        there = await isolated.clean_elsewhere(data, name, None)
        here = clean(data, name, None)
        assert (there.extension, there.fmt) == (here.extension, here.fmt)
        samples.assert_clean(there.data)


async def test_a_reason_not_to_clean_comes_back_as_it_is() -> None:
    with pytest.raises(CannotClean) as raised:
        await isolated.clean_elsewhere(b"just some bytes", "notes.xyz", None)
    assert raised.value.reason == UNKNOWN_TYPE


def _recording(monkeypatch: pytest.MonkeyPatch) -> list[asyncio.subprocess.Process]:
    children: list[asyncio.subprocess.Process] = []
    spawn = asyncio.create_subprocess_exec

    async def recorded(*args: object, **kwargs: object) -> asyncio.subprocess.Process:
        child = await spawn(*args, **kwargs)  # type: ignore[arg-type]
        children.append(child)
        return child

    monkeypatch.setattr(asyncio, "create_subprocess_exec", recorded)
    return children


def _scratch_folders() -> set[str]:
    where = video.memory_folder() or tempfile.gettempdir()
    return {name for name in os.listdir(where) if name.startswith("tipline-clean-")}


async def test_past_its_time_the_child_is_killed_and_the_file_is_too_slow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    children = _recording(monkeypatch)
    before = _scratch_folders()
    with pytest.raises(CannotClean) as raised:
        await isolated.clean_elsewhere(samples.docx_with_much_text(), "big.docx", None,
                                       seconds=0.05)
    assert raised.value.reason == TOO_SLOW
    (child,) = children
    assert child.returncode is not None  # killed and reaped, not left running
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)
    assert _scratch_folders() <= before  # its scratch folder went with it


@pytest.mark.skipif(not samples.has_ffmpeg(), reason="needs ffmpeg")
async def test_a_killed_childs_ffmpeg_and_its_copy_of_the_original_go_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ffmpeg's 120 s limit was the child's to enforce: killed alone, the child left ffmpeg
    running and the original video in its scratch folder (the review of session 11)."""
    children = _recording(monkeypatch)
    before = _scratch_folders()
    cleaning = asyncio.ensure_future(
        isolated.clean_elsewhere(samples.mp4_with_location(), "clip.mp4", None))
    while not children:
        await asyncio.sleep(0.01)
    group = children[0].pid
    for _ in range(500):  # until ffmpeg runs in the child's group
        if len(_in_group(group)) > 1:
            break
        await asyncio.sleep(0.01)
    assert len(_in_group(group)) > 1, "the test's premise: ffmpeg runs in the child's group"
    cleaning.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cleaning
    assert _in_group(group) == []
    assert _scratch_folders() <= before


def _in_group(group: int) -> list[int]:
    """The live processes of process group `group` (from /proc)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == group and fields[0] != "Z":
                    found.append(int(name))
    return found


async def test_a_stop_of_the_bot_does_not_make_the_file_unreadable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """systemd stops a service with SIGTERM to all its processes: the child finishes its file
    (before, it died and the file was told unreadable, with the offer to send it as it is)."""
    children = _recording(monkeypatch)
    cleaning = asyncio.ensure_future(
        isolated.clean_elsewhere(samples.docx_with_much_text(), "big.docx", None))
    while not children:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # past the child's start, into its cleaning
    children[0].send_signal(signal.SIGTERM)
    children[0].send_signal(signal.SIGINT)
    result = await cleaning
    assert result.fmt == "docx"


def test_the_child_gets_none_of_the_lines_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIPBOT_KEY", "c2VjcmV0")
    monkeypatch.setenv("TIPBOT_TOKEN", "123:ABC")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/run/credentials/tipline.service")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    environment = isolated._environment()
    assert not [name for name in environment if name.startswith("TIPBOT_")]
    assert "CREDENTIALS_DIRECTORY" not in environment
    assert environment["PYTHONPATH"] == "/somewhere"


@pytest.mark.parametrize(("out", "status"), [
    (b"", 1), (b"not json\n", 0), (b"", -9), (b'["a list"]\n', 0),
    (b'{"ok": true, "extension": "pdf", "fmt": "pdf", "length": 5}\nabc', 0),  # cut short
])
def test_a_child_that_fails_makes_the_file_unreadable(out: bytes, status: int) -> None:
    with pytest.raises(CannotClean) as raised:
        isolated._answer(out, status)
    assert raised.value.reason == UNREADABLE
