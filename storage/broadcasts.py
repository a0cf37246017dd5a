"""Broadcasts and their durable per-recipient queue: at most once per recipient.

A broadcast is created with one row per subscriber (and per configured channel) in one
transaction. The worker claims one row at a time, right before its call, by setting
`state = 'sending'` and `claimed_by` in a single statement: two processes never claim the same
row. A row's outcome is written as soon as Telegram answers. A row that is still 'sending' when
its worker is gone (a crash, kill -9, a lost lease) is never sent again: it becomes 'uncertain'.

`Leases` lets one process at a time run the broadcaster, so the rate budget is shared by all
processes on the database rather than multiplied by them.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from storage.database import Database
from storage.keyring import Keyring

#: Row states that are over (everything but 'pending' and 'sending').
FINAL_STATES = ("sent", "failed", "removed", "uncertain", "skipped", "cancelled")


@dataclass(frozen=True)
class Broadcast:
    broadcast_id: int
    origin: str
    schedule_id: int | None
    created_by: int | None
    state: str
    total: int
    progress_chat: int | None
    progress_message: int | None
    reported: bool
    created_at: float
    finished_at: float | None
    content: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Running:
    """A broadcast being sent, as the list of running broadcasts and the creator check read it.

    `creator` is the admin who answers for it: who confirmed it, or for a scheduled post the
    schedule's creator now (None when the schedule is gone)."""

    broadcast_id: int
    origin: str
    schedule_id: int | None
    creator: int | None
    total: int
    created_at: float


@dataclass(frozen=True)
class QueueRow:
    recipient_id: int
    broadcast_id: int
    subscriber_id: int | None
    channel: str | None
    attempts: int


@dataclass(frozen=True)
class Counts:
    total: int
    pending: int
    sending: int
    sent: int
    failed: int
    removed: int
    uncertain: int
    skipped: int
    cancelled: int

    @property
    def left(self) -> int:
        return self.pending + self.sending

    @property
    def finished(self) -> int:
        return self.total - self.left


