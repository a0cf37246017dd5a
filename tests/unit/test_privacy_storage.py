"""Storage side of "no clear column singles out a resident" (issue 10, points 2-4): clear times
are hours and exact ones are sealed with the tip; every ciphertext of a tip is bound to it; the
outbox keeps its retry and lease times encrypted; escalation decides from the sealed arrival;
and migration 0009 with its one-off re-encryption brings an existing database there."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rules.times import local_time
from storage.database import load_migrations, open_database
from storage.hours import hour_of
from storage.keyring import load_keyring
from storage.outbox_writer import Recipient, add_rows
from storage.receipt_codes import new_receipt_code
from storage.store import Store, open_store
from storage.tips import Delivery, NewTip

MASTER = bytes(range(32))
INTEGRITY = "integrity check failed"


async def _insert(store: Store, text: str = "x", *, urgent: bool = False,
                  recipients: tuple[int, ...] = ()):  # type: ignore[no-untyped-def]
    async with store.db.transaction():
        return await store.tips.insert(
            NewTip("drugs", "hong-van", urgent, {"text": text}, notify_chat=424242),
            Delivery(1, recipients),
        )


# --- the one format people read ------------------------------------------------------------


def test_local_time_is_the_districts_clock_written_one_way() -> None:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    assert local_time("2026-12-01T19:57:03+00:00", zone) == "02/12/2026 02:57"
    assert local_time("2026-12-01T19:57:03", zone) == "02/12/2026 02:57"  # naive is UTC
    assert local_time(datetime(2026, 12, 1, 19, 57, tzinfo=UTC), zone) == "02/12/2026 02:57"
    assert local_time(1_764_619_020.0, zone) == local_time("2025-12-01T19:57:00+00:00", zone)
    assert local_time(None, zone) == "—"


def test_hour_of_rounds_down_to_the_utc_hour() -> None:
    assert hour_of("2026-12-01T19:57:03+00:00") == "2026-12-01T19:00:00+00:00"
    assert hour_of("2026-12-02T02:57:03+07:00") == "2026-12-01T19:00:00+00:00"
    assert hour_of(1_764_619_020.5) == "2025-12-01T19:00:00+00:00"


# --- times -----------------------------------------------------------------------------------


async def test_clear_times_are_hours_and_the_exact_ones_come_back_from_the_ciphertexts(store):
    tip, _code = await _insert(store)
    async with store.db.transaction():
        await store.desk.add_officer_message(tip.tip_id, 7002, {"text": "ok"})
        await store.desk.set_status(tip.tip_id, "resolved")
    await store.tips.add_resident_message(tip, {"text": "more"}, (7002,))
    row = await store.db.fetchone("SELECT * FROM tips WHERE tip_id = ?", (tip.tip_id,))
    for column in ("created_at", "updated_at", "acknowledged_at", "closed_at"):
        assert row[column].endswith(":00:00+00:00"), column
    for message in await store.db.fetchall("SELECT created_at FROM tip_messages"):
        assert message["created_at"].endswith(":00:00+00:00")
    for outbox in await store.db.fetchall("SELECT created_at FROM outbox"):
        assert outbox["created_at"].endswith(":00:00+00:00")

    again = await store.tips.by_id(tip.tip_id)
    assert again is not None and again.created_at == tip.created_at
    assert not again.created_at.endswith(":00:00+00:00") or again.created_at[14:16] == "00"
    assert again.updated_at >= again.created_at
    thread = await store.tips.thread(tip.tip_id)
    assert [m.body for m in thread] == [{"text": "ok"}, {"text": "more"}]
    assert all(abs(datetime.fromisoformat(m.created_at).timestamp() - time.time()) < 60
               for m in thread)
    # Reopened, the closing hour goes; closed again, it comes back.
    async with store.db.transaction():
        await store.desk.set_status(tip.tip_id, "acknowledged")
    row = await store.db.fetchone("SELECT closed_at FROM tips WHERE tip_id = ?", (tip.tip_id,))
    assert row["closed_at"] is None


async def test_the_flood_limit_counts_additions_by_their_exact_time(store):
    tip, _code = await _insert(store)
    for _ in range(3):
        await store.tips.add_resident_message(tip, {"text": "a"}, ())
    now = datetime.now(UTC)
    since = (now - timedelta(minutes=1)).isoformat(timespec="seconds")
    assert await store.tips.resident_messages_since(tip.tip_id, since) == 3
    later = (now + timedelta(seconds=5)).isoformat(timespec="seconds")
    assert await store.tips.resident_messages_since(tip.tip_id, later) == 0


async def test_reminders_are_due_from_the_sealed_arrival_not_the_clear_hour(store):
    tip, _code = await _insert(store, urgent=True)
    await store.tips.mark_delivered(tip.tip_id)
    arrival = datetime.fromisoformat(tip.created_at)

    def around(seconds: float) -> str:
        return (arrival + timedelta(seconds=seconds)).isoformat(timespec="seconds")

    # The hour is before both thresholds; only the exact arrival decides.
    assert await store.desk.due_reminders(around(-3600), around(-1)) == []
    assert await store.desk.due_reminders(around(-3600), around(1)) == [tip.tip_id]
    assert await store.desk.mark_reminded(tip.tip_id)
    assert not await store.desk.mark_reminded(tip.tip_id)
    assert await store.desk.due_escalations(around(-3600), around(-1)) == []
    assert await store.desk.due_escalations(around(-3600), around(1)) == [tip.tip_id]
    assert await store.desk.mark_escalated(tip.tip_id)
    row = await store.db.fetchone(
        "SELECT created_at, reminded_at, escalated_at FROM tips WHERE tip_id = ?", (tip.tip_id,)
    )
    # The steps carry the tip's own hour: theirs would narrow the arrival down.
    assert row["reminded_at"] == row["escalated_at"] == row["created_at"]


# --- the outbox's timing -------------------------------------------------------------------


async def test_outbox_leases_and_retries_work_with_their_times_encrypted(store):
    await _insert(store, recipients=(7002, 7003))
    rows = await store.outbox.claim_due(lease_seconds=0.3)
    assert [r.recipient_id for r in rows] == [7002, 7003] and rows[0].attempts == 1
    assert await store.outbox.claim_due() == []  # held by this worker
    await store.outbox.retry_later(rows[0].outbox_id, 0.5, "NetworkError")
    await store.outbox.mark_sent(rows[1].outbox_id)
    for timing in await store.db.fetchall("SELECT timing FROM outbox"):
        assert timing["timing"] is None or b"due" not in timing["timing"]
    due = await store.outbox.next_due_in()
    assert due is not None and 0.2 < due <= 0.5
    assert await store.outbox.claim_due() == []
    await asyncio.sleep(0.55)
    again = await store.outbox.claim_due(lease_seconds=0.3)
    assert [r.outbox_id for r in again] == [rows[0].outbox_id] and again[0].attempts == 2
    # A lease that ran out (a worker that died) makes the row due again.
    await asyncio.sleep(0.35)
    assert [r.outbox_id for r in await store.outbox.claim_due()] == [rows[0].outbox_id]
    sent = await store.db.fetchone(
        "SELECT sent_at, created_at FROM outbox WHERE outbox_id = ?", (rows[1].outbox_id,)
    )
    assert sent["sent_at"] == sent["created_at"]


async def test_an_outbox_timing_moved_to_another_row_counts_as_due_now(store, caplog):
    await _insert(store, recipients=(7002, 7003))
    first, second = await store.outbox.claim_due(lease_seconds=600)
    await store.outbox.retry_later(first.outbox_id, 600, "later")
    await store.db.execute(
        "UPDATE outbox SET timing = (SELECT timing FROM outbox WHERE outbox_id = ?)"
        " WHERE outbox_id = ?", (first.outbox_id, second.outbox_id),
    )
    with caplog.at_level(logging.ERROR):
        assert [r.outbox_id for r in await store.outbox.claim_due()] == [second.outbox_id]
    assert INTEGRITY in caplog.text


# --- bindings ------------------------------------------------------------------------------


async def test_a_tips_values_moved_to_another_tip_do_not_open(store, caplog):
    one, code_one = await _insert(store, "one")
    two, _code_two = await _insert(store, "two")
    await store.db.execute(
        "UPDATE tips SET content = (SELECT content FROM tips WHERE tip_id = ?) WHERE tip_id = ?",
        (one.tip_id, two.tip_id),
    )
    with caplog.at_level(logging.ERROR):
        assert await store.tips.by_id(two.tip_id) is None
    assert INTEGRITY in caplog.text and "one" not in caplog.text.split(INTEGRITY)[1][:80]
    # The same row with its reference swapped in is no better: the id is bound too.
    await store.db.execute("UPDATE tips SET ref = 'T-XXXXXX' WHERE tip_id = ?", (one.tip_id,))
    await store.db.execute(
        "UPDATE tips SET ref = ? WHERE tip_id = ?", (one.ref, two.tip_id)
    )
    assert await store.tips.by_id(two.tip_id) is None
    # A receipt code opens only the tip its hash was made for.
    await store.db.execute("UPDATE tips SET ref = ? WHERE tip_id = ?", (two.ref, two.tip_id))
    await store.db.execute("UPDATE tips SET ref = ? WHERE tip_id = ?", (one.ref, one.tip_id))
    assert await store.tips.by_receipt_code(code_one) is not None
    new_code = await store.tips.replace_receipt_code(one.tip_id)
    assert await store.tips.by_receipt_code(code_one) is None
    found = await store.tips.by_receipt_code(new_code)
    assert found is not None and found.tip_id == one.tip_id


async def test_the_agency_of_a_transfer_is_sealed_with_its_tip(store, caplog):
    """Finding 4 of the review: an officer's free text, once in a clear column."""
    one, _ = await _insert(store, "one")
    two, _ = await _insert(store, "two")
    await store.desk.set_status(one.tip_id, "transferred", transferred_to="Kiểm lâm Hồng Vân")
    row = await store.db.fetchone(
        "SELECT transferred_to, transferred_sealed FROM tips WHERE tip_id = ?", (one.tip_id,))
    assert row["transferred_to"] is None
    assert "Kiểm lâm".encode() not in bytes(row["transferred_sealed"])
    assert await store.desk.transferred_to(one.tip_id) == "Kiểm lâm Hồng Vân"
    assert await store.desk.transferred_to(two.tip_id) is None
    await store.desk.set_status(one.tip_id, "acknowledged")  # reopened: the agency is kept
    assert await store.desk.transferred_to(one.tip_id) == "Kiểm lâm Hồng Vân"
    await store.db.execute(
        "UPDATE tips SET transferred_sealed = (SELECT transferred_sealed FROM tips"
        " WHERE tip_id = ?) WHERE tip_id = ?", (one.tip_id, two.tip_id),
    )
    with caplog.at_level(logging.ERROR):
        assert await store.desk.transferred_to(two.tip_id) is None
    assert INTEGRITY in caplog.text and "Kiểm lâm" not in caplog.text


