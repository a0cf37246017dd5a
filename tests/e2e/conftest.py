"""Fixtures for end-to-end tests: an emulator in a thread and the bot as a subprocess."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from emulator import Emulator, EmulatorThread
from testing.harness import BotProcess
from testing.postgres import Cluster, session_cluster


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    runner = EmulatorThread(bot_username="tipline_test_bot")
    emulator = runner.start()
    try:
        yield emulator
    finally:
        runner.stop()


@pytest.fixture
def make_bot(emulator: Emulator, tmp_path) -> Iterator:  # type: ignore[no-untyped-def]
    """`make_bot(**settings)` gives a configured, not yet started BotProcess."""
    bots: list[BotProcess] = []

    def make(**settings: str) -> BotProcess:
        bot = BotProcess(emulator, tmp_path, **settings)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.stop()
    violations = emulator.check_recorded_calls()
    assert not violations, f"calls that the Bot API would reject: {violations}"


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[Cluster]:
    """The PostgreSQL cluster of this test process (testing/postgres.py), started on first use."""
    yield from session_cluster()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The bot's TIPBOT_DB setting for a test run on both databases: {} for the harness's
    SQLite file, or a fresh, not yet migrated PostgreSQL database of `pg_cluster`."""
    if request.param == "sqlite":
        yield {}
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    url = asyncio.run(cluster.new_database(migrated=False))
    yield {"TIPBOT_DB": url}
    asyncio.run(cluster.drop_database(url))
