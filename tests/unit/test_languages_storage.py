"""Added languages reach the database: migration 0014 lets preferences and subscribers hold any
language code of the catalogs' shape, without cutting a broadcast's links to its subscribers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.database import load_migrations, open_database
from storage.store import open_store

MASTER = bytes(range(32))


async def test_migration_0014_keeps_subscribers_and_their_broadcast_links(tmp_path: Path) -> None:
    migrations = load_migrations()
    path = tmp_path / "old.db"
    db = await open_database(path, migrations=[m for m in migrations if m.version < 14])
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO preferences (subject, language) VALUES (x'01', 'pac')")
    await db.execute("INSERT INTO preferences (subject, language) VALUES (x'02', 'en')")
    for subscriber_id, language in ((1, "vi"), (2, "en")):
        await db.execute(
            "INSERT INTO subscribers (subscriber_id, subject, chat_id, language, created_at)"
            " VALUES (?, ?, x'00', ?, '2025-01-01T00:00:00+00:00')",
            (subscriber_id, bytes([subscriber_id]), language),
        )
    await db.execute(
        "INSERT INTO broadcasts (broadcast_id, uid, origin, content, total, created_at)"
        " VALUES (1, 'u1', 'admin', x'00', 3, 0)"
    )
    await db.execute("INSERT INTO broadcast_recipients (broadcast_id, subscriber_id) VALUES (1, 1)")
    await db.execute("INSERT INTO broadcast_recipients (broadcast_id, subscriber_id) VALUES (1, 2)")
    await db.execute("INSERT INTO broadcast_recipients (broadcast_id, channel) VALUES (1, '@news')")
    await db.close()

    db = await open_database(path)
    rows = await db.fetchall(
        "SELECT subscriber_id, channel FROM broadcast_recipients ORDER BY recipient_id"
    )
    assert [(r["subscriber_id"], r["channel"]) for r in rows] == [(1, None), (2, None),
                                                                  (None, "@news")]
    languages = await db.fetchall("SELECT language FROM subscribers ORDER BY subscriber_id")
    assert [r["language"] for r in languages] == ["vi", "en"]
    assert (await db.fetchone("SELECT language FROM preferences"))["language"] == "en"
    await db.execute("INSERT INTO preferences (subject, language) VALUES (x'01', 'pac')")
    for wrong in ("", "p", "pacx", "PA", "p1", "vi-VN"):
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute("INSERT INTO preferences (subject, language) VALUES (x'03', ?)",
                             (wrong,))
    assert await db.fetchall("PRAGMA foreign_key_check") == []
    # the foreign key still works: a subscriber who leaves is cut from the queue
    await db.execute("DELETE FROM subscribers WHERE subscriber_id = 2")
    row = await db.fetchone("SELECT subscriber_id FROM broadcast_recipients WHERE recipient_id = 2")
    assert row["subscriber_id"] is None
    await db.close()


async def test_storage_takes_a_language_code_by_its_shape(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "tipline.db", MASTER)
    try:
        await store.preferences.set_language(7, "pac")
        assert await store.preferences.language(7) == "pac"
        assert await store.subscribers.subscribe(7, 7, "pac")
        await store.subscribers.set_language(7, "kuf")
        assert await store.subscribers.language(7) == "kuf"
        for wrong in ("", "english", "EN", "e1", "vi_VN"):
            with pytest.raises(ValueError):
                await store.preferences.set_language(7, wrong)
            with pytest.raises(ValueError):
                await store.subscribers.set_language(7, wrong)
    finally:
        await store.close()
