"""The one SQLite connection Tipline uses, and the schema migrations applied when it opens.

Why it looks like this:

* One aiosqlite connection per process, opened in autocommit mode (``isolation_level=None``)
  so that *we* decide where transactions start and end. Python's sqlite3 default silently
  opens transactions before DML and commits them at odd times, which is how writes get lost.
* Write transactions use ``BEGIN IMMEDIATE``: the write lock is taken up front, so two
  writers never both read and then fail to upgrade (SQLITE_BUSY mid-transaction).
  ``busy_timeout`` makes a second process wait for the lock instead of failing.
* ``synchronous=FULL`` with WAL: a tip the bot has acknowledged survives a power cut.
* ``secure_delete=ON``: deleted tips are overwritten with zeros rather than left readable in
  free pages of the file.
* Tasks of one process share the connection, so :meth:`Database.transaction` holds an
  :class:`asyncio.Lock`; statements issued by *other* tasks wait until the transaction ends
  instead of silently joining it (and being rolled back with it).
* Small writes that many residents make at once (a conversation's step) may go through
  :meth:`Database.execute_grouped`: the ones issued while a commit is being written share the
  next transaction, a group commit, so a crowd pays one fsync for many steps instead of one
  each, with the same durability (each returns once its own commit is on disk).
* Reads of a few rows by key that every update makes (its conversation, the language, the
  staff row, the flood count) go through :meth:`Database.lookup`: run at once in the event
  loop's thread on a read-only connection of their own. Such a statement takes microseconds,
  less than the hand-over to the connection's thread and back, and it no longer queues
  behind the writes there (issue 16). Only index searches may be lookups
  (tests/unit/test_lookups.py); SQLite busy (another process checkpointing, say) sends the
  read to the connection's thread instead of blocking the loop.
* Long reads (lists, statistics, exports) go through :meth:`Database.read_all` and
  :meth:`Database.read_one`: a second, read-only connection with a lock of its own. In WAL
  mode it reads the last committed state while the first connection writes, so a year of
  /stats never makes a resident's "send" or a delivery wait (issue 16). Inside the task's own
  transaction they use the first connection, which sees the transaction's own writes.

Usage for modules built on top of this (tips, outbox, officers, ...)::

    db = await open_database(path)
    row = await db.fetchone("SELECT body FROM tips WHERE tip_id = ?", (tip_id,))
    async with db.transaction():
        await db.execute("UPDATE tips SET status = ? WHERE tip_id = ?", ("closed", tip_id))
        await db.execute("INSERT INTO outbox (tip_id) VALUES (?)", (tip_id,))
    await db.close()

Always pass values as bound parameters (``?`` or ``:name``); never format SQL strings.

Migrations are files ``storage/migrations/NNNN_name.sql`` (four digits, lower-case name),
applied in number order, each in its own ``BEGIN IMMEDIATE`` transaction together with its
row in ``schema_version``. A migration file must not contain BEGIN/COMMIT itself. Because it
runs inside a transaction, ``PRAGMA foreign_keys`` cannot be changed by a migration; rebuild
tables in a way that keeps foreign keys valid throughout. Never edit or renumber a migration
that has shipped: add a new one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, cast

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "storage.migrations"
BUSY_TIMEOUT_MS = 5000
_MIGRATION_FILE = re.compile(r"\A(\d{4})_([a-z0-9_]+)\.sql\Z")

Params = Sequence[Any] | Mapping[str, Any]

# (statement that sets, statement that reads back, expected value). Each is verified because
# SQLite ignores unknown or inapplicable pragmas without an error. Literal statements only:
# PRAGMA takes no bound parameters, and no SQL here is built by formatting.
_PRAGMAS: tuple[tuple[str, str, object], ...] = (
    # busy_timeout first: the others may need to wait for another process's lock.
    ("PRAGMA busy_timeout = 5000", "PRAGMA busy_timeout", BUSY_TIMEOUT_MS),
    ("PRAGMA journal_mode = WAL", "PRAGMA journal_mode", "wal"),
    ("PRAGMA synchronous = FULL", "PRAGMA synchronous", 2),
    ("PRAGMA foreign_keys = ON", "PRAGMA foreign_keys", 1),
    ("PRAGMA secure_delete = ON", "PRAGMA secure_delete", 1),
)


class DatabaseError(Exception):
    """The database could not be opened or set up as Tipline requires."""


class MigrationError(DatabaseError):
    """The migrations on disk and the schema recorded in the database disagree."""


#: The error both databases raise when a statement breaks a unique, check, not-null or foreign
#: key constraint (PostgreSQL's are raised as this one too: storage/postgres.py).
IntegrityError = sqlite3.IntegrityError


class NestedTransactionError(RuntimeError):
    """``db.transaction()`` was entered while this task already had one open.

    Raised rather than flattened: a silently flattened inner block would look atomic on its
    own but be committed or rolled back with the outer one.
    """


@dataclass(frozen=True, slots=True)
class ExecuteResult:
    """What is left of a cursor after a write: rows touched and the last inserted rowid."""

    rowcount: int
    lastrowid: int | None


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


class Database:
    """Thin async wrapper around one aiosqlite connection; rows come back as ``sqlite3.Row``.

    Create it with :func:`open_database`, not directly. `storage/postgres.py` gives the
    same interface over PostgreSQL; `dialect` tells them apart where a statement must differ.
    """

    #: "sqlite" here, "postgresql" for storage.postgres.PostgresDatabase.
    dialect = "sqlite"

    def __init__(
        self, conn: aiosqlite.Connection, path: Path, reader: aiosqlite.Connection | None = None
    ) -> None:
        self._conn = conn
        self._path = path
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._reader = reader
        self._reader_lock = asyncio.Lock()
        self._inline: sqlite3.Connection | None = None  # for lookup(), in the loop's thread
        self._grouped: list[_Grouped] = []
        self._grouping: asyncio.Future[None] | None = None

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def in_transaction(self) -> bool:
        """True while the current task is inside ``db.transaction()``."""
        return self._owner is not None and self._owner is asyncio.current_task()

    async def execute(self, sql: str, params: Params = ()) -> ExecuteResult:
        """Run one statement. Outside a transaction it commits on its own (autocommit)."""
        async with self._turn():
            _rows, rowcount, lastrowid = await _one_trip(self._conn, sql, params)
        return ExecuteResult(rowcount, lastrowid)

    async def executemany(self, sql: str, seq_of_params: Iterable[Params]) -> ExecuteResult:
        """Run one statement for each parameter set. Wrap in a transaction for atomicity."""
        async with self._turn():
            _rows, rowcount, lastrowid = await _one_trip(
                self._conn, sql, list(seq_of_params), many=True
            )
        return ExecuteResult(rowcount, lastrowid)

    async def execute_grouped(self, sql: str, params: Params = ()) -> ExecuteResult:
        """Run one write and commit it together with the other tasks' grouped writes issued
        while the previous commit was being written (a group commit); returns once its commit
        is on disk, or raises its own statement's error (the others are not touched by it).

        Why: with `synchronous=FULL` every commit waits for an fsync, and one connection
        writes them one after another; under a crowd of residents the steps' draft writes,
        one commit each, were what the bot waited for most (issue 16). Inside this task's
        transaction it is a plain statement of that transaction."""
        if self.in_transaction:
            return await self.execute(sql, params)
        (item,) = self._group([params], sql)
        return await asyncio.shield(item.result)

    async def execute_grouped_many(
        self, sql: str, seq_of_params: Iterable[Params]
    ) -> list[ExecuteResult]:
        """`execute_grouped` for each parameter set, all in the same group commit, each its own
        statement with its own rowcount; raises the first statement's error once every one is
        through (the others stand, as in `execute_grouped`).

        Why: long polling claims each getUpdates batch before it hands it to the handlers and
        before it asks for the next one, so the claim is on every update's way. As two
        statements of their own (the claims, then the payloads) it waited twice for the lock
        and paid two fsyncs: a third of a crowd's poll round (issue 16). Joined to the group
        it is one trip to the connection's thread and shares the fsync."""
        if self.in_transaction:
            return [await self.execute(sql, params) for params in seq_of_params]
        items = self._group(seq_of_params, sql)
        if not items:
            return []
        outcomes = await asyncio.shield(
            asyncio.gather(*(item.result for item in items), return_exceptions=True))
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return cast("list[ExecuteResult]", outcomes)

    def _group(self, seq_of_params: Iterable[Params], sql: str) -> list[_Grouped]:
        """Queue writes for the next group commit (started here if none is under way)."""
        loop = asyncio.get_running_loop()
        items = [_Grouped(sql, params, loop.create_future()) for params in seq_of_params]
        self._grouped.extend(items)
        if items and (self._grouping is None or self._grouping.done()):
            self._grouping = asyncio.ensure_future(self._commit_grouped())
        return items

    async def _commit_grouped(self) -> None:
        """Commit the waiting grouped writes, a batch per transaction, until none is left."""
        while self._grouped:
            async with self._lock:  # the writes issued while we waited join this batch
                batch, self._grouped = self._grouped, []
                try:
                    outcomes: list[ExecuteResult | BaseException] = await self._conn._execute(  # type: ignore[no-untyped-call]  # aiosqlite's private helper, as in _one_trip
                        _run_batch, self._conn._conn, [(i.sql, i.params) for i in batch]
                    )
                except BaseException as error:  # the transaction failed as a whole
                    outcomes = [error] * len(batch)
            for item, outcome in zip(batch, outcomes, strict=True):
                if item.result.done():
                    continue
                if isinstance(outcome, BaseException):
                    item.result.set_exception(outcome)
                else:
                    item.result.set_result(outcome)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """First row of a query, or None (for queries of one row: every row is read)."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """All rows of a query (fine for the small result sets this bot deals in)."""
        async with self._turn():
            rows, _rowcount, _lastrowid = await _one_trip(self._conn, sql, params)
        return rows

    async def lookup(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """The rows of a read by key (an index search of a few rows, no scan), run at once in
        this thread on the lookup connection: committed data, as any new read sees it. Inside
        this task's transaction it is a statement of the transaction (which sees its own
        writes); when SQLite answers busy it waits its turn on the main connection."""
        if self._inline is None or self.in_transaction:
            return await self.fetchall(sql, params)
        try:
            cursor = self._inline.execute(sql, params)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            return await self.fetchall(sql, params)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    async def lookup_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of a `lookup`, or None."""
        rows = await self.lookup(sql, params)
        return rows[0] if rows else None

    async def read_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """All rows of a long read-only query, on the read connection: it does not hold the
        database from the other tasks' statements and transactions. Sees committed data only
        (inside this task's transaction, the transaction's connection is used instead)."""
        if self._reader is None or self.in_transaction:
            return await self.fetchall(sql, params)
        async with self._reader_lock:
            rows, _rowcount, _lastrowid = await _one_trip(self._reader, sql, params)
        return rows

    async def read_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """First row of a long read-only query, on the read connection (see read_all)."""
        rows = await self.read_all(sql, params)
        return rows[0] if rows else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """``async with db.transaction():`` — BEGIN IMMEDIATE, COMMIT on success, else ROLLBACK.

        Statements of this task inside the block belong to the transaction; other tasks'
        statements wait for it to finish. Nesting raises :class:`NestedTransactionError`.
        Tasks spawned inside the block and awaited there would deadlock on the lock: do
        the database work in the task that opened the transaction.
        """
        task = asyncio.current_task()
        if self._owner is not None and self._owner is task:
            raise NestedTransactionError("db.transaction() is already open in this task")
        async with self._lock:
            self._owner = task
            try:
                await self._control("BEGIN IMMEDIATE")
                try:
                    yield self
                    await self._control("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        await self._control("ROLLBACK")
                    raise
            finally:
                self._owner = None

    async def vacuum(self, tables: Sequence[str]) -> None:
        """PostgreSQL's VACUUM of these tables after a purge; SQLite's secure_delete and the
        WAL checkpoint (storage/purge.py) do that work here."""

    async def close(self) -> None:
        """Close the connections (waits for a running transaction or read of another task)."""
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        if self._reader is not None:
            async with self._reader_lock:
                await self._reader.close()
        async with self._lock:
            await self._conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _control(self, statement: str) -> None:
        await _one_trip(self._conn, statement, ())

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """Hold the lock for one statement, unless this task's own transaction holds it."""
        if self.in_transaction:
            yield
            return
        async with self._lock:
            yield


def _run(
    conn: sqlite3.Connection, sql: str, params: Any, many: bool
) -> tuple[list[sqlite3.Row], int, int | None]:
    """In the connection's thread: run, read every row, close. One trip, where aiosqlite's
    cursor takes three (execute, fetch, close), each a hand-over between threads: ~40 µs of
    CPU per statement instead of ~150 (issue 16; a resident's update runs a dozen)."""
    cursor = conn.executemany(sql, params) if many else conn.execute(sql, params)
    try:
        rows = cursor.fetchall() if cursor.description is not None else []
        return rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_batch(
    conn: sqlite3.Connection, statements: list[tuple[str, Any]]
) -> list[ExecuteResult | BaseException]:
    """In the connection's thread: the grouped writes in one transaction, one trip. A statement
    that fails is undone alone (SQLite's ABORT keeps the transaction) and reported as its
    outcome; if the transaction itself is lost or the commit fails, everything is undone and
    the error raised for all of them."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        outcomes: list[ExecuteResult | BaseException] = []
        for sql, params in statements:
            try:
                cursor = conn.execute(sql, params)
            except sqlite3.Error as error:
                if not conn.in_transaction:  # an error that ends the transaction (disk full)
                    raise
                outcomes.append(error)
                continue
            outcomes.append(ExecuteResult(cursor.rowcount, cursor.lastrowid))
            cursor.close()
        conn.execute("COMMIT")
        return outcomes
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@dataclass(slots=True)
class _Grouped:
    """A write waiting for the next group commit, and where its outcome goes."""

    sql: str
    params: Params
    result: asyncio.Future[ExecuteResult]


async def _one_trip(
    conn: aiosqlite.Connection, sql: str, params: Any, *, many: bool = False
) -> tuple[list[sqlite3.Row], int, int | None]:
    # aiosqlite's own execute_fetchall runs this way (Connection._execute: a function run in
    # the connection's thread, in order with everything else queued there); ~=0.22 is pinned.
    result: tuple[list[sqlite3.Row], int, int | None] = await conn._execute(  # type: ignore[no-untyped-call]  # aiosqlite's private helper has no annotations
        _run, conn._conn, sql, params, many
    )
    return result


async def open_database(
    path: str | Path,
    *,
    migrations: Sequence[Migration] | None = None,
    migration_log_level: int = logging.INFO,
) -> Database:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date.

    ``migrations`` replaces the packaged migrations; it exists for tests. Each migration applied
    is logged at ``migration_log_level`` (the command line raises it to WARNING).
    """
    path = Path(path)
    if str(path) == ":memory:" or str(path).startswith("file:"):
        raise ValueError("open_database needs a file path (WAL does not apply to :memory:)")
    _make_private_parents(path.parent)
    _create_private_file(path)
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    db = Database(conn, path)
    try:
        await _apply_pragmas(conn)
        applied = await apply_migrations(
            db,
            load_migrations() if migrations is None else migrations,
            log_level=migration_log_level,
        )
        if applied:
            await _write_back(db)
        db._reader = await _open_reader(path)
        db._inline = _open_lookups(path)
    except BaseException:
        if db._reader is not None:
            await db._reader.close()
        await conn.close()
        raise
    return db


async def _write_back(db: Database) -> None:
    """After a migration: write the WAL's pages into the file at once, where they can be.

    A migration that drops or deletes rows (0020 drops the rows that linked tips to their
    author) leaves the old bytes in the file's own copy of each page until a checkpoint writes
    the new copy, zeroed by `secure_delete`, over it; SQLite's own comes only after 1,000 pages.
    PASSIVE waits for no one: a page another process still reads is written at the next one."""
    await db.fetchone("PRAGMA wal_checkpoint(PASSIVE)")


def _read_only_uri(path: Path) -> str:
    """`file:` URI of the database, opened read-only (the path quoted as URIs require)."""
    return path.resolve().as_uri() + "?mode=ro"


async def _open_reader(path: Path) -> aiosqlite.Connection:
    """The read-only connection for long reads (opened after the migrations, so the file is
    in WAL mode already; `query_only` on top of the read-only open, for certainty)."""
    reader = await aiosqlite.connect(
        _read_only_uri(path), uri=True, isolation_level=None,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )
    reader.row_factory = sqlite3.Row
    try:
        for setter in ("PRAGMA busy_timeout = 5000", "PRAGMA query_only = 1"):
            async with reader.execute(setter):
                pass
    except BaseException:
        await reader.close()
        raise
    return reader


def _open_lookups(path: Path) -> sqlite3.Connection:
    """The read-only connection of `Database.lookup`, used in the event loop's thread (the one
    that opens it: sqlite3 refuses another). It never waits for a lock (`timeout=0`): a busy
    answer sends the read to the main connection, whose thread may wait."""
    inline = sqlite3.connect(_read_only_uri(path), uri=True, isolation_level=None, timeout=0)
    inline.row_factory = sqlite3.Row
    try:
        inline.execute("PRAGMA query_only = 1").close()
    except BaseException:
        inline.close()
        raise
    return inline


def load_migrations(package: str = MIGRATIONS_PACKAGE) -> list[Migration]:
    """Read ``NNNN_name.sql`` files from a package, ordered by number.

    A ``.sql`` file whose name does not fit the pattern, or two files with one number, is an
    error rather than being skipped: a skipped migration is a schema silently missing.
    """
    found: dict[int, Migration] = {}
    for entry in resources.files(package).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _MIGRATION_FILE.match(entry.name)
        if match is None:
            raise MigrationError(f"migration file name {entry.name!r} is not NNNN_name.sql")
        version = int(match.group(1))
        if version == 0:
            raise MigrationError("migration numbers start at 0001")
        if version in found:
            raise MigrationError(f"two migration files are numbered {version:04d}")
        found[version] = Migration(version, match.group(2), entry.read_text(encoding="utf-8"))
    return [found[version] for version in sorted(found)]


async def apply_migrations(
    db: Database, migrations: Sequence[Migration], *, log_level: int = logging.INFO
) -> list[int]:
    """Apply the migrations not yet recorded in ``schema_version``; return their versions.

    Each one runs in its own BEGIN IMMEDIATE transaction and the version is re-checked
    inside it, so when two processes open a new file at once, one applies and the other
    waits on the lock, then sees the version already recorded and skips it.
    """
    create = (
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    if db.dialect == "sqlite":
        await db.execute(create)
    else:  # two processes creating it at once would collide without the write lock
        async with db.transaction():
            await db.execute(create)
    ordered = sorted(migrations, key=lambda m: m.version)
    if len({m.version for m in ordered}) != len(ordered):
        raise MigrationError("two migrations share a version number")
    await _check_recorded(db, ordered)
    applied: list[int] = []
    for migration in ordered:
        async with db.transaction():
            row = await db.fetchone(
                "SELECT name FROM schema_version WHERE version = ?", (migration.version,)
            )
            if row is not None:
                _check_same_name(migration, row["name"])
                continue
            # PostgreSQL runs a script whole (its function bodies hold semicolons).
            statements = split_sql(migration.sql) if db.dialect == "sqlite" else [migration.sql]
            for statement in statements:
                await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, utc_now()),
            )
        log.log(log_level, "applied migration %04d_%s", migration.version, migration.name)
        applied.append(migration.version)
    return applied


