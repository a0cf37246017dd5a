"""bot/core_dumps.py: the bot's process is not dumpable and its core limit is 0, so neither a
crash nor another process of the same user (the evidence cleaner) gets at its memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl")

PROBE = """
import resource, sys
from bot import core_dumps
assert core_dumps.dumpable() is True
assert core_dumps.forbid() is True
assert core_dumps.dumpable() is False
assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)
print("forbidden")
sys.stdout.flush()
sys.stdin.read()  # held open while the test looks at it from outside
"""


def test_a_forbidding_process_is_neither_dumpable_nor_readable_by_its_user() -> None:
    with subprocess.Popen([sys.executable, "-c", PROBE], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as probe:
        try:
            assert probe.stdout is not None and probe.stdout.readline().strip() == "forbidden"
            # Seen from outside only when this test is not root (root may read anything; CI
            # runs as root, where the probe's own prctl readback above is the check).
            if os.geteuid() != 0:
                assert Path(f"/proc/{probe.pid}/mem").stat().st_uid == 0
                with pytest.raises(PermissionError):
                    Path(f"/proc/{probe.pid}/environ").read_bytes()
        finally:
            assert probe.stdin is not None
            probe.stdin.close()
    assert probe.returncode == 0


def test_the_command_line_forbids_before_anything_else() -> None:
    source = (Path(__file__).resolve().parents[2] / "bot" / "cli.py").read_text()
    main = source[source.index("def main("):]
    assert main.index("core_dumps.forbid()") < main.index("read_environment()")
