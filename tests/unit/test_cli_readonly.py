"""Read-only command-line calls never create a database, and migrations are only heard of when
one is applied (SPEC "Command line": exit 2, one line per problem)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from storage.keyring import generate_master_key
from storage.store import open_store
from tests.unit.test_config import run_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TIPBOT_KEY": generate_master_key(), "TIPBOT_DB": str(tmp_path / "db" / "t.db")}


@pytest.mark.parametrize("command", [
    ("officers", "list"), ("audit", "verify"), ("officers", "deactivate", "42"),
    ("officers", "reactivate", "42"),
])
def test_read_only_commands_on_a_missing_database_say_so_and_create_nothing(
    tmp_path: Path, env: dict[str, str], command: tuple[str, ...]
) -> None:
    result = run_cli(*command, cwd=tmp_path, env=env)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "no database" in lines[0] and env["TIPBOT_DB"] in lines[0]
    assert "TIPBOT_DB" in lines[0]
    assert result.stdout == ""
    assert not Path(env["TIPBOT_DB"]).exists() and not (tmp_path / "db").exists()
    assert not (tmp_path / "data").exists()  # not the default path either


def test_migrations_are_one_warning_each_when_applied_and_silent_afterwards(
    tmp_path: Path, env: dict[str, str]
) -> None:
    first = run_cli("officers", "add", "42", "--all-areas", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    applied = [line for line in first.stderr.splitlines() if "applied migration" in line]
    assert applied and all(" WARNING " in line for line in applied), first.stderr
    assert " INFO " not in first.stderr
    later = (("officers", "list"), ("audit", "verify"), ("officers", "add", "43", "--all-areas"))
    for command in later:
        again = run_cli(*command, cwd=tmp_path, env=env)
        assert again.returncode == 0, again.stderr
        assert again.stderr == "", again.stderr


def test_officers_list_on_an_empty_database_says_there_is_nobody(
    tmp_path: Path, env: dict[str, str]
) -> None:
    async def create() -> None:  # what a bot that ran once leaves: a database, no staff
        store = await open_store(Path(env["TIPBOT_DB"]), base64.b64decode(env["TIPBOT_KEY"]))
        await store.close()

    asyncio.run(create())
    result = run_cli("officers", "list", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no officers or admins registered yet"
    assert result.stderr == ""


def test_restore_check_without_a_current_database_reads_the_copy_and_creates_nothing(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Restoring onto a machine whose database is gone: the copy is still checked and dated,
    its folder gets no leftover scratch file, and TIPBOT_DB is not created."""
    copy = tmp_path / "copy.db"

    async def create() -> None:
        store = await open_store(copy, base64.b64decode(env["TIPBOT_KEY"]))
        try:
            await store.audit.record(0, "staff", None, target=42, change="deactivate")
        finally:
            await store.close()

    asyncio.run(create())
    before = copy.read_bytes()
    files = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli("restore-check", str(copy), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "the copy holds 1 audit entries, the newest at 20" in result.stdout
    assert "no current database to compare with" in result.stdout
    assert copy.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files  # no scratch copy left
    assert not Path(env["TIPBOT_DB"]).exists() and not (tmp_path / "db").exists()
