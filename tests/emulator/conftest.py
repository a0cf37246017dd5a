"""Fixtures: an emulator in the test's event loop and a PTB Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from telegram.request import HTTPXRequest

from emulator import Emulator, UserHandle


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[telegram.Bot]:
    request = HTTPXRequest(read_timeout=2.0, connect_timeout=2.0)
    tg_bot = telegram.Bot(
        emu.token, base_url=emu.base_url, base_file_url=emu.file_url, request=request
    )
    async with tg_bot:
        yield tg_bot


@pytest.fixture
def alice(emu: Emulator) -> UserHandle:
    """A user who already wrote to the bot."""
    return emu.user(1001, "Alice", username="alice", started=True)
