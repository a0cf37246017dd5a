"""The durable outbox of deliveries to staff and residents: claimed in the database, sent at
least once.

A worker claims due rows by writing a lease on them inside one BEGIN IMMEDIATE transaction, so
two bot processes sharing a database never send the same row at once, and a row whose sender
died mid-call becomes due again when its lease runs out: the delivery is repeated rather than
lost (at least once; the card carries the same reference, so a duplicate is recognisable).

When a row is due (a retry) and until when a worker holds it are exact times that follow a
tip's arrival by seconds, so they are kept encrypted in `timing`, bound to the tip and the row
(NULL: due now, held by nobody). Deciding what is due opens the timing of the pending rows only,
which are few. The clear `created_at` and `sent_at` are hours: cards, notices and reminders
carry their tip's arrival hour (they follow it, and their own hour could narrow it down), the
others the hour they were queued; a row's `sent_at` is the hour it was queued.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from storage.crypto import DecryptionError
from storage.database import Database
from storage.hours import this_hour
from storage.keyring import Keyring
from storage.outbox_writer import Recipient, add_rows
from storage.staff import atomic
from storage.tips import Delivery, integrity_failed

#: Kinds that follow the tip's arrival: dated by the tip's own (clear) hour.
TIP_HOUR_KINDS = ("card", "notice", "reminder")


@dataclass(frozen=True)
class OutboxRow:
    """A claimed row: what to send, to whom (`recipient`), and how many tries so far."""

    outbox_id: int
    tip_id: int
    recipient: Recipient
    recipient_id: int | None  # the staff member's Telegram id; None for the resident
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
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    def _seal(self, tip_id: int, outbox_id: int, timing: dict[str, float]) -> bytes:
        return self._keyring.encrypt(
            json.dumps(timing), "outbox", f"{tip_id}:{outbox_id}", "timing"
        )

    def _timing(self, row: sqlite3.Row) -> dict[str, float]:
        """{"due": t} or {"until": t} or {} (due now); a timing that does not open as this
        row's is logged and counts as due now (sent again rather than lost)."""
        if row["timing"] is None:
            return {}
        try:
            return dict(json.loads(self._keyring.decrypt(
                row["timing"], "outbox", f"{row['tip_id']}:{row['outbox_id']}", "timing"
            )))
        except DecryptionError:
            integrity_failed(f"the timing of outbox row {row['outbox_id']}", row["tip_id"])
            return {}

    async def _pending(self) -> list[tuple[float, sqlite3.Row]]:
        """Every pending row with the moment it can be taken (due, and no live lease)."""
        rows = await self._db.fetchall(
            "SELECT outbox_id, tip_id, recipient, recipient_id, kind, tip_message_id, notice,"
            " tier, attempts, timing FROM outbox WHERE state = 'pending' ORDER BY outbox_id"
        )
        result = []
        for row in rows:
            timing = self._timing(row)
            result.append((max(timing.get("due", 0.0), timing.get("until", 0.0)), row))
        return result

    async def claim_due(self, *, limit: int = 20, lease_seconds: float = 30) -> list[OutboxRow]:
        """Take up to `limit` due rows for this worker for `lease_seconds`."""
        if await self._db.fetchone("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1") is None:
            return []
        async with atomic(self._db):
            now = time.time()
            due = sorted(
                ((at, r) for at, r in await self._pending() if at <= now),
                key=lambda item: (item[0], item[1]["outbox_id"]),
            )[:limit]
            await self._db.executemany(
                "UPDATE outbox SET timing = ?, attempts = attempts + 1 WHERE outbox_id = ?",
                [
                    (self._seal(r["tip_id"], r["outbox_id"], {"until": now + lease_seconds}),
                     r["outbox_id"])
                    for _at, r in due
                ],
            )
        return sorted((_row(r, claimed=True) for _at, r in due), key=lambda r: r.outbox_id)

    async def extend_claim(self, outbox_id: int, lease_seconds: float) -> None:
        """Keep a long delivery (a card with many files) claimed while it is being sent."""
        await self._set_timing(outbox_id, {"until": time.time() + lease_seconds})

    async def _set_timing(self, outbox_id: int, timing: dict[str, float]) -> None:
        row = await self._db.fetchone(
            "SELECT tip_id FROM outbox WHERE outbox_id = ?", (outbox_id,)
        )
        if row is None:
            return
        await self._db.execute(
            "UPDATE outbox SET timing = ? WHERE outbox_id = ? AND state = 'pending'",
            (self._seal(row["tip_id"], outbox_id, timing), outbox_id),
        )

    async def next_due_in(self) -> float | None:
        """Seconds until the next pending row is due (0 if one is due now), None if none."""
        pending = await self._pending()
        if not pending:
            return None
        return max(0.0, min(at for at, _row in pending) - time.time())

    async def mark_sent(self, outbox_id: int) -> None:
        await self._db.execute(
            "UPDATE outbox SET state = 'sent', sent_at = created_at, timing = NULL,"
            " last_error = NULL WHERE outbox_id = ?",
            (outbox_id,),
        )

    async def retry_later(self, outbox_id: int, delay_seconds: float, error: str) -> None:
        async with atomic(self._db):
            await self._set_timing(outbox_id, {"due": time.time() + delay_seconds})
            await self._db.execute(
                "UPDATE outbox SET last_error = ? WHERE outbox_id = ?", (error[:200], outbox_id)
            )

    async def give_up(self, outbox_id: int, state: str, error: str) -> None:
        """End a row: 'unreachable' (403 / chat not found) or 'failed' (rejected for good)."""
        await self._db.execute(
            "UPDATE outbox SET state = ?, timing = NULL, last_error = ?"
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
        """Queue `kind` for the staff of `delivery` (a tier's recipients)."""
        await add_rows(self._db, tip_id, kind, await self._hour_for(tip_id, kind),
                       staff=delivery.recipients, tier=delivery.tier, notice=notice)

    async def enqueue_for_resident(
        self,
        tip_id: int,
        kind: str,
        *,
        tip_message_id: int | None = None,
        notice: str | None = None,
    ) -> None:
        """A message for the resident who asked to be notified (chat read from the tip)."""
        await add_rows(self._db, tip_id, kind, await self._hour_for(tip_id, kind),
                       tip_message_id=tip_message_id, notice=notice)

    async def _hour_for(self, tip_id: int, kind: str) -> str:
        if kind in TIP_HOUR_KINDS:
            row = await self._db.fetchone(
                "SELECT created_at FROM tips WHERE tip_id = ?", (tip_id,)
            )
            if row is not None:
                return str(row["created_at"])
        return this_hour()

    async def counts(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT state, count(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: r["n"] for r in rows}


def _row(r: sqlite3.Row, *, claimed: bool = False) -> OutboxRow:
    return OutboxRow(
        outbox_id=r["outbox_id"],
        tip_id=r["tip_id"],
        recipient=Recipient(r["recipient"]),
        recipient_id=r["recipient_id"],
        kind=r["kind"],
        tip_message_id=r["tip_message_id"],
        notice=r["notice"],
        tier=r["tier"],
        attempts=r["attempts"] + (1 if claimed else 0),
    )
