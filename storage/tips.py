"""Tips and their threads: stored encrypted, found by receipt-code hash or by reference.

A tip row keeps in clear only what routing and statistics need (category, area, urgency,
status, and times rounded down to the hour). What the resident wrote and sent is one encrypted
JSON document; the notification chat (only when asked for) is encrypted on its own, and so are
the tip's exact times (arrival, last change), which the card, `/tip` and `/status` show. Every
one of these ciphertexts is bound to the tip (its row id and reference), each thread message to
its tip and its own uid, and the receipt hash to the tip by a MAC under the receipt key: moving
a value or a hash to another row makes it fail, logged as a failed integrity check (never with
content) and treated as absent. The receipt code itself is never stored: only its keyed hash.
A tip carries nothing that points to its author, nor the campaign link it came from. The agency a
tip was transferred to (an officer's free text) is sealed too, bound to the tip
(`transferred_sealed`, migration 0021; the old clear `transferred_to` is always NULL).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.campaigns import count_campaign_tip
from storage.crypto import DecryptionError
from storage.database import Database
from storage.hours import exact_now, hour_of, this_hour
from storage.keyring import KeyPurpose, Keyring
from storage.outbox_writer import add_rows
from storage.receipt_codes import ALPHABET, new_receipt_code
from storage.staff import atomic

log = logging.getLogger(__name__)

REF_PREFIX = "T-"
#: A new tip's reference: two groups of four symbols, `T-7QM4-XPA9` (40 bits, about 10¹² values:
#: at a million tips a draw collides about once in a million; six symbols, 10⁹ values, needed
#: hundreds of redraws there, issue 16). Tips stored before keep their six symbols (`T-7QK2MX`):
#: a reference is part of what a tip's ciphertexts are bound to.
REF_GROUPS = 2
REF_GROUP_LENGTH = 4


@dataclass(frozen=True)
class NewTip:
    """A tip as the resident sent it; `content` is what gets encrypted. `campaign` (the link
    that opened the report, if any) is only counted, never stored with the tip."""

    category: str
    area: str | None
    urgent: bool
    content: dict[str, Any]
    notify_chat: int | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class Tip:
    """A tip as people see it. `created_at` and `updated_at` are the exact UTC times (from the
    tip's encrypted times; the clear columns keep only the hour)."""

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
    """One message of a tip's thread; `created_at` is its exact UTC time (from its ciphertext)."""

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
    return REF_PREFIX + "-".join(
        "".join(secrets.choice(ALPHABET) for _ in range(REF_GROUP_LENGTH))
        for _ in range(REF_GROUPS)
    )


def normalise_ref(typed: str) -> str:
    """A reference as typed (any case, spaces, the group dash left out) as stored."""
    ref = "".join(typed.split()).upper()
    body = ref.removeprefix(REF_PREFIX)
    if ref != body and len(body) == REF_GROUPS * REF_GROUP_LENGTH and "-" not in body:
        ref = REF_PREFIX + "-".join(
            body[i : i + REF_GROUP_LENGTH] for i in range(0, len(body), REF_GROUP_LENGTH)
        )
    return ref


def tip_binding(tip_id: int, ref: str) -> str:
    """The row a tip's ciphertexts are bound to: its id (which its thread, outbox and cards
    point to) and its reference."""
    return f"{tip_id}:{ref}"


def message_binding(tip_id: int, uid: str) -> str:
    """The row a thread message's ciphertext is bound to: its tip and its own uid."""
    return f"{tip_id}:{uid}"


def receipt_mac(keyring: Keyring, tip_id: int, ref: str, receipt_hash: bytes) -> bytes:
    """MAC (receipt key) over (tip, hash): a hash moved to another tip no longer matches."""
    return keyring.pseudonym(
        KeyPurpose.RECEIPT, f"tip-receipt|{tip_id}|{ref}|{bytes(receipt_hash).hex()}"
    )


#: The field a tip's sealed agency is bound to (its column, as storage/rotation.py rotates it).
AGENCY_FIELD = "transferred_sealed"
#: Rows a /forget opens between two turns of the event loop (~5 ms of decryption).
FORGET_PAGE = 500


def seal_agency(keyring: Keyring, tip_id: int, ref: str, agency: str) -> bytes:
    """Encrypt the agency a tip is transferred to (an officer's free text), bound to the tip."""
    return keyring.encrypt(agency, "tips", tip_binding(tip_id, ref), AGENCY_FIELD)


def integrity_failed(what: str, tip_id: int) -> None:
    """Log a value that does not open where it is stored (moved or altered): never content."""
    log.error("integrity check failed: %s of tip #%s does not match its tip; ignored", what,
              tip_id)


class Tips:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    async def insert(self, tip: NewTip, delivery: Delivery) -> tuple[Tip, str]:
        """Store the tip and one outbox row per recipient; the caller holds the transaction.

        Returns the stored tip and its receipt code: the code leaves only towards the resident.
        The row is inserted first (its id is part of what its ciphertexts are bound to), then
        sealed, in the caller's transaction.
        """
        now = exact_now()
        hour = hour_of(now)
        for _ in range(10):
            ref, code = new_ref(), new_receipt_code()
            receipt_hash = self._keyring.receipt_hash(code)
            # A reference or code collision inserts nothing: draw again. (Not an integrity
            # error caught: on PostgreSQL an error ends the caller's transaction.)
            inserted = await self._db.fetchone(
                "INSERT INTO tips (ref, receipt_hash, category, area, urgent, status,"
                " content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'new', x'', ?, ?)"
                " ON CONFLICT DO NOTHING RETURNING tip_id",
                (ref, receipt_hash, tip.category, tip.area, int(tip.urgent), hour, hour),
            )
            if inserted is None:
                continue
            tip_id: int = inserted["tip_id"]
            bound = tip_binding(tip_id, ref)
            content = self._keyring.encrypt(
                json.dumps(tip.content, ensure_ascii=False), "tips", bound, "content"
            )
            notify = (
                self._keyring.encrypt(str(tip.notify_chat), "tips", bound, "notify_chat")
                if tip.notify_chat is not None
                else None
            )
            await self._db.execute(
                "UPDATE tips SET content = ?, notify_chat = ?, times = ?, receipt_mac = ?"
                " WHERE tip_id = ?",
                (
                    content,
                    notify,
                    seal_times(self._keyring, tip_id, ref, {"received": now, "updated": now}),
                    receipt_mac(self._keyring, tip_id, ref, receipt_hash),
                    tip_id,
                ),
            )
            await add_rows(self._db, tip_id, "card", hour, staff=delivery.recipients,
                           tier=delivery.tier)
            if tip.campaign:
                await count_campaign_tip(self._db, tip.campaign, tip.category)
            stored = Tip(
                tip_id, ref, tip.category, tip.area, tip.urgent, "new", now, now,
                tip.content, tip.notify_chat,
            )
            return stored, code
        raise RuntimeError("could not draw a unique tip reference")

    async def replace_receipt_code(self, tip_id: int) -> str:
        """Draw a new receipt code for a tip whose code never reached its resident.

        The old code was shown to nobody (its message failed), so replacing its hash loses
        nothing; the code itself is still never stored.
        """
        row = await self._db.fetchone("SELECT ref FROM tips WHERE tip_id = ?", (tip_id,))
        if row is None:
            raise LookupError("no such tip")
        for _ in range(10):
            code = new_receipt_code()
            receipt_hash = self._keyring.receipt_hash(code)
            # A code in use by another tip changes nothing: draw again (writers take turns, so
            # the check and the change cannot be split by another writer).
            result = await self._db.execute(
                "UPDATE tips SET receipt_hash = ?, receipt_mac = ? WHERE tip_id = ?"
                " AND NOT EXISTS (SELECT 1 FROM tips WHERE receipt_hash = ?)",
                (receipt_hash, receipt_mac(self._keyring, tip_id, row["ref"], receipt_hash),
                 tip_id, receipt_hash),
            )
            if result.rowcount == 0:
                continue
            return code
        raise RuntimeError("could not draw a unique receipt code")

    async def by_receipt_code(self, normalised_code: str) -> Tip | None:
        """The tip this code was made for; None when there is none, or when the row found does
        not carry this hash's MAC (a hash moved from another tip: logged, never opened)."""
        receipt_hash = self._keyring.receipt_hash(normalised_code)
        row = await self._db.fetchone(
            "SELECT * FROM tips WHERE receipt_hash = ?", (receipt_hash,)
        )
        if row is None:
            return None
        expected = receipt_mac(self._keyring, row["tip_id"], row["ref"], receipt_hash)
        if row["receipt_mac"] is None or not hmac.compare_digest(
            expected, bytes(row["receipt_mac"])
        ):
            integrity_failed("the receipt hash", row["tip_id"])
            return None
        return self._tip(row)

    async def by_ref(self, ref: str) -> Tip | None:
        row = await self._db.fetchone("SELECT * FROM tips WHERE ref = ?", (normalise_ref(ref),))
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
        """The resident adds text or evidence: stored encrypted, queued for the tip's officers.
        Joins the caller's transaction (the /status session that took it is saved with it)."""
        now = exact_now()
        async with atomic(self._db):
            message_id = await insert_message(
                self._db, self._keyring, tip.tip_id, "resident", None, body, now
            )
            await add_rows(self._db, tip.tip_id, "addition", hour_of(now), staff=recipients,
                           tip_message_id=message_id)
            await touch(self._db, self._keyring, tip.tip_id, now)

    async def resident_messages_since(self, tip_id: int, since: str) -> int:
        """How many additions the resident made to a tip since `since` (for a flood limit).

        The clear times are hours, so the candidates of the hour of `since` onwards are opened
        and their exact times compared."""
        rows = await self._db.fetchall(
            "SELECT * FROM tip_messages WHERE tip_id = ? AND author = 'resident'"
            " AND created_at >= ?",
            (tip_id, hour_of(since)),
        )
        boundary = datetime.fromisoformat(since)
        return sum(
            1
            for message in (self._message(r) for r in rows)
            if message is not None and datetime.fromisoformat(message.created_at) >= boundary
        )

    async def thread(self, tip_id: int) -> list[ThreadMessage]:
        """The tip's thread, oldest first; a message that does not open as this tip's (moved
        from another tip, or altered) is logged and left out."""
        rows = await self._db.fetchall(
            "SELECT * FROM tip_messages WHERE tip_id = ? ORDER BY message_id", (tip_id,)
        )
        return [m for m in (self._message(r) for r in rows) if m is not None]

    async def thread_message(self, message_id: int) -> ThreadMessage | None:
        row = await self._db.fetchone(
            "SELECT * FROM tip_messages WHERE message_id = ?", (message_id,)
        )
        return self._message(row) if row else None

    async def forget_notify_chat(self, chat_id: int) -> int:
        """Remove `chat_id` from every tip's notification link (/forget). Returns how many
        (for tests: the resident is never told, nor is it logged, finding 1 of 2026-12-03).

        The chat ids are encrypted with random nonces, so each is decrypted to compare: that
        keeps them unlinkable at rest (no index or hash of the chat, which would tie one
        person's tips together). So as not to hold the event loop over a large table (~1 s at
        100k linked tips), the scan reads FORGET_PAGE rows at a time on the read connection
        and yields to the other tasks between pages; the links found are cleared in one short
        transaction, by tip: not "if it still holds the value read", since a content-key
        rotation running beside the bot seals the same chat again with a new nonce meanwhile
        (other bytes, the same chat), and such a link would stay while /forget said it was
        gone. Nothing else writes the column but the tip's insert and the re-seals, so a tip
        found linked to this chat is still linked to it.
        """
        wanted = str(chat_id)
        matching: list[tuple[int]] = []
        after = 0
        while True:
            rows = await self._db.read_all(
                "SELECT tip_id, ref, notify_chat FROM tips"
                " WHERE tip_id > ? AND notify_chat IS NOT NULL ORDER BY tip_id LIMIT ?",
                (after, FORGET_PAGE),
            )
            for r in rows:
                try:
                    chat = self._keyring.decrypt_text(
                        r["notify_chat"], "tips", tip_binding(r["tip_id"], r["ref"]),
                        "notify_chat",
                    )
                except DecryptionError:
                    integrity_failed("the notification chat", r["tip_id"])
                    continue
                if chat == wanted:
                    matching.append((r["tip_id"],))
            if len(rows) < FORGET_PAGE:
                break
            after = rows[-1]["tip_id"]
            await asyncio.sleep(0)  # the page was opened in this thread: let others run
        if not matching:
            return 0
        async with self._db.transaction():
            await self._db.executemany(
                "UPDATE tips SET notify_chat = NULL WHERE tip_id = ?",
                matching,
            )
        return len(matching)

    def _tip(self, row: sqlite3.Row) -> Tip | None:
        """The tip of a row, or None (logged) when one of its values does not open as its."""
        tip_id, ref = row["tip_id"], row["ref"]
        bound = tip_binding(tip_id, ref)
        try:
            content = json.loads(self._keyring.decrypt(row["content"], "tips", bound, "content"))
            notify = None
            if row["notify_chat"] is not None:
                notify = int(
                    self._keyring.decrypt_text(row["notify_chat"], "tips", bound, "notify_chat")
                )
        except DecryptionError:
            integrity_failed("the content", tip_id)
            return None
        times = open_times(self._keyring, row)
        return Tip(
            tip_id=tip_id,
            ref=ref,
            category=row["category"],
            area=row["area"],
            urgent=bool(row["urgent"]),
            status=row["status"],
            created_at=times["received"],
            updated_at=times["updated"],
            content=content,
            notify_chat=notify,
        )

    def _message(self, row: sqlite3.Row) -> ThreadMessage | None:
        return open_message(self._keyring, row)


def seal_times(keyring: Keyring, tip_id: int, ref: str, times: dict[str, str]) -> bytes:
    """Encrypt a tip's exact times ({"received", "updated"}), bound to the tip."""
    return keyring.encrypt(json.dumps(times), "tips", tip_binding(tip_id, ref), "times")


def open_times(keyring: Keyring, row: sqlite3.Row) -> dict[str, str]:
    """A tip row's exact times ({"received", "updated"}); the clear hours when they do not open
    (logged) or were never sealed."""
    return _open_times(keyring, row)[0]


def _open_times(keyring: Keyring, row: sqlite3.Row) -> tuple[dict[str, str], bool]:
    """(times, whether they opened or were never sealed)."""
    fallback = {"received": row["created_at"], "updated": row["updated_at"]}
    if row["times"] is None:
        return fallback, True
    try:
        times = json.loads(
            keyring.decrypt(row["times"], "tips", tip_binding(row["tip_id"], row["ref"]), "times")
        )
    except DecryptionError:
        integrity_failed("the times", row["tip_id"])
        return fallback, False
    return {**fallback, **times}, True


def open_message(keyring: Keyring, row: sqlite3.Row) -> ThreadMessage | None:
    """A thread message of a row, or None (logged) when it does not open as its tip's."""
    try:
        body = json.loads(
            keyring.decrypt(
                row["body"], "tip_messages", message_binding(row["tip_id"], row["uid"]), "body"
            )
        )
    except DecryptionError:
        integrity_failed(f"thread message #{row['message_id']}", row["tip_id"])
        return None
    exact = body.pop("at", None)
    return ThreadMessage(
        message_id=row["message_id"],
        author=row["author"],
        staff_id=row["staff_id"],
        body=body,
        created_at=exact or row["created_at"],
    )


async def insert_message(
    db: Database,
    keyring: Keyring,
    tip_id: int,
    author: str,
    staff_id: int | None,
    body: dict[str, Any],
    exact: str,
) -> int:
    """Store one thread message, bound to its tip, with its exact time inside; the clear time
    is the hour. The caller holds the transaction."""
    uid = secrets.token_hex(8)
    blob = keyring.encrypt(
        json.dumps({**body, "at": exact}, ensure_ascii=False),
        "tip_messages", message_binding(tip_id, uid), "body",
    )
    row = await db.fetchone(
        "INSERT INTO tip_messages (uid, tip_id, author, staff_id, body, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING message_id",
        (uid, tip_id, author, staff_id, blob, hour_of(exact)),
    )
    assert row is not None
    message_id: int = row["message_id"]
    return message_id


async def touch(db: Database, keyring: Keyring, tip_id: int, exact: str) -> None:
    """The tip changed at `exact`: its sealed times say so, its clear `updated_at` the hour.
    The caller holds the transaction (a read, then a write of the same row)."""
    row = await db.fetchone(
        "SELECT tip_id, ref, times, created_at, updated_at FROM tips WHERE tip_id = ?", (tip_id,)
    )
    if row is None:
        return
    times, opened = _open_times(keyring, row)
    if not opened:
        # Altered or moved: left as it is (it keeps failing, and being logged), never sealed
        # anew over the evidence.
        await db.execute(
            "UPDATE tips SET updated_at = ? WHERE tip_id = ?", (hour_of(exact), tip_id)
        )
        return
    await db.execute(
        "UPDATE tips SET times = ?, updated_at = ? WHERE tip_id = ?",
        (seal_times(keyring, tip_id, row["ref"], {**times, "updated": exact}), hour_of(exact),
         tip_id),
    )


OPEN_STATUSES = ("new", "acknowledged", "verifying")
CLOSED_STATUSES = ("resolved", "unfounded", "transferred")

# The SQL of TipDesk.list_for (issue 16), put together from these constant pieces only (the
# `noqa: S608`): every value is a bound parameter. A page is the newest `:want` tips of each
# status (of each area, for a scope of areas) merged, and sliced by :limit/:offset;
# `tip_id IN (correlated subquery with a LIMIT)` keeps each arm on its index. For a scope of
# areas, the hand-overs to its staff member are added (UNION drops a tip found both ways).
_LIST_COLUMNS = (
    "SELECT t.tip_id, t.ref, t.category, t.area, t.urgent, t.status, t.created_at,"
    " t.updated_at, t.times"
)
_LIST_ORDER = " ORDER BY created_at DESC, tip_id DESC LIMIT :limit OFFSET :offset"
_LIST_EVERYTHING = (
    _LIST_COLUMNS + " FROM json_each(:statuses) s JOIN tips t ON t.tip_id IN ("  # noqa: S608
    " SELECT x.tip_id FROM tips x WHERE x.status = s.value"
    " ORDER BY x.created_at DESC, x.tip_id DESC LIMIT :want)" + _LIST_ORDER
)
_HANDED = (
    " FROM tip_assignees h JOIN staff m ON m.user_id = h.staff_id"
    " JOIN tips t ON t.tip_id = h.tip_id WHERE h.staff_id = :staff"
    " AND m.is_officer = 1 AND m.active = 1"
    " AND t.status IN (SELECT value FROM json_each(:statuses))"
)
_LIST_SCOPED = (
    _LIST_COLUMNS + " FROM json_each(:areas) a JOIN json_each(:statuses) s"  # noqa: S608
    " JOIN tips t ON t.tip_id IN ("
    " SELECT x.tip_id FROM tips x WHERE x.area = a.value AND x.status = s.value"
    " ORDER BY x.created_at DESC, x.tip_id DESC LIMIT :want)"
    " UNION " + _LIST_COLUMNS + _HANDED + _LIST_ORDER
)
#: PostgreSQL runs `t.tip_id IN (correlated subquery … LIMIT)` as a subplan for every row of
#: tips (a whole scan, 0.8 s at 10k); there each (area, status) or status is a LATERAL subquery
#: instead, read newest first from its index (tips_by_status / tips_by_area_status, whose
#: PostgreSQL form carries tip_id, as SQLite's rowid does).
_PG_LATERAL = (
    " CROSS JOIN LATERAL (SELECT x.tip_id, x.ref, x.category, x.area, x.urgent, x.status,"
    " x.created_at, x.updated_at, x.times FROM tips x WHERE "
)
_PG_LATERAL_END = " ORDER BY x.created_at DESC, x.tip_id DESC LIMIT :want) t"
_PG_LIST_EVERYTHING = (
    _LIST_COLUMNS + " FROM json_each(:statuses) s" + _PG_LATERAL
    + "x.status = s.value" + _PG_LATERAL_END + _LIST_ORDER
)
_PG_LIST_SCOPED = (
    _LIST_COLUMNS + " FROM json_each(:areas) a CROSS JOIN json_each(:statuses) s"
    + _PG_LATERAL + "x.area = a.value AND x.status = s.value" + _PG_LATERAL_END
    + " UNION " + _LIST_COLUMNS + _HANDED + _LIST_ORDER
)
#: (everything, scoped) in each dialect.
_LIST = {
    "sqlite": (_LIST_EVERYTHING, _LIST_SCOPED),
    "postgresql": (_PG_LIST_EVERYTHING, _PG_LIST_SCOPED),
}
_LIST_TOTAL = (
    "SELECT (SELECT coalesce(sum(n), 0) FROM tip_tally"  # noqa: S608
    "  WHERE status IN (SELECT value FROM json_each(:statuses))"
    "  AND (:everything = 1 OR area IN (SELECT value FROM json_each(:areas))))"
    " + CASE WHEN :everything = 1 THEN 0 ELSE (SELECT count(*)" + _HANDED
    + "  AND (t.area IS NULL OR t.area NOT IN (SELECT value FROM json_each(:areas))))"
    " END AS n"
)


@dataclass(frozen=True)
class TipSummary:
    """A line of /tips: nothing a resident wrote; `created_at` is the exact arrival (from the
    tip's sealed times, the only value of the tip opened for a list)."""

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
        `handlers.shared.context.may_see`). Nobody hands a tip to themselves: ValueError."""
        if staff_id == given_by:
            raise ValueError("a tip cannot be handed to oneself")
        await self._db.execute(
            "INSERT INTO tip_assignees (tip_id, staff_id, given_by, given_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (tip_id, staff_id) DO UPDATE SET given_by = excluded.given_by,"
            " given_at = excluded.given_at",
            (tip_id, staff_id, given_by, this_hour()),
        )

    async def set_status(
        self, tip_id: int, status: str, *, transferred_to: str | None = None
    ) -> None:
        """Change the status; any change by an officer counts as the acknowledgement. The clear
        times (acknowledged, closed, updated) are hours; the exact change is sealed. A change to
        'transferred' keeps `transferred_to` (the agency) sealed with the tip; another status
        keeps the agency of an earlier transfer as it is."""
        now = exact_now()
        hour = hour_of(now)
        closed = json.dumps(list(CLOSED_STATUSES))
        async with atomic(self._db):
            sealed = None
            if status == "transferred" and transferred_to is not None:
                row = await self._db.fetchone("SELECT ref FROM tips WHERE tip_id = ?", (tip_id,))
                if row is None:
                    return
                sealed = seal_agency(self._keyring, tip_id, row["ref"], transferred_to)
            await self._db.execute(
                "UPDATE tips SET status = ?,"
                " acknowledged_at = coalesce(acknowledged_at, ?),"
                " closed_at = CASE WHEN ? IN (SELECT value FROM json_each(?))"
                "  THEN coalesce(closed_at, ?) END,"
                " transferred_sealed = CASE WHEN ? = 'transferred' THEN ?"
                "  ELSE transferred_sealed END"
                " WHERE tip_id = ?",
                (status, hour, status, closed, hour, status, sealed, tip_id),
            )
            await touch(self._db, self._keyring, tip_id, now)

    async def transferred_to(self, tip_id: int) -> str | None:
        """The agency the tip was transferred to; None when there is none, or when the sealed
        value does not open here (moved or altered: logged, never shown)."""
        row = await self._db.lookup_one(
            "SELECT ref, transferred_sealed FROM tips WHERE tip_id = ?", (tip_id,)
        )
        if row is None or row["transferred_sealed"] is None:
            return None
        try:
            return self._keyring.decrypt_text(row["transferred_sealed"], "tips",
                                              tip_binding(tip_id, row["ref"]), AGENCY_FIELD)
        except DecryptionError:
            integrity_failed("the agency it was transferred to", tip_id)
            return None

    async def move_to_area(self, tip_id: int, area: str) -> int:
        """Move the tip to `area`; every earlier hand-over of it ends in the same transaction
        (the caller's, if it holds one). Returns how many hand-overs ended."""
        async with atomic(self._db):
            await self._db.execute("UPDATE tips SET area = ? WHERE tip_id = ?", (area, tip_id))
            await touch(self._db, self._keyring, tip_id, exact_now())
            result = await self._db.execute(
                "DELETE FROM tip_assignees WHERE tip_id = ?", (tip_id,)
            )
        return result.rowcount

    async def add_officer_message(self, tip_id: int, staff_id: int, body: dict[str, Any]) -> int:
        """An officer's reply, stored encrypted and bound to the tip; the caller holds the
        transaction."""
        now = exact_now()
        message_id = await insert_message(
            self._db, self._keyring, tip_id, "officer", staff_id, body, now
        )
        await touch(self._db, self._keyring, tip_id, now)
        return message_id

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
        """Open tips (or one status) the scope may see, newest first, and how many in all.

        The same rule as rules.access.may_see: everything, the scope's areas, or a hand-over to
        the scope's staff member while they are an active officer. Each (area, status) — or
        each status, for everything — is read newest first straight from its index, at most
        `offset + limit` of each (a correlated subquery with a LIMIT), then merged: the cost
        depends on the page, not on how many tips there are. The total comes from the tally
        the triggers of migration 0013 keep, plus the hand-overs outside the scope's areas.
        """
        # Sets travel as JSON parameters (json_each), so the SQL texts never change.
        params = {
            "statuses": json.dumps([status] if status else list(OPEN_STATUSES)),
            "areas": json.dumps(list(scope.areas)),
            "staff": scope.staff_id,
            "want": offset + limit,
            "limit": limit,
            "offset": offset,
            "everything": int(scope.everything),
        }
        everything, scoped = _LIST[self._db.dialect]
        rows = await self._db.read_all(everything if scope.everything else scoped, params)
        total = await self._db.read_one(_LIST_TOTAL, params)
        summaries = [
            TipSummary(r["tip_id"], r["ref"], r["category"], r["area"], bool(r["urgent"]),
                       r["status"], open_times(self._keyring, r)["received"])
            for r in rows
        ]
        return summaries, int(total["n"]) if total else 0

    # Reminders and escalations are due a fixed delay after a tip's exact arrival, which is
    # sealed: no clear "due at" column would give the arrival back. The clear hour is a
    # necessary condition (the hour is never later than the arrival), so SQL picks the few
    # open, unacknowledged candidates and only their sealed times are opened to decide.

    async def due_reminders(self, before: str, urgent_before: str) -> list[int]:
        """New tips, not yet reminded, that arrived before `before` (`urgent_before` when
        urgent: a quarter of the delay)."""
        rows = await self._db.fetchall(
            "SELECT tip_id, ref, urgent, times, created_at, updated_at"
            " FROM tips INDEXED BY tips_awaiting_ack"  # else the planner takes tips_by_status
            " WHERE status = 'new' AND acknowledged_at IS NULL AND escalated_at IS NULL"
            " AND reminded_at IS NULL AND delivered = 1 AND created_at <= ?"
            " AND created_at <= CASE WHEN urgent = 1 THEN ? ELSE ? END ORDER BY tip_id",
            (max(urgent_before, before), urgent_before, before),
        )
        return self._arrived_before(rows, before, urgent_before)

    async def due_escalations(self, before: str, urgent_before: str) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT tip_id, ref, urgent, times, created_at, updated_at"
            " FROM tips INDEXED BY tips_awaiting_ack"  # else the planner takes tips_by_status
            " WHERE status = 'new' AND acknowledged_at IS NULL"
            " AND escalated_at IS NULL AND reminded_at IS NOT NULL AND created_at <= ?"
            " AND created_at <= CASE WHEN urgent = 1 THEN ? ELSE ? END ORDER BY tip_id",
            (max(urgent_before, before), urgent_before, before),
        )
        return self._arrived_before(rows, before, urgent_before)

    def _arrived_before(
        self, rows: list[sqlite3.Row], before: str, urgent_before: str
    ) -> list[int]:
        normal, urgent = datetime.fromisoformat(before), datetime.fromisoformat(urgent_before)
        return [
            r["tip_id"]
            for r in rows
            if datetime.fromisoformat(open_times(self._keyring, r)["received"])
            <= (urgent if r["urgent"] else normal)
        ]

    # The step is recorded with the tip's own arrival hour: the hour of the step itself (a
    # fixed delay after the arrival) could narrow the arrival down.

    async def mark_reminded(self, tip_id: int) -> bool:
        result = await self._db.execute(
            "UPDATE tips SET reminded_at = created_at WHERE tip_id = ? AND reminded_at IS NULL",
            (tip_id,),
        )
        return result.rowcount > 0

    async def mark_escalated(self, tip_id: int) -> bool:
        result = await self._db.execute(
            "UPDATE tips SET escalated_at = created_at WHERE tip_id = ?"
            " AND escalated_at IS NULL",
            (tip_id,),
        )
        return result.rowcount > 0