async def test_migration_0021_seals_the_agencies_stored_in_clear_once(
    store, db_target, dialect, tmp_path, caplog
):
    one, _ = await _insert(store, "one")
    two, _ = await _insert(store, "two")
    await store.desk.set_status(two.tip_id, "transferred", transferred_to="Kiểm lâm")
    # A line from before 0021: the agency in the clear column, the step not run yet.
    await store.db.execute(
        "UPDATE tips SET status = 'transferred', transferred_to = 'Công an xã A Ngo'"
        " WHERE tip_id = ?", (one.tip_id,))
    await store.db.execute("DELETE FROM upgrades WHERE name = '0021_seal_transfers'")
    with caplog.at_level(logging.WARNING):
        upgraded = await open_store(db_target, MASTER)
    try:
        assert "upgrade 0021_seal_transfers: the agencies of 1 transferred tips sealed" in (
            caplog.text)
        assert await upgraded.desk.transferred_to(one.tip_id) == "Công an xã A Ngo"
        assert await upgraded.desk.transferred_to(two.tip_id) == "Kiểm lâm"
        assert await upgraded.db.fetchall(
            "SELECT tip_id FROM tips WHERE transferred_to IS NOT NULL") == []
        sealed = await upgraded.db.fetchall(
            "SELECT transferred_sealed FROM tips ORDER BY tip_id")
    finally:
        await upgraded.close()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="storage.reseal"):
        again = await open_store(db_target, MASTER)  # once only: nothing more to do
    try:
        assert "upgrade" not in caplog.text
        assert await again.db.fetchall(
            "SELECT transferred_sealed FROM tips ORDER BY tip_id") == sealed
        assert len(await again.db.fetchall(
            "SELECT 1 FROM upgrades WHERE name = '0021_seal_transfers'")) == 1
    finally:
        await again.close()
    if dialect == "sqlite":  # checkpointed: the clear text is in no file
        data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert b"A Ngo" not in data and "Kiểm lâm".encode() not in data


