"""Tips and their threads: stored encrypted, found by receipt-code hash or by reference.

A tip row keeps in clear only what routing and statistics need (category, area, urgency,
status, times). What the resident wrote and sent is one encrypted JSON document bound to the
tip's reference; the notification chat (only when asked for) is encrypted on its own. The
receipt code itself is never stored: only its keyed hash. A tip carries nothing that points to
its author.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from storage.database import Database, utc_now
from storage.keyring import Keyring
from storage.receipt_codes import ALPHABET, new_receipt_code
from storage.staff import atomic

REF_PREFIX = "T-"
REF_SYMBOLS = 6


@dataclass(frozen=True)
class NewTip:
    """A tip as the resident sent it; `content` is what gets encrypted."""

    category: str
    area: str | None
    urgent: bool
    content: dict[str, Any]
    notify_chat: int | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class Tip:
    tip_id: int
    ref: str
    category: str
    area: str | None
    urgent: bool
    status: str
    created_at: str
    updated_at: str
    content: dict[str, Any] = field(repr=False)
    notify_chat: int | None = field(repr=False, default=None)


@dataclass(frozen=True)
class ThreadMessage:
    message_id: int
    author: str
    staff_id: int | None
    body: dict[str, Any] = field(repr=False)
    created_at: str


@dataclass(frozen=True)
class Delivery:
    """Who gets a new tip: the tier that was chosen and its recipients."""

    tier: int
    recipients: tuple[int, ...]


def new_ref() -> str:
    """A short reference for officers, random (so it says nothing about the code or author)."""
    return REF_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(REF_SYMBOLS))


class Tips:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    async def insert(self, tip: NewTip, delivery: Delivery) -> tuple[Tip, str]:
        """Store the tip and one outbox row per recipient; the caller holds the transaction.

        Returns the stored tip and its receipt code: the code leaves only towards the resident.
        """
        now = utc_now()
        for _ in range(10):
            ref, code = new_ref(), new_receipt_code()
            content = self._keyring.encrypt(
                json.dumps(tip.content, ensure_ascii=False), "tips", ref, "content"
            )
            notify = (
                self._keyring.encrypt(str(tip.notify_chat), "tips", ref, "notify_chat")
                if tip.notify_chat is not None
                else None
            )
            try:
                result = await self._db.execute(
                    "INSERT INTO tips (ref, receipt_hash, category, area, urgent, status,"
                    " campaign, content, notify_chat, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?)",
                    (
                        ref,
                        self._keyring.receipt_hash(code),
                        tip.category,
                        tip.area,
                        int(tip.urgent),
                        tip.campaign,
                        content,
                        notify,
                        now,
                        now,
                    ),
                )
            except sqlite3.IntegrityError:
                continue  # a reference or code collision: draw again
            tip_id = result.lastrowid
            assert tip_id is not None
            await self._add_outbox(tip_id, delivery, "card", None, now)
            stored = Tip(
                tip_id, ref, tip.category, tip.area, tip.urgent, "new", now, now,
                tip.content, tip.notify_chat,
            )
            return stored, code
        raise RuntimeError("could not draw a unique tip reference")

    async def _add_outbox(
        self, tip_id: int, delivery: Delivery, kind: str, tip_message_id: int | None, now: str
    ) -> None:
        await self._db.executemany(
            "INSERT INTO outbox (tip_id, recipient_id, kind, tip_message_id, tier,"
            " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
            [
                (tip_id, recipient, kind, tip_message_id, delivery.tier, now)
                for recipient in delivery.recipients
            ],
        )

    async def replace_receipt_code(self, tip_id: int) -> str:
        """Draw a new receipt code for a tip whose code never reached its resident.

        The old code was shown to nobody (its message failed), so replacing its hash loses
        nothing; the code itself is still never stored.
        """
        for _ in range(10):
            code = new_receipt_code()
            try:
                result = await self._db.execute(
                    "UPDATE tips SET receipt_hash = ? WHERE tip_id = ?",
                    (self._keyring.receipt_hash(code), tip_id),
                )
            except sqlite3.IntegrityError:
                continue
            if result.rowcount == 0:
                raise LookupError("no such tip")
            return code
        raise RuntimeError("could not draw a unique receipt code")

    async def by_receipt_code(self, normalised_code: str) -> Tip | None:
        row = await self._db.fetchone(
            "SELECT * FROM tips WHERE receipt_hash = ?",
            (self._keyring.receipt_hash(normalised_code),),
        )
        return self._tip(row) if row else None

    async def by_ref(self, ref: str) -> Tip | None:
        row = await self._db.fetchone("SELECT * FROM tips WHERE ref = ?", (ref.upper(),))
        return self._tip(row) if row else None

    async def by_id(self, tip_id: int) -> Tip | None:
        row = await self._db.fetchone("SELECT * FROM tips WHERE tip_id = ?", (tip_id,))
        return self._tip(row) if row else None

    async def mark_delivered(self, tip_id: int) -> None:
        await self._db.execute("UPDATE tips SET delivered = 1 WHERE tip_id = ?", (tip_id,))

    async def undelivered(self) -> list[int]:
        """Tips that no staff member has received yet (everyone tried was unreachable)."""
        rows = await self._db.fetchall(
            "SELECT tip_id FROM tips WHERE delivered = 0 AND NOT EXISTS ("
            " SELECT 1 FROM outbox o WHERE o.tip_id = tips.tip_id AND o.state = 'pending')"
        )
        return [r["tip_id"] for r in rows]

    async def add_resident_message(
        self, tip: Tip, body: dict[str, Any], recipients: tuple[int, ...]
    ) -> None:
        """The resident adds text or evidence: stored encrypted, queued for the tip's officers."""
        now = utc_now()
        uid = secrets.token_hex(8)
        blob = self._keyring.encrypt(
            json.dumps(body, ensure_ascii=False), "tip_messages", uid, "body"
        )
        async with self._db.transaction():
            result = await self._db.execute(
                "INSERT INTO tip_messages (uid, tip_id, author, body, created_at)"
                " VALUES (?, ?, 'resident', ?, ?)",
                (uid, tip.tip_id, blob, now),
            )
            await self._add_outbox(
                tip.tip_id, Delivery(1, recipients), "addition", result.lastrowid, now
            )
            await self._db.execute(
                "UPDATE tips SET updated_at = ? WHERE tip_id = ?", (now, tip.tip_id)
            )

    async def resident_messages_since(self, tip_id: int, since: str) -> int:
        """How many additions the resident made to a tip since `since` (for a flood limit)."""
        row = await self._db.fetchone(
            "SELECT count(*) AS n FROM tip_messages WHERE tip_id = ? AND author = 'resident'"
            " AND created_at >= ?",
            (tip_id, since),
        )
        return int(row["n"]) if row else 0

    async def thread(self, tip_id: int) -> list[ThreadMessage]:
        rows = await self._db.fetchall(
            "SELECT * FROM tip_messages WHERE tip_id = ? ORDER BY message_id", (tip_id,)
        )
        return [self._message(r) for r in rows]

    async def thread_message(self, message_id: int) -> ThreadMessage | None:
        row = await self._db.fetchone(
            "SELECT * FROM tip_messages WHERE message_id = ?", (message_id,)
        )
        return self._message(row) if row else None

    async def forget_notify_chat(self, chat_id: int) -> int:
        """Remove `chat_id` from every tip's notification link (/forget). Returns how many.

        The chat ids are encrypted with random nonces, so each is decrypted to compare; a
        district's volume of tips makes this cheap, and it keeps the ids unlinkable at rest.
        """
        rows = await self._db.fetchall(
            "SELECT tip_id, ref, notify_chat FROM tips WHERE notify_chat IS NOT NULL"
        )
        matching = [
            r["tip_id"]
            for r in rows
            if self._keyring.decrypt_text(r["notify_chat"], "tips", r["ref"], "notify_chat")
            == str(chat_id)
        ]
        if matching:
            await self._db.executemany(
                "UPDATE tips SET notify_chat = NULL WHERE tip_id = ?", [(t,) for t in matching]
            )
        return len(matching)

    def _tip(self, row: sqlite3.Row) -> Tip:
        ref = row["ref"]
        content = json.loads(self._keyring.decrypt(row["content"], "tips", ref, "content"))
        notify = None
        if row["notify_chat"] is not None:
            notify = int(self._keyring.decrypt_text(row["notify_chat"], "tips", ref, "notify_chat"))
        return Tip(
            tip_id=row["tip_id"],
            ref=ref,
            category=row["category"],
            area=row["area"],
            urgent=bool(row["urgent"]),
            status=row["status"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            content=content,
            notify_chat=notify,
        )

    def _message(self, row: sqlite3.Row) -> ThreadMessage:
        body = json.loads(self._keyring.decrypt(row["body"], "tip_messages", row["uid"], "body"))
        return ThreadMessage(
            message_id=row["message_id"],
            author=row["author"],
            staff_id=row["staff_id"],
            body=body,
            created_at=row["created_at"],
        )


OPEN_STATUSES = ("new", "acknowledged", "verifying")
CLOSED_STATUSES = ("resolved", "unfounded", "transferred")


@dataclass(frozen=True)
class TipSummary:
    """A line of /tips: nothing a resident wrote, only what routing and statistics keep."""

    tip_id: int
    ref: str
    category: str
    area: str | None
    urgent: bool
    status: str
    created_at: str


@dataclass(frozen=True)
class Scope:
    """Which tips a staff member may see: everything, or these areas and assignments."""

    staff_id: int
    everything: bool
    areas: tuple[str, ...]


class TipDesk:
    """What officers do to tips: statuses, replies, assignments, card messages, escalation."""

    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    async def is_assigned(self, tip_id: int, staff_id: int) -> bool:
        row = await self._db.fetchone(
            "SELECT 1 FROM tip_assignees WHERE tip_id = ? AND staff_id = ?", (tip_id, staff_id)
        )
        return row is not None

    async def assign(self, tip_id: int, staff_id: int, *, given_by: int) -> None:
        """`given_by` hands the tip to `staff_id` personally (a hand-over, see
        `handlers.context.may_see`). Nobody hands a tip to themselves: ValueError."""
        if staff_id == given_by:
            raise ValueError("a tip cannot be handed to oneself")
        await self._db.execute(
            "INSERT INTO tip_assignees (tip_id, staff_id, given_by, given_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (tip_id, staff_id) DO UPDATE SET given_by = excluded.given_by,"
            " given_at = excluded.given_at",
            (tip_id, staff_id, given_by, utc_now()),
        )

    async def set_status(
        self, tip_id: int, status: str, *, transferred_to: str | None = None
    ) -> None:
        """Change the status; any change by an officer counts as the acknowledgement."""
        now = utc_now()
        await self._db.execute(
            "UPDATE tips SET status = ?, updated_at = ?,"
            " acknowledged_at = coalesce(acknowledged_at, ?),"
            " transferred_to = CASE WHEN ? = 'transferred' THEN ? ELSE transferred_to END"
            " WHERE tip_id = ?",
            (status, now, now, status, transferred_to, tip_id),
        )

    async def transferred_to(self, tip_id: int) -> str | None:
        row = await self._db.fetchone(
            "SELECT transferred_to FROM tips WHERE tip_id = ?", (tip_id,)
        )
        return row["transferred_to"] if row else None

    async def move_to_area(self, tip_id: int, area: str) -> int:
        """Move the tip to `area`; every earlier hand-over of it ends in the same transaction
        (the caller's, if it holds one). Returns how many hand-overs ended."""
        async with atomic(self._db):
            await self._db.execute(
                "UPDATE tips SET area = ?, updated_at = ? WHERE tip_id = ?",
                (area, utc_now(), tip_id),
            )
            result = await self._db.execute(
                "DELETE FROM tip_assignees WHERE tip_id = ?", (tip_id,)
            )
        return result.rowcount

    async def add_officer_message(self, tip_id: int, staff_id: int, body: dict[str, Any]) -> int:
        """An officer's reply, stored encrypted; the caller holds the transaction."""
        uid = secrets.token_hex(8)
        blob = self._keyring.encrypt(
            json.dumps(body, ensure_ascii=False), "tip_messages", uid, "body"
        )
        now = utc_now()
        result = await self._db.execute(
            "INSERT INTO tip_messages (uid, tip_id, author, staff_id, body, created_at)"
            " VALUES (?, ?, 'officer', ?, ?, ?)",
            (uid, tip_id, staff_id, blob, now),
        )
        await self._db.execute("UPDATE tips SET updated_at = ? WHERE tip_id = ?", (now, tip_id))
        assert result.lastrowid is not None
        return result.lastrowid

    async def record_card(self, tip_id: int, staff_id: int, message_id: int) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO cards (tip_id, staff_id, message_id) VALUES (?, ?, ?)",
            (tip_id, staff_id, message_id),
        )

    async def cards(self, tip_id: int) -> list[tuple[int, int]]:
        rows = await self._db.fetchall(
            "SELECT staff_id, message_id FROM cards WHERE tip_id = ? ORDER BY staff_id",
            (tip_id,),
        )
        return [(r["staff_id"], r["message_id"]) for r in rows]

    async def list_for(
        self, scope: Scope, *, status: str | None, limit: int, offset: int
    ) -> tuple[list[TipSummary], int]:
        """Open tips (or one status) the scope may see, newest first, and how many in all."""
        statuses = json.dumps([status] if status else list(OPEN_STATUSES))
        # Sets travel as one JSON parameter (json_each), so the SQL text never changes.
        # The same rule as handlers.context.may_see: everything, the scope's areas, or a
        # hand-over to the scope's staff member while they are an active officer.
        where = (
            " FROM tips WHERE status IN (SELECT value FROM json_each(?))"
            " AND (? = 1 OR area IN (SELECT value FROM json_each(?))"
            "  OR tip_id IN (SELECT h.tip_id FROM tip_assignees h JOIN staff s"
            "   ON s.user_id = h.staff_id WHERE h.staff_id = ?"
            "   AND s.is_officer = 1 AND s.active = 1))"
        )
        params = [statuses, int(scope.everything), json.dumps(list(scope.areas)), scope.staff_id]
        total = await self._db.fetchone("SELECT count(*) AS n" + where, params)
        rows = await self._db.fetchall(
            "SELECT tip_id, ref, category, area, urgent, status, created_at" + where
            + " ORDER BY created_at DESC, tip_id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        summaries = [
            TipSummary(r["tip_id"], r["ref"], r["category"], r["area"], bool(r["urgent"]),
                       r["status"], r["created_at"])
            for r in rows
        ]
        return summaries, int(total["n"]) if total else 0

    async def due_reminders(self, before: str, urgent_before: str) -> list[int]:
        """New tips, not yet reminded, older than the delay (a quarter of it when urgent)."""
        rows = await self._db.fetchall(
            "SELECT tip_id FROM tips WHERE status = 'new' AND acknowledged_at IS NULL"
            " AND reminded_at IS NULL AND delivered = 1"
            " AND created_at <= CASE WHEN urgent = 1 THEN ? ELSE ? END ORDER BY tip_id",
            (urgent_before, before),
        )
        return [r["tip_id"] for r in rows]

    async def due_escalations(self, before: str, urgent_before: str) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT tip_id FROM tips WHERE status = 'new' AND acknowledged_at IS NULL"
            " AND escalated_at IS NULL AND reminded_at IS NOT NULL"
            " AND created_at <= CASE WHEN urgent = 1 THEN ? ELSE ? END ORDER BY tip_id",
            (urgent_before, before),
        )
        return [r["tip_id"] for r in rows]

    async def mark_reminded(self, tip_id: int) -> bool:
        result = await self._db.execute(
            "UPDATE tips SET reminded_at = ? WHERE tip_id = ? AND reminded_at IS NULL",
            (utc_now(), tip_id),
        )
        return result.rowcount > 0

    async def mark_escalated(self, tip_id: int) -> bool:
        result = await self._db.execute(
            "UPDATE tips SET escalated_at = ? WHERE tip_id = ? AND escalated_at IS NULL",
            (utc_now(), tip_id),
        )
        return result.rowcount > 0
