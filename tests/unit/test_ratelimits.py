"""Rate limits (storage/ratelimits.py, migration 0020), on both databases: the daily tip limit
and the limit on wrong receipt codes count as before (never over a shorter window), the sweep
deletes what no longer counts, and the rows tie no tip to its author: one row per person and
limit, no row per tip, no clear time, no hash shared with another table."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from storage import ratelimits
from storage.database import load_migrations, open_database
from storage.keyring import KeyPurpose, load_keyring
from storage.ratelimits import FAILURES, TIPS, Ring
from storage.reseal import run_upgrades
from storage.rotation import PSEUDONYMS
from storage.store import Store, open_store
from storage.tips import Delivery, NewTip
from testing.postgres import columns_of, table_names

MASTER = bytes(range(32))
START = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC: not a whole hour or minute
HOUR = 3600.0


class Clock:
    """Stands for the `time` module inside storage/ratelimits.py."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(START)
    monkeypatch.setattr(ratelimits, "time", fake)
    return fake


async def _tip(store: Store, user_id: int, text: str = "x") -> None:
    """A fully anonymous tip, stored and counted in one transaction as the report does."""
    async with store.db.transaction():
        await store.tips.insert(NewTip("drugs", "hong-van", False, {"text": text}),
                                Delivery(1, ()))
        await store.ratelimits.note_tip(user_id)


# --- the daily tip limit ------------------------------------------------------------------


