"""evidence/isolated.py: cleaning in a child process, bounded in time, without the line's
secrets, answering as `clean` does. These run the real child (`python -m evidence.isolated`)."""

from __future__ import annotations

import asyncio
import os

import pytest

from evidence import isolated
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


async def test_past_its_time_the_child_is_killed_and_the_file_is_too_slow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    children: list[asyncio.subprocess.Process] = []
    spawn = asyncio.create_subprocess_exec

    async def recorded(*args: object, **kwargs: object) -> asyncio.subprocess.Process:
        child = await spawn(*args, **kwargs)  # type: ignore[arg-type]
        children.append(child)
        return child

    monkeypatch.setattr(asyncio, "create_subprocess_exec", recorded)
    with pytest.raises(CannotClean) as raised:
        await isolated.clean_elsewhere(samples.docx_with_much_text(), "big.docx", None,
                                       seconds=0.05)
    assert raised.value.reason == TOO_SLOW
    (child,) = children
    assert child.returncode is not None  # killed and reaped, not left running
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)


def test_the_child_gets_none_of_the_lines_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIPBOT_KEY", "c2VjcmV0")
    monkeypatch.setenv("TIPBOT_TOKEN", "123:ABC")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/run/credentials/tipline.service")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    environment = isolated._environment()
    assert not [name for name in environment if name.startswith("TIPBOT_")]
    assert "CREDENTIALS_DIRECTORY" not in environment
    assert environment["PYTHONPATH"] == "/somewhere"


@pytest.mark.parametrize(("out", "status"), [(b"", 1), (b"not json\n", 0), (b"", -9),
                                             (b'["a list"]\n', 0)])
def test_a_child_that_fails_makes_the_file_unreadable(out: bytes, status: int) -> None:
    with pytest.raises(CannotClean) as raised:
        isolated._answer(out, status)
    assert raised.value.reason == UNREADABLE
