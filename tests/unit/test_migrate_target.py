"""`migrate-db` reads the PostgreSQL URL from TIPBOT_MIGRATE_TO (or a file), not only from the
command line, where its password shows in the process list and stays in the shell's history;
`--to` still works, with a warning that never repeats the password (finding 3 of 2026-12-03).
The copy itself, through the environment, is tests/e2e/test_postgresql.py
`test_a_sqlite_line_moved_with_migrate_db_goes_on_on_postgresql`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import build_parser, migrate_target
from storage.keyring import generate_master_key
from tests.unit.test_config import run_cli

URL = "postgresql://tipline:s3cret-pw@db-host:5432/tipline"
SOCKET = "postgresql://tipline@/tipline?host=/run/postgresql&port=5432"


def _target(argv: list[str], environ: dict[str, str]) -> tuple[str, list[str]]:
    problems: list[str] = []
    url = migrate_target(build_parser().parse_args(["migrate-db", *argv]), environ, problems)
    return url, problems


def test_the_url_from_the_environment_is_taken_without_a_word(capsys) -> None:
    assert _target([], {"TIPBOT_MIGRATE_TO": f" {URL}\n"}) == (URL, [])
    assert capsys.readouterr().err == ""


def test_the_url_from_a_file(tmp_path: Path, capsys) -> None:
    secret = tmp_path / "migrate-to"
    secret.write_text(URL + "\n", encoding="utf-8")
    assert _target(["--to-file", str(secret)], {}) == (URL, [])
    assert _target([], {"TIPBOT_MIGRATE_TO_FILE": str(secret)}) == (URL, [])
    url, problems = _target(["--to-file", str(tmp_path / "none")], {})
    assert url == "" and len(problems) == 1 and problems[0].startswith("--to-file: cannot read")
    assert capsys.readouterr().err == ""


def test_to_with_a_password_still_works_but_warns_without_repeating_it(capsys) -> None:
    assert _target(["--to", URL], {"TIPBOT_MIGRATE_TO": SOCKET}) == (URL, [])  # --to wins
    warning = capsys.readouterr().err
    assert "warning" in warning and "TIPBOT_MIGRATE_TO" in warning and "--to-file" in warning
    assert "s3cret-pw" not in warning and URL not in warning
    with_parameter = "postgresql://tipline@db-host/tipline?password=s3cret-pw"
    assert _target(["--to", with_parameter], {}) == (with_parameter, [])
    assert "s3cret-pw" not in capsys.readouterr().err
    # No password (a local socket, peer authentication): nothing to warn about.
    assert _target(["--to", SOCKET], {}) == (SOCKET, [])
    assert capsys.readouterr().err == ""


def test_no_url_anywhere_is_one_problem_naming_the_variable() -> None:
    url, problems = _target([], {})
    assert url == "" and len(problems) == 1 and "TIPBOT_MIGRATE_TO" in problems[0]


def test_to_and_to_file_together_are_refused(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["migrate-db", "--to", URL, "--to-file", "x"])
    assert exit_.value.code == 2
    assert "s3cret-pw" not in capsys.readouterr().err  # argparse names the options only


def test_the_command_without_a_url_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {"TIPBOT_KEY": generate_master_key(), "TIPBOT_DB": str(tmp_path / "t.db")}
    result = run_cli("migrate-db", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "TIPBOT_MIGRATE_TO" in result.stderr
    assert not (tmp_path / "t.db").exists()
