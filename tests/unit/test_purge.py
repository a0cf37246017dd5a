"""Retention (issue 14, point 1): closed tips past TIPBOT_RETENTION_DAYS go with everything bound
to them, their bytes leave every database file, and the audit chain still verifies."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.audit import TOMBSTONE
from storage.conversations import Flow
from storage.purge import cutoff, expired_tip_ids, purge_expired
from storage.receipt_codes import normalise_receipt_code
from storage.store import Store, open_store
from storage.tips import Delivery, NewTip

MASTER = bytes(range(32))
OLD = "2020-01-01T10:00:00+00:00"


def _files(path: Path) -> bytes:
    """Every byte of the database files (main, -wal, -shm)."""
    return b"".join(
        p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")) if p.is_file()
    )


async def _tip(store: Store, text: str, *, status: str | None = None, closed: str | None = None,
               staff: int = 7002):  # type: ignore[no-untyped-def]
    """A tip with a thread message, outbox rows, a hand-over, a card and audit entries."""
    async with store.db.transaction():
        tip, code = await store.tips.insert(
            NewTip("drugs", "hong-van", False, {"text": text, "photos": [f"file-{text}"]},
                   notify_chat=424242),
            Delivery(1, (staff,)),
        )
    await store.tips.add_resident_message(tip, {"text": f"more {text}"}, (staff,))
    await store.desk.assign(tip.tip_id, 7003, given_by=staff)
    await store.desk.record_card(tip.tip_id, staff, 100 + tip.tip_id)
    await store.audit.record(staff, "view", tip.tip_id)
    if status:
        await store.desk.set_status(tip.tip_id, status)
        await store.audit.record(staff, "status", tip.tip_id, status=status)
    if closed:
        await store.db.execute("UPDATE tips SET closed_at = ? WHERE tip_id = ?",
                               (closed, tip.tip_id))
    return tip, code


async def _officers(store: Store) -> None:
    for user_id in (7002, 7003):
        await store.staff.upsert_officer(user_id, areas=("hong-van",), all_areas=False,
                                         display_name=f"Officer {user_id}")


async def _blobs(store: Store, tip_id: int) -> list[bytes]:
    """The tip's ciphertexts, receipt hash and MAC, and its thread's ciphertexts."""
    row = await store.db.fetchone(
        "SELECT content, notify_chat, times, receipt_hash, receipt_mac FROM tips"
        " WHERE tip_id = ?", (tip_id,))
    assert row is not None
    found = [bytes(v) for v in row if v is not None]
    for message in await store.db.fetchall("SELECT body FROM tip_messages WHERE tip_id = ?",
                                           (tip_id,)):
        found.append(bytes(message["body"]))
    return found


async def test_purge_removes_an_old_closed_tip_and_everything_bound_to_it(
    store: Store, tmp_path: Path, dialect: str
):
    await _officers(store)
    old, old_code = await _tip(store, "old", status="resolved", closed=OLD)
    kept_open, open_code = await _tip(store, "open", status="verifying")
    recent, _ = await _tip(store, "recent", status="unfounded")  # closed this hour
    await store.conversations.save(7002, Flow.REPLY, {"tip_id": old.tip_id})
    await store.conversations.save(5401, Flow.STATUS, {"step": "open", "tip_id": old.tip_id})
    await store.conversations.save(5402, Flow.RECEIPT, {"tip_id": old.tip_id, "followup": "anon"})
    await store.conversations.save(5403, Flow.STATUS,
                                   {"step": "open", "tip_id": kept_open.tip_id})
    await store.outbox.enqueue_for_resident(old.tip_id, "resident_status", notice="resolved")
    secrets = await _blobs(store, old.tip_id)
    assert len(secrets) == 6

    counts = await purge_expired(store.db, store.keyring, 365)

    # The officer's reply in progress and two residents' conversations point to the old tip.
    assert (counts.tips, counts.messages, counts.handovers, counts.cards,
            counts.drafts) == (1, 1, 1, 1, 3)
    assert counts.outbox == 3  # the card, the addition, the resident's notification
    assert counts.audit_entries == 2  # the view and the status change
    assert await store.tips.by_id(old.tip_id) is None
    assert await store.tips.by_receipt_code(normalise_receipt_code(old_code) or "") is None
    assert (await store.tips.by_receipt_code(normalise_receipt_code(open_code) or "")) is not None
    assert await store.tips.by_id(recent.tip_id) is not None
    for table in ("tip_messages", "outbox", "tip_assignees", "cards"):
        row = await store.db.fetchone(f"SELECT count(*) AS n FROM {table} WHERE tip_id = ?",
                                      (old.tip_id,))
        assert row is not None and row["n"] == 0, table
    assert await store.conversations.load(7002) is None
    assert await store.conversations.load(5401) is None
    assert await store.conversations.load(5402) is None
    assert await store.conversations.load(5403) is not None
    # Nothing of it can be sent any more.
    assert all(r.tip_id != old.tip_id for r in await store.outbox.claim_due(limit=100))
    # Its bytes are in no database file, WAL included, while the store is still open (SQLite:
    # secure_delete; PostgreSQL's VACUUM promises no zeroed bytes, docs/SECURITY.md).
    if dialect == "sqlite":
        data = _files(tmp_path / "tipline.db")
        assert len(data) > 10_000
        for blob in secrets:
            assert blob not in data
        assert old.ref.encode() not in data
    report = await store.audit.verify()
    assert report.first_broken is None
    entries = await store.audit.for_tip(old.tip_id)
    assert entries == []


@pytest.mark.sqlite_only  # the bytes of the file
async def test_a_dry_run_counts_and_changes_no_byte(tmp_path: Path):
    path = tmp_path / "tipline.db"
    store = await open_store(path, MASTER)
    await _officers(store)
    await _tip(store, "old", status="resolved", closed=OLD)
    await store.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    store = await open_store(path, MASTER)
    counts = await purge_expired(store.db, store.keyring, 365, dry_run=True)
    await store.close()
    assert counts.tips == 1 and counts.messages == 1
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not Path(str(path) + "-wal").exists() or Path(str(path) + "-wal").stat().st_size == 0


async def test_eligibility_is_the_closing_hour_plus_one_past_the_retention(store: Store):
    await _officers(store)
    now = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    # Retention of half a day: closed in the hour 23:00 two days ago goes; 23:00 yesterday
    # (closed at most 13.5 h ago, maybe only 12.5 h) is past it too; 00:00 today is not.
    gone, _ = await _tip(store, "a", status="resolved", closed="2026-03-08T23:00:00+00:00")
    edge, _ = await _tip(store, "b", status="transferred", closed="2026-03-09T23:00:00+00:00")
    young, _ = await _tip(store, "c", status="resolved", closed="2026-03-10T00:00:00+00:00")
    reopened, _ = await _tip(store, "d", status="resolved", closed=OLD)
    await store.desk.set_status(reopened.tip_id, "verifying")  # reopening clears closed_at
    assert cutoff(0.5, now) == "2026-03-09T23:30:00+00:00"
    assert await expired_tip_ids(store.db, 0.5, now) == [gone.tip_id, edge.tip_id]
    assert young.tip_id not in await expired_tip_ids(store.db, 0.5, now)


async def test_the_audit_chain_holds_across_purges_in_any_order_and_catches_a_forged_tombstone(
    store: Store, tmp_path: Path
):
    await _officers(store)
    first, _ = await _tip(store, "first", status="resolved")
    await _tip(store, "second", status="resolved", closed=OLD)
    await store.audit.record(7002, "staff", None, target=7003, change="areas")
    assert (await purge_expired(store.db, store.keyring, 365)).tips == 1
    # The first tip's entries come before the first purge entry; it goes in a second purge.
    await store.db.execute("UPDATE tips SET closed_at = ? WHERE tip_id = ?", (OLD, first.tip_id))
    assert (await purge_expired(store.db, store.keyring, 365)).tips == 1
    report = await store.audit.verify()
    assert report.first_broken is None
    purges = await store.db.fetchall("SELECT audit_id, detail FROM audit_log"
                                     " WHERE action = 'purge'")
    assert len(purges) == 2 and '"tips": 1' in purges[0]["detail"]
    tombstones = await store.db.fetchall("SELECT * FROM audit_log WHERE action = ?",
                                         (TOMBSTONE,))
    assert tombstones and all(r["at"] == "" and r["actor_id"] == 0 and r["tip_id"] is None
                              for r in tombstones)

    # Someone with the file alone erases another entry as if purged: the chain says so.
    staff_entry = await store.db.fetchone(
        "SELECT audit_id FROM audit_log WHERE action = 'staff'")
    assert staff_entry is not None
    await store.db.execute("UPDATE audit_log SET at = '', actor_id = 0, action = ?, detail = ?"
                    " WHERE audit_id = ?", (TOMBSTONE, str(purges[1]["audit_id"]),
                                            staff_entry["audit_id"]))
    assert (await store.audit.verify()).first_broken == purges[1]["audit_id"]
    await store.db.execute("UPDATE audit_log SET detail = '999' WHERE audit_id = ?",
                    (staff_entry["audit_id"],))
    assert (await store.audit.verify()).first_broken == staff_entry["audit_id"]


async def test_removing_a_tombstone_breaks_the_chain(store: Store, tmp_path: Path):
    await _officers(store)
    await _tip(store, "x", status="resolved", closed=OLD)
    await _tip(store, "y")
    await purge_expired(store.db, store.keyring, 365)
    row = await store.db.fetchone("SELECT min(audit_id) AS n FROM audit_log WHERE action = ?",
                                  (TOMBSTONE,))
    assert row is not None and row["n"]
    await store.db.execute("DELETE FROM audit_log WHERE audit_id = ?", (row["n"],))
    assert (await store.audit.verify()).first_broken is not None


async def test_a_large_purge_goes_in_batches(store: Store):
    await _officers(store)
    for number in range(450):
        async with store.db.transaction():
            tip, _ = await store.tips.insert(
                NewTip("theft", "hong-van", False, {"text": f"t{number}"}), Delivery(1, (7002,)))
        await store.db.execute(
            "UPDATE tips SET status = 'resolved', closed_at = ? WHERE tip_id = ?",
            ((datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=number)).isoformat(),
             tip.tip_id))
    counts = await purge_expired(store.db, store.keyring, 30)
    assert counts.tips == 450 and counts.outbox == 450
    row = await store.db.fetchone("SELECT count(*) AS n FROM audit_log WHERE action = 'purge'")
    assert row is not None and row["n"] == 3  # batches of 200
    assert (await store.audit.verify()).first_broken is None
