"""Runs `python -m bot sandbox` as a subprocess, as a newcomer would from a terminal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from testing.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"Tipline sandbox: (http://127\.0\.0\.1:\d+/)")


class SandboxProcess:
    """One sandbox run in `workdir` (its working folder, where a `.env` would be read)."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.workdir = workdir
        self.args = list(args)
        self.port = free_port()
        self.tmp = workdir / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TIPBOT_")}
        self.env.update({"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "TMPDIR": str(self.tmp)})
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.url = ""

    def start(self, timeout: float = 150.0) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "sandbox", "--port", str(self.port), *self.args],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = URL.search(line)
                if match:
                    self.url = match.group(1)
                    return self.url
            if self.process.poll() is not None:
                time.sleep(0.2)  # let the reader catch the last lines
                raise RuntimeError(f"sandbox exited with {self.process.returncode}:\n{self.output}")
            time.sleep(0.1)
        self.stop(signal.SIGKILL)
        raise TimeoutError(f"sandbox did not print its URL in {timeout} s:\n{self.output}")

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def children(self) -> list[int]:
        """Processes whose parent is the sandbox (the bot)."""
        assert self.process is not None
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 40.0) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
