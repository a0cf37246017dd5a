"""Retention: closed tips older than TIPBOT_RETENTION_DAYS really go (SPEC "Command line", purge).

A tip closed (resolved, unfounded, transferred) longer ago than the retention is deleted with
everything bound to it: its thread, its evidence references (file ids, inside its content and
thread), its hand-overs, card records, outbox rows (so no reminder, escalation or notification
of it can ever be sent), the conversations that point to it (an officer's reply or transfer
being written, an open `/status` session, a receipt still owed), its receipt hash and MAC (they
are columns of the tip), and its audit entries, erased as tombstones that keep the audit chain
verifiable (storage/audit.py). Campaign counters and statistics already counted stay counts.

Eligibility is computed from `tips.closed_at`, which is the hour (rounded down) of the first
closing since the last reopening: the exact closing is somewhere in the hour after it, so a tip
is eligible once `closed_at + 1 hour` is older than the retention. Never early, at most an hour
late.

The work is done in batches (one short write transaction each, so a running bot is never held
up for long), then the WAL is checkpointed and truncated: with `secure_delete` on, SQLite has
overwritten the deleted cells and freed pages with zeros in the database pages, and the
checkpoint writes those pages over the old ones in the main file and empties the -wal file, so
the deleted bytes are in no database file afterwards. Only counts are returned and logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

from storage.audit import AuditLog
from storage.crypto import DecryptionError
from storage.database import Database
from storage.keyring import Keyring

log = logging.getLogger(__name__)

CLOSED = ("resolved", "unfounded", "transferred")
BATCH = 200  # tips per transaction
CHECKPOINT_TRIES = 20


@dataclass(frozen=True)
class PurgeCounts:
    """How many of each went (or would go, for a dry run). Counts only, never content."""

    tips: int = 0
    messages: int = 0
    outbox: int = 0
    handovers: int = 0
    cards: int = 0
    drafts: int = 0
    audit_entries: int = 0

    def __add__(self, other: PurgeCounts) -> PurgeCounts:
        return PurgeCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def describe(self) -> str:
        return ", ".join(f"{getattr(self, f.name)} {f.name.replace('_', ' ')}"
                         for f in fields(self))


def cutoff(retention_days: float, now: datetime | None = None) -> str:
    """The latest `closed_at` (an hour) whose tip is past the retention at `now`."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    latest = moment - timedelta(days=retention_days) - timedelta(hours=1)
    return latest.isoformat(timespec="seconds")


#: The tips past the retention, oldest closing first, on the partial index of closing times: a
#: seek to the cutoff, so a purge with nothing to do (or a retention of a century) reads no tip,
#: and each batch reads its own tips only. Without INDEXED BY, SQLite took tips_by_status and
#: read every closed tip for each batch (0.8 s at 1M tips, inside the write transaction; at a
#: retention of 365 days, 2,000 batches of that). PostgreSQL drops the hint (storage/postgres.py)
#: and plans the same range on tips_by_closing.
_EXPIRED = (
    "SELECT tip_id FROM tips INDEXED BY tips_by_closing"
    " WHERE closed_at IS NOT NULL AND closed_at <= ?"
    " AND status IN (SELECT value FROM json_each(?)) ORDER BY closed_at, tip_id LIMIT ?"
)


async def expired_tip_ids(db: Database, retention_days: float,
                          now: datetime | None = None, *, limit: int = -1) -> list[int]:
    """The tips past the retention at `now`, oldest closing first (at most `limit`)."""
    rows = await db.fetchall(
        _EXPIRED,
        (cutoff(retention_days, now), json.dumps(CLOSED), limit if limit >= 0 else 2**62),
    )
    return [r["tip_id"] for r in rows]


