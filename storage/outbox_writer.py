"""The one writer of the outbox: every row a worker will deliver is added here.

Tips (a new card, a resident's addition), the desk (an officer's reply or status change for the
resident) and the delivery and escalation workers (the next tier, a reminder, a notice) all
queue through `add_rows`, inside their caller's transaction, so who a row is for, its tier and
its clear hour are decided the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from storage.database import Database

#: Kinds whose recipient is the tip's resident (the chat is read, encrypted, from the tip).
RESIDENT_KINDS = frozenset({"resident_reply", "resident_status"})


class Recipient(StrEnum):
    """Who an outbox row is for."""

    STAFF = "staff"  # an officer or admin: the row's recipient_id is their Telegram id
    RESIDENT = "resident"  # the tip's resident: no id in the row


async def add_rows(
    db: Database,
    tip_id: int,
    kind: str,
    hour: str,
    *,
    staff: Sequence[int] = (),
    tier: int = 1,
    tip_message_id: int | None = None,
    notice: str | None = None,
) -> None:
    """Queue one row of `kind` for each staff id, or (a resident kind) one for the resident.

    `hour` is the row's clear `created_at` (see storage/outbox.py for which hour a kind
    carries).
    """
    if kind in RESIDENT_KINDS:
        if staff:
            raise ValueError(f"{kind} rows are for the resident, not for staff")
        await db.execute(
            "INSERT INTO outbox (tip_id, recipient, recipient_id, kind, tip_message_id, notice,"
            " tier, created_at) VALUES (?, ?, NULL, ?, ?, ?, 0, ?)",
            (tip_id, Recipient.RESIDENT.value, kind, tip_message_id, notice, hour),
        )
        return
    await db.executemany(
        "INSERT INTO outbox (tip_id, recipient, recipient_id, kind, tip_message_id, notice,"
        " tier, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (tip_id, Recipient.STAFF.value, staff_id, kind, tip_message_id, notice, tier, hour)
            for staff_id in staff
        ],
    )