async def test_forget_skips_a_notification_chat_that_does_not_open(store, caplog):
    one, _ = await _insert(store)
    two, _ = await _insert(store)
    await store.db.execute(
        "UPDATE tips SET notify_chat = (SELECT notify_chat FROM tips WHERE tip_id = ?)"
        " WHERE tip_id = ?", (one.tip_id, two.tip_id),
    )
    with caplog.at_level(logging.ERROR):
        assert await store.tips.forget_notify_chat(424242) == 1
    assert INTEGRITY in caplog.text



async def test_forget_clears_a_link_sealed_again_while_it_scanned(store, monkeypatch):
    """A content-key rotation beside the bot seals each notification chat again (a new nonce,
    other bytes) while /forget scans: the link is still cleared (it stayed, and /forget said it
    was gone, when the clearing matched the bytes read)."""
    from storage.tips import tip_binding

    tips = []
    for _ in range(3):
        async with store.db.transaction():
            tip, _ = await store.tips.insert(
                NewTip("drugs", "hong-van", False, {"text": "x"}, notify_chat=616161),
                Delivery(1, ()),
            )
        tips.append(tip)
    read_all = store.db.read_all

    async def read_then_reseal(sql, params=()):  # type: ignore[no-untyped-def]
        rows = await read_all(sql, params)
        for tip in tips:  # what rotation's pass does to this column, between read and clear
            sealed = store.keyring.encrypt("616161", "tips", tip_binding(tip.tip_id, tip.ref),
                                           "notify_chat")
            await store.db.execute("UPDATE tips SET notify_chat = ? WHERE tip_id = ?",
                                   (sealed, tip.tip_id))
        return rows

    monkeypatch.setattr(store.db, "read_all", read_then_reseal)
    assert await store.tips.forget_notify_chat(616161) == 3
    monkeypatch.undo()
    for tip in tips:
        assert (await store.tips.by_id(tip.tip_id)).notify_chat is None  # type: ignore[union-attr]


