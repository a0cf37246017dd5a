"""What the unit tests share: a store in a temporary folder, opened with a known master key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.store import Store, open_store

#: The master key of the `store` fixture (tests that reopen the database use it too).
MASTER = bytes(range(32))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh store at `tmp_path / "tipline.db"`, closed after the test."""
    opened = await open_store(tmp_path / "tipline.db", MASTER)
    try:
        yield opened
    finally:
        await opened.close()
