"""`python -m bot migrate-db --to postgresql://…`: a SQLite line copied into PostgreSQL.

Every row of every table is copied as it is stored (keys still wrapped, values still
encrypted, the audit chain's links as they are) into an empty, migrated PostgreSQL database, in
one transaction: the target has all of it or nothing. The SQLite file is read through a
read-only connection and left untouched. Afterwards the identity columns' sequences are moved
past the copied ids, and each table's row count is checked against the source's before the
transaction commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.database import DatabaseError, load_migrations
from storage.postgres import PostgresDatabase

#: Parents before children (foreign keys are checked as rows arrive); a table not named here
#: (a later migration's) comes after these, by name.
ORDER = (
    "data_keys", "keyring_holders", "staff", "staff_areas", "invites", "tips", "tip_messages",
    "tip_assignees", "cards", "outbox", "audit_log", "drafts", "attempts", "tip_limits",
    "preferences", "subscribers", "broadcasts", "broadcast_recipients", "schedules", "leases",
    "campaign_rotation", "campaign_starts", "monthly_reviews", "monthly_review_sends",
    "upgrades", "tip_tally",
)
#: Tables of the schema's own bookkeeping, never copied (each side records its migrations).
NOT_COPIED = frozenset({"schema_version"})
#: Rows the target's baseline migration wrote itself, replaced by the source's.
REPLACED = frozenset({"upgrades"})
BATCH = 5000


class MigrateError(DatabaseError):
    """The copy cannot be made (a non-empty target, a source of another schema, a count that
    does not match); nothing was written."""


class TargetNotEmpty(MigrateError):
    """The PostgreSQL database already holds a line (or part of one)."""


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


def _source(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise MigrateError(f"no SQLite database at {path}")
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA query_only = 1")
    conn.execute("BEGIN")  # one snapshot for every read of the copy
    return conn


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                        " AND name NOT LIKE 'sqlite_%'").fetchall()
    names = {r[0] for r in rows} - NOT_COPIED
    staged = {n for n in names if n.startswith("reseal_")}
    if staged:
        raise MigrateError("the SQLite line has an upgrade pending (start the bot on it once)")
    return [t for t in ORDER if t in names] + sorted(names - set(ORDER))


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute("SELECT * FROM pragma_table_info(?)", (table,))]


def _check_versions(conn: sqlite3.Connection) -> None:
    latest = max(m.version for m in load_migrations())
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    if row is None or row[0] != latest:
        raise MigrateError(
            f"the SQLite line is at schema {row[0] if row else None}, this version of Tipline at"
            f" {latest}: start the bot on it once (it migrates), then copy"
        )


def _batches(conn: sqlite3.Connection, table: str, columns: list[str]) -> Iterator[list[Any]]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.execute(f'SELECT {quoted} FROM "{table}"')  # noqa: S608  # names from the schema
    while batch := cursor.fetchmany(BATCH):
        yield [tuple(row) for row in batch]


async def copy_line(source: Path, target: PostgresDatabase) -> list[Copied]:
    """Copy the SQLite line at `source` into `target` (migrated, empty); the counts per table."""
    conn = _source(source)
    try:
        _check_versions(conn)
        tables = _tables(conn)
        target_tables = set(await target.table_names())
        missing = [t for t in tables if t not in target_tables]
        if missing:
            raise MigrateError(f"the PostgreSQL database has no table {', '.join(missing)}")
        async with target.transaction():
            for table in tables:
                if table in REPLACED:
                    continue
                row = await target.fetchone(f'SELECT count(*) AS n FROM "{table}"')  # noqa: S608
                if row is not None and row["n"]:
                    raise TargetNotEmpty(
                        f"the PostgreSQL database is not empty (table {table} has rows):"
                        " migrate-db copies into a new database only"
                    )
            await target.without_triggers("tips")  # tip_tally is copied, not recounted
            copied = []
            for table in tables:
                columns = _columns(conn, table)
                if table in REPLACED:
                    await target.execute(f'DELETE FROM "{table}"')  # noqa: S608
                for batch in _batches(conn, table, columns):
                    await target.copy_rows(table, columns, batch)
                source_n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                row = await target.fetchone(f'SELECT count(*) AS n FROM "{table}"')  # noqa: S608
                target_n = row["n"] if row else 0
                if target_n != source_n:
                    raise MigrateError(f"table {table}: {source_n} rows in SQLite, {target_n}"
                                       " copied; nothing was written")
                copied.append(Copied(table, target_n))
            await target.with_triggers("tips")
            await target.reset_identities()
        return copied
    finally:
        conn.close()
