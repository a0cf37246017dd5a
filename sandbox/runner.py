"""`python -m bot sandbox [--port N] [--data DIR]`: the whole line offline, in a browser.

It starts the project's Bot API emulator in this process, makes a data folder with a master key
and a database (a temporary one, removed on exit, or `--data DIR`, kept and reused), registers a
demo officer covering all areas and a demo admin, starts the real bot (`python -m bot`, the same
code as in production) as a subprocess configured only through its environment, makes both demo
staff open the bot, and serves the page on 127.0.0.1. Ctrl-C or SIGTERM stops everything.

The token, master key, database and API URLs the child gets always override any `.env` (the
environment wins over `.env`), so the sandbox can never reach real Telegram or open real data.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import IO

from aiohttp import web

from bot.config import ConfigError, load_config, read_environment
from emulator import Emulator
from rules.areas import AreasFileError, load_areas
from sandbox.demo import (
    ADMIN,
    BOT_FIRST_NAME,
    BOT_USERNAME,
    OFFICER,
    OFFICER_DISPLAY_NAME,
    PEOPLE,
)
from sandbox.web import build_page_app
from storage.keyring import generate_master_key

EXIT_USAGE = 2
EXIT_FAILED = 1
KEY_FILE = "master.key"
DB_FILE = "tipline.db"
LOG_FILE = "bot.log"
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
ROOT = Path(__file__).resolve().parents[1]


class SandboxError(Exception):
    """The sandbox cannot start; `lines` say why, `status` is the exit status."""

    def __init__(self, status: int, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.status = status
        self.lines = lines


def run_sandbox(port: int, data: str | None) -> int:
    """The command: returns the exit status (0 after Ctrl-C or SIGTERM)."""
    if not 0 <= port <= 65535:
        return _problems(EXIT_USAGE, f"--port: {port} is not a TCP port (0-65535)")
    try:
        return asyncio.run(_main(port, Path(data) if data else None))
    except KeyboardInterrupt:  # where signal handlers cannot be installed
        return 0


async def _main(port: int, data: Path | None) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
    sandbox = Sandbox(port, data)
    stopped = asyncio.create_task(stop.wait())
    started = False
    try:
        print("Starting the Tipline sandbox…", flush=True)
        startup = asyncio.create_task(sandbox.start())
        await asyncio.wait({startup, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not startup.done():
            startup.cancel()
            with contextlib.suppress(asyncio.CancelledError, SandboxError):
                await startup
            return 0
        startup.result()
        sandbox.print_banner()
        started = True
        bot_exited = asyncio.create_task(sandbox.wait_bot())
        await asyncio.wait({bot_exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            bot_exited.cancel()
            return 0
        return _problems(
            EXIT_FAILED,
            f"the bot stopped unexpectedly (exit status {bot_exited.result()}); its last log:",
            *sandbox.log_tail(),
        )
    except SandboxError as error:
        return _problems(error.status, *error.lines)
    finally:
        stopped.cancel()
        await sandbox.close()
        if started:
            print("Tipline sandbox stopped.", flush=True)


def _problems(status: int, *lines: str) -> int:
    print("tipline sandbox: cannot go on:", file=sys.stderr)
    for line in lines:
        print(f"  {line}", file=sys.stderr)
    return status


class Sandbox:
    """The emulator, the page's server, the data folder and the bot process of one run."""

    def __init__(self, port: int, data: Path | None) -> None:
        self.port = port
        self.requested_data = data
        self.folder: Path | None = None
        self.emulator: Emulator | None = None
        self.page_runner: web.AppRunner | None = None
        self.process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def temporary(self) -> bool:
        return self.requested_data is None

    # --- starting ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.folder = self._make_folder()
        key = load_or_create_key(self.folder / KEY_FILE)
        self.emulator = Emulator(
            token=f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(30)}",
            bot_username=BOT_USERNAME,
            bot_first_name=BOT_FIRST_NAME,
        )
        await self.emulator.start()
        for person in PEOPLE:
            self.emulator.user(
                person.user_id, person.first_name, language_code=person.language_code
            )
        await self._serve_page()
        env = self._child_environment(key)
        _check_settings(env)
        await self._register_demo_officer(env)
        await self._start_bot(env)
        await self._staff_open_the_bot()

    def _make_folder(self) -> Path:
        if self.requested_data is None:
            return Path(tempfile.mkdtemp(prefix="tipline-sandbox-"))
        folder = self.requested_data.expanduser().resolve()
        if (folder / DB_FILE).exists() and not (folder / KEY_FILE).exists():
            raise SandboxError(
                EXIT_USAGE,
                f"--data: {folder} holds a database but no {KEY_FILE}: the sandbox only reuses"
                " folders it made itself (it never opens real data); choose another folder",
            )
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise SandboxError(EXIT_USAGE, f"--data: cannot use {folder}: {error}") from error
        return folder

    async def _serve_page(self) -> None:
        assert self.emulator is not None
        self.page_runner = web.AppRunner(
            build_page_app(self.emulator),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
        )
        await self.page_runner.setup()
        site = web.TCPSite(self.page_runner, "127.0.0.1", self.port)
        try:
            await site.start()
        except OSError as error:
            raise SandboxError(
                EXIT_USAGE,
                f"--port: cannot listen on 127.0.0.1:{self.port} ({error.strerror or error});"
                " is another sandbox running? Choose another port with --port N",
            ) from error
        self.port = self.page_runner.addresses[0][1]

    def _child_environment(self, key: str) -> dict[str, str]:
        """The bot's settings: these always win over a `.env` in the working folder."""
        assert self.emulator is not None and self.folder is not None
        env = dict(os.environ)
        env.update(
            {
                "TIPBOT_TOKEN": self.emulator.token,
                "TIPBOT_KEY": key,
                "TIPBOT_DB": str(self.folder / DB_FILE),
                "TIPBOT_API_BASE_URL": self.emulator.base_url,
                "TIPBOT_API_FILE_URL": self.emulator.file_url,
                "TIPBOT_ADMIN_IDS": str(ADMIN.user_id),
                "TIPBOT_WEBHOOK_URL": "",  # never a production webhook: long-poll the emulator
                "PYTHONUNBUFFERED": "1",
            }
        )
        if (ROOT / "bot").is_dir():  # run the same code as this process, wherever it lives
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
            )
        return env

    async def _register_demo_officer(self, env: dict[str, str]) -> None:
        """Through the documented command line, exactly as an IT officer would."""
        args = ["officers", "add", str(OFFICER.user_id), "--all-areas"]
        args += ["--name", OFFICER_DISPLAY_NAME]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args,
            env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            output, _ = await process.communicate()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            raise SandboxError(
                EXIT_FAILED,
                f"registering the demo officer failed (exit status {process.returncode}):",
                *output.decode(errors="replace").splitlines(),
            )

    async def _start_bot(self, env: dict[str, str]) -> None:
        assert self.emulator is not None and self.folder is not None
        self._log = open(self.folder / LOG_FILE, "ab")  # noqa: ASYNC230, SIM115 - closed in close()
        polls_before = len(self.emulator.calls_to("getUpdates"))
        # Its own session: Ctrl-C reaches the sandbox only, which then stops the bot in order.
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot",
            env=env, stdin=asyncio.subprocess.DEVNULL, stdout=self._log,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while len(self.emulator.calls_to("getUpdates")) <= polls_before:
            if self.process.returncode is not None:
                raise SandboxError(
                    EXIT_FAILED,
                    f"the bot did not start (exit status {self.process.returncode}); its log:",
                    *self.log_tail(),
                )
            if loop.time() > deadline:
                raise SandboxError(
                    EXIT_FAILED, f"the bot did not start within {READY_TIMEOUT:.0f} s; its log:",
                    *self.log_tail(),
                )  # fmt: skip
            await asyncio.sleep(0.1)

    async def _staff_open_the_bot(self) -> None:
        """Telegram lets a bot write only to people who wrote to it first: both staff do."""
        assert self.emulator is not None
        for person in (OFFICER, ADMIN):
            self.emulator.user(person.user_id).send_command("/start")
        for person in (OFFICER, ADMIN):
            try:
                await self.emulator.wait_for_message_async(person.user_id, timeout=30.0)
            except TimeoutError as error:
                raise SandboxError(
                    EXIT_FAILED, "the bot did not answer the demo staff's /start; its log:",
                    *self.log_tail(),
                ) from error  # fmt: skip

    def print_banner(self) -> None:
        assert self.folder is not None
        where = (
            f"a temporary folder, removed when you stop: {self.folder}"
            if self.temporary
            else f"kept in {self.folder} (used again next time)"
        )
        print(
            f"Tipline sandbox: {self.url}\n"
            "  Open it in a browser: a resident, an officer and an admin chat with the real bot,\n"
            "  side by side, through a Telegram emulator on this machine. No real Telegram,\n"
            "  no real data.\n"
            f"  Demo officer {OFFICER.user_id} (all areas), demo admin {ADMIN.user_id},"
            f" resident {PEOPLE[0].user_id}.\n"
            f"  Data and key: {where}.\n"
            "  Ctrl-C stops it.",
            flush=True,
        )

    # --- running and stopping ---------------------------------------------------------------

    async def wait_bot(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    def log_tail(self, lines: int = 30) -> list[str]:
        if self.folder is None or not (self.folder / LOG_FILE).exists():
            return []
        text = (self.folder / LOG_FILE).read_text(errors="replace")
        return text.splitlines()[-lines:]

    async def close(self) -> None:
        """Bot first (it still talks to the emulator while stopping), then the servers."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.emulator is not None:
            await self.emulator.stop()  # ends the page's event streams too
        if self.page_runner is not None:
            await self.page_runner.cleanup()
            self.page_runner = None
        if self.temporary and self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def load_or_create_key(path: Path) -> str:
    """The folder's master key: created once (mode 0600), read again on later runs."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii", errors="replace").strip()
        try:
            valid = len(base64.b64decode(key, validate=True)) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise SandboxError(
                EXIT_USAGE, f"--data: {path} is not a master key (base64 of 32 bytes)"
            ) from None
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return key
    key = generate_master_key()
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key


def _check_settings(env: dict[str, str]) -> None:
    """The other settings (language, areas file...) may come from `.env`: check them first."""
    merged = read_environment()
    merged.update({k: v for k, v in env.items() if k.startswith("TIPBOT_")})
    try:
        config = load_config(merged)
        load_areas(config.areas_file)
    except ConfigError as error:
        raise SandboxError(EXIT_USAGE, *error.problems) from error
    except AreasFileError as error:
        raise SandboxError(EXIT_USAGE, f"TIPBOT_AREAS_FILE: {error}") from error
