"""storage/postgres.py on its own: the statement translation (no server needed), and what the
PostgreSQL database promises beyond the shared storage suite: writers take turns, a task's
transaction is its own, errors are the shared integrity error."""

from __future__ import annotations

import asyncio

import pytest

from storage.database import IntegrityError, NestedTransactionError
from storage.postgres import PostgresDatabase, open_postgres, translate
from testing.postgres import Cluster


def test_placeholders_are_numbered_once_per_name_outside_literals_and_comments() -> None:
    assert translate("SELECT ? , '?' -- ?\n, ?") == ("SELECT $1 , '?' -- ?\n, $2", None)
    assert translate("SELECT :a, :b, :a, x::text, ':c'") == (
        "SELECT $1, $2, $1, x::text, ':c'", ("a", "b"))
    with pytest.raises(ValueError, match="mixes"):
        translate("SELECT ?, :a")


def test_sqlite_spellings_become_postgresql_ones() -> None:
    ids, _ = translate("DELETE FROM tips WHERE tip_id IN (SELECT value FROM json_each(?))")
    assert ids == ("DELETE FROM tips WHERE tip_id IN (SELECT value::bigint FROM"
                   " json_array_elements_text(CAST($1 AS json)) AS j(value))")
    text, _ = translate("SELECT 1 FROM tips WHERE status NOT IN (SELECT value FROM json_each(?))")
    assert "status NOT IN (SELECT value FROM json_array_elements_text" in text
    assert translate("INSERT OR IGNORE INTO cards (a) VALUES (?)")[0] == (
        "INSERT INTO cards (a) VALUES ($1) ON CONFLICT DO NOTHING")
    assert translate("SELECT a FROM tips INDEXED BY tips_awaiting_ack WHERE")[0] == (
        "SELECT a FROM tips WHERE")
    assert translate("SELECT hex(substr(body, 2, 4))")[0] == (
        "SELECT upper(encode(substring(body from 2 for 4), 'hex'))")
    assert translate("SELECT 1 WHERE a IS nullif(b, '') AND c IS NOT d AND e IS NULL")[0] == (
        "SELECT 1 WHERE a IS NOT DISTINCT FROM nullif(b, '') AND c IS DISTINCT FROM d"
        " AND e IS NULL")


@pytest.fixture
async def pg(pg_cluster: Cluster):  # type: ignore[no-untyped-def]
    url = await pg_cluster.new_database()
    db = await open_postgres(url)
    try:
        yield db
    finally:
        await db.close()
        await pg_cluster.drop_database(url)


async def test_writers_take_turns_so_read_then_write_never_loses_an_update(
    pg: PostgresDatabase,
) -> None:
    await pg.execute("INSERT INTO leases (name, holder, until) VALUES ('n', 'x', 0)")

    async def bump() -> None:
        async with pg.transaction():
            row = await pg.fetchone("SELECT until FROM leases WHERE name = 'n'")
            assert row is not None
            await asyncio.sleep(0.005)  # another writer would slip in here without the lock
            await pg.execute("UPDATE leases SET until = ? WHERE name = 'n'", (row["until"] + 1,))

    await asyncio.gather(*(bump() for _ in range(20)))
    row = await pg.fetchone("SELECT until FROM leases WHERE name = 'n'")
    assert row is not None and row["until"] == 20


async def test_a_transaction_is_its_tasks_and_nesting_is_refused(pg: PostgresDatabase) -> None:
    async with pg.transaction():
        assert pg.in_transaction
        await pg.execute("INSERT INTO upgrades (name, done_at) VALUES ('t', 'x')")
        # Another task's read does not see the uncommitted row (nor wait for it).
        outside = await asyncio.create_task(pg.fetchone("SELECT 1 FROM upgrades WHERE name = 't'"))
        assert outside is None
        with pytest.raises(NestedTransactionError):
            async with pg.transaction():
                pass
    assert not pg.in_transaction
    with pytest.raises(RuntimeError, match="roll back"):
        async with pg.transaction():
            await pg.execute("DELETE FROM upgrades WHERE name = 't'")
            raise RuntimeError("roll back")
    assert await pg.fetchone("SELECT 1 FROM upgrades WHERE name = 't'") is not None


async def test_rowcounts_and_integrity_errors_are_as_on_sqlite(pg: PostgresDatabase) -> None:
    result = await pg.execute("INSERT INTO upgrades (name, done_at) VALUES (?, ?), (?, ?)",
                              ("a", "x", "b", "x"))
    assert result.rowcount == 2
    assert (await pg.execute("UPDATE upgrades SET done_at = 'y' WHERE name = 'zz'")).rowcount == 0
    with pytest.raises(IntegrityError):
        await pg.execute("INSERT INTO upgrades (name, done_at) VALUES ('a', 'x')")
    row = await pg.fetchone("SELECT count(*) AS n, sum(length(name)) AS s FROM upgrades")
    assert row is not None and row[0] == row["n"] == 3 and isinstance(row["s"], int)


async def test_every_connection_runs_without_jit(pg: PostgresDatabase) -> None:
    """JIT compiling cost ~150 ms on a 2 ms /tips statement (storage/postgres.py,
    SESSION_SETTINGS): every connection of the pool has it off, in and out of transactions."""
    async def jit() -> str:
        row = await pg.fetchone("SHOW jit")
        assert row is not None
        return str(row[0])

    assert await asyncio.gather(*(jit() for _ in range(4))) == ["off"] * 4
    async with pg.transaction():
        assert await jit() == "off"
