"""Runs the real bot (`python -m bot`) as a subprocess against the project's Bot API emulator.

The bot is configured only through its environment, exactly as in production; its working
folder is a fresh temporary folder (so no developer `.env` leaks in); its standard error is
captured to a file so tests can scan the logs for anything that must never be there.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]  # the checkout: the bot under test is this one


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class BotProcess:
    """One bot process; `start`, `kill9`, `stop` and `restart` as an operator would."""

    def __init__(self, emulator: Emulator, workdir: Path, **settings: str) -> None:
        self.emulator = emulator
        self.workdir = workdir
        self.data = workdir / "data"
        self.log_path = workdir / "bot.log"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(workdir),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "TIPBOT_TOKEN": emulator.token,
            "TIPBOT_KEY": new_key(),
            "TIPBOT_DB": str(self.data / "tipline.db"),
            "TIPBOT_API_BASE_URL": emulator.base_url,
            "TIPBOT_LOG_LEVEL": "DEBUG",
        }
        # Under `pytest --cov` (coverage's `patch = subprocess`, see pyproject.toml) the settings
        # coverage hands to subprocesses are passed on, so the bot's own lines are measured too.
        self.env.update({k: v for k, v in os.environ.items() if k.startswith("COVERAGE_")})
        self.env.update(settings)
        self.process: subprocess.Popen[bytes] | None = None
        self._log = None

    def start(self, wait: bool = True, timeout: float = 20.0) -> BotProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
        marker = self._started_calls()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=self.workdir,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.emulator.wait_until(
                lambda: self._started_calls() > marker or self.process.poll() is not None,
                timeout=timeout,
            )
            if self.process.poll() is not None:
                raise RuntimeError(f"bot exited with {self.process.returncode}:\n{self.logs()}")
        return self

    def _started_calls(self) -> int:
        """Calls that show the bot receiving: getUpdates, or in webhook mode (with
        TIPBOT_WEBHOOK_URL) a successful setWebhook, after which Telegram's posts wait for it."""
        if self.env.get("TIPBOT_WEBHOOK_URL"):
            return len([c for c in self.emulator.calls_to("setWebhook") if c.ok])
        return len(self.emulator.calls_to("getUpdates"))

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self._reap()

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait: the clean shutdown of a service manager."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self._reap(timeout)

    def restart(self) -> BotProcess:
        self.stop()
        return self.start()

    def _reap(self, timeout: float = 15.0) -> int:
        assert self.process is not None
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        self.process = None
        return code

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cli(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run `python -m bot ARGS` with this bot's settings (without the token)."""
        env = dict(self.env)
        env.pop("TIPBOT_TOKEN", None)
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def add_officer(self, user_id: int, *areas: str, name: str | None = None) -> None:
        args = ["officers", "add", str(user_id)]
        args += ["--all-areas"] if not areas else [a for code in areas for a in ("--area", code)]
        if name:
            args += ["--name", name]
        result = self.cli(*args)
        assert result.returncode == 0, result.stderr

    def data_bytes(self) -> bytes:
        """Every byte under the data folder (the database, its -wal and -shm, anything else)."""
        chunks = []
        for path in sorted(self.data.rglob("*")):
            if path.is_file():
                chunks.append(path.read_bytes())
        return b"\n".join(chunks)


def wait(condition, timeout: float = 10.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met")