async def test_tips_are_counted_per_person_for_24_to_25_hours(store: Store, clock: Clock):
    for _ in range(3):
        await _tip(store, 1)
    await _tip(store, 2)
    assert await store.ratelimits.tips_today(1) == 3
    assert await store.ratelimits.tips_today(2) == 1
    assert await store.ratelimits.tips_today(3) == 0
    sent = clock.now
    clock.now = sent + 24 * HOUR  # exactly a day later: still counted (never a shorter window)
    assert await store.ratelimits.tips_today(1) == 3
    end_of_hour = (sent // HOUR + 1) * HOUR
    clock.now = end_of_hour + 24 * HOUR - 0.001
    assert await store.ratelimits.tips_today(1) == 3
    clock.now = end_of_hour + 24 * HOUR
    assert await store.ratelimits.tips_today(1) == 0


async def test_the_hours_move_along_and_old_ones_fall_off(store: Store, clock: Clock):
    for offset in (0, 3, 3, 10, 23):
        clock.now = START + offset * HOUR
        await store.ratelimits.note_tip(7)  # outside a transaction: it opens its own
    assert await store.ratelimits.tips_today(7) == 5
    clock.now = START + 25 * HOUR  # the first one's hour has gone by a day
    assert await store.ratelimits.tips_today(7) == 4
    clock.now = START + 28 * HOUR
    assert await store.ratelimits.tips_today(7) == 2
    await store.ratelimits.note_tip(7)
    assert await store.ratelimits.tips_today(7) == 3
    clock.now = START + 60 * HOUR
    assert await store.ratelimits.tips_today(7) == 0


async def test_a_tip_rolled_back_is_not_counted(store: Store, clock: Clock):
    with pytest.raises(RuntimeError):
        async with store.db.transaction():
            await store.ratelimits.note_tip(1)
            raise RuntimeError("the tip was not stored")
    assert await store.ratelimits.tips_today(1) == 0


# --- wrong receipt codes ------------------------------------------------------------------


@pytest.mark.parametrize("second", [0.0, 0.4, 29.5, 59.999])
async def test_a_wrong_code_counts_for_10_to_11_minutes_wherever_it_fell_in_its_minute(
    store: Store, clock: Clock, second: float
):
    at = (START // 60) * 60 + second
    clock.now = at
    await store.ratelimits.record_failure(1, "receipt", 600)
    for later in (0.0, 300.0, 599.999, 600.0):  # the whole window and its edge
        clock.now = at + later
        assert await store.ratelimits.recent_failures(1, "receipt", 600) == 1, later
    clock.now = (at // 60 + 11) * 60 - 0.001  # the end of its minute, and 10 minutes
    assert await store.ratelimits.recent_failures(1, "receipt", 600) == 1
    clock.now = (at // 60 + 11) * 60
    assert await store.ratelimits.recent_failures(1, "receipt", 600) == 0


async def test_the_guess_limit_holds_over_a_sliding_window(store: Store, clock: Clock):
    """Five wrong codes a minute apart: all five count until 10 minutes after the last one's
    minute began at least; none of them is forgotten early."""
    for minute in range(5):
        clock.now = START + minute * 60
        await store.ratelimits.record_failure(1, "receipt", 600)
    assert await store.ratelimits.recent_failures(1, "receipt", 600) == 5
    clock.now = START + 4 * 60 + 600  # 10 minutes after the fifth, 14 after the first
    assert await store.ratelimits.recent_failures(1, "receipt", 600) >= 1
    clock.now = START + 600  # 10 minutes after the first: all five
    assert await store.ratelimits.recent_failures(1, "receipt", 600) == 5
    assert await store.ratelimits.recent_failures(2, "receipt", 600) == 0  # per person
    assert await store.ratelimits.recent_failures(1, "status", 600) == 0  # per kind


async def test_a_window_longer_than_what_is_kept_is_refused(store: Store, clock: Clock):
    with pytest.raises(ValueError, match="kept"):
        await store.ratelimits.record_failure(1, "receipt", 3600)
    with pytest.raises(ValueError, match="window"):
        await store.ratelimits.recent_failures(1, "receipt", 3600)


# --- the sweep ----------------------------------------------------------------------------


async def test_the_sweep_deletes_what_no_longer_counts_and_keeps_the_rest(
    store: Store, clock: Clock
):
    await store.ratelimits.note_tip(1)
    await store.ratelimits.record_failure(1, "receipt", 600)
    clock.now = START + 5 * HOUR
    await store.ratelimits.note_tip(2)
    await store.ratelimits.record_failure(2, "receipt", 600)
    assert await store.ratelimits.expire() == 1  # person 1's wrong code, hours ago
    clock.now = START + 26 * HOUR
    assert await store.ratelimits.expire() == 2  # person 1's tip; person 2's wrong code
    assert await store.ratelimits.tips_today(2) == 1
    assert await _rows(store, "tip_limits") == 1
    clock.now = START + 31 * HOUR
    assert await store.ratelimits.expire() == 1
    assert await _rows(store, "tip_limits") == await _rows(store, "attempts") == 0
    assert await store.ratelimits.expire() == 0


async def test_a_row_that_does_not_open_is_empty_and_swept(
    store: Store, clock: Clock, caplog: pytest.LogCaptureFixture
):
    await store.ratelimits.note_tip(1)
    await store.ratelimits.note_tip(2)
    await store.ratelimits.note_tip(2)
    one, two = (store.keyring.pseudonym(KeyPurpose.TIP_LIMIT, u) for u in (1, 2))
    # Someone with write access copies person 1's value over person 2's: it is bound to 1.
    row = await store.db.fetchone("SELECT counts FROM tip_limits WHERE subject = ?", (one,))
    assert row is not None
    await store.db.execute("UPDATE tip_limits SET counts = ? WHERE subject = ?",
                           (row["counts"], two))
    with caplog.at_level(logging.ERROR):
        assert await store.ratelimits.tips_today(2) == 0
        assert await store.ratelimits.expire() == 1
    assert "integrity check failed" in caplog.text
    assert await store.ratelimits.tips_today(1) == 1


# --- what a stolen database shows ---------------------------------------------------------


async def test_the_rows_tie_no_tip_to_its_author_nor_two_tips_together(
    store: Store, clock: Clock
):
    """Two residents send five fully anonymous tips between them (A B A A B, hours apart) and
    type wrong codes. Every table that recognises a person has at most a row per person (none
    grows with the tips, so no n-th row is the n-th tip), the rate-limit rows are a pseudonym
    and one sealed value of a fixed length (no time, no count in clear), and no pseudonym of
    the tip count is anywhere else."""
    people = (5401, 5402)
    for hour, person in enumerate((5401, 5402, 5401, 5401, 5402)):
        clock.now = START + hour * HOUR
        await _tip(store, person, f"tip {hour}")
        await store.ratelimits.record_failure(person, "receipt", 600)
    await store.ratelimits.record_failure(5401, "receipt", 600)
    assert [await store.ratelimits.tips_today(p) for p in people] == [3, 2]

    for table, column in sorted(PSEUDONYMS):
        if table in await table_names(store.db):
            rows = await _rows(store, table)
            assert rows <= len(people), (table, column, rows)
    for table in ("tip_limits", "attempts"):
        assert await columns_of(store.db, table) == ["subject", "counts"]
        values = await store.db.fetchall(f"SELECT subject, counts FROM {table}")
        assert len(values) == len(people)
        assert len({len(bytes(r["counts"])) for r in values}) == 1  # 3 tips or 2: one size
    counters = {bytes(r["subject"]) for r in await store.db.fetchall(
        "SELECT subject FROM tip_limits")}
    assert counters == {store.keyring.pseudonym(KeyPurpose.TIP_LIMIT, p) for p in people}
    for table, column in sorted(PSEUDONYMS - {("tip_limits", "subject")}):
        if table in await table_names(store.db):
            held = {bytes(r[0]) for r in await store.db.fetchall(
                f"SELECT {column} FROM {table}")}
            assert not counters & held, table
    # The hash the flood count and the old rows used is in neither table.
    flood = {store.keyring.pseudonym(KeyPurpose.RATELIMIT, p) for p in people}
    guessers = {bytes(r["subject"]) for r in await store.db.fetchall(
        "SELECT subject FROM attempts")}
    assert not flood & (counters | guessers)
    if store.db.dialect == "sqlite":  # no row number to read the order of counts from
        for table in ("tip_limits", "attempts"):
            with pytest.raises(sqlite3.OperationalError, match="rowid"):
                await store.db.fetchall(f"SELECT rowid FROM {table}")


def test_a_value_is_as_long_whatever_it_counts():
    for ring in (TIPS, FAILURES):
        one = ring.added(None, START)
        many = one
        for step in range(200):
            many = ring.added(many, START + step * ring.unit / 3)
        assert len(one) == len(many) == ring.size
    assert Ring(3600, 25).longest == 24 * HOUR and Ring(60, 11).longest == 600


# --- the upgrade --------------------------------------------------------------------------


@pytest.mark.sqlite_only
async def test_the_upgrade_drops_the_old_rows_from_the_file_at_once(tmp_path: Path):
    path = tmp_path / "tipline.db"
    db = await open_database(path, migrations=[m for m in load_migrations() if m.version < 20])
    keyring = await load_keyring(db, MASTER)
    await run_upgrades(db, keyring)  # as the bot left it (its own checkpoint is behind us)
    old = [keyring.pseudonym(KeyPurpose.RATELIMIT, user) for user in (5401, 5402)]
    for subject in old:
        await db.execute("INSERT INTO attempts (subject, kind, at) VALUES (?, 'tip', ?)",
                         (subject, START // 3600 * 3600))
        await db.execute("INSERT INTO attempts (subject, kind, at) VALUES (?, 'receipt', ?)",
                         (subject, START))
    await db.close()
    store = await open_store(path, MASTER)
    try:
        assert await _rows(store, "attempts") == await _rows(store, "tip_limits") == 0
        assert await store.ratelimits.tips_today(5401) == 0  # counts start again
        files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert not any(subject in files for subject in old)  # not in the file, nor the WAL
    finally:
        await store.close()


async def _rows(store: Store, table: str) -> int:
    row = await store.db.fetchone(f"SELECT count(*) AS n FROM {table}")
    return int(row["n"]) if row else 0
