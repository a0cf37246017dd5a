"""PostgreSQL behind the same `Database` interface as SQLite (`TIPBOT_DB=postgresql://…`).

Why it looks like this:

* asyncpg, beside aiosqlite, under one storage API rather than an ORM or SQLAlchemy Core:
  storage/ is a few hundred hand-tuned statements whose SQLite plans the tests assert
  (tests/unit/test_query_plans.py). The SQLite text of every statement stays the one the code
  holds; what PostgreSQL needs instead is made here, once per statement text, by
  :func:`translate` (placeholders, and the short list of SQLite spellings in `_REWRITES`, each
  with its PostgreSQL twin). Statements whose PostgreSQL form is more than a spelling choose it
  at their call site with ``db.dialect``.
* One pool of connections. ``db.transaction()`` takes a connection from the pool and binds it
  to the current task (statements of that task inside the block run on it; nesting raises
  :class:`NestedTransactionError`, as on SQLite); other statements use any free connection.
* One writer at a time, deliberately. SQLite's ``BEGIN IMMEDIATE`` lets one transaction write
  at a time, and code written for it reads, decides, then writes inside a transaction (claims,
  leases, receipt codes, tallies, the audit chain). Here every transaction, and every write
  outside one, first takes one transaction-level advisory lock (``pg_advisory_xact_lock``), so
  the same code keeps the same meaning; readers are never blocked. Writes are short, so this is
  correct first and fast enough; relaxing it (per-table or per-row locks, ``SELECT … FOR
  UPDATE``) is a later step, one storage function at a time, each with a test of its race.
* Rows are ``asyncpg.Record``: ``row["col"]``, ``row[0]`` and ``row.keys()`` as with
  ``sqlite3.Row``. ``numeric`` results (``sum``, ``avg``) come back as int or float, as SQLite
  gives them, not as ``Decimal``.
* Integrity errors (unique, check, foreign key) are raised as
  :class:`storage.database.IntegrityError`, a ``sqlite3.IntegrityError``, so one ``except``
  serves both databases.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, cast

import asyncpg

from storage.database import (
    Database,
    DatabaseError,
    ExecuteResult,
    IntegrityError,
    Migration,
    NestedTransactionError,
    Params,
    apply_migrations,
    load_migrations,
)

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "storage.migrations_postgresql"
#: The one advisory lock every write transaction takes ("tipl" in ASCII).
WRITE_LOCK_KEY = 0x7469706C
URL_PREFIXES = ("postgresql://", "postgres://")
#: Set on every connection. No JIT: the planner's row estimate of a JSON list's elements is
#: 100 whatever its length, so an officer's /tips (2 areas × 3 statuses) is costed as 10,000
#: index reads, over jit_above_cost, and compiling took ~150 ms of a 2 ms statement
#: (docs/PERFORMANCE.md, "PostgreSQL"); none of the bot's statements gained from it there.
SESSION_SETTINGS = {"jit": "off"}

#: SQLite spellings and their PostgreSQL forms, applied in this order to the statement text
#: (outside string literals and comments only where the pattern says so; each is specific
#: enough not to meet a literal). Every entry is exercised by the storage suite on PostgreSQL.
_INT_OPERAND = re.compile(r"(?:\w+\.)?(?:\w+_id|created_by|version)\Z")


def _in_json(match: re.Match[str]) -> str:
    """`x [NOT] IN (SELECT value FROM json_each(P))`: the elements of the JSON list P, as the
    type of x (ids are numbers, everything else text), so an index on x is still usable."""
    operand, negated, param = match.group(1), match.group(2) or "", match.group(3)
    value = "value::bigint" if _INT_OPERAND.match(operand) else "value"
    # Only pieces of the statement itself are moved: no value ever becomes SQL text.
    return (f"{operand} {negated}IN (SELECT {value} FROM"  # noqa: S608
            f" json_array_elements_text(CAST({param} AS json)) AS j(value))")


_REWRITES: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"((?:\w+\.)?\w+|hex\(substr\(\w+, 2, 4\)\)|\?) (NOT )?IN"
                r" \(SELECT value FROM json_each\((\?|:\w+)\)\)"), _in_json),
    # SQLite joins a table-valued function without ON; PostgreSQL says CROSS JOIN.
    (re.compile(r"(?<!CROSS) JOIN json_each\("), " CROSS JOIN json_each("),
    # A JSON list as a table of its text elements (`FROM json_each(:statuses) s`).
    (re.compile(r"json_each\((\?|:\w+)\) (\w+)\b"),
     r"json_array_elements_text(CAST(\1 AS json)) AS \2(value)"),
    (re.compile(r"\bINSERT OR IGNORE INTO (.*)\Z", re.DOTALL),
     r"INSERT INTO \1 ON CONFLICT DO NOTHING"),
    (re.compile(r" INDEXED BY \w+"), ""),
    # The key id of a sealed value: bytes 2-5 of its header, in upper-case hex.
    (re.compile(r"hex\(substr\((\w+), (\d+), (\d+)\)\)"),
     r"upper(encode(substring(\1 from \2 for \3), 'hex'))"),
    (re.compile(r"\bhex\(([\w.]+)\)"), r"upper(encode(\1, 'hex'))"),
    (re.compile(r"\bsubstr\((\w+), (\d+), (\d+)\)"), r"substring(\1 from \2 for \3)"),
    (re.compile(r"\bgroup_concat\(([\w.]+)\)"), r"string_agg(CAST(\1 AS text), ',')"),
    (re.compile(r"\bzeroblob\((\?)\)"), r"decode(repeat('00', \1), 'hex')"),
    (re.compile(r"\bx''"), "''::bytea"),
    # SQLite's `IS` / `IS NOT` between two values (not NULL): null-safe equality.
    (re.compile(r"\bIS NOT (?!NULL\b|DISTINCT\b|TRUE\b|FALSE\b)"), "IS DISTINCT FROM "),
    (re.compile(r"\bIS (?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)"), "IS NOT DISTINCT FROM "),
)


def is_postgres_url(target: object) -> bool:
    """True for a `postgresql://…` (or `postgres://…`) URL, the way TIPBOT_DB names one."""
    return isinstance(target, str) and target.startswith(URL_PREFIXES)


@lru_cache(maxsize=2048)
def translate(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """The PostgreSQL text of a statement written for SQLite, and the order of its named
    parameters (None when it takes `?` placeholders). Cached: each text is translated once."""
    for pattern, replacement in _REWRITES:
        sql = pattern.sub(replacement, sql)
    return _placeholders(sql)


def _placeholders(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """`?` → `$1, $2, …` in order; `:name` → `$n` (one number per name); literals, quoted
    identifiers, comments, `::` casts and dollar-quoted bodies are left as they are."""
    out: list[str] = []
    names: list[str] = []
    positional = 0
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == c:
                    if end + 1 < n and sql[end + 1] == c:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i:end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end])
            i = end
        elif c == "$" and (tag := re.match(r"\$(\w*)\$", sql[i:])) is not None:
            close = sql.find(tag.group(0), i + len(tag.group(0)))
            end = n if close < 0 else close + len(tag.group(0))
            out.append(sql[i:end])
            i = end
        elif c == "?":
            positional += 1
            out.append(f"${positional}")
            i += 1
        elif sql.startswith("::", i):
            out.append("::")
            i += 2
        elif c == ":" and (name := re.match(r":([A-Za-z_]\w*)", sql[i:])) is not None:
            if name.group(1) not in names:
                names.append(name.group(1))
            out.append(f"${names.index(name.group(1)) + 1}")
            i += len(name.group(0))
        else:
            out.append(c)
            i += 1
    if positional and names:
        raise ValueError("a statement mixes ? and :name placeholders")
    return "".join(out), (tuple(names) if names else None)


def _arguments(names: tuple[str, ...] | None, params: Params) -> list[Any]:
    if names is None:
        if isinstance(params, Mapping):
            if params:
                raise ValueError("named parameters given to a statement with ? placeholders")
            return []
        return list(params)
    if not isinstance(params, Mapping):
        raise ValueError("a statement with :name placeholders needs a mapping")
    return [params[name] for name in names]


def _rowcount(status: str) -> int:
    """Rows touched, from the command status (`UPDATE 3`, `INSERT 0 1`, `DELETE 0`)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _numeric(text: str) -> int | float:
    return int(text) if text.lstrip("-").isdigit() else float(text)


