"""The service files in deploy/ (issue 14, point 4): systemd accepts them as installed, and the
nightly backup script keeps the newest copies only."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from storage.store import open_store

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("tipline.service", "tipline-backup.service", "tipline-backup.timer")
#: The template of the webhook processes (docs/SCALING.md), verified through one instance.
TEMPLATE, INSTANCE = "tipline@.service", "tipline@8441.service"


def test_systemd_analyze_verify_accepts_the_units_as_installed(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is absent (Debian's systemd package; .ci/run installs it)")
    system = Path("/usr/lib/systemd/system")
    if not system.is_dir():
        pytest.skip("no /usr/lib/systemd/system to verify the units against")
    # A root laid out as docs/OPERATIONS.md installs it: the units, the code's entry points.
    root = tmp_path / "root"
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(system, root / "usr/lib/systemd/system", symlinks=True)
    venv = root / "opt/tipline/.venv/bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text("#!/bin/sh\n")
    (venv / "python").chmod(0o755)
    (root / "opt/tipline/deploy").mkdir(parents=True)
    shutil.copy2(DEPLOY / "tipline-backup", root / "opt/tipline/deploy/tipline-backup")
    for unit in (*UNITS, TEMPLATE):
        shutil.copy(DEPLOY / unit, root / "etc/systemd/system" / unit)
    # one instance of the several-processes template, as `systemctl enable tipline@8441` links it
    (root / "etc/systemd/system" / INSTANCE).symlink_to(TEMPLATE)
    result = subprocess.run(
        [tool, "verify", f"--root={root}",
         *(f"/etc/systemd/system/{u}" for u in (*UNITS, INSTANCE))],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # not even a warning


def test_the_unit_takes_the_key_from_a_credential_and_is_hardened() -> None:
    unit = (DEPLOY / "tipline.service").read_text()
    for line in ("User=tipline", "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "StateDirectory=tipline", "LoadCredential=tipline-key:/etc/tipline/key",
                 "Environment=TIPBOT_KEY_FILE=%d/tipline-key", "RestartPreventExitStatus=2"):
        assert f"\n{line}\n" in unit, line
    assert "TIPBOT_KEY=" not in unit and "TIPBOT_TOKEN=" not in unit


def test_the_backup_script_makes_a_copy_and_keeps_the_newest(tmp_path: Path) -> None:
    key = bytes(range(32))
    store = asyncio.run(open_store(tmp_path / "tipline.db", key))
    asyncio.run(store.close())
    backups = tmp_path / "backups"
    backups.mkdir()
    for stamp in ("20200101T000000Z", "20200102T000000Z", "20200103T000000Z"):
        (backups / f"tipline-{stamp}.db").write_bytes(b"old")
    (backups / "notes.txt").write_text("not a backup: kept")
    env = {
        "PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
        "TIPLINE_PYTHON": sys.executable, "TIPLINE_BACKUP_DIR": str(backups),
        "TIPLINE_BACKUP_KEEP": "2", "TIPBOT_DB": str(tmp_path / "tipline.db"),
        "TIPBOT_KEY": base64.b64encode(key).decode(),
    }
    result = subprocess.run([str(DEPLOY / "tipline-backup")], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    left = sorted(p.name for p in backups.iterdir())
    assert len(left) == 3 and left[0] == "notes.txt" and left[1] == "tipline-20200103T000000Z.db"
    assert (backups / left[2]).read_bytes()[:16] == b"SQLite format 3\x00"
