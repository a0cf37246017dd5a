"""The durable outbox of deliveries to staff: claimed in the database, sent at least once.

A worker claims due rows by setting `claimed_until` (a lease) in one statement, so two bot
processes sharing a database never send the same row at once, and a row whose sender died
mid-call becomes due again when its lease runs out: the delivery is repeated rather than lost
(at least once; the card carries the same reference, so a duplicate is recognisable).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from storage.database import Database, utc_now
from storage.tips import Delivery


@dataclass(frozen=True)
class OutboxRow:
    outbox_id: int
    tip_id: int
    recipient_id: int
    kind: str
    tip_message_id: int | None
    notice: str | None
    tier: int
    attempts: int


@dataclass(frozen=True)
class TierOutcome:
    sent: int
    pending: int
    unreachable: int
    failed: int


class Outbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim_due(self, *, limit: int = 20, lease_seconds: float = 30) -> list[OutboxRow]:
        """Take up to `limit` due rows for this worker for `lease_seconds`."""
        now = time.time()
        rows = await self._db.fetchall(
            "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1"
            " WHERE outbox_id IN (SELECT outbox_id FROM outbox"
            "  WHERE state = 'pending' AND next_attempt_at <= ?"
            "  AND (claimed_until IS NULL OR claimed_until < ?)"
            "  ORDER BY next_attempt_at, outbox_id LIMIT ?)"
            " RETURNING outbox_id, tip_id, recipient_id, kind, tip_message_id, notice, tier,"
            " attempts",
            (now + lease_seconds, now, now, limit),
        )
        return sorted((_row(r) for r in rows), key=lambda r: r.outbox_id)

    async def extend_claim(self, outbox_id: int, lease_seconds: float) -> None:
        """Keep a long delivery (a card with many files) claimed while it is being sent."""
        await self._db.execute(
            "UPDATE outbox SET claimed_until = ? WHERE outbox_id = ? AND state = 'pending'",
            (time.time() + lease_seconds, outbox_id),
        )

    async def next_due_in(self) -> float | None:
        """Seconds until the next pending row is due (0 if one is due now), None if none."""
        row = await self._db.fetchone(
            "SELECT min(max(next_attempt_at, coalesce(claimed_until, 0))) AS due FROM outbox"
            " WHERE state = 'pending'"
        )
        if row is None or row["due"] is None:
            return None
        return max(0.0, row["due"] - time.time())

    async def mark_sent(self, outbox_id: int) -> None:
        await self._db.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, claimed_until = NULL,"
            " last_error = NULL WHERE outbox_id = ?",
            (utc_now(), outbox_id),
        )

    async def retry_later(self, outbox_id: int, delay_seconds: float, error: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET next_attempt_at = ?, claimed_until = NULL, last_error = ?"
            " WHERE outbox_id = ?",
            (time.time() + delay_seconds, error[:200], outbox_id),
        )

    async def give_up(self, outbox_id: int, state: str, error: str) -> None:
        """End a row: 'unreachable' (403 / chat not found) or 'failed' (rejected for good)."""
        await self._db.execute(
            "UPDATE outbox SET state = ?, claimed_until = NULL, last_error = ?"
            " WHERE outbox_id = ?",
            (state, error[:200], outbox_id),
        )

    async def tier_outcome(self, tip_id: int, tier: int, kind: str = "card") -> TierOutcome:
        rows = await self._db.fetchall(
            "SELECT state, count(*) AS n FROM outbox WHERE tip_id = ? AND tier = ? AND kind = ?"
            " GROUP BY state",
            (tip_id, tier, kind),
        )
        counts = {r["state"]: r["n"] for r in rows}
        return TierOutcome(
            counts.get("sent", 0),
            counts.get("pending", 0),
            counts.get("unreachable", 0),
            counts.get("failed", 0),
        )

    async def card_recipients(self, tip_id: int) -> set[int]:
        """Everyone a card of this tip was queued for, in any tier."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT recipient_id FROM outbox WHERE tip_id = ? AND kind = 'card'",
            (tip_id,),
        )
        return {r["recipient_id"] for r in rows}

    async def holders(self, tip_id: int) -> list[int]:
        """Staff who received the tip's card: they get the resident's additions."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT recipient_id FROM outbox WHERE tip_id = ? AND kind = 'card'"
            " AND state = 'sent' ORDER BY recipient_id",
            (tip_id,),
        )
        return [r["recipient_id"] for r in rows]

    async def max_tier(self, tip_id: int) -> int:
        row = await self._db.fetchone(
            "SELECT max(tier) AS t FROM outbox WHERE tip_id = ? AND kind = 'card'", (tip_id,)
        )
        return int(row["t"]) if row and row["t"] is not None else 0

    async def enqueue(
        self, tip_id: int, delivery: Delivery, kind: str, *, notice: str | None = None
    ) -> None:
        now = utc_now()
        await self._db.executemany(
            "INSERT INTO outbox (tip_id, recipient_id, kind, notice, tier, next_attempt_at,"
            " created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
            [(tip_id, r, kind, notice, delivery.tier, now) for r in delivery.recipients],
        )

    async def enqueue_for_resident(
        self,
        tip_id: int,
        kind: str,
        *,
        tip_message_id: int | None = None,
        notice: str | None = None,
    ) -> None:
        """A message for the resident who asked to be notified (chat read from the tip)."""
        await self._db.execute(
            "INSERT INTO outbox (tip_id, recipient_id, kind, tip_message_id, notice, tier,"
            " next_attempt_at, created_at) VALUES (?, 0, ?, ?, ?, 0, 0, ?)",
            (tip_id, kind, tip_message_id, notice, utc_now()),
        )

    async def counts(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT state, count(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: r["n"] for r in rows}


def _row(r: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        outbox_id=r["outbox_id"],
        tip_id=r["tip_id"],
        recipient_id=r["recipient_id"],
        kind=r["kind"],
        tip_message_id=r["tip_message_id"],
        notice=r["notice"],
        tier=r["tier"],
        attempts=r["attempts"],
    )
