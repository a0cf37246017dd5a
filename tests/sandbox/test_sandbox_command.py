"""`python -m bot sandbox` as a newcomer runs it: it starts without a token, serves the page,
has its demo staff ready, ignores a `.env` pointing at real Telegram and real data, and Ctrl-C or
SIGTERM stops everything (exit 0, no bot left behind, the temporary folder gone)."""

from __future__ import annotations

import base64
import json
import os
import signal
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sandbox.demo import ADMIN, OFFICER, RESIDENT
from tests.sandbox.harness import ROOT, SandboxProcess, alive


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def _officers_list(data: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPBOT_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "TIPBOT_KEY": (data / "master.key").read_text().strip(),
            "TIPBOT_DB": str(data / "tipline.db"),
            "TIPBOT_ADMIN_IDS": str(ADMIN.user_id),
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "officers", "list"],
        cwd=data, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_sandbox_starts_without_a_token_ignores_a_real_env_and_stops_cleanly(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    real_db = tmp_path / "real" / "tipline.db"
    (work / ".env").write_text(
        "TIPBOT_TOKEN=123456789:REAL-production-token\n"
        f"TIPBOT_KEY={base64.b64encode(os.urandom(32)).decode()}\n"
        f"TIPBOT_DB={real_db}\n"
        "TIPBOT_API_BASE_URL=http://127.0.0.1:9/bot\n"
        "TIPBOT_API_FILE_URL=http://127.0.0.1:9/file/bot\n"
        "TIPBOT_ADMIN_IDS=42\n"
    )
    sandbox = SandboxProcess(work)
    try:
        url = sandbox.start()
        status, page = _get(url)
        assert status == 200
        for role in ("resident", "officer", "admin"):
            assert f'<section class="pane" data-role="{role}">' in page
        assert _get(url + "static/app.js")[0] == 200
        rebound = urllib.request.Request(url, headers={"Host": f"evil.example:{sandbox.port}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(rebound, timeout=10)
        assert refused.value.code == 403, "a page elsewhere cannot reach the sandbox"
        boot = json.loads(_get(url + "sandbox/bootstrap")[1])
        assert [p["role"] for p in boot["panes"]] == ["resident", "officer", "admin"]
        by_role = {p["role"]: p for p in boot["panes"]}
        assert by_role["resident"]["user_id"] == RESIDENT.user_id
        assert by_role["resident"]["language_code"] == "vi"
        for role in ("officer", "admin"):  # both opened the bot and were welcomed
            assert any(
                m["from_bot"] and "113" in (m["text"] or "") for m in by_role[role]["messages"]
            ), by_role[role]["messages"]
        menu = json.loads(_get(f"{url}_emulator/users/{OFFICER.user_id}/commands")[1])
        assert "tips" in [c["command"] for c in menu["result"]["commands"]]
        resident_menu = json.loads(_get(f"{url}_emulator/users/{RESIDENT.user_id}/commands")[1])
        assert "tips" not in [c["command"] for c in resident_menu["result"]["commands"]]

        folder = next(sandbox.tmp.glob("tipline-sandbox-*"))
        staff = _officers_list(folder)
        officer = next(
            line.split("\t") for line in staff.splitlines() if line.startswith(str(OFFICER.user_id))
        )
        assert officer[3:] == ["all areas", "reachable"], staff
        assert any(
            line.startswith(str(ADMIN.user_id)) and "admin (permanent)" in line
            for line in staff.splitlines()
        ), staff
        bots = sandbox.children()
        assert bots, "the bot runs as a child process"
    finally:
        code = sandbox.stop(signal.SIGTERM)
    assert code == 0, sandbox.output
    assert not [pid for pid in bots if alive(pid)], "a bot process survived the sandbox"
    assert not list(sandbox.tmp.glob("tipline-sandbox-*")), "the temporary folder is removed"
    assert not real_db.parent.exists(), "the database named in .env was never created"
    assert "Tipline sandbox stopped." in sandbox.output


def test_sandbox_keeps_its_data_folder_and_key_and_stops_on_ctrl_c(tmp_path):
    data = tmp_path / "sandbox-data"
    first = SandboxProcess(tmp_path, "--data", str(data))
    try:
        first.start()
    finally:
        assert first.stop(signal.SIGINT) == 0, first.output
    key_file = data / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()
    assert (data / "tipline.db").exists()

    second = SandboxProcess(tmp_path, "--data", str(data))
    try:
        url = second.start()  # the same key opens the same database again
        assert _get(url)[0] == 200
    finally:
        assert second.stop(signal.SIGINT) == 0, second.output
    assert key_file.read_text() == key
    assert str(OFFICER.user_id) in _officers_list(data)


def test_sandbox_refuses_a_folder_with_a_database_it_did_not_make(tmp_path):
    data = tmp_path / "real-data"
    data.mkdir()
    (data / "tipline.db").write_bytes(b"not ours")
    sandbox = SandboxProcess(tmp_path, "--data", str(data))
    sandbox.process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(sandbox.port), "--data", str(data)],
        cwd=tmp_path, env=sandbox.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output, _ = sandbox.process.communicate(timeout=60)
    assert sandbox.process.returncode == 2, output
    assert "--data" in output and "master.key" in output
    assert (data / "tipline.db").read_bytes() == b"not ours"
    assert not (data / "master.key").exists()
