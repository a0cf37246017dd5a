"""`Database.lookup`: the reads every update makes, run in the event loop's thread (issue 16).

Such a read blocks the loop while it runs, so only index searches of a few rows may be
lookups: every statement passed to `lookup`/`lookup_one` in storage/ is found in the source,
run through the storage function that issues it, and its plan must search an index (no SCAN).
A new lookup without a plan checked here fails `test_every_lookup_in_the_source_is_checked`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.conversations import Flow
from storage.store import Store, open_store

MASTER = bytes(range(32))
STORAGE = Path(__file__).resolve().parents[2] / "storage"
CALL = re.compile(r"\.lookup(?:_one)?\(\s*((?:\"[^\"]*\"\s*)+)")


def _normal(sql: str) -> str:
    return " ".join(sql.split())


def lookups_in_the_source() -> set[str]:
    found = set()
    for path in STORAGE.glob("*.py"):
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(_normal("".join(re.findall(r"\"([^\"]*)\"", match.group(1)))))
    return found


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "tipline.db", MASTER)
    try:
        yield opened
    finally:
        await opened.close()


async def run_every_lookup(store: Store) -> None:
    """The storage functions that read by lookup, once each."""
    await store.staff.upsert_officer(11, areas=("hong-van",), all_areas=False,
                                     display_name="Cán bộ")
    await store.staff.get(11)
    await store.preferences.language(5001)
    await store.conversations.save(5001, Flow.REPORT, {"step": "category"})
    await store.conversations.load(5001)
    await store.ratelimits.tips_today(5001)
    await store.ratelimits.recent_failures(5001, "status", 600)
    await store.desk.transferred_to(1)


async def traced_lookups(store: Store) -> tuple[sqlite3.Connection, list[str]]:
    """The lookup connection, and what it ran while every lookup was made once."""
    inline = store.db._inline
    assert inline is not None
    seen: list[str] = []
    inline.set_trace_callback(seen.append)
    await run_every_lookup(store)
    inline.set_trace_callback(None)
    return inline, seen


async def test_every_lookup_searches_an_index(sqlite_store: Store) -> None:
    inline, seen = await traced_lookups(sqlite_store)
    statements = {s for s in seen if not s.startswith("PRAGMA")}
    assert statements
    for statement in statements:
        plan = " / ".join(row[3] for row in inline.execute(f"EXPLAIN QUERY PLAN {statement}"))
        assert "SCAN" not in plan, f"{statement}: {plan}"


async def test_every_lookup_in_the_source_is_checked(sqlite_store: Store) -> None:
    _, seen = await traced_lookups(sqlite_store)
    traced = {re.sub(r"(x'[0-9a-f]*'|'[^']*'|\b\d+(\.\d+)?\b)", "?", _normal(s)) for s in seen}
    source = lookups_in_the_source()
    assert len(source) >= 5
    assert source <= traced, f"lookups no test runs: {source - traced}"


async def test_a_lookup_sees_what_was_committed_and_its_own_transaction(store: Store) -> None:
    await store.db.execute("CREATE TABLE scratch (k BIGINT PRIMARY KEY, v TEXT NOT NULL)")
    await store.db.execute_grouped("INSERT INTO scratch (k, v) VALUES (?, ?)", (1, "a"))
    row = await store.db.lookup_one("SELECT v FROM scratch WHERE k = ?", (1,))
    assert row is not None and row["v"] == "a"
    async with store.db.transaction():
        await store.db.execute("UPDATE scratch SET v = ? WHERE k = ?", ("b", 1))
        inside = await store.db.lookup_one("SELECT v FROM scratch WHERE k = ?", (1,))
        assert inside is not None and inside["v"] == "b"
    assert await store.db.lookup_one("SELECT v FROM scratch WHERE k = ?", (2,)) is None


class BusyConnection:
    """Stands for the lookup connection while another process holds what a reader needs."""

    def __init__(self, code: int) -> None:
        self.code = code

    def execute(self, *_: object) -> None:
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = self.code  # type: ignore[attr-defined]  # set by sqlite3 itself
        raise error

    def close(self) -> None:
        pass


async def test_busy_goes_to_the_main_connection(sqlite_store: Store) -> None:
    await sqlite_store.db.execute("CREATE TABLE scratch (k BIGINT PRIMARY KEY, v TEXT NOT NULL)")
    await sqlite_store.db.execute("INSERT INTO scratch (k, v) VALUES (1, 'kept')")
    real, sqlite_store.db._inline = sqlite_store.db._inline, BusyConnection(sqlite3.SQLITE_BUSY)  # type: ignore[assignment]  # a stand-in
    try:
        row = await sqlite_store.db.lookup_one("SELECT v FROM scratch WHERE k = ?", (1,))
        assert row is not None and row["v"] == "kept"
        sqlite_store.db._inline = BusyConnection(sqlite3.SQLITE_IOERR)  # type: ignore[assignment]  # a stand-in
        with pytest.raises(sqlite3.OperationalError):
            await sqlite_store.db.lookup_one("SELECT v FROM scratch WHERE k = ?", (1,))
    finally:
        sqlite_store.db._inline = real