async def _set_up_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text"
    )


@asynccontextmanager
async def _errors() -> AsyncIterator[None]:
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as error:
        raise IntegrityError(str(error)) from error


class PostgresDatabase(Database):
    """The `Database` of a PostgreSQL line: a pool of asyncpg connections.

    Create it with :func:`open_postgres` (or `storage.opener.open_any_database`).
    """

    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        # The SQLite state of the parent is not set up: every method that uses it is replaced.
        self._pool = pool
        self._url = url
        self._owners: dict[asyncio.Task[Any], asyncpg.Connection] = {}
        self._closed = False

    @property
    def url(self) -> str:
        """The database's URL (with its password: never log it)."""
        return self._url

    @property
    def in_transaction(self) -> bool:
        task = asyncio.current_task()
        return task is not None and task in self._owners

    @asynccontextmanager
    async def _connection(self, sql: str) -> AsyncIterator[asyncpg.Connection]:
        """This task's transaction's connection, else a pool connection (a write outside a
        transaction runs in one of its own that takes the write lock first)."""
        task = asyncio.current_task()
        own = self._owners.get(task) if task is not None else None
        if own is not None:
            yield own
            return
        async with self._pool.acquire() as conn:
            if _WRITE.match(sql):
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
                    yield conn
            else:
                yield conn

    async def execute(self, sql: str, params: Params = ()) -> ExecuteResult:
        text, names = translate(sql)
        args = _arguments(names, params)
        async with self._connection(sql) as conn, _errors():
            if not args:  # the simple protocol: may hold several statements (migrations)
                status = await conn.execute(text)
            else:
                status = await conn.execute(text, *args)
        return ExecuteResult(_rowcount(status), None)

    async def lookup(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """A read by key: a plain query (a pool connection, no thread in between)."""
        return await self.fetchall(sql, params)

    async def lookup_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        return await self.fetchone(sql, params)

    async def execute_grouped(self, sql: str, params: Params = ()) -> ExecuteResult:
        """A plain statement: the pool's connections commit side by side, and the server
        already writes the commits that wait at the same moment with one flush of its WAL (the
        group commit storage/database.py makes itself for its one SQLite connection)."""
        return await self.execute(sql, params)

    async def execute_grouped_many(
        self, sql: str, seq_of_params: Iterable[Params]
    ) -> list[ExecuteResult]:
        """Each a plain statement, one after another on one connection, in one transaction
        (one commit for the batch; an error undoes all of them and is raised)."""
        batch = list(seq_of_params)
        if not batch:
            return []
        if self.in_transaction:
            return [await self.execute(sql, params) for params in batch]
        async with self.transaction():
            return [await self.execute(sql, params) for params in batch]

    async def executemany(self, sql: str, seq_of_params: Iterable[Params]) -> ExecuteResult:
        text, names = translate(sql)
        batch = [_arguments(names, p) for p in seq_of_params]
        if not batch:
            return ExecuteResult(0, None)
        async with self._connection(sql) as conn, _errors():
            await conn.executemany(text, batch)
        return ExecuteResult(-1, None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        text, names = translate(sql)
        args = _arguments(names, params)
        async with self._connection(sql) as conn, _errors():
            rows = await conn.fetch(text, *args)
        return cast("list[sqlite3.Row]", rows)  # asyncpg.Record reads as a sqlite3.Row does

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def read_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return await self.fetchall(sql, params)

    async def read_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        return await self.fetchone(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("db.transaction() needs a task")
        if task in self._owners:
            raise NestedTransactionError("db.transaction() is already open in this task")
        async with self._pool.acquire() as conn:
            self._owners[task] = conn
            try:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
                    yield self
            finally:
                del self._owners[task]

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._pool.close()

    # For storage/migrate.py (migrate-db): inside this task's transaction only.

    def _own(self) -> asyncpg.Connection:
        task = asyncio.current_task()
        conn = self._owners.get(task) if task is not None else None
        if conn is None:
            raise RuntimeError("needs this task's db.transaction()")
        return conn

    async def table_names(self) -> list[str]:
        rows = await self.fetchall("SELECT tablename FROM pg_tables"
                                   " WHERE schemaname = current_schema()")
        return [r["tablename"] for r in rows]

    async def copy_rows(self, table: str, columns: Sequence[str], rows: list[Any]) -> None:
        """COPY rows into a table (binary, fast), in this task's transaction."""
        async with _errors():
            await self._own().copy_records_to_table(table, records=rows, columns=list(columns))

    async def without_triggers(self, table: str) -> None:
        """Turn the table's own triggers off until with_triggers (in this transaction)."""
        await self._own().execute(f'ALTER TABLE "{_name(table)}" DISABLE TRIGGER USER')

    async def with_triggers(self, table: str) -> None:
        await self._own().execute(f'ALTER TABLE "{_name(table)}" ENABLE TRIGGER USER')

    async def reset_identities(self) -> None:
        """Move every identity column's sequence past the largest id in its table."""
        conn = self._own()
        for row in await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        ):
            table, column = _name(row["table_name"]), _name(row["column_name"])
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"  # noqa: S608
                f' coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, false)'
            )

    async def vacuum(self, tables: Sequence[str]) -> None:
        """VACUUM the named tables (outside any transaction): their dead rows' space is
        marked free for reuse. Names come from the code, never from input."""
        for table in tables:
            async with self._pool.acquire() as conn:
                await conn.execute(f'VACUUM "{_name(table)}"')


def _name(identifier: str) -> str:
    """A table or column name of the schema (checked: names come from the code or the
    catalog, never from input, and are quoted where used)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", identifier):
        raise ValueError(f"not a table or column name: {identifier!r}")
    return identifier


async def open_postgres(
    url: str,
    *,
    migrations: Sequence[Migration] | None = None,
    migration_log_level: int = logging.INFO,
    min_size: int = 1,
    max_size: int = 10,
) -> PostgresDatabase:
    """Connect to the PostgreSQL database at `url` and bring its schema up to date (the
    migrations of storage/migrations_postgresql/)."""
    try:
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, init=_set_up_connection,
            statement_cache_size=1024, server_settings=SESSION_SETTINGS,
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise DatabaseError(f"cannot connect to the PostgreSQL database: {error}") from error
    db = PostgresDatabase(pool, url)
    try:
        await apply_migrations(
            db,
            load_migrations(MIGRATIONS_PACKAGE) if migrations is None else migrations,
            log_level=migration_log_level,
        )
    except BaseException:
        await db.close()
        raise
    return db
