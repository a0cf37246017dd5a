"""Tests of the database wrapper, pragmas, transactions and migrations."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.database import (
    Database,
    MigrationError,
    NestedTransactionError,
    apply_migrations,
    load_migrations,
    open_database,
    split_sql,
)
from storage.database import Migration as M


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "tipline.db")
    try:
        yield database
    finally:
        await database.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("PRAGMA journal_mode", "wal"),
        ("PRAGMA synchronous", 2),
        ("PRAGMA foreign_keys", 1),
        ("PRAGMA busy_timeout", 5000),
        ("PRAGMA secure_delete", 1),
    ],
)
async def test_pragmas_are_set(db: Database, query: str, expected: object) -> None:
    row = await db.fetchone(query)
    assert row is not None
    assert row[0] == expected


async def test_creates_private_parent_folders_and_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "tipline.db"
    database = await open_database(str(path))
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(path.parent.iterdir())
    assert {f.name for f in files} >= {"tipline.db", "tipline.db-wal"}
    for file in files:  # SQLite gives -wal and -shm the mode of the database file
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    await database.close()
    assert database.path == path


async def test_memory_is_refused() -> None:
    with pytest.raises(ValueError):
        await open_database(":memory:")


def test_packaged_migrations_load_in_order() -> None:
    migrations = load_migrations()
    assert migrations[0].version == 1
    assert migrations[0].name == "keyring"
    versions = [m.version for m in migrations]
    assert versions == sorted(versions)


async def test_migrations_applied_once_and_recorded(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    first = await open_database(path)
    rows = await first.fetchall("SELECT version, name, applied_at FROM schema_version")
    assert [(r["version"], r["name"]) for r in rows] == [
        (m.version, m.name) for m in load_migrations()
    ]
    assert all(r["applied_at"] for r in rows)
    assert await first.fetchone("SELECT 1 FROM sqlite_master WHERE name = 'data_keys'")
    await first.close()

    second = await open_database(path)
    assert await apply_migrations(second, load_migrations()) == []
    again = await second.fetchall("SELECT version, applied_at FROM schema_version")
    assert [tuple(r) for r in again] == [(r["version"], r["applied_at"]) for r in rows]
    await second.close()


async def test_new_migration_applies_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    base = [M(1, "one", "CREATE TABLE one (x INTEGER);")]
    await (await open_database(path, migrations=base)).close()
    database = await open_database(path, migrations=base)
    applied = await apply_migrations(
        database, [*base, M(2, "two", "CREATE TABLE two (y INTEGER);")]
    )
    assert applied == [2]
    await database.close()


async def test_failing_migration_rolls_back(tmp_path: Path) -> None:
    broken = M(
        2,
        "broken",
        "CREATE TABLE half (x INTEGER); INSERT INTO half VALUES (1);"
        " INSERT INTO nowhere VALUES (1);",
    )
    good = M(1, "good", "CREATE TABLE good (x INTEGER);")
    with pytest.raises(sqlite3.OperationalError):
        await open_database(tmp_path / "t.db", migrations=[good, broken])

    database = await open_database(tmp_path / "t.db", migrations=[good])
    versions = [r[0] for r in await database.fetchall("SELECT version FROM schema_version")]
    assert versions == [1]
    assert await database.fetchone("SELECT 1 FROM sqlite_master WHERE name = 'half'") is None
    assert await database.fetchone("SELECT 1 FROM sqlite_master WHERE name = 'good'")
    await database.close()


async def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    migrations = [M(1, "one", "CREATE TABLE one (x);"), M(2, "two", "CREATE TABLE two (x);")]
    await (await open_database(path, migrations=migrations)).close()
    with pytest.raises(MigrationError, match="newer"):
        await open_database(path, migrations=migrations[:1])


async def test_renamed_migration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    await (await open_database(path, migrations=[M(1, "one", "CREATE TABLE t (x);")])).close()
    with pytest.raises(MigrationError, match="renamed"):
        await open_database(path, migrations=[M(1, "uno", "CREATE TABLE t (x);")])


async def test_concurrent_opens_apply_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    migrations = [
        M(1, "one", "CREATE TABLE one (x INTEGER);"),
        M(2, "two", "CREATE TABLE two (x INTEGER); INSERT INTO two VALUES (1);"),
    ]
    databases = await asyncio.gather(
        *(open_database(path, migrations=migrations) for _ in range(4))
    )
    rows = await databases[0].fetchall("SELECT version FROM schema_version")
    assert [r[0] for r in rows] == [1, 2]
    assert (await databases[0].fetchone("SELECT count(*) FROM two"))[0] == 1
    for database in databases:
        await database.close()


def test_two_processes_open_a_new_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    script = textwrap.dedent(
        """
        import asyncio, sys
        from storage.database import open_database
        from storage.keyring import load_keyring
        async def main():
            db = await open_database(sys.argv[1])
            await load_keyring(db, bytes(32))
            await db.close()
        asyncio.run(main())
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path)], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(
            load_migrations()
        )
        purposes = [r[0] for r in conn.execute("SELECT purpose FROM data_keys")]
        assert len(purposes) == len(set(purposes))
    finally:
        conn.close()


