"""`backup PATH` (issue 14, point 3): SQLite's online backup while another connection writes,
never over an existing file, private, opening with the same key only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage.backup import BackupError, BackupExists, backup
from storage.store import open_store
from storage.tips import Delivery, NewTip

MASTER = bytes(range(32))


async def test_a_backup_taken_while_another_connection_writes_is_consistent(tmp_path: Path):
    store = await open_store(tmp_path / "tipline.db", MASTER)
    for number in range(50):
        async with store.db.transaction():
            await store.tips.insert(NewTip("theft", None, False, {"text": f"t{number}"}),
                                    Delivery(1, ()))
    stop = asyncio.Event()

    async def keep_writing() -> int:
        written = 0
        while not stop.is_set():
            async with store.db.transaction():
                await store.tips.insert(NewTip("drugs", None, False, {"text": "more"}),
                                        Delivery(1, ()))
            written += 1
            await asyncio.sleep(0)
        return written

    writer = asyncio.create_task(keep_writing())
    await asyncio.sleep(0.1)
    result = await backup(tmp_path / "tipline.db", tmp_path / "copy.db", MASTER)
    stop.set()
    written = await writer
    assert written > 0 and result.tips >= 50
    assert (tmp_path / "copy.db").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "copy.db", "tipline.db", "tipline.db-shm", "tipline.db-wal"]
    copy = await open_store(tmp_path / "copy.db", MASTER)
    try:
        row = await copy.db.fetchone("SELECT count(*) AS n FROM tips")
        assert row is not None and row["n"] == result.tips
        assert (await copy.tips.by_id(1)) is not None
    finally:
        await copy.close()
        await store.close()


async def test_an_existing_path_is_never_overwritten(tmp_path: Path):
    store = await open_store(tmp_path / "tipline.db", MASTER)
    await store.close()
    (tmp_path / "taken.db").write_bytes(b"precious")
    with pytest.raises(BackupExists):
        await backup(tmp_path / "tipline.db", tmp_path / "taken.db")
    assert (tmp_path / "taken.db").read_bytes() == b"precious"
    with pytest.raises(BackupError, match="no such folder"):
        await backup(tmp_path / "tipline.db", tmp_path / "absent" / "b.db")


async def test_a_copy_that_does_not_open_with_the_key_is_not_kept(tmp_path: Path):
    store = await open_store(tmp_path / "tipline.db", MASTER)
    await store.close()
    with pytest.raises(BackupError, match="TIPBOT_KEY"):
        await backup(tmp_path / "tipline.db", tmp_path / "b.db", bytes(32))
    assert not (tmp_path / "b.db").exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]
