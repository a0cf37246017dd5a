"""Key rotation (SPEC "Command line", rotate-key): a new master key, a new content key.

Two levels of keys (storage/keyring.py): the master key wraps the data keys; the content key
encrypts every value. So:

* **A new master key** re-wraps the handful of data keys in one transaction
  (:func:`storage.keyring.rotate_master_key`). Nothing else changes: ciphertexts, pseudonyms
  and receipt hashes stay as they are, and a running bot, which holds the unwrapped data keys in
  memory, goes on working; it needs the new key at its next start.
* **A new content key** (:func:`rotate_content`) is added and made active, every encrypted value
  (the registry :data:`SEALED` below: each column that holds one, with the row it is bound to)
  is opened and sealed again under it, in batches of one short transaction each, then the count
  of values still under another key is checked and the old key is deleted. A batch takes the
  values *not yet under the active key*, so a rotation killed in the middle resumes where it
  stopped when run again: a retired content key that still exists means a rotation to finish.

While the bot runs: every few seconds it compares the content keys in the database with the
ones it holds and reloads them when they changed (:class:`KeyringWatch`, run by the bot), and
says so in `keyring_holders`. The rotation waits until every live bot holds the new key before it
re-encrypts anything (so an officer reading a tip, or a resident's draft in progress, always
opens), and checks again at the end that no value was written under the old key meanwhile. A
bot that cannot load the new key (it still runs on a master key that was rotated away) makes the
rotation stop before it changes a value, with a message saying to restart it first.

:func:`unreadable_values` counts the values under a content key the keyring does not hold: the
bot refuses to start while there is any.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.crypto import DecryptionError
from storage.database import Database
from storage.keyring import (
    KeyPurpose,
    Keyring,
    KeyringError,
    WrongMasterKeyError,
    add_content_key,
    load_keyring,
)

log = logging.getLogger(__name__)

HOLDER_INTERVAL = 2.0  # seconds between a running bot's looks at the data keys
HOLDER_STALE = 8.0  # a holder whose beat has not changed for this long has stopped
HOLDER_WAIT = 60.0  # how long the rotation waits for running bots to load a new key
BATCH = 500  # values per transaction
FINAL_ROUNDS = 5


class RotationError(Exception):
    """The rotation stopped before finishing (it resumes when run again)."""


@dataclass(frozen=True)
class SealedColumn:
    """One column holding encrypted values, with the statements to rotate and count them.

    `select` takes (cursor, active key id as 8 hex digits, limit) and returns `pk`, `value` and
    what `binding` needs; `update` takes (new value, pk, old value); `count_outside` takes a
    JSON list of key ids (8 hex digits each) and counts the values under any other key."""

    table: str
    field: str
    first: object  # the cursor before the first row
    select: str
    update: str
    count_outside: str
    binding: Callable[[sqlite3.Row], str]


def _tip_bound(row: sqlite3.Row) -> str:
    return f"{row['tip_id']}:{row['ref']}"


# The key id of a value is bytes 2-5 of its header (storage/crypto.py): hex(substr(v, 2, 4)).
# Every statement is a constant.
SEALED: tuple[SealedColumn, ...] = (
    SealedColumn(
        "tips", "content", -1,
        "SELECT tip_id AS pk, tip_id, ref, content AS value FROM tips WHERE tip_id > ?"
        " AND length(content) > 0 AND hex(substr(content, 2, 4)) <> ? ORDER BY tip_id LIMIT ?",
        "UPDATE tips SET content = ? WHERE tip_id = ? AND content = ?",
        "SELECT count(*) AS n FROM tips WHERE length(content) > 0"
        " AND hex(substr(content, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        _tip_bound,
    ),
    SealedColumn(
        "tips", "notify_chat", -1,
        "SELECT tip_id AS pk, tip_id, ref, notify_chat AS value FROM tips WHERE tip_id > ?"
        " AND notify_chat IS NOT NULL AND hex(substr(notify_chat, 2, 4)) <> ?"
        " ORDER BY tip_id LIMIT ?",
        "UPDATE tips SET notify_chat = ? WHERE tip_id = ? AND notify_chat = ?",
        "SELECT count(*) AS n FROM tips WHERE notify_chat IS NOT NULL"
        " AND hex(substr(notify_chat, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        _tip_bound,
    ),
    SealedColumn(
        "tips", "times", -1,
        "SELECT tip_id AS pk, tip_id, ref, times AS value FROM tips WHERE tip_id > ?"
        " AND times IS NOT NULL AND hex(substr(times, 2, 4)) <> ? ORDER BY tip_id LIMIT ?",
        "UPDATE tips SET times = ? WHERE tip_id = ? AND times = ?",
        "SELECT count(*) AS n FROM tips WHERE times IS NOT NULL"
        " AND hex(substr(times, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        _tip_bound,
    ),
    SealedColumn(  # the agency a tip was transferred to, an officer's free text (0021)
        "tips", "transferred_sealed", -1,
        "SELECT tip_id AS pk, tip_id, ref, transferred_sealed AS value FROM tips"
        " WHERE tip_id > ? AND transferred_sealed IS NOT NULL"
        " AND hex(substr(transferred_sealed, 2, 4)) <> ? ORDER BY tip_id LIMIT ?",
        "UPDATE tips SET transferred_sealed = ? WHERE tip_id = ? AND transferred_sealed = ?",
        "SELECT count(*) AS n FROM tips WHERE transferred_sealed IS NOT NULL"
        " AND hex(substr(transferred_sealed, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        _tip_bound,
    ),
    SealedColumn(
        "tip_messages", "body", -1,
        "SELECT message_id AS pk, tip_id, uid, body AS value FROM tip_messages"
        " WHERE message_id > ? AND hex(substr(body, 2, 4)) <> ? ORDER BY message_id LIMIT ?",
        "UPDATE tip_messages SET body = ? WHERE message_id = ? AND body = ?",
        "SELECT count(*) AS n FROM tip_messages"
        " WHERE hex(substr(body, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        lambda row: f"{row['tip_id']}:{row['uid']}",
    ),
    SealedColumn(
        "outbox", "timing", -1,
        "SELECT outbox_id AS pk, tip_id, timing AS value FROM outbox WHERE outbox_id > ?"
        " AND timing IS NOT NULL AND hex(substr(timing, 2, 4)) <> ? ORDER BY outbox_id LIMIT ?",
        "UPDATE outbox SET timing = ? WHERE outbox_id = ? AND timing = ?",
        "SELECT count(*) AS n FROM outbox WHERE timing IS NOT NULL"
        " AND hex(substr(timing, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        lambda row: f"{row['tip_id']}:{row['pk']}",
    ),
    SealedColumn(
        "drafts", "state", b"",
        "SELECT subject AS pk, state AS value FROM drafts WHERE subject > ?"
        " AND hex(substr(state, 2, 4)) <> ? ORDER BY subject LIMIT ?",
        "UPDATE drafts SET state = ? WHERE subject = ? AND state = ?",
        "SELECT count(*) AS n FROM drafts"
        " WHERE hex(substr(state, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        lambda row: bytes(row["pk"]).hex(),
    ),
    # A person's counts for a rate limit (migration 0020): bound to their row, as drafts.
    SealedColumn(
        "tip_limits", "counts", b"",
        "SELECT subject AS pk, counts AS value FROM tip_limits WHERE subject > ?"
        " AND hex(substr(counts, 2, 4)) <> ? ORDER BY subject LIMIT ?",
        "UPDATE tip_limits SET counts = ? WHERE subject = ? AND counts = ?",
        "SELECT count(*) AS n FROM tip_limits"
        " WHERE hex(substr(counts, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        lambda row: bytes(row["pk"]).hex(),
    ),
    SealedColumn(
        "attempts", "counts", b"",
        "SELECT subject AS pk, counts AS value FROM attempts WHERE subject > ?"
        " AND hex(substr(counts, 2, 4)) <> ? ORDER BY subject LIMIT ?",
        "UPDATE attempts SET counts = ? WHERE subject = ? AND counts = ?",
        "SELECT count(*) AS n FROM attempts"
        " WHERE hex(substr(counts, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        lambda row: bytes(row["pk"]).hex(),
    ),
    SealedColumn(
        "subscribers", "chat_id", -1,
        "SELECT subscriber_id AS pk, subject, chat_id AS value FROM subscribers"
        " WHERE subscriber_id > ? AND hex(substr(chat_id, 2, 4)) <> ?"
        " ORDER BY subscriber_id LIMIT ?",
        "UPDATE subscribers SET chat_id = ? WHERE subscriber_id = ? AND chat_id = ?",
        "SELECT count(*) AS n FROM subscribers"
        " WHERE hex(substr(chat_id, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        lambda row: bytes(row["subject"]).hex(),
    ),
    SealedColumn(  # an update in hand, only until it was handled (migration 0019)
        "updates_seen", "payload", -1,
        "SELECT update_id AS pk, bot, update_id, payload AS value FROM updates_seen"
        " WHERE update_id > ? AND payload IS NOT NULL AND hex(substr(payload, 2, 4)) <> ?"
        " ORDER BY update_id LIMIT ?",
        # The old value names the row (its nonce is its own), whatever the bot.
        "UPDATE updates_seen SET payload = ? WHERE update_id = ? AND payload = ?",
        "SELECT count(*) AS n FROM updates_seen WHERE payload IS NOT NULL"
        " AND hex(substr(payload, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        lambda row: f"{row['bot']}:{row['update_id']}",
    ),
    SealedColumn(
        "broadcasts", "content", -1,
        "SELECT broadcast_id AS pk, uid, content AS value FROM broadcasts"
        " WHERE broadcast_id > ? AND hex(substr(content, 2, 4)) <> ?"
        " ORDER BY broadcast_id LIMIT ?",
        "UPDATE broadcasts SET content = ? WHERE broadcast_id = ? AND content = ?",
        "SELECT count(*) AS n FROM broadcasts"
        " WHERE hex(substr(content, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        lambda row: str(row["uid"]),
    ),
    SealedColumn(
        "schedules", "content", -1,
        "SELECT schedule_id AS pk, uid, content AS value FROM schedules"
        " WHERE schedule_id > ? AND hex(substr(content, 2, 4)) <> ?"
        " ORDER BY schedule_id LIMIT ?",
        "UPDATE schedules SET content = ? WHERE schedule_id = ? AND content = ?",
        "SELECT count(*) AS n FROM schedules"
        " WHERE hex(substr(content, 2, 4)) NOT IN (SELECT value FROM json_each(?))",
        lambda row: str(row["uid"]),
    ),
)

#: Per sealed column: how many of its values are under a key whose id lies strictly between two
#: ids (4-byte blobs, big-endian; the bounds themselves excluded). Where the column grows with
#: the line, the key id has an index (migration 0017; 0021 for tips' agencies) and this is a
#: seek of a range that holds no value unless something is wrong; drafts, broadcasts and
#: schedules are few, updates_seen holds a day's updates and tip_limits and attempts the
#: people of the last day: read whole.
_COUNT_BETWEEN: dict[tuple[str, str], str] = {
    ("tips", "content"): "SELECT count(*) AS n FROM tips"
    " WHERE substr(content, 2, 4) > ? AND substr(content, 2, 4) < ?",
    ("tips", "notify_chat"): "SELECT count(*) AS n FROM tips"
    " WHERE substr(notify_chat, 2, 4) > ? AND substr(notify_chat, 2, 4) < ?",
    ("tips", "times"): "SELECT count(*) AS n FROM tips"
    " WHERE substr(times, 2, 4) > ? AND substr(times, 2, 4) < ?",
    ("tips", "transferred_sealed"): "SELECT count(*) AS n FROM tips"
    " WHERE substr(transferred_sealed, 2, 4) > ? AND substr(transferred_sealed, 2, 4) < ?",
    ("tip_messages", "body"): "SELECT count(*) AS n FROM tip_messages"
    " WHERE substr(body, 2, 4) > ? AND substr(body, 2, 4) < ?",
    ("outbox", "timing"): "SELECT count(*) AS n FROM outbox"
    " WHERE substr(timing, 2, 4) > ? AND substr(timing, 2, 4) < ?",
    ("drafts", "state"): "SELECT count(*) AS n FROM drafts"
    " WHERE substr(state, 2, 4) > ? AND substr(state, 2, 4) < ?",
    ("tip_limits", "counts"): "SELECT count(*) AS n FROM tip_limits"
    " WHERE substr(counts, 2, 4) > ? AND substr(counts, 2, 4) < ?",
    ("attempts", "counts"): "SELECT count(*) AS n FROM attempts"
    " WHERE substr(counts, 2, 4) > ? AND substr(counts, 2, 4) < ?",
    ("subscribers", "chat_id"): "SELECT count(*) AS n FROM subscribers"
    " WHERE substr(chat_id, 2, 4) > ? AND substr(chat_id, 2, 4) < ?",
    ("updates_seen", "payload"): "SELECT count(*) AS n FROM updates_seen"
    " WHERE substr(payload, 2, 4) > ? AND substr(payload, 2, 4) < ?",
    ("broadcasts", "content"): "SELECT count(*) AS n FROM broadcasts"
    " WHERE substr(content, 2, 4) > ? AND substr(content, 2, 4) < ?",
    ("schedules", "content"): "SELECT count(*) AS n FROM schedules"
    " WHERE substr(content, 2, 4) > ? AND substr(content, 2, 4) < ?",
}
#: Below and above every key id: the empty blob (an empty value has no key) and 5 bytes of 0xff.
_LOWEST, _HIGHEST = b"", b"\xff" * 5

#: BLOB columns that hold a keyed pseudonym of a person (each under a key purpose of its own,
#: storage/keyring.py): the tables that recognise someone again. None may grow with a person's
#: tips (tests/e2e/test_privacy_at_rest.py).
PSEUDONYMS = frozenset({
    ("drafts", "subject"), ("preferences", "subject"), ("attempts", "subject"),
    ("subscribers", "subject"), ("tip_limits", "subject"),  # (0020)
    ("chat_turns", "chat"), ("flood_counts", "subject"),  # (0015)
})
#: BLOB columns that hold no value encrypted with a content key (pseudonyms, hashes, MACs,
#: wrapped keys).
NOT_SEALED = PSEUDONYMS | frozenset({
    ("tips", "receipt_hash"), ("tips", "receipt_mac"), ("audit_log", "link"),
    ("invites", "token_hash"), ("data_keys", "wrapped"),
})


def _key_hex(key_id: int) -> str:
    return f"{key_id:08X}"


@dataclass(frozen=True)
class ContentRotation:
    new_key_id: int
    resumed: bool
    rewritten: int
    failed: int  # values that did not open (damaged or moved): left under the old key
    deleted_keys: tuple[int, ...]


async def unreadable_values(db: Database, keyring: Keyring) -> int:
    """How many values are under a content key this keyring does not hold: per column, the
    values whose key id lies below, between or above the held ones (`_COUNT_BETWEEN`), so the
    values under a held key are never read. The bot runs this at every start."""
    held = sorted({key_id.to_bytes(4, "big") for key_id in keyring.content_key_ids})
    bounds = [_LOWEST, *held, _HIGHEST]
    total = 0
    for column in SEALED:
        sql = _COUNT_BETWEEN[(column.table, column.field)]
        for low, high in itertools.pairwise(bounds):
            row = await db.fetchone(sql, (low, high))
            total += int(row["n"]) if row else 0
    return total


async def values_outside(db: Database, key_id: int) -> int:
    """How many values are under any content key but `key_id`."""
    only = json.dumps([_key_hex(key_id)])
    total = 0
    for column in SEALED:
        row = await db.fetchone(column.count_outside, (only,))
        total += int(row["n"]) if row else 0
    return total


async def _retired_content_keys(db: Database) -> list[int]:
    rows = await db.fetchall(
        "SELECT key_id FROM data_keys WHERE purpose = ? AND retired_at IS NOT NULL"
        " ORDER BY key_id",
        (KeyPurpose.CONTENT.value,),
    )
    return [r["key_id"] for r in rows]


async def _holders(db: Database) -> dict[str, tuple[str, int]]:
    rows = await db.fetchall("SELECT holder, beat, active_key FROM keyring_holders")
    return {r["holder"]: (r["beat"], r["active_key"]) for r in rows}


async def wait_for_holders(db: Database, key_id: int, within: float = HOLDER_WAIT) -> int | None:
    """Wait (up to `within` seconds) until every running bot encrypts with `key_id`; returns
    how many bots run, None on time out. A bot is running when its beat changes: a row whose
    beat stays the same for HOLDER_STALE seconds is a bot that stopped (its row is removed)."""
    start = time.monotonic()
    first = await _holders(db)
    while True:
        now = await _holders(db)
        waited = time.monotonic() - start
        live = {h for h, (beat, _key) in now.items() if h in first and beat != first[h][0]}
        live |= {h for h in now if h not in first}  # appeared meanwhile: it runs
        dead = set(now) - live if waited >= HOLDER_STALE else set()
        undecided = set(now) - live - dead
        if not undecided and all(now[h][1] == key_id for h in live):
            if dead:
                await db.executemany("DELETE FROM keyring_holders WHERE holder = ? AND beat = ?",
                                     [(h, now[h][0]) for h in dead])
            return len(live)
        if waited > within:
            return None
        await asyncio.sleep(0.2)


async def rotate_content(
    db: Database,
    master_key: bytes,
    *,
    progress: Callable[[int], None] | None = None,
    holder_wait: float = HOLDER_WAIT,
    batch: int = BATCH,
) -> ContentRotation:
    """Make a new content key active (or finish a rotation left unfinished), re-encrypt every
    value under it, check that none is left under another key, and delete the old key(s)."""
    resumed = bool(await _retired_content_keys(db))
    if resumed:
        new_key_id = (await load_keyring(db, master_key)).active_content_key_id
    else:
        new_key_id = await add_content_key(db, master_key)
    keyring = await load_keyring(db, master_key)  # the new key and the old one(s)
    running = await wait_for_holders(db, new_key_id, holder_wait)
    if running is None:
        raise RotationError(
            "a running bot did not load the new content key within "
            f"{holder_wait:.0f} s (it may run on a master key that was rotated away: restart it"
            " with TIPBOT_KEY); nothing was re-encrypted yet, run rotate-key --content again"
        )
    if running:
        await asyncio.sleep(HOLDER_INTERVAL)  # values sealed just before a bot switched
    rewritten = 0
    failed: set[tuple[str, str, object]] = set()
    for _round in range(FINAL_ROUNDS):
        rewritten += await _reseal_pass(db, keyring, new_key_id, failed, progress, batch)
        async with db.transaction():
            left = await values_outside(db, new_key_id)
            if left > len(failed):
                continue  # written under the old key meanwhile: another pass
            deleted: tuple[int, ...] = ()
            if left == 0:
                deleted = tuple(await _retired_content_keys(db))
                await db.execute(
                    "DELETE FROM data_keys WHERE purpose = ? AND retired_at IS NOT NULL",
                    (KeyPurpose.CONTENT.value,),
                )
        log.info("content key %s active: %d values re-encrypted, %d did not open, old keys %s"
                 " deleted", new_key_id, rewritten, len(failed), list(deleted))
        return ContentRotation(new_key_id, resumed, rewritten, len(failed), deleted)
    raise RotationError(
        "values kept being written under the old content key; run rotate-key --content again"
    )


async def _reseal_pass(
    db: Database,
    keyring: Keyring,
    key_id: int,
    failed: set[tuple[str, str, object]],
    progress: Callable[[int], None] | None,
    batch: int,
) -> int:
    """One pass over every column: the values not under `key_id`, sealed again under it."""
    active = _key_hex(key_id)
    done = 0
    for column in SEALED:
        cursor = column.first
        while True:
            async with db.transaction():
                rows = await db.fetchall(column.select, (cursor, active, batch))
                for row in rows:
                    where = column.binding(row)
                    try:
                        plain = keyring.decrypt(row["value"], column.table, where, column.field)
                    except DecryptionError:
                        failed.add((column.table, column.field, row["pk"]))
                        continue
                    sealed = keyring.encrypt(plain, column.table, where, column.field)
                    await db.execute(column.update, (sealed, row["pk"], row["value"]))
                    done += 1
            if rows:
                cursor = rows[-1]["pk"]
                if progress is not None:
                    progress(done)
            if len(rows) < batch:
                break
    return done


class KeyringWatch:
    """A running bot's side of rotation: reload the keys when the content keys changed, and say
    which ones it holds (`keyring_holders`). The id of the holder is random, per process."""

    def __init__(self, db: Database, keyring: Keyring, master_key: bytes) -> None:
        self._db = db
        self._keyring = keyring
        self._master = master_key
        self.holder = secrets.token_hex(8)
        self._warned: tuple[object, ...] | None = None

    async def tick(self) -> None:
        rows = await self._db.fetchall(
            "SELECT key_id, retired_at FROM data_keys WHERE purpose = ? ORDER BY key_id",
            (KeyPurpose.CONTENT.value,),
        )
        stored = tuple(r["key_id"] for r in rows)
        active = next((r["key_id"] for r in rows if r["retired_at"] is None), None)
        held = self._keyring.content_key_ids
        if (stored, active) != (held, self._keyring.active_content_key_id):
            try:
                self._keyring.adopt(await load_keyring(self._db, self._master))
                log.info("content keys reloaded: %s active", self._keyring.active_content_key_id)
            except (WrongMasterKeyError, KeyringError):
                if self._warned != (stored, active):
                    log.warning("the content keys changed but this bot's TIPBOT_KEY no longer"
                                " opens them (the master key was rotated): restart it with the"
                                " new key")
                    self._warned = (stored, active)
        # A new random beat each time says "running" without writing down any time.
        await self._db.execute(
            "INSERT INTO keyring_holders (holder, active_key, key_ids, beat)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (holder) DO UPDATE SET"
            " active_key = excluded.active_key, key_ids = excluded.key_ids,"
            " beat = excluded.beat",
            (self.holder, self._keyring.active_content_key_id,
             json.dumps(self._keyring.content_key_ids), secrets.token_hex(4)),
        )

    async def leave(self) -> None:
        await self._db.execute("DELETE FROM keyring_holders WHERE holder = ?", (self.holder,))
