"""`Database.execute_grouped`: the writes issued at the same moment share one commit, and each
caller still learns its own statement's fate, only once it is committed (issue 16)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from storage.database import IntegrityError
from storage.store import Store

TABLE = "CREATE TABLE scratch (k BIGINT PRIMARY KEY, v TEXT NOT NULL)"


async def keys(store: Store) -> list[int]:
    return [int(row["k"]) for row in await store.db.fetchall("SELECT k FROM scratch ORDER BY k")]


async def commits_counted(store: Store) -> list[str]:
    """The COMMITs the SQLite connection runs from now on (a trace callback, set in the
    connection's own thread)."""
    seen: list[str] = []
    conn = store.db._conn  # type: ignore[attr-defined]  # the aiosqlite connection of a SQLite Database
    await conn._execute(conn._conn.set_trace_callback,
                        lambda sql: seen.append(sql) if sql.startswith("COMMIT") else None)
    return seen


async def test_a_crowd_of_writes_is_committed_in_few_transactions(store: Store) -> None:
    await store.db.execute(TABLE)
    commits = await commits_counted(store) if store.db.dialect == "sqlite" else None
    await asyncio.gather(*(
        store.db.execute_grouped("INSERT INTO scratch (k, v) VALUES (?, ?)", (n, f"v{n}"))
        for n in range(40)
    ))
    assert await keys(store) == list(range(40))
    if commits is not None:
        assert 1 <= len(commits) <= 3, commits  # one for the first, one for those that waited


async def test_a_failing_write_fails_alone(store: Store) -> None:
    await store.db.execute(TABLE)
    await store.db.execute("INSERT INTO scratch (k, v) VALUES (?, ?)", (7, "first"))
    outcomes = await asyncio.gather(
        *(store.db.execute_grouped("INSERT INTO scratch (k, v) VALUES (?, ?)", (n, "again"))
          for n in range(5, 10)),
        return_exceptions=True,
    )
    assert [type(o) for o in outcomes].count(IntegrityError) == 1
    assert isinstance(outcomes[2], IntegrityError)  # k = 7, the duplicate
    assert await keys(store) == [5, 6, 7, 8, 9]
    row = await store.db.fetchone("SELECT v FROM scratch WHERE k = 7")
    assert row is not None and row["v"] == "first"


async def test_it_returns_only_once_committed(store: Store) -> None:
    await store.db.execute(TABLE)
    result = await store.db.execute_grouped(
        "UPDATE scratch SET v = ? WHERE k = ?", ("none", 1))
    assert result.rowcount == 0
    await store.db.execute_grouped("INSERT INTO scratch (k, v) VALUES (?, ?)", (1, "kept"))
    if store.db.dialect == "sqlite":  # another connection sees it: it is on disk
        other = sqlite3.connect(store.db.path)
        try:
            assert other.execute("SELECT v FROM scratch WHERE k = 1").fetchone() == ("kept",)
        finally:
            other.close()
    else:
        assert await keys(store) == [1]


async def test_inside_a_transaction_it_belongs_to_it(store: Store) -> None:
    await store.db.execute(TABLE)
    with pytest.raises(RuntimeError):
        async with store.db.transaction():
            await store.db.execute_grouped("INSERT INTO scratch (k, v) VALUES (?, ?)", (1, "x"))
            raise RuntimeError("undo")
    assert await keys(store) == []


async def test_a_cancelled_caller_does_not_stop_the_others(store: Store) -> None:
    await store.db.execute(TABLE)
    async with store.db.transaction():  # holds the writer, so the grouped writes wait
        waiting = [asyncio.ensure_future(store.db.execute_grouped(
            "INSERT INTO scratch (k, v) VALUES (?, ?)", (n, "w"))) for n in range(4)]
        await asyncio.sleep(0)
        waiting[1].cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    assert waiting[1].cancelled()
    # the cancelled caller's write may still be committed (it was already handed over);
    # the others certainly are
    assert {0, 2, 3} <= set(await keys(store))


async def test_many_writes_of_one_caller_share_one_commit_and_each_has_its_rowcount(
        store: Store) -> None:
    await store.db.execute(TABLE)
    await store.db.execute("INSERT INTO scratch (k, v) VALUES (?, ?)", (2, "taken"))
    commits = await commits_counted(store) if store.db.dialect == "sqlite" else None
    upsert = ("INSERT INTO scratch (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE"
              " SET v = excluded.v WHERE scratch.v <> 'taken'")
    outcomes = await store.db.execute_grouped_many(upsert, [(n, "new") for n in range(1, 5)])
    assert [o.rowcount for o in outcomes] == [1, 0, 1, 1]
    assert await keys(store) == [1, 2, 3, 4]
    if commits is not None:
        assert len(commits) == 1, commits
    assert await store.db.execute_grouped_many(upsert, []) == []


async def test_many_writes_raise_the_first_error(store: Store) -> None:
    await store.db.execute(TABLE)
    await store.db.execute("INSERT INTO scratch (k, v) VALUES (?, ?)", (7, "first"))
    with pytest.raises(IntegrityError):
        await store.db.execute_grouped_many(
            "INSERT INTO scratch (k, v) VALUES (?, ?)", [(6, "a"), (7, "b"), (8, "c")])
    row = await store.db.fetchone("SELECT v FROM scratch WHERE k = 7")
    assert row is not None and row["v"] == "first"
    # SQLite: the others stand (each fails alone); PostgreSQL: one transaction, all undone
    assert await keys(store) == ([6, 7, 8] if store.db.dialect == "sqlite" else [7])
