"""The two databases have one schema: every SQLite migration after PostgreSQL's baseline has a
PostgreSQL twin of the same number and name (and the other way round), and once both are
migrated their tables, columns and index names agree."""

from __future__ import annotations

from pathlib import Path

from storage.database import Database, load_migrations
from storage.postgres import MIGRATIONS_PACKAGE, open_postgres
from storage.store import open_store
from testing.postgres import Cluster, columns_of, table_names

#: The first PostgreSQL migration stands for SQLite's 0001-0014 (0007 was never used).
BASELINE = 14
#: SQLite's own: the sequence table of AUTOINCREMENT.
SQLITE_ONLY_TABLES = {"sqlite_sequence"}
MASTER = bytes(range(32))


def test_every_migration_after_the_baseline_has_its_twin() -> None:
    sqlite = {m.version: m.name for m in load_migrations()}
    postgres = {m.version: m.name for m in load_migrations(MIGRATIONS_PACKAGE)}
    assert postgres[BASELINE] == "baseline"
    assert min(postgres) == BASELINE, "PostgreSQL starts at the baseline"
    later_sqlite = {v: n for v, n in sqlite.items() if v > BASELINE}
    later_postgres = {v: n for v, n in postgres.items() if v > BASELINE}
    assert later_sqlite == later_postgres, (
        "a migration NNNN after 0014 is written twice, storage/migrations/NNNN_name.sql and"
        " storage/migrations_postgresql/NNNN_name.sql (docs/contributing.md)"
    )
    assert max(sqlite) >= BASELINE


async def _indexes(db: Database) -> set[str]:
    if db.dialect == "sqlite":
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'index'"
                                 " AND sql IS NOT NULL")
    else:  # the indexes created by name, not those behind a primary key or UNIQUE
        rows = await db.fetchall(
            "SELECT i.indexname AS name FROM pg_indexes i WHERE i.schemaname = current_schema()"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)")
    return {r["name"] for r in rows}


async def test_both_databases_have_the_same_tables_columns_and_indexes(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    lite = await open_store(tmp_path / "tipline.db", MASTER)
    url = await pg_cluster.new_database(migrated=False)
    pg = await open_postgres(url)
    try:
        lite_tables = set(await table_names(lite.db)) - SQLITE_ONLY_TABLES
        assert lite_tables == set(await table_names(pg))
        for table in sorted(lite_tables):
            assert await columns_of(lite.db, table) == await columns_of(pg, table), table
        assert await _indexes(lite.db) == await _indexes(pg)
    finally:
        await lite.close()
        await pg.close()
        await pg_cluster.drop_database(url)