async def test_forget_yields_to_other_tasks_while_it_opens_the_chats(store, monkeypatch):
    """/forget opens every tip's notification chat; between pages the event loop runs the
    others (receipts, cards, deliveries), where it used to open them all in one go."""
    import storage.tips as tips_module
    from storage.keyring import Keyring

    monkeypatch.setattr(tips_module, "FORGET_PAGE", 7)
    mine = []
    for index in range(45):
        chat = 424242 if index % 3 else 515151
        async with store.db.transaction():
            tip, _ = await store.tips.insert(
                NewTip("drugs", "hong-van", False, {"text": "x"}, notify_chat=chat),
                Delivery(1, ()),
            )
        if chat == 515151:
            mine.append(tip.tip_id)
    ticks = 0
    seen: list[int] = []
    opened = Keyring.decrypt_text

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(ticks)
        return opened(self, *args, **kwargs)

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    monkeypatch.setattr(Keyring, "decrypt_text", counting)
    running = asyncio.ensure_future(ticker())
    try:
        assert await store.tips.forget_notify_chat(515151) == len(mine) == 15
    finally:
        running.cancel()
    monkeypatch.undo()
    assert len(seen) == 45
    # The other task ran between the pages: the chats were not all opened in one stretch.
    assert len(set(seen)) >= 45 // 7
    for tip_id in mine:
        assert (await store.tips.by_id(tip_id)).notify_chat is None  # type: ignore[union-attr]
    assert await store.tips.forget_notify_chat(424242) == 30
    assert await store.tips.forget_notify_chat(515151) == 0


# --- migration 0009 and the one-off re-encryption ------------------------------------------


OLD_CREATED = "2026-03-04T05:06:07+00:00"
OLD_UPDATED = "2026-03-04T08:09:10+00:00"
OLD_MESSAGE = "2026-03-04T06:17:29+00:00"