class Broadcasts:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    # --- creating -------------------------------------------------------------------------

    async def create(
        self,
        *,
        origin: str,
        content: dict[str, Any],
        channels: tuple[str, ...],
        created_by: int | None = None,
        schedule_id: int | None = None,
        progress_chat: int | None = None,
    ) -> tuple[int, int]:
        """Queue a broadcast to every current subscriber and each channel; the caller holds
        the transaction. Returns (broadcast id, number of recipients)."""
        uid = secrets.token_hex(8)
        blob = self._keyring.encrypt(
            json.dumps(content, ensure_ascii=False), "broadcasts", uid, "content"
        )
        row = await self._db.fetchone(
            "INSERT INTO broadcasts (uid, origin, schedule_id, created_by, content, total,"
            " progress_chat, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?) RETURNING broadcast_id",
            (uid, origin, schedule_id, created_by, blob, progress_chat, time.time()),
        )
        assert row is not None
        broadcast_id: int = row["broadcast_id"]
        await self._db.execute(
            "INSERT INTO broadcast_recipients (broadcast_id, subscriber_id)"
            " SELECT ?, subscriber_id FROM subscribers ORDER BY subscriber_id",
            (broadcast_id,),
        )
        if channels:
            await self._db.executemany(
                "INSERT INTO broadcast_recipients (broadcast_id, channel) VALUES (?, ?)",
                [(broadcast_id, channel) for channel in channels],
            )
        row = await self._db.fetchone(
            "SELECT count(*) AS n FROM broadcast_recipients WHERE broadcast_id = ?",
            (broadcast_id,),
        )
        total = int(row["n"]) if row else 0
        await self._db.execute(
            "UPDATE broadcasts SET total = ? WHERE broadcast_id = ?", (total, broadcast_id)
        )
        if total == 0:
            await self._db.execute(
                "UPDATE broadcasts SET state = 'done', finished_at = ? WHERE broadcast_id = ?",
                (time.time(), broadcast_id),
            )
        return broadcast_id, total

    async def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE broadcasts SET progress_message = ? WHERE broadcast_id = ?",
            (message_id, broadcast_id),
        )

    # --- reading --------------------------------------------------------------------------

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self._db.fetchone(
            "SELECT * FROM broadcasts WHERE broadcast_id = ?", (broadcast_id,)
        )
        return self._broadcast(row) if row else None

    async def sending(self) -> list[Broadcast]:
        """Broadcasts still being sent, oldest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM broadcasts WHERE state = 'sending' ORDER BY broadcast_id"
        )
        return [self._broadcast(r) for r in rows]

    async def running(self) -> list[Running]:
        """Broadcasts still being sent with the admin who answers for each, oldest first."""
        rows = await self._db.fetchall(
            "SELECT b.broadcast_id, b.origin, b.schedule_id, b.total, b.created_at,"
            " coalesce(b.created_by, s.created_by) AS creator FROM broadcasts b"
            " LEFT JOIN schedules s ON s.schedule_id = b.schedule_id"
            " WHERE b.state = 'sending' ORDER BY b.broadcast_id"
        )
        return [
            Running(broadcast_id=r["broadcast_id"], origin=r["origin"],
                    schedule_id=r["schedule_id"], creator=r["creator"], total=r["total"],
                    created_at=r["created_at"])
            for r in rows
        ]

    async def has_work(self) -> bool:
        """Something to send or a final report to give."""
        row = await self._db.fetchone(
            "SELECT 1 FROM broadcasts WHERE state = 'sending' OR reported = 0 LIMIT 1"
        )
        return row is not None

    async def counts(self, broadcast_id: int) -> Counts:
        rows = await self._db.fetchall(
            "SELECT state, count(*) AS n FROM broadcast_recipients WHERE broadcast_id = ?"
            " GROUP BY state",
            (broadcast_id,),
        )
        by_state = {r["state"]: int(r["n"]) for r in rows}
        return Counts(
            total=sum(by_state.values()),
            pending=by_state.get("pending", 0),
            sending=by_state.get("sending", 0),
            sent=by_state.get("sent", 0),
            failed=by_state.get("failed", 0),
            removed=by_state.get("removed", 0),
            uncertain=by_state.get("uncertain", 0),
            skipped=by_state.get("skipped", 0),
            cancelled=by_state.get("cancelled", 0),
        )

    async def next_due_in(self) -> float | None:
        """Seconds until a pending row of a broadcast being sent is due; None if none."""
        row = await self._db.fetchone(
            "SELECT min(r.next_attempt_at) AS due FROM broadcast_recipients r"
            " JOIN broadcasts b ON b.broadcast_id = r.broadcast_id"
            " WHERE r.state = 'pending' AND b.state = 'sending'"
        )
        if row is None or row["due"] is None:
            return None
        return max(0.0, float(row["due"]) - time.time())

    # --- the queue ------------------------------------------------------------------------

    async def claim_next(self, worker: str) -> QueueRow | None:
        """Take the next due row for `worker`; it is 'sending' from now on."""
        rows = await self._db.fetchall(
            "UPDATE broadcast_recipients SET state = 'sending', claimed_by = ?"
            " WHERE recipient_id = (SELECT r.recipient_id FROM broadcast_recipients r"
            "  JOIN broadcasts b ON b.broadcast_id = r.broadcast_id"
            "  WHERE r.state = 'pending' AND r.next_attempt_at <= ? AND b.state = 'sending'"
            "  ORDER BY r.recipient_id LIMIT 1)"
            " AND state = 'pending'"
            " RETURNING recipient_id, broadcast_id, subscriber_id, channel, attempts",
            (worker, time.time()),
        )
        if not rows:
            return None
        row = rows[0]
        return QueueRow(
            recipient_id=row["recipient_id"],
            broadcast_id=row["broadcast_id"],
            subscriber_id=row["subscriber_id"],
            channel=row["channel"],
            attempts=row["attempts"],
        )

    async def finish(self, row: QueueRow, worker: str, state: str, error: str = "") -> None:
        """Record the outcome of a claimed row ('sent', 'failed', 'uncertain', 'skipped').

        Also accepted when the row was meanwhile marked 'uncertain' by another process that
        thought this worker gone: the answer Telegram gave is better than a guess."""
        if state not in FINAL_STATES:
            raise ValueError(f"not a final state: {state}")
        await self._db.execute(
            "UPDATE broadcast_recipients SET state = ?, last_error = ?, finished_at = ?"
            " WHERE recipient_id = ? AND claimed_by = ? AND state IN ('sending', 'uncertain')",
            (state, error[:200] or None, time.time(), row.recipient_id, worker),
        )

    async def remove_subscriber(self, row: QueueRow, worker: str, error: str) -> None:
        """403 or chat not found: the row ends 'removed' and the subscriber is dropped."""
        async with self._db.transaction():
            await self.finish(row, worker, "removed", error)
            if row.subscriber_id is not None:
                await self._db.execute(
                    "DELETE FROM subscribers WHERE subscriber_id = ?", (row.subscriber_id,)
                )

    async def retry_later(
        self, row: QueueRow, worker: str, delay: float, error: str, *, count_attempt: bool
    ) -> None:
        """Back to the queue: Telegram asked to wait, or the call certainly did not deliver."""
        await self._db.execute(
            "UPDATE broadcast_recipients SET state = 'pending', claimed_by = NULL,"
            " next_attempt_at = ?, last_error = ?, attempts = attempts + ?"
            " WHERE recipient_id = ? AND claimed_by = ? AND state = 'sending'",
            (time.time() + delay, error[:200], 1 if count_attempt else 0, row.recipient_id,
             worker),
        )

    async def orphans_uncertain(self, worker: str) -> int:
        """Rows left 'sending' by another worker (which died or lost its lease) become
        'uncertain': their outcome is unknown, and they are not sent again."""
        result = await self._db.execute(
            "UPDATE broadcast_recipients SET state = 'uncertain', last_error = 'interrupted',"
            " finished_at = ? WHERE state = 'sending' AND claimed_by IS NOT ?",
            (time.time(), worker),
        )
        return result.rowcount

    # --- ending ---------------------------------------------------------------------------

    async def stop(self, broadcast_id: int) -> bool:
        """Stop a broadcast: rows not yet sent are cancelled. True if it was running. Joins the
        caller's transaction (the stop and its audit entry go together), else opens one."""
        if self._db.in_transaction:
            return await stop_broadcast(self._db, broadcast_id)
        async with self._db.transaction():
            return await stop_broadcast(self._db, broadcast_id)

    async def complete_finished(self) -> None:
        """Mark 'done' every broadcast being sent that has no row left to send."""
        await self._db.execute(
            "UPDATE broadcasts SET state = 'done', finished_at = ? WHERE state = 'sending'"
            " AND NOT EXISTS (SELECT 1 FROM broadcast_recipients r"
            "  WHERE r.broadcast_id = broadcasts.broadcast_id"
            "  AND r.state IN ('pending', 'sending'))",
            (time.time(),),
        )

    async def unreported(self) -> list[Broadcast]:
        """Ended broadcasts whose final report is still to give (no row in flight)."""
        rows = await self._db.fetchall(
            "SELECT * FROM broadcasts WHERE state IN ('done', 'stopped') AND reported = 0"
            " AND NOT EXISTS (SELECT 1 FROM broadcast_recipients r"
            "  WHERE r.broadcast_id = broadcasts.broadcast_id AND r.state = 'sending')"
            " ORDER BY broadcast_id"
        )
        return [self._broadcast(r) for r in rows]

    async def mark_reported(self, broadcast_id: int) -> None:
        await self._db.execute(
            "UPDATE broadcasts SET reported = 1 WHERE broadcast_id = ?", (broadcast_id,)
        )

    def _broadcast(self, row: sqlite3.Row) -> Broadcast:
        content = json.loads(
            self._keyring.decrypt(row["content"], "broadcasts", row["uid"], "content")
        )
        return Broadcast(
            broadcast_id=row["broadcast_id"],
            origin=row["origin"],
            schedule_id=row["schedule_id"],
            created_by=row["created_by"],
            state=row["state"],
            total=row["total"],
            progress_chat=row["progress_chat"],
            progress_message=row["progress_message"],
            reported=bool(row["reported"]),
            created_at=row["created_at"],
            finished_at=row["finished_at"],
            content=content,
        )


