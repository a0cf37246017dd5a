"""Every statement an officer or the worker runs on tips, the outbox and the histogram of hours
stays on an index (issue 16): `EXPLAIN QUERY PLAN` of each shows no full `SCAN` of them.

The statements are not listed by hand: the storage functions behind /tips, /tip, the receipt
lookup, the card's buttons, /stats, /export and the worker's rounds (deliveries, reminders,
escalations) are run on a small database with a trace on both connections, and each statement
traced is explained afterwards, with its values in place. A scan of a partial index (its rows are
only the work waiting) is allowed; a scan of the whole table, or of a full index of it, is not.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import storage.purge as purge_module
import storage.rotation as rotation
from reports.stats import collect, typed_period
from storage.purge import PurgeCounts, purge_expired
from storage.stats import StatsScope
from storage.store import Store, open_store
from storage.tips import OPEN_STATUSES, Delivery, NewTip, Scope

MASTER = bytes(range(32))
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICER, OTHER, ADMIN = 11, 12, 90
#: Partial indexes: scanning one reads only the rows waiting for work.
PARTIAL = {"tips_awaiting_ack", "tips_undelivered", "outbox_pending"}
#: The tables no statement may scan whole (tip_hours: the histogram of /stats, migration 0016;
#: tip_days: its day counts, migration 0018).
WATCHED = ("tips", "outbox", "tip_hours", "tip_days")
_WATCHED = "|".join(WATCHED)
_NOT_ALIASES = {
    "where", "join", "on", "set", "indexed", "left", "inner", "cross", "order", "group",
    "limit", "values", "using", "as", "natural", "union", "select", "default",
}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "tipline.db", MASTER)
    try:
        yield opened
    finally:
        await opened.close()


async def _traced(store: Store) -> list[str]:
    """Start tracing both connections; the list the statements are appended to."""
    seen: list[str] = []
    connections = [store.db._conn]
    if store.db._reader is not None:
        connections.append(store.db._reader)
    for connection in connections:
        await connection.set_trace_callback(seen.append)
    return seen


async def _an_officer_and_the_worker(store: Store) -> None:
    """What the officer's desk, /stats, /export and the worker do, through storage."""
    await store.staff.upsert_officer(OFFICER, areas=("hong-van",), all_areas=False,
                                     display_name="O", reachable=True)
    await store.staff.upsert_officer(OTHER, areas=("a-ngo",), all_areas=False,
                                     display_name="P", reachable=True)
    await store.staff.ensure_admin_row(ADMIN, "A")
    codes = []
    tip_ids = []
    for number in range(12):
        async with store.db.transaction():
            tip, code = await store.tips.insert(
                NewTip("drugs" if number % 2 else "theft",
                       ("hong-van", "a-ngo", None)[number % 3], number % 4 == 0,
                       {"text": f"tip {number}"}, notify_chat=5000 + number),
                Delivery(1, (OFFICER,)),
            )
        codes.append(code)
        tip_ids.append(tip.tip_id)
    first = tip_ids[0]
    await store.desk.assign(tip_ids[1], OFFICER, given_by=OTHER)

    # The worker: deliveries, reminders, escalations.
    claimed = await store.outbox.claim_due(limit=20, lease_seconds=30)
    for row in claimed[:3]:
        await store.outbox.extend_claim(row.outbox_id, 30)
        await store.outbox.mark_sent(row.outbox_id)
    if len(claimed) > 4:
        await store.outbox.retry_later(claimed[3].outbox_id, 5, "timed out")
        await store.outbox.give_up(claimed[4].outbox_id, "unreachable", "blocked")
    await store.outbox.next_due_in()
    await store.outbox.tier_outcome(first, 1)
    await store.outbox.card_recipients(first)
    await store.outbox.holders(first)
    await store.outbox.max_tier(first)
    await store.outbox.enqueue(first, Delivery(2, (OTHER,)), "reminder")
    await store.outbox.enqueue_for_resident(first, "resident_status", notice="acknowledged")
    await store.tips.mark_delivered(first)
    await store.tips.undelivered()
    now = datetime.now(UTC)
    later = (now + timedelta(hours=1)).isoformat(timespec="seconds")
    for tip_id in await store.desk.due_reminders(later, later):
        await store.desk.mark_reminded(tip_id)
    for tip_id in await store.desk.due_escalations(later, later):
        await store.desk.mark_escalated(tip_id)

    # The officer's desk: /tips, /tip, the card's buttons; the resident's receipt lookup.
    for scope in (Scope(OFFICER, False, ("hong-van",)), Scope(ADMIN, True, ())):
        for status in (None, *OPEN_STATUSES, "resolved"):
            await store.desk.list_for(scope, status=status, limit=10, offset=0)
        await store.desk.list_for(scope, status=None, limit=10, offset=10)
    stored = await store.tips.by_id(first)
    assert stored is not None
    found = await store.tips.by_ref(stored.ref.lower())
    assert found is not None
    tip = found
    await store.tips.by_receipt_code(codes[2])
    await store.tips.thread(first)
    await store.desk.is_assigned(first, OFFICER)
    await store.desk.set_status(first, "acknowledged")
    async with store.db.transaction():
        message_id = await store.desk.add_officer_message(first, OFFICER, {"text": "thanks"})
    await store.tips.thread_message(message_id)
    await store.desk.record_card(first, OFFICER, 77)
    await store.desk.cards(first)
    await store.desk.move_to_area(tip_ids[2], "hong-van")
    await store.desk.set_status(tip_ids[3], "transferred", transferred_to="Kiểm lâm")
    await store.desk.transferred_to(tip_ids[3])
    await store.audit.record(OFFICER, "status", first, status="acknowledged")
    await store.audit.for_tip(first)
    await store.tips.add_resident_message(tip, {"text": "more"}, (OFFICER,))
    await store.tips.resident_messages_since(first, now.isoformat(timespec="seconds"))

    # /stats (both ways of counting), the monthly review, /export.
    year = typed_period(date(now.year, 1, 1), date(now.year, 12, 31))
    for stats_scope in (StatsScope(everything=True),
                        StatsScope(everything=False, areas=("a-ngo",))):
        await collect(store, year, stats_scope, TZ)
        await store.stats.export_rows(year.window(TZ), stats_scope)


