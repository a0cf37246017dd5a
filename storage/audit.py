"""The audit log: who did what to which tip, when — chained so tampering shows.

Each row stores `link = HMAC(audit key, previous link || the row's fields)`. Editing or deleting
a row (other than the newest ones, see below) breaks the link of every row after it, and
`verify()` names the first broken one. Because the link is keyed with a data key wrapped by the
master key, someone with only the database file cannot rebuild a consistent chain after an
edit. Truncating the newest rows leaves a consistent shorter chain; `verify()` reports the count
so it can be compared with an earlier report.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from storage.database import Database, utc_now
from storage.hours import this_hour
from storage.keyring import KeyPurpose, Keyring

GENESIS = b"tipline-audit-v1"


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
    rows: int
    first_broken: int | None


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
        """Walk the chain; the first row whose link does not follow is reported."""
        rows = await self._db.fetchall("SELECT * FROM audit_log ORDER BY audit_id")
        previous = GENESIS
        expected_id = 1
        for row in rows:
            link = self._link(
                previous, row["audit_id"], row["at"], row["actor_id"], row["action"],
                row["tip_id"], row["detail"],
            )
            if row["audit_id"] != expected_id or not hmac.compare_digest(link, row["link"]):
                return AuditReport(len(rows), row["audit_id"])
            previous = row["link"]
            expected_id += 1
        return AuditReport(len(rows), None)

    async def for_tip(self, tip_id: int) -> list[AuditEntry]:
        rows = await self._db.fetchall(
            "SELECT audit_id, at, actor_id, action, tip_id, detail FROM audit_log"
            " WHERE tip_id = ? ORDER BY audit_id",
            (tip_id,),
        )
        return [AuditEntry(**dict(r)) for r in rows]
