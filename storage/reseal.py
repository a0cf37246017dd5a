"""One-off upgrade steps that need the keys, run once at the first start after a migration.

Migrations are SQL and cannot encrypt. Migration 0009 rounded every clear time to the hour and
kept the exact times of existing tips and thread messages in two staging tables; here, with the
keyring, they are sealed into the ciphertexts, and every existing ciphertext of a tip is
re-encrypted under its binding to the tip (see storage/tips.py), with the MAC that binds its
receipt hash. All in one BEGIN IMMEDIATE transaction that re-checks whether the step is still
pending, so it runs exactly once even when two processes start together, and a crash leaves
the database as it was. The staging tables are dropped (secure_delete overwrites their pages)
and the step is recorded in `upgrades`; then a checkpoint writes the new pages over the old
ones and empties the WAL, so the exact times leave the file at once.

Migration 0021 (both databases) added `tips.transferred_sealed`: the agency a tip was transferred
to, sealed and bound to the tip. Here the agencies stored in clear before it (`transferred_to`)
are sealed into it and the clear ones emptied, in one transaction that re-checks that the step is
pending (its row in `upgrades`), then the WAL is checkpointed as above.
"""

from __future__ import annotations

import json
import logging

from storage.crypto import DecryptionError
from storage.database import Database
from storage.hours import this_hour
from storage.keyring import Keyring
from storage.tips import message_binding, receipt_mac, seal_agency, seal_times, tip_binding

log = logging.getLogger(__name__)

RESEAL_0009 = "0009_reseal"
SEAL_TRANSFERS_0021 = "0021_seal_transfers"


async def run_upgrades(db: Database, keyring: Keyring) -> None:
    """Run the pending key-dependent upgrade steps (none pending: two cheap reads and a
    primary-key read of `upgrades`)."""
    if await _pending(db):
        await _reseal_0009(db, keyring)
    if await _transfers_pending(db):
        await _seal_transfers_0021(db, keyring)


async def _transfers_pending(db: Database) -> bool:
    row = await db.fetchone("SELECT 1 FROM upgrades WHERE name = ?", (SEAL_TRANSFERS_0021,))
    return row is None


async def _seal_transfers_0021(db: Database, keyring: Keyring) -> None:
    async with db.transaction():
        if not await _transfers_pending(db):
            return  # another process did it meanwhile
        rows = await db.fetchall(
            "SELECT tip_id, ref, transferred_to FROM tips WHERE transferred_to IS NOT NULL"
            " ORDER BY tip_id"
        )
        if rows:
            await db.executemany(
                "UPDATE tips SET transferred_sealed = ?, transferred_to = NULL WHERE tip_id = ?",
                [(seal_agency(keyring, r["tip_id"], r["ref"], r["transferred_to"]), r["tip_id"])
                 for r in rows],
            )
        await db.execute(
            "INSERT INTO upgrades (name, done_at) VALUES (?, ?)",
            (SEAL_TRANSFERS_0021, this_hour()),
        )
    if rows and db.dialect == "sqlite":
        await db.fetchone("PRAGMA wal_checkpoint(TRUNCATE)")  # the clear pages leave the file
    level = logging.WARNING if rows else logging.DEBUG
    log.log(level, "upgrade %s: the agencies of %d transferred tips sealed, their clear copies"
            " emptied", SEAL_TRANSFERS_0021, len(rows))


async def _pending(db: Database) -> bool:
    if db.dialect != "sqlite":
        return False  # a PostgreSQL line starts after 0009 (migrations_postgresql baseline)
    row = await db.fetchone(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reseal_0009_tips'"
    )
    return row is not None


async def _reseal_0009(db: Database, keyring: Keyring) -> None:
    async with db.transaction():
        if not await _pending(db):
            return  # another process did it meanwhile
        tips = await db.fetchall(
            "SELECT t.tip_id, t.ref, t.receipt_hash, t.content, t.notify_chat, t.created_at,"
            " t.updated_at, s.received, s.updated"
            " FROM tips t LEFT JOIN reseal_0009_tips s ON s.tip_id = t.tip_id ORDER BY t.tip_id"
        )
        failed = 0
        for tip in tips:
            tip_id, ref = tip["tip_id"], tip["ref"]
            bound = tip_binding(tip_id, ref)
            try:
                content = keyring.decrypt(tip["content"], "tips", ref, "content")
                notify = (
                    keyring.decrypt(tip["notify_chat"], "tips", ref, "notify_chat")
                    if tip["notify_chat"] is not None
                    else None
                )
            except DecryptionError:
                # Already altered or moved before the upgrade: left as it is, it will fail (and
                # be logged) whenever it is read.
                log.error("integrity check failed: tip #%s does not open; not re-encrypted",
                          tip_id)
                failed += 1
                continue
            times = {
                "received": tip["received"] or tip["created_at"],
                "updated": tip["updated"] or tip["updated_at"],
            }
            await db.execute(
                "UPDATE tips SET content = ?, notify_chat = ?, times = ?, receipt_mac = ?"
                " WHERE tip_id = ?",
                (
                    keyring.encrypt(content, "tips", bound, "content"),
                    None if notify is None else keyring.encrypt(notify, "tips", bound,
                                                                "notify_chat"),
                    seal_times(keyring, tip_id, ref, times),
                    receipt_mac(keyring, tip_id, ref, tip["receipt_hash"]),
                    tip_id,
                ),
            )
        messages = await db.fetchall(
            "SELECT m.message_id, m.uid, m.tip_id, m.body, m.created_at, s.at"
            " FROM tip_messages m LEFT JOIN reseal_0009_messages s"
            " ON s.message_id = m.message_id ORDER BY m.message_id"
        )
        for message in messages:
            try:
                body = json.loads(
                    keyring.decrypt(message["body"], "tip_messages", message["uid"], "body")
                )
            except DecryptionError:
                log.error("integrity check failed: thread message #%s of tip #%s does not open;"
                          " not re-encrypted", message["message_id"], message["tip_id"])
                failed += 1
                continue
            body["at"] = message["at"] or message["created_at"]
            sealed = keyring.encrypt(
                json.dumps(body, ensure_ascii=False), "tip_messages",
                message_binding(message["tip_id"], message["uid"]), "body",
            )
            await db.execute(
                "UPDATE tip_messages SET body = ? WHERE message_id = ?",
                (sealed, message["message_id"]),
            )
        await db.execute("DROP TABLE reseal_0009_tips")
        await db.execute("DROP TABLE reseal_0009_messages")
        await db.execute(
            "INSERT INTO upgrades (name, done_at) VALUES (?, ?)", (RESEAL_0009, this_hour())
        )
    # The file still holds the old page images (the exact times, the old ciphertexts) until a
    # checkpoint writes the new ones over them: do it now, and empty the WAL.
    if db.dialect == "sqlite":
        await db.fetchone("PRAGMA wal_checkpoint(TRUNCATE)")
    # Said once, when there was something to re-encrypt (a new database has nothing).
    level = logging.WARNING if tips or messages else logging.DEBUG
    log.log(
        level,
        "upgrade %s: %d tips and %d thread messages re-encrypted under their tip's binding, "
        "exact times sealed (%d did not open and were left as they were)",
        RESEAL_0009, len(tips), len(messages), failed,
    )