def _names_of_watched(sql: str) -> set[str]:
    """The watched tables and their aliases in one statement."""
    names = set(WATCHED)
    for _table, alias in re.findall(rf"\b({_WATCHED})\s+(?:AS\s+)?([A-Za-z_]\w*)", sql, re.I):
        if alias.lower() not in _NOT_ALIASES:
            names.add(alias)
    return names


def _full_scans(connection: sqlite3.Connection, sql: str) -> list[str]:
    names = _names_of_watched(sql)
    found = []
    for row in connection.execute("EXPLAIN QUERY PLAN " + sql):
        detail = row[3]
        match = re.match(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?", detail)
        if match and match.group(1) in names and match.group(2) not in PARTIAL:
            found.append(detail)
    return found


async def test_no_statement_of_an_officer_or_the_worker_scans_tips_or_the_outbox(
    store: Store,
) -> None:
    seen = await _traced(store)
    await _an_officer_and_the_worker(store)
    statements = sorted({
        s for s in seen
        if re.search(rf"\b({_WATCHED})\b", s, re.I) and s.lstrip().upper().startswith(
            ("SELECT", "WITH", "UPDATE", "DELETE", "INSERT")
        )
    })
    assert len(statements) > 40  # the trace did see the work
    connection = sqlite3.connect(store.db.path)
    try:
        scans = {sql: found for sql in statements if (found := _full_scans(connection, sql))}
    finally:
        connection.close()
    assert scans == {}


async def test_the_tally_follows_every_change_of_a_tip(store: Store) -> None:
    """The counts under /tips come from the tally the triggers keep: inserts, status changes,
    moves and deletions."""
    await _an_officer_and_the_worker(store)
    async with store.db.transaction():
        await store.db.execute("DELETE FROM tips WHERE tip_id = (SELECT max(tip_id) FROM tips)")
    tally = {
        (r["area"], r["category"], r["status"]): r["n"]
        for r in await store.db.fetchall("SELECT * FROM tip_tally WHERE n <> 0")
    }
    counted = {
        (r["area"], r["category"], r["status"]): r["n"]
        for r in await store.db.fetchall(
            "SELECT coalesce(area, '') AS area, category, status, count(*) AS n FROM tips"
            " GROUP BY 1, 2, 3"
        )
    }
    assert tally == counted


def _plan(store: Store, sql: str, params: tuple[object, ...]) -> list[str]:
    connection = sqlite3.connect(store.db.path)
    try:
        return [row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + sql, params)]
    finally:
        connection.close()


async def test_the_purge_seeks_the_cutoff_on_the_closing_index(store: Store) -> None:
    """The daily purge's choice of tips (run in its write transaction, batch after batch) is a
    range of tips_by_closing up to the cutoff, read in order and cut at the batch: SQLite's own
    choice was tips_by_status, every closed tip for every batch (0.8 s at 1M tips, with a
    cutoff a century back and nothing to delete)."""
    await _an_officer_and_the_worker(store)
    plan = _plan(store, purge_module._EXPIRED,
                 (purge_module.cutoff(36500), json.dumps(purge_module.CLOSED), 200))
    assert any(re.match(r"SEARCH tips USING (?:COVERING )?INDEX tips_by_closing \(closed_at", d)
               for d in plan), plan
    assert not any("TEMP B-TREE" in d for d in plan), plan  # the batch is cut, not sorted whole
    assert await purge_expired(store.db, store.keyring, 36500) == PurgeCounts()


async def test_the_check_at_start_reads_no_value_under_a_held_key(store: Store) -> None:
    """`unreadable_values`, run at every start, counts by key id on the indexes of migration
    0017 where a column grows with the line: a seek of the ranges between the held keys, not a
    read of every value (4-8 s at 1M tips before)."""
    await _an_officer_and_the_worker(store)
    assert set(rotation._COUNT_BETWEEN) == {(c.table, c.field) for c in rotation.SEALED}
    held = store.keyring.active_content_key_id.to_bytes(4, "big")
    for (table, field), sql in rotation._COUNT_BETWEEN.items():
        plan = _plan(store, sql, (held, b"\xff" * 5))
        if table in ("tips", "tip_messages", "outbox", "subscribers"):
            assert any(re.match(rf"SEARCH {table} USING (?:COVERING )?INDEX"
                                rf" {table}_{field}_key \(<expr>>\? AND <expr><\?\)", d)
                       for d in plan), (table, field, plan)
    assert await rotation.unreadable_values(store.db, store.keyring) == 0