async def stop_broadcast(db: Database, broadcast_id: int) -> bool:
    """The body of `Broadcasts.stop` (no content is read, so no keyring is needed); the caller
    holds the transaction. A row already claimed ('sending') is left to its call's answer."""
    now = time.time()
    result = await db.execute(
        "UPDATE broadcasts SET state = 'stopped', finished_at = ?"
        " WHERE broadcast_id = ? AND state = 'sending'",
        (now, broadcast_id),
    )
    if result.rowcount == 0:
        return False
    await db.execute(
        "UPDATE broadcast_recipients SET state = 'cancelled', finished_at = ?"
        " WHERE broadcast_id = ? AND state = 'pending'",
        (now, broadcast_id),
    )
    return True


async def stop_broadcasts_of(db: Database, creator: int) -> list[int]:
    """Stop every broadcast being sent that `creator` answers for: those they confirmed and the
    posts of their schedules. Their demotion or deactivation calls it in its own transaction,
    so no message of theirs is claimed after it commits. Returns the ids stopped."""
    rows = await db.fetchall(
        "SELECT b.broadcast_id FROM broadcasts b"
        " LEFT JOIN schedules s ON s.schedule_id = b.schedule_id"
        " WHERE b.state = 'sending' AND coalesce(b.created_by, s.created_by) = ?"
        " ORDER BY b.broadcast_id",
        (creator,),
    )
    return [r["broadcast_id"] for r in rows if await stop_broadcast(db, r["broadcast_id"])]


class Leases:
    """Named leases in the database: one holder at a time until `until`, renewed by the holder."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def acquire(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew the lease; True when `holder` has it for `seconds` from now."""
        now = time.time()
        rows = await self._db.fetchall(
            "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until"
            " WHERE leases.holder = excluded.holder OR leases.until < ?"
            " RETURNING holder",
            (name, holder, now + seconds, now),
        )
        return bool(rows) and rows[0]["holder"] == holder

    async def holder(self, name: str) -> str | None:
        row = await self._db.fetchone("SELECT holder FROM leases WHERE name = ?", (name,))
        return row["holder"] if row else None

    async def take_over(self, name: str, old_holder: str, holder: str, seconds: float) -> bool:
        """Take the lease from a holder known to be dead (its process is gone)."""
        result = await self._db.execute(
            "UPDATE leases SET holder = ?, until = ? WHERE name = ? AND holder = ?",
            (holder, time.time() + seconds, name, old_holder),
        )
        return result.rowcount == 1

    async def release(self, name: str, holder: str) -> None:
        await self._db.execute(
            "DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder)
        )