async def _old_database(path: Path) -> tuple[str, str]:
    """A database as the code before migration 0009 left it; returns the two receipt codes."""
    db = await open_database(path, migrations=[m for m in load_migrations() if m.version < 9])
    keyring = await load_keyring(db, MASTER)
    codes = (new_receipt_code(), new_receipt_code())
    for tip_id, ref, code, campaign, status in (
        (1, "T-AAAAAA", codes[0], "tet2026", "resolved"),
        (2, "T-BBBBBB", codes[1], None, "new"),
    ):
        content = keyring.encrypt(json.dumps({"text": f"nội dung {tip_id}"}), "tips", ref,
                                  "content")
        notify = keyring.encrypt("555", "tips", ref, "notify_chat")
        await db.execute(
            "INSERT INTO tips (tip_id, ref, receipt_hash, category, area, urgent, status,"
            " campaign, content, notify_chat, delivered, created_at, updated_at,"
            " acknowledged_at, reminded_at, escalated_at)"
            " VALUES (?, ?, ?, 'drugs', 'hong-van', 1, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            (tip_id, ref, keyring.receipt_hash(code), status, campaign, content, notify,
             OLD_CREATED, OLD_UPDATED, OLD_UPDATED, "2026-03-04T05:21:07+00:00",
             "2026-03-04T05:36:07+00:00"),
        )
    body = keyring.encrypt(json.dumps({"text": "trả lời"}), "tip_messages", "u1", "body")
    await db.execute(
        "INSERT INTO tip_messages (message_id, uid, tip_id, author, staff_id, body, created_at)"
        " VALUES (1, 'u1', 2, 'officer', 7002, ?, ?)", (body, OLD_MESSAGE),
    )
    await db.execute(
        "INSERT INTO outbox (tip_id, recipient_id, kind, state, attempts, next_attempt_at,"
        " claimed_until, created_at, sent_at) VALUES"
        " (2, 7002, 'card', 'pending', 2, 1772600000.5, 1772600030.5, ?, NULL),"
        " (2, 0, 'resident_reply', 'sent', 1, 0, NULL, ?, ?)",
        (OLD_CREATED, OLD_MESSAGE, OLD_MESSAGE),
    )
    await db.execute(
        "INSERT INTO subscribers (subject, chat_id, language, created_at)"
        " VALUES (x'01', x'02', 'vi', ?)", (OLD_MESSAGE,),
    )
    await db.execute(
        "INSERT INTO campaign_starts (campaign, category, starts) VALUES ('tet2026', 'drugs', 3)"
    )
    await db.close()
    return codes


