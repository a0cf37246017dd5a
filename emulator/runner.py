"""Run an :class:`Emulator` in a background thread with its own event loop.

Synchronous tests (and tests that start the bot as a subprocess) need the server to keep
answering while the test thread blocks in ``wait_for_message``; a dedicated loop thread gives
exactly that, and the emulator's lock makes driving it from the test thread safe.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from .core import Emulator

__all__ = ["EmulatorThread"]


class EmulatorThread:
    """``with EmulatorThread(port=0) as emu: ...`` - the server runs until the block exits."""

    def __init__(self, emulator: Emulator | None = None, **kwargs: Any) -> None:
        self.emulator = emulator if emulator is not None else Emulator(**kwargs)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> Emulator:
        """Start the server thread; returns the emulator once it accepts connections."""
        if self._thread is not None:
            return self.emulator
        self._thread = threading.Thread(target=self._run, name="bot-api-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("emulator did not start")
        if self._error is not None:
            raise RuntimeError("emulator failed to start") from self._error
        return self.emulator

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.emulator.start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.emulator.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and join the thread."""
        if self._thread is None or self._loop is None:
            return
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
