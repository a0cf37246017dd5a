"""A throw-away PostgreSQL cluster for the tests: never a server that happens to be running.

`Cluster.start()` runs Debian's `initdb` and `pg_ctl` (from /usr/lib/postgresql/*/bin) in a
temporary folder, on a random free port, with its unix socket in that folder and no TCP
listener; `stop()` stops it and removes the folder. The tests (and CI) run as root, which
`initdb` refuses: the server then runs as the unprivileged `postgres` system user that Debian's
package creates, and the folder is given to it.

Each test gets a database of its own, copied from a migrated template (`CREATE DATABASE …
TEMPLATE`, a file copy: a few milliseconds), so tests never see each other's rows.

Install with `apt-get install postgresql` (Debian); `.ci/run` does it when it is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg

from storage.database import Database
from storage.postgres import open_postgres
from testing.ports import free_port

#: What a test run without PostgreSQL says (and CI, which never skips, fails with).
INSTALL_HINT = (
    "PostgreSQL is not installed: `apt-get install postgresql` (Debian) to run the tests of the"
    " PostgreSQL database (initdb and pg_ctl are looked for in /usr/lib/postgresql/*/bin)"
)
SERVER_USER = "postgres"
TEMPLATE = "tipline_template"


def find_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    return Path(found[-1]).parent if found else None


class Cluster:
    """One PostgreSQL server in a temporary folder (see the module's docstring)."""

    def __init__(self, bin_dir: Path, *, durable: bool = False, kept: Path | None = None) -> None:
        """`durable`: fsync and synchronous commits as a real server has them (benchmarks);
        the tests' cluster goes without, which costs nothing they check. `kept`: a folder of
        its own that outlives it (bench/storage.py: a later run finds the databases it filled),
        started again where an earlier cluster left it, stopped cleanly, never removed."""
        self.bin_dir = bin_dir
        self.durable = durable
        self.kept = kept
        if kept is not None:
            kept.mkdir(mode=0o700, exist_ok=True)
        self.folder = kept if kept is not None else Path(tempfile.mkdtemp(prefix="tipline-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        self._preexec: Callable[[], None] | None = None
        self.user = SERVER_USER if self._as_root else pwd.getpwuid(os.geteuid()).pw_name
        self._started = False

    def url(self, database: str = "postgres") -> str:
        """A URL of a database of this cluster (over the unix socket in the folder)."""
        return f"postgresql://{self.user}@/{database}?host={self.folder}&port={self.port}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): "
                               f"{result.stdout[-2000:]}{result.stderr[-2000:]}")

    def start(self) -> None:
        if self._as_root:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        os.chmod(self.folder, 0o700)
        if (self.data / "PG_VERSION").exists():  # a kept folder: its server again
            if (self.data / "postmaster.pid").exists():  # an earlier run did not stop it
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        else:
            shutil.rmtree(self.data, ignore_errors=True)  # an interrupted initdb's
            self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust",
                      "--encoding=UTF8", "--locale=C", "--no-sync")
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.folder}'"
                   f" -p {self.port} -c max_connections=200")
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-t", "60",
                  "-l", str(self.folder / "server.log"), "start")
        self._started = True

    def stop(self) -> None:
        if self._started:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                mode = "immediate" if self.kept is None else "fast"  # kept: a clean stop
                self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
            self._started = False
        if self.kept is None:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def make_template(self) -> None:
        """A database migrated once (storage/migrations_postgresql), copied for each test."""
        admin = await asyncpg.connect(self.url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
            await admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
        finally:
            await admin.close()
        db = await open_postgres(self.url(TEMPLATE))
        await db.close()

    async def new_database(self, *, migrated: bool = True) -> str:
        """The URL of a new database of its own: migrated (a copy of the template) or empty."""
        name = "t_" + uuid.uuid4().hex[:16]
        admin = await asyncpg.connect(self.url())
        try:
            if migrated:
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
            else:
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        return self.url(name)

    async def drop_database(self, url: str) -> None:
        name = url.split("/", 3)[3].split("?", 1)[0]
        admin = await asyncpg.connect(self.url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def session_cluster() -> Iterator[Cluster]:
    """For a session-scoped pytest fixture: one cluster per test process (each xdist worker
    starts its own), with its migrated template; skipped with the install hint when PostgreSQL
    is missing, except under CI (CI=true), where a missing PostgreSQL fails the tests."""
    import pytest  # pytest only for the tests, not for the bot's own imports

    bin_dir = find_bin()
    if bin_dir is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    cluster = Cluster(bin_dir)
    try:
        cluster.start()
        # In a thread of its own: the fixture may be set up from inside a test's event loop.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, cluster.make_template()).result()
        yield cluster
    finally:
        cluster.stop()


async def columns_of(db: Database, table: str) -> list[str]:
    """The column names of a table, in order, on either database (for the tests)."""
    if db.dialect == "sqlite":
        rows = await db.fetchall("SELECT name FROM pragma_table_info(?)", (table,))
    else:
        rows = await db.fetchall(
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
    return [r["name"] for r in rows]


async def table_names(db: Database) -> list[str]:
    """The tables of the database, sorted (SQLite's own bookkeeping tables left out)."""
    if db.dialect == "sqlite":
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'"
                                 " AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        rows = await db.fetchall("SELECT tablename AS name FROM pg_tables"
                                 " WHERE schemaname = current_schema() ORDER BY tablename")
    return [r["name"] for r in rows]
