"""The audit log: who did what to which tip, when — chained so tampering shows.

Each row stores `link = HMAC(audit key, previous link || the row's fields)`. Editing or deleting
a row (other than the newest ones, see below) breaks the link of every row after it, and
`verify()` names the first broken one. Because the link is keyed with a data key wrapped by the
master key, someone with only the database file cannot rebuild a consistent chain after an
edit. Truncating the newest rows leaves a consistent shorter chain; `verify()` reports the count
so it can be compared with an earlier report.

Purging a tip (storage/purge.py) erases its entries without breaking the chain: an erased entry
becomes a *tombstone* that keeps its number and its link and nothing else (no time, actor,
action, tip or detail; action "purged", detail the number of the purge entry that erased it),
and the purge appends one entry, action "purge", recording how many tips and entries went and a
SHA-256 over the erased entries' numbers. `verify()` takes a tombstone's link as given (the
next entry's link is computed over it, so it cannot be changed), and checks that every tombstone
names a later purge entry whose count and digest match exactly the tombstones naming it: turning
an entry into a tombstone without the audit key shows, and so does removing one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass

from storage.database import Database, utc_now
from storage.hours import this_hour
from storage.keyring import KeyPurpose, Keyring

GENESIS = b"tipline-audit-v1"
TOMBSTONE = "purged"  # an entry erased with its tip: number and link only
PURGE = "purge"  # the entry recording a purge


def erased_digest(audit_ids: Iterable[int]) -> str:
    """SHA-256 over the sorted numbers of erased entries, as a purge entry records it."""
    text = ",".join(str(i) for i in sorted(audit_ids))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    audit_id: int
    at: str
    actor_id: int
    action: str
    tip_id: int | None
    detail: str


@dataclass(frozen=True)
class AuditReport:
    """`newest_at`: the time of the newest entry that still has one (tombstones have none;
    an entry on a tip is dated to the hour), None for an empty log. After a restore it tells
    the operator how old the restored state is. `last_link`: the newest entry's link, which
    names the whole chain up to it (comparing two copies' chains, see `links_up_to`)."""

    rows: int
    first_broken: int | None
    newest_at: str | None = None
    last_id: int = 0
    last_link: bytes = b""


class AuditLog:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    def _link(self, previous: bytes, audit_id: int, at: str, actor: int, action: str,
              tip_id: int | None, detail: str) -> bytes:
        fields = json.dumps([audit_id, at, actor, action, tip_id, detail], ensure_ascii=False)
        return self._keyring.pseudonym(KeyPurpose.AUDIT, previous.hex() + "|" + fields)

    async def record(
        self, actor_id: int, action: str, tip_id: int | None = None, **detail: object
    ) -> None:
        """Append one entry. Joins the caller's transaction if one is open, else opens one."""
        if self._db.in_transaction:
            await self._append(actor_id, action, tip_id, detail)
            return
        async with self._db.transaction():
            await self._append(actor_id, action, tip_id, detail)

    async def _append(
        self, actor_id: int, action: str, tip_id: int | None, detail: dict[str, object]
    ) -> None:
        last = await self._db.fetchone(
            "SELECT audit_id, link FROM audit_log ORDER BY audit_id DESC LIMIT 1"
        )
        previous, audit_id = (last["link"], last["audit_id"] + 1) if last else (GENESIS, 1)
        # An action on a tip is dated to the hour: its exact time (an acknowledgement a minute
        # after the tip came in) would give the tip's arrival back. Staff-only actions keep it.
        at = utc_now() if tip_id is None else this_hour()
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else ""
        link = self._link(previous, audit_id, at, actor_id, action, tip_id, text)
        await self._db.execute(
            "INSERT INTO audit_log (audit_id, at, actor_id, action, tip_id, detail, link)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (audit_id, at, actor_id, action, tip_id, text, link),
        )

    async def verify(self) -> AuditReport:
        """Walk the chain; the first row whose link does not follow is reported. A tombstone's
        link is taken as given; every tombstone must be accounted for by the purge entry it
        names (a later entry whose count and digest match the tombstones naming it)."""
        rows = await self._db.fetchall("SELECT * FROM audit_log ORDER BY audit_id")
        erased: dict[int, list[int]] = {}  # purge entry -> the tombstones that name it
        for row in rows:
            if row["action"] == TOMBSTONE:
                claimed = int(row["detail"]) if row["detail"].isdigit() else 0
                erased.setdefault(claimed, []).append(row["audit_id"])
        previous = GENESIS
        expected_id = 1
        for row in rows:
            audit_id = row["audit_id"]
            if audit_id != expected_id:
                return AuditReport(len(rows), audit_id)
            expected_id += 1
            if row["action"] == TOMBSTONE:
                if not (row["detail"].isdigit() and int(row["detail"]) > audit_id):
                    return AuditReport(len(rows), audit_id)
                previous = row["link"]
                continue
            link = self._link(
                previous, audit_id, row["at"], row["actor_id"], row["action"],
                row["tip_id"], row["detail"],
            )
            if not hmac.compare_digest(link, row["link"]):
                return AuditReport(len(rows), audit_id)
            if row["action"] == PURGE and not _accounts_for(row["detail"],
                                                            erased.pop(audit_id, [])):
                return AuditReport(len(rows), audit_id)
            previous = row["link"]
        if erased:  # tombstones naming an entry that is no purge (or is gone)
            return AuditReport(len(rows), min(min(ids) for ids in erased.values()))
        dated = [row["at"] for row in rows if row["at"]]
        return AuditReport(len(rows), None, dated[-1] if dated else None,
                           rows[-1]["audit_id"] if rows else 0, previous if rows else b"")

    async def link_of(self, audit_id: int) -> bytes | None:
        """The stored link of entry `audit_id` (None if there is none): two copies of one
        line whose links agree at an entry hold the same chain up to it."""
        row = await self._db.fetchone(
            "SELECT link FROM audit_log WHERE audit_id = ?", (audit_id,)
        )
        return bytes(row["link"]) if row else None

    async def after(self, audit_id: int) -> list[AuditEntry]:
        """The entries after `audit_id`, oldest first (what restoring a copy that ends at
        `audit_id` would undo)."""
        rows = await self._db.fetchall(
            "SELECT audit_id, at, actor_id, action, tip_id, detail FROM audit_log"
            " WHERE audit_id > ? ORDER BY audit_id",
            (audit_id,),
        )
        return [AuditEntry(**dict(r)) for r in rows]

    async def erase_tips(self, tip_ids: list[int]) -> int:
        """Erase the entries of these tips (tombstones), and record the purge in one entry;
        returns how many entries were erased. The caller holds the transaction."""
        if not self._db.in_transaction:
            raise RuntimeError("erase_tips runs inside the purge's transaction")
        ids = json.dumps(tip_ids)
        rows = await self._db.fetchall(
            "SELECT audit_id FROM audit_log WHERE tip_id IN (SELECT value FROM json_each(?))"
            " AND action <> ? ORDER BY audit_id",
            (ids, TOMBSTONE),
        )
        erased = [r["audit_id"] for r in rows]
        last = await self._db.fetchone("SELECT max(audit_id) AS n FROM audit_log")
        purge_id = (last["n"] or 0) + 1 if last else 1
        await self._db.executemany(
            "UPDATE audit_log SET at = '', actor_id = 0, action = ?, tip_id = NULL, detail = ?"
            " WHERE audit_id = ?",
            [(TOMBSTONE, str(purge_id), audit_id) for audit_id in erased],
        )
        await self._append(
            0, PURGE, None,
            {"tips": len(tip_ids), "entries": len(erased), "erased": erased_digest(erased)},
        )
        return len(erased)

    async def for_tip(self, tip_id: int) -> list[AuditEntry]:
        rows = await self._db.fetchall(
            "SELECT audit_id, at, actor_id, action, tip_id, detail FROM audit_log"
            " WHERE tip_id = ? ORDER BY audit_id",
            (tip_id,),
        )
        return [AuditEntry(**dict(r)) for r in rows]


def _accounts_for(detail: str, tombstones: list[int]) -> bool:
    """Whether a purge entry's detail matches exactly the tombstones that name it."""
    try:
        recorded = json.loads(detail)
        return bool(
            recorded["entries"] == len(tombstones)
            and hmac.compare_digest(str(recorded["erased"]), erased_digest(tombstones))
        )
    except (ValueError, KeyError, TypeError):
        return False