async def test_transaction_commits(db: Database) -> None:
    await db.execute("CREATE TABLE t (x INTEGER)")
    async with db.transaction() as tx:
        assert tx is db
        assert db.in_transaction
        result = await db.execute("INSERT INTO t VALUES (?)", (1,))
        assert result.rowcount == 1
        assert result.lastrowid == 1
    assert not db.in_transaction
    assert [r[0] for r in await db.fetchall("SELECT x FROM t")] == [1]


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    await db.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction():
            await db.execute("INSERT INTO t VALUES (?)", (1,))
            raise RuntimeError("boom")
    assert await db.fetchall("SELECT x FROM t") == []
    # The connection is usable afterwards.
    async with db.transaction():
        await db.execute("INSERT INTO t VALUES (?)", (2,))
    assert [r[0] for r in await db.fetchall("SELECT x FROM t")] == [2]


async def test_transaction_rolls_back_on_sql_error(db: Database) -> None:
    await db.execute("CREATE TABLE t (x INTEGER UNIQUE)")
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction():
            await db.execute("INSERT INTO t VALUES (?)", (1,))
            await db.execute("INSERT INTO t VALUES (?)", (1,))
    assert await db.fetchall("SELECT x FROM t") == []


async def test_nested_transaction_raises(db: Database) -> None:
    with pytest.raises(NestedTransactionError):
        async with db.transaction(), db.transaction():
            pass
    assert not db.in_transaction
    async with db.transaction():
        pass


async def test_other_tasks_wait_for_a_transaction(db: Database) -> None:
    await db.execute("CREATE TABLE t (x INTEGER)")
    inside = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute("INSERT INTO t VALUES (1)")
                inside.set()
                await release.wait()
                raise RuntimeError("roll back")

    async def other() -> None:
        await inside.wait()
        await db.execute("INSERT INTO t VALUES (2)")

    writer_task = asyncio.create_task(writer())
    other_task = asyncio.create_task(other())
    await inside.wait()
    await asyncio.sleep(0.05)
    assert not other_task.done()  # waiting, not joining the transaction
    release.set()
    await asyncio.gather(writer_task, other_task)
    # The other task's insert survived the writer's rollback.
    assert [r[0] for r in await db.fetchall("SELECT x FROM t")] == [2]


async def test_rows_by_name_and_named_params(db: Database) -> None:
    await db.execute("CREATE TABLE t (x INTEGER, y TEXT)")
    await db.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b")])
    row = await db.fetchone("SELECT x, y FROM t WHERE y = :y", {"y": "b"})
    assert row is not None
    assert (row["x"], row["y"]) == (2, "b")
    assert await db.fetchone("SELECT x FROM t WHERE y = ?", ("zzz",)) is None


async def test_foreign_keys_enforced(db: Database) -> None:
    await db.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    await db.execute("CREATE TABLE c (p_id INTEGER NOT NULL REFERENCES p (id))")
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO c VALUES (?)", (42,))


async def test_context_manager_closes(tmp_path: Path) -> None:
    async with await open_database(tmp_path / "t.db") as database:
        assert await database.fetchone("SELECT 1")


def test_split_sql_handles_strings_comments_and_triggers() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE a (x TEXT DEFAULT 'semi;colon');
    /* block; comment */
    CREATE TRIGGER a_t AFTER INSERT ON a BEGIN
        UPDATE a SET x = 'y;' WHERE rowid = new.rowid;
        SELECT 1;
    END;
    -- trailing comment
    """
    statements = split_sql(script)
    assert len(statements) == 2
    assert statements[0].endswith("DEFAULT 'semi;colon');")
    assert statements[1].rstrip().endswith("END;")


def test_split_sql_last_semicolon_optional() -> None:
    assert split_sql("CREATE TABLE a (x); CREATE TABLE b (y)") == [
        "CREATE TABLE a (x);",
        "CREATE TABLE b (y);",
    ]


@pytest.mark.parametrize(
    "script",
    [
        "CREATE TABLE a (x); CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1;",
        "CREATE TABLE a (x TEXT DEFAULT 'unterminated);",
        "CREATE TABLE a (x); /* unterminated comment; CREATE TABLE b (y);",
    ],
)
def test_split_sql_rejects_incomplete_statement(script: str) -> None:
    with pytest.raises(MigrationError):
        split_sql(script)
