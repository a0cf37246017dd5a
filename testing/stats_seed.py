"""Tips for the statistics tests and benchmark, stored through the storage functions.

`Tips.insert` dates a tip now; the tests need tips at chosen moments (around a local midnight,
months apart), so the helpers then move the clear times (`tips.created_at`, the acknowledgement,
the audit entries of status changes) with plain UPDATEs, as a clock moved back would have left
them. Every status change goes through `TipDesk.set_status` and `AuditLog.record`, as the
officer's desk does it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from storage.store import Store
from storage.tips import CLOSED_STATUSES, Delivery, NewTip

STAFF = 7001


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class SeedTip:
    category: str
    area: str | None
    created: datetime  # aware
    #: status changes after arrival: (status, hours after arrival, staff id)
    changes: tuple[tuple[str, float, int], ...] = ()
    text: str = "Có người lạ chở gỗ ban đêm qua cầu."
    assignees: tuple[int, ...] = field(default=())

    @property
    def status(self) -> str:
        return self.changes[-1][0] if self.changes else "new"

    @property
    def closed(self) -> datetime | None:
        """As TipDesk.set_status keeps it: the first closing since the last reopening."""
        closed = None
        for status, hours, _actor in self.changes:
            if status in CLOSED_STATUSES:
                closed = closed or self.created + timedelta(hours=hours)
            else:
                closed = None
        return closed

    @property
    def acknowledged(self) -> datetime | None:
        return self.created + timedelta(hours=self.changes[0][1]) if self.changes else None


async def seed(
    store: Store,
    tips: Sequence[SeedTip],
    batch: int = 2000,
    recipients: tuple[int, ...] = (),
    *,
    bulk_history: bool = False,
) -> list[int]:
    """Store `tips` (in transactions of `batch`) and date them; returns their ids in order.

    No card is queued unless `recipients` are given: the tips count as delivered, so a running
    bot leaves them alone. Status changes go through `TipDesk.set_status` and
    `AuditLog.record`; with `bulk_history` (the benchmark's 100,000 tips) their audit entries
    are written in one statement per batch instead, without the chain's links (nothing that
    counts reads them)."""
    ids: list[int] = []
    for start in range(0, len(tips), batch):
        chunk = tips[start : start + batch]
        first = len(ids)
        async with store.db.transaction():
            for spec in chunk:
                tip, _code = await store.tips.insert(
                    NewTip(spec.category, spec.area, False,
                           {"text": spec.text, "place": "cầu treo thôn 2", "when": "today",
                            "attachments": []}),
                    Delivery(1, recipients),
                )
                ids.append(tip.tip_id)
                if bulk_history:
                    continue
                for status, hours, actor in spec.changes:
                    await store.desk.set_status(tip.tip_id, status)
                    await store.audit.record(actor, "status", tip.tip_id, status=status)
                    await store.db.execute(
                        "UPDATE audit_log SET at = ? WHERE audit_id ="
                        " (SELECT max(audit_id) FROM audit_log)",
                        (iso(spec.created + timedelta(hours=hours)),),
                    )
                for assignee in spec.assignees:
                    await store.desk.assign(tip.tip_id, assignee, given_by=STAFF)
            if bulk_history:
                await store.db.executemany(
                    "INSERT INTO audit_log (at, actor_id, action, tip_id, detail, link)"
                    " VALUES (?, ?, 'status', ?, ?, x'')",
                    [
                        (iso(spec.created + timedelta(hours=hours)), actor, tip_id,
                         json.dumps({"status": status}))
                        for spec, tip_id in zip(chunk, ids[first:], strict=True)
                        for status, hours, actor in spec.changes
                    ],
                )
            await store.db.executemany(
                "UPDATE tips SET status = ?, created_at = ?, updated_at = ?, acknowledged_at = ?,"
                " closed_at = ?, delivered = ? WHERE tip_id = ?",
                [
                    (spec.status, iso(spec.created), iso(spec.created),
                     iso(spec.acknowledged) if spec.acknowledged else None,
                     iso(spec.closed) if spec.closed else None, 0 if recipients else 1, tip_id)
                    for spec, tip_id in zip(chunk, ids[first:], strict=True)
                ],
            )
    return ids