async def test_migration_0009_rounds_the_clear_times_and_reseals_the_rows(tmp_path, caplog):
    path = tmp_path / "old.db"
    codes = await _old_database(path)
    with caplog.at_level(logging.WARNING):
        store = await open_store(path, MASTER)
    try:
        assert "upgrade 0009_reseal: 2 tips and 1 thread messages" in caplog.text
        db = store.db
        tip = await db.fetchone("SELECT * FROM tips WHERE tip_id = 1")
        assert tip["created_at"] == "2026-03-04T05:00:00+00:00"
        assert tip["updated_at"] == tip["acknowledged_at"] == "2026-03-04T08:00:00+00:00"
        assert tip["reminded_at"] == tip["escalated_at"] == tip["created_at"]
        assert tip["closed_at"] == "2026-03-04T08:00:00+00:00"
        other = await db.fetchone("SELECT closed_at FROM tips WHERE tip_id = 2")
        assert other["closed_at"] is None
        columns = [r["name"] for r in await db.fetchall("PRAGMA table_info(tips)")]
        assert "campaign" not in columns
        counts = {c.category: (c.starts, c.tips) for c in await store.campaigns.counts("tet2026")}
        assert counts == {"drugs": (3, 1)}

        # The codes still open their tips, with the exact times, content and chat kept.
        for number, code in enumerate(codes, 1):
            found = await store.tips.by_receipt_code(code)
            assert found is not None and found.tip_id == number
            assert found.content == {"text": f"nội dung {number}"}
            assert found.notify_chat == 555
            assert (found.created_at, found.updated_at) == (OLD_CREATED, OLD_UPDATED)
        (reply,) = await store.tips.thread(2)
        assert reply.body == {"text": "trả lời"} and reply.created_at == OLD_MESSAGE
        message = await db.fetchone("SELECT created_at FROM tip_messages")
        assert message["created_at"] == "2026-03-04T06:00:00+00:00"
        outbox = await db.fetchall("SELECT * FROM outbox ORDER BY outbox_id")
        assert outbox[0]["created_at"] == "2026-03-04T05:00:00+00:00"  # the tip's hour
        assert outbox[1]["sent_at"] == outbox[1]["created_at"] == "2026-03-04T06:00:00+00:00"
        assert [r.outbox_id for r in await store.outbox.claim_due()] == [outbox[0]["outbox_id"]]
        subscriber = await db.fetchone("SELECT created_at FROM subscribers")
        assert subscriber["created_at"] == "2026-03-04T06:00:00+00:00"

        assert await db.fetchall(
            "SELECT name FROM sqlite_master WHERE name LIKE 'reseal_0009%'"
        ) == []
        done = await db.fetchall("SELECT name, done_at FROM upgrades")
        assert sorted(r["name"] for r in done) == ["0009_reseal", "0021_seal_transfers"]
        sealed = [bytes(r["content"]) for r in await db.fetchall("SELECT content FROM tips")]
        _no_exact_minutes_in(tmp_path)  # checkpointed at once, not only at close
    finally:
        await store.close()

    # Once only: opening again changes nothing and says nothing.
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="storage.reseal"):
        store = await open_store(path, MASTER)
    try:
        assert "upgrade" not in caplog.text
        again = [bytes(r["content"]) for r in await store.db.fetchall("SELECT content FROM tips")]
        assert again == sealed
    finally:
        await store.close()

    _no_exact_minutes_in(tmp_path)


def _no_exact_minutes_in(folder: Path) -> None:
    """Nothing of the old rows' exact times is left in the files (the staging tables were
    dropped with secure_delete on, and the upgrade checkpointed the WAL)."""
    data = b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())
    for minute in ("T05:06", "T08:09", "T06:17", "T05:21", "T05:36"):
        assert minute.encode() not in data, minute


async def test_two_processes_starting_on_an_old_database_reseal_it_once(tmp_path):
    path = tmp_path / "old.db"
    codes = await _old_database(path)
    first, second = await asyncio.gather(open_store(path, MASTER), open_store(path, MASTER))
    try:
        assert len(await first.db.fetchall("SELECT * FROM upgrades")) == 2  # 0009, 0021
        for store in (first, second):
            found = await store.tips.by_receipt_code(codes[0])
            assert found is not None and found.created_at == OLD_CREATED
    finally:
        await first.close()
        await second.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM upgrades").fetchone() == (2,)


async def test_migration_0012_names_the_resident_as_a_recipient_not_as_id_0(tmp_path):
    path = tmp_path / "old.db"
    await _old_database(path)
    store = await open_store(path, MASTER)
    try:
        rows = await store.db.fetchall(
            "SELECT recipient, recipient_id, kind FROM outbox ORDER BY outbox_id"
        )
        assert [tuple(r) for r in rows] == [
            ("staff", 7002, "card"), ("resident", None, "resident_reply"),
        ]
        # The schema keeps it so: a staff row needs its id, a resident row has none.
        for recipient, recipient_id, kind in (("staff", None, "card"),
                                              ("resident", 0, "resident_reply"),
                                              ("staff", 7002, "resident_status")):
            with pytest.raises(sqlite3.IntegrityError):
                await store.db.execute(
                    "INSERT INTO outbox (tip_id, recipient, recipient_id, kind, created_at)"
                    " VALUES (2, ?, ?, ?, '2026-03-04T05:00:00+00:00')",
                    (recipient, recipient_id, kind),
                )
        with pytest.raises(ValueError):
            await add_rows(store.db, 2, "resident_reply", "2026-03-04T05:00:00+00:00",
                           staff=(7002,))
        claimed = await store.outbox.claim_due()
        assert [(r.recipient, r.recipient_id) for r in claimed] == [(Recipient.STAFF, 7002)]
    finally:
        await store.close()