async def purge_expired(
    db: Database,
    keyring: Keyring,
    retention_days: float,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PurgeCounts:
    """Delete (or, with `dry_run`, only count) what the retention says has expired."""
    audit = AuditLog(db, keyring)
    if dry_run:
        ids = await expired_tip_ids(db, retention_days, now)
        return await _count(db, keyring, ids) if ids else PurgeCounts()
    total = PurgeCounts()
    while True:
        async with db.transaction():
            # Chosen again inside the transaction: a tip reopened meanwhile is kept.
            ids = await expired_tip_ids(db, retention_days, now, limit=BATCH)
            if not ids:
                break
            counts = await _count(db, keyring, ids)
            await _delete(db, keyring, ids)
            erased = await audit.erase_tips(ids)
            total += PurgeCounts(**{**_as_dict(counts), "audit_entries": erased})
        await asyncio.sleep(0)  # let the bot's other work in between batches
    if total.tips:
        await checkpoint(db) if db.dialect == "sqlite" else await vacuum_purged(db)
        log.info("purge: %s", total.describe())
    return total


def _as_dict(counts: PurgeCounts) -> dict[str, int]:
    return {f.name: getattr(counts, f.name) for f in fields(counts)}


# Every statement is a constant (no SQL is assembled at run time).
_COUNTS = {
    "messages": "SELECT count(*) AS n FROM tip_messages WHERE tip_id IN"
                " (SELECT value FROM json_each(?))",
    "outbox": "SELECT count(*) AS n FROM outbox WHERE tip_id IN (SELECT value FROM json_each(?))",
    "handovers": "SELECT count(*) AS n FROM tip_assignees WHERE tip_id IN"
                 " (SELECT value FROM json_each(?))",
    "cards": "SELECT count(*) AS n FROM cards WHERE tip_id IN (SELECT value FROM json_each(?))",
    "audit_entries": "SELECT count(*) AS n FROM audit_log WHERE tip_id IN"
                     " (SELECT value FROM json_each(?))",
}
# Children first, whatever the foreign keys say.
_DELETES = (
    "DELETE FROM outbox WHERE tip_id IN (SELECT value FROM json_each(?))",
    "DELETE FROM cards WHERE tip_id IN (SELECT value FROM json_each(?))",
    "DELETE FROM tip_assignees WHERE tip_id IN (SELECT value FROM json_each(?))",
    "DELETE FROM tip_messages WHERE tip_id IN (SELECT value FROM json_each(?))",
    "DELETE FROM tips WHERE tip_id IN (SELECT value FROM json_each(?))",
)


async def _count(db: Database, keyring: Keyring, ids: list[int]) -> PurgeCounts:
    ids_json = json.dumps(ids)
    counted: dict[str, int] = {}
    for name, sql in _COUNTS.items():
        row = await db.fetchone(sql, (ids_json,))
        counted[name] = int(row["n"]) if row else 0
    drafts = len(await _bound_drafts(db, keyring, set(ids)))
    return PurgeCounts(tips=len(ids), drafts=drafts, **counted)


async def _delete(db: Database, keyring: Keyring, ids: list[int]) -> None:
    """Everything bound to these tips: the drafts pointing to them, then the rows."""
    subjects = await _bound_drafts(db, keyring, set(ids))
    if subjects:
        await db.executemany("DELETE FROM drafts WHERE subject = ?", [(s,) for s in subjects])
    ids_json = json.dumps(ids)
    for sql in _DELETES:
        await db.execute(sql, (ids_json,))


async def _bound_drafts(db: Database, keyring: Keyring, tip_ids: set[int]) -> list[bytes]:
    """Drafts whose (encrypted) state points to one of these tips: a `/status` session, a
    receipt owed. Drafts are few and short-lived, so each is opened."""
    subjects = []
    for row in await db.fetchall("SELECT subject, state FROM drafts"):
        subject = bytes(row["subject"])
        try:
            stored = json.loads(keyring.decrypt(row["state"], "drafts", subject.hex(), "state"))
        except (DecryptionError, ValueError):
            continue  # not ours to judge here; the draft expires by its deadline
        state = stored.get("state", stored) if isinstance(stored, dict) else {}
        if isinstance(state, dict) and state.get("tip_id") in tip_ids:
            subjects.append(subject)
    return subjects


#: The tables a purge deletes from (PostgreSQL VACUUMs them afterwards).
PURGED_TABLES = ("outbox", "cards", "tip_assignees", "tip_messages", "tips", "drafts",
                 "audit_log", "tip_tally", "tip_hours", "tip_days")


async def vacuum_purged(db: Database) -> None:
    """PostgreSQL: VACUUM the tables a purge touched, so their dead rows' space is marked free
    and reused. Unlike SQLite's secure_delete it does not promise the bytes are overwritten
    at once (docs/SECURITY.md): they are until new rows reuse the space."""
    await db.vacuum(PURGED_TABLES)


async def checkpoint(db: Database) -> bool:
    """Write every page of the WAL into the main file and truncate the WAL to zero bytes.

    Another connection reading an older snapshot makes SQLite stop short (busy): tried again
    for a few seconds. Returns whether the WAL is empty."""
    for attempt in range(CHECKPOINT_TRIES):
        row = await db.fetchone("PRAGMA wal_checkpoint(TRUNCATE)")
        if row is not None and row[0] == 0:
            return True
        await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
    log.warning("purge: the WAL could not be truncated (another process kept reading);"
                " it will be at the next checkpoint")
    return False
