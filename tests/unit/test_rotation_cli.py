"""`python -m bot rotate-key | backup | purge` as subprocesses: exit statuses and one-line
problems (SPEC "Command line": 0 done, 1 the work failed, 2 bad usage or configuration)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEY = base64.b64encode(bytes(range(32))).decode()
NEW = base64.b64encode(bytes(range(1, 33))).decode()


def _run(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "TIPBOT_DB": str(tmp_path / "data" / "tipline.db"), "TIPBOT_KEY": KEY, **settings}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_commands_on_a_database_that_does_not_exist_exit_2_and_create_nothing(tmp_path: Path):
    for args in (("purge",), ("purge", "--dry-run"), ("rotate-key", "--content"),
                 ("backup", str(tmp_path / "b.db"))):
        result = _run(tmp_path, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "TIPBOT_DB" in result.stderr
    assert not (tmp_path / "data").exists()


def test_rotate_key_usage_errors_are_one_line(tmp_path: Path):
    assert _run(tmp_path, "officers", "add", "7002", "--all-areas").returncode == 0
    missing = _run(tmp_path, "rotate-key")
    assert missing.returncode == 2 and missing.stderr.startswith("tipline: TIPBOT_KEY_OLD: missing")
    same = _run(tmp_path, "rotate-key", TIPBOT_KEY_OLD=KEY)
    assert same.returncode == 2 and "the same as TIPBOT_KEY" in same.stderr
    wrong = _run(tmp_path, "rotate-key", TIPBOT_KEY=NEW,
                 TIPBOT_KEY_OLD=base64.b64encode(bytes(32)).decode())
    assert wrong.returncode == 2 and "neither TIPBOT_KEY nor TIPBOT_KEY_OLD" in wrong.stderr
    bad = _run(tmp_path, "rotate-key", TIPBOT_KEY_OLD="x")
    assert bad.returncode == 2 and "TIPBOT_KEY_OLD" in bad.stderr
    assert "Traceback" not in missing.stderr + same.stderr + wrong.stderr + bad.stderr


def test_both_rotations_at_once_then_only_the_new_key_opens(tmp_path: Path):
    assert _run(tmp_path, "officers", "add", "7002", "--all-areas").returncode == 0
    both = _run(tmp_path, "rotate-key", "--content", TIPBOT_KEY=NEW, TIPBOT_KEY_OLD=KEY)
    assert both.returncode == 0, both.stderr
    assert "none left under the old key" in both.stdout and "re-wrapped" in both.stdout
    assert _run(tmp_path, "audit", "verify").returncode == 2  # the old key no longer opens
    assert _run(tmp_path, "audit", "verify", TIPBOT_KEY=NEW).returncode == 0
    backup = _run(tmp_path, "backup", str(tmp_path / "b.db"), TIPBOT_KEY=NEW)
    assert backup.returncode == 0 and "written to" in backup.stdout
    again = _run(tmp_path, "backup", str(tmp_path / "b.db"), TIPBOT_KEY=NEW)
    assert again.returncode == 2 and "exists" in again.stderr
    purge = _run(tmp_path, "purge", "--dry-run", TIPBOT_KEY=NEW, TIPBOT_RETENTION_DAYS="0.5")
    assert purge.returncode == 0 and "would delete 0 tips" in purge.stdout
