"""Start-up as SPEC "Configuration" says: a failing decoration does not stop the line, a rejected
token is one line and exit 2, and while Telegram cannot be reached the bot says so and keeps
trying."""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

from testing.harness import wait
from testing.ports import free_port


def test_menus_failing_with_500_do_not_stop_the_line_and_are_retried(emulator, make_bot):
    # A Bot API server without setMyCommands: one whole publication fails (the request's own
    # short retries included), the next one, in the background, succeeds.
    emulator.inject("5xx", method="setMyCommands", status=500, times=4)
    bot = make_bot().start()
    resident = emulator.user(5101, "Lan")
    resident.send_command("/start")
    emulator.wait_for_message(resident, "113")
    wait(lambda: "command menus not published" in bot.logs(), timeout=20)
    emulator.wait_until(lambda: emulator.commands(), timeout=30)
    assert {"start", "report", "status"} <= {c["command"] for c in emulator.commands()}
    logs = bot.logs()
    failures = [line for line in logs.splitlines() if "command menus not published" in line]
    assert failures and all("500" in line or "Internal" in line for line in failures), logs
    assert "Traceback" not in logs
    assert "command menus published" in logs


def test_a_rejected_token_is_one_line_and_exit_2(emulator, make_bot):
    bot = make_bot(TIPBOT_TOKEN="123456:not-the-emulators-token")
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=bot.workdir, env=bot.env, capture_output=True,
        text=True, timeout=60, check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "TIPBOT_TOKEN" in lines[0] and "rejected" in lines[0]
    assert emulator.calls_to("getMe") == []  # the emulator saw no call with its own token


class _Forwarder(socketserver.ThreadingTCPServer):
    """A TCP relay from a local port to the emulator: "Telegram" becomes reachable."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        super().__init__(("127.0.0.1", port), _Relay)


class _Relay(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        with socket.create_connection(self.server.upstream) as upstream:  # type: ignore[attr-defined]
            sockets = [self.request, upstream]
            while True:
                readable, _, _ = select.select(sockets, [], [], 30)
                if not readable:
                    return
                for source in readable:
                    chunk = source.recv(65536)
                    if not chunk:
                        return
                    (upstream if source is self.request else self.request).sendall(chunk)


@contextlib.contextmanager
def _relay(port: int, upstream: tuple[str, int]) -> Iterator[None]:
    server = _Forwarder(port, upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def test_unreachable_telegram_is_one_warning_and_the_bot_keeps_trying(emulator, make_bot):
    port = free_port()  # nobody listens there yet
    emulator_url = urlsplit(emulator.base_url)
    bot = make_bot(TIPBOT_API_BASE_URL=f"http://127.0.0.1:{port}{emulator_url.path}")
    bot.start(wait=False)
    wait(lambda: "Telegram unreachable" in bot.logs(), timeout=30)
    wait(lambda: "still unreachable" in bot.logs(), timeout=30)  # it tried again
    assert bot.process is not None and bot.process.poll() is None, bot.logs()
    with _relay(port, (emulator_url.hostname or "127.0.0.1", emulator_url.port or 80)):
        emulator.wait_until(lambda: emulator.calls_to("getUpdates"), timeout=60)
        resident = emulator.user(5102, "Mai")
        resident.send_command("/start")
        emulator.wait_for_message(resident, "113")
        logs = bot.logs()
        warnings = [line for line in logs.splitlines() if "WARNING" in line]
        unreachable = [line for line in warnings if "Telegram unreachable" in line]
        assert len(unreachable) == 1, logs  # one line a minute, not one per try
        assert "ConnectError" in unreachable[0] or "NetworkError" in unreachable[0]
        assert "Telegram reachable again" in logs
        assert "Traceback" not in logs
        bot.stop()


def test_getupdates_failing_is_one_warning_then_the_bot_catches_up(emulator, make_bot):
    bot = make_bot().start()
    emulator.inject("5xx", method="getUpdates", times=2)
    resident = emulator.user(5103, "Hoa")
    resident.send_command("/start")  # ends the long poll in flight; the next two fail
    emulator.wait_for_message(resident, "113")
    emulator.wait_until(
        lambda: len([c for c in emulator.calls_to("getUpdates") if c.error_code == 502]) == 2
    )
    resident.send_command("/help")  # waits for the bot to poll again
    emulator.wait_for_message(resident, "/report", timeout=30)
    wait(lambda: "Telegram reachable again" in bot.logs())
    logs = bot.logs()
    unreachable = [line for line in logs.splitlines() if "Telegram unreachable" in line]
    assert len(unreachable) == 1 and "getUpdates" in unreachable[0], logs
    assert "Traceback" not in logs