def split_sql(script: str) -> list[str]:
    """Split a script into statements, honouring strings, comments and trigger bodies.

    Needed because ``sqlite3.executescript`` COMMITs any open transaction first, which would
    break the one-transaction-per-migration guarantee.
    """
    statements: list[str] = []
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if _has_code(buffer):
                statements.append(buffer.strip())
            buffer = ""
    # The split adds one ';' too many at the very end; what remains is comments/whitespace
    # or an unterminated statement (which must fail loudly, not vanish).
    remainder = buffer[:-1]
    if _has_code(remainder):
        raise MigrationError("migration ends with an incomplete SQL statement")
    return statements


def utc_now() -> str:
    """Current UTC time as ISO 8601 text, the format used for every *_at column."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _has_code(sql: str) -> bool:
    """True if ``sql`` has anything besides whitespace, comments and semicolons."""
    text = re.sub(r"--[^\n]*", "", sql)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return bool(text.replace(";", "").strip())


async def _check_recorded(db: Database, migrations: Sequence[Migration]) -> None:
    """Refuse a database whose schema is newer than this code, or whose history differs."""
    known = {m.version: m for m in migrations}
    for row in await db.fetchall("SELECT version, name FROM schema_version ORDER BY version"):
        migration = known.get(row["version"])
        if migration is None:
            raise MigrationError(
                f"the database has schema version {row['version']:04d} ({row['name']}), "
                "which this version of Tipline does not know: it was written by newer code"
            )
        _check_same_name(migration, row["name"])


def _check_same_name(migration: Migration, recorded_name: str) -> None:
    if recorded_name != migration.name:
        raise MigrationError(
            f"migration {migration.version:04d} is recorded as {recorded_name!r} but the "
            f"file is named {migration.name!r}; shipped migrations must not be renamed"
        )


async def _apply_pragmas(conn: aiosqlite.Connection) -> None:
    for setter, getter, expected in _PRAGMAS:
        await _execute_when_free(conn, setter)
        async with conn.execute(getter) as cursor:
            row = await cursor.fetchone()
        actual = None if row is None else row[0]
        if isinstance(actual, str):
            actual = actual.lower()
        if actual != expected:
            raise DatabaseError(f"{getter} is {actual!r}, expected {expected!r}")


async def _execute_when_free(conn: aiosqlite.Connection, sql: str) -> None:
    """Run a PRAGMA, waiting out another connection's lock.

    Switching a new file to WAL needs an exclusive lock and SQLite answers "database is
    locked" at once, without its busy handler, when another process is opening the same new
    file (the bot starting while `officers add` creates the database). A short backoff, up
    to about five seconds, lets the first one finish.
    """
    delay = 0.01
    for _ in range(12):
        try:
            async with conn.execute(sql) as cursor:
                await cursor.fetchall()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
    async with conn.execute(sql) as cursor:
        await cursor.fetchall()


def _make_private_parents(folder: Path) -> None:
    """Create missing folders (and only those) with mode 0o700: the file names who reported."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for each in reversed(missing):
        try:
            each.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process created it meanwhile


def _create_private_file(path: Path) -> None:
    """Create the database file as 0o600 before SQLite does (SQLite copies the mode to the
    -wal and -shm files). An empty file is a valid empty SQLite database."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
