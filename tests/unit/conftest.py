"""What the unit tests share: a store opened with a known master key, on SQLite (a file in a
temporary folder) and on PostgreSQL (a database of its own in the session's throw-away cluster,
testing/postgres.py): every test that takes `store` (or `db_target`) runs on both.

A test that is about SQLite itself (query plans, WAL bytes, the backup API, file modes) opens
its own file and says so with the `sqlite_only` mark."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from storage.store import Store, open_store
from testing.postgres import Cluster, session_cluster

#: The master key of the `store` fixture (tests that reopen the database use it too).
MASTER = bytes(range(32))
DIALECTS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: the test is about SQLite itself (PostgreSQL has no twin)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A `sqlite_only` test is not run on PostgreSQL (deselected, not skipped)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_pg = callspec is not None and callspec.params.get("dialect") == "postgresql"
        (dropped if on_pg and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """This test process's PostgreSQL cluster, started on first use (testing/postgres.py)."""
    yield from session_cluster()


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def db_target(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[str | Path]:
    """What TIPBOT_DB would say: `tmp_path / "tipline.db"`, or the URL of a new database
    (migrated, empty), dropped after the test."""
    if dialect == "sqlite":
        yield tmp_path / "tipline.db"
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    url = await cluster.new_database()
    try:
        yield url
    finally:
        await cluster.drop_database(url)


@pytest.fixture
async def store(db_target: str | Path) -> AsyncIterator[Store]:
    """A fresh store at `db_target`, closed after the test."""
    opened = await open_store(db_target, MASTER)
    try:
        yield opened
    finally:
        await opened.close()
