"""Tests of the settings a district IT officer gives the bot, and of the command line around them.

Every missing or malformed setting must come back as one line that names the variable, all of
them at once, and the program must exit with status 2 without a traceback.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import (
    DEFAULT_DB,
    TELEGRAM_BASE_URL,
    TELEGRAM_FILE_URL,
    Config,
    ConfigError,
    derive_file_url,
    load_config,
    read_environment,
)

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-_"
KEY = base64.b64encode(bytes(range(32))).decode("ascii")
VALID = {"TIPBOT_TOKEN": TOKEN, "TIPBOT_KEY": KEY}


def config_with(**settings: str) -> Config:
    return load_config({**VALID, **settings})


def problems_with(**settings: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_with(**settings)
    return caught.value.problems


def only_problem_with(variable: str, value: str) -> str:
    """The single problem line a bad value of `variable` gives; it names the variable."""
    problems = problems_with(**{variable: value})
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{variable}:"), problems
    return problems[0]


# --- defaults and valid values ------------------------------------------------------------------


def test_defaults_match_the_spec_table() -> None:
    config = load_config(VALID)
    assert config.token == TOKEN
    assert config.master_key == bytes(range(32))
    assert config.db_path == Path(DEFAULT_DB) == Path("data/tipline.db")
    assert config.admin_ids == frozenset()
    assert config.api_base_url == TELEGRAM_BASE_URL
    assert config.api_file_url == TELEGRAM_FILE_URL
    assert config.language == "vi"
    assert config.timezone == ZoneInfo("Asia/Ho_Chi_Minh")
    assert config.areas_file is None
    assert config.ack_minutes == 60
    assert config.max_attachments == 10
    assert config.channels == ()
    assert config.broadcast_rate == 25
    assert config.log_level == "INFO"
    assert config.retention_days == 365


def test_every_variable_is_read_when_valid(tmp_path: Path) -> None:
    areas = tmp_path / "areas.toml"
    areas.write_text('[[area]]\ncode = "x"\nvi = "Xã X"\nen = "X commune"\n', encoding="utf-8")
    config = config_with(
        TIPBOT_DB=str(tmp_path / "tips.db"),
        TIPBOT_ADMIN_IDS=" 111, 222 ,333,",
        TIPBOT_API_BASE_URL="http://127.0.0.1:8081/bot",
        TIPBOT_API_FILE_URL="http://127.0.0.1:8081/files/bot",
        TIPBOT_LANGUAGE="en",
        TIPBOT_TIMEZONE="Europe/Paris",
        TIPBOT_AREAS_FILE=str(areas),
        TIPBOT_ACK_MINUTES="45",
        TIPBOT_MAX_ATTACHMENTS="3",
        TIPBOT_CHANNELS="@tipline_news, -1001234567890",
        TIPBOT_BROADCAST_RATE="12.5",
        TIPBOT_LOG_LEVEL="debug",
        TIPBOT_RETENTION_DAYS="90",
    )
    assert config.db_path == tmp_path / "tips.db"
    assert config.admin_ids == frozenset({111, 222, 333})
    assert config.api_base_url == "http://127.0.0.1:8081/bot"
    assert config.api_file_url == "http://127.0.0.1:8081/files/bot"
    assert config.language == "en"
    assert config.timezone == ZoneInfo("Europe/Paris")
    assert config.areas_file == areas
    assert config.ack_minutes == 45
    assert config.max_attachments == 3
    assert config.channels == ("@tipline_news", "-1001234567890")
    assert config.broadcast_rate == 12.5
    assert config.log_level == "DEBUG"
    assert config.retention_days == 90


def test_surrounding_spaces_are_ignored() -> None:
    config = config_with(TIPBOT_TOKEN=f"  {TOKEN}\n", TIPBOT_KEY=f" {KEY} ", TIPBOT_LANGUAGE=" en")
    assert config.token == TOKEN
    assert config.master_key == bytes(range(32))
    assert config.language == "en"


def test_empty_values_mean_the_default() -> None:
    config = config_with(TIPBOT_LANGUAGE="", TIPBOT_ACK_MINUTES="", TIPBOT_ADMIN_IDS="")
    assert (config.language, config.ack_minutes, config.admin_ids) == ("vi", 60, frozenset())


def test_secrets_never_appear_in_the_config_repr() -> None:
    shown = repr(load_config(VALID))
    assert TOKEN not in shown
    assert KEY not in shown
    assert repr(bytes(range(32))) not in shown


# --- the token and the master key ---------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "123456:ABC-def_ghi",
        "1:a",
    ],
)
def test_well_formed_tokens_are_accepted(token: str) -> None:
    assert config_with(TIPBOT_TOKEN=token).token == token


@pytest.mark.parametrize(
    "token",
    [
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # no bot id
        "123456789",  # no secret part
        "123456789:",  # empty secret part
        ":AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # empty bot id
        "12345a:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # bot id not digits
        "123456789:AAH dqTcv",  # space inside
        "123456789:AAH/dqTcv",  # slash would change the API path
        "123456789:AAH:dqTcv",  # second colon
        "bot123456789:AAHdqTcv",  # pasted with the URL's "bot" prefix
    ],
)
def test_malformed_token_is_one_line_naming_the_variable(token: str) -> None:
    line = only_problem_with("TIPBOT_TOKEN", token)
    assert "malformed" in line
    assert token not in line  # a nearly-right secret is never echoed


def test_missing_token_is_reported() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"TIPBOT_KEY": KEY})
    assert [p.split(":")[0] for p in caught.value.problems] == ["TIPBOT_TOKEN"]
    assert "missing" in caught.value.problems[0]


def test_token_is_not_needed_by_command_line_tools() -> None:
    config = load_config({"TIPBOT_KEY": KEY}, need_token=False)
    assert config.token == ""
    assert config.master_key == bytes(range(32))


def test_a_token_given_to_a_tool_is_still_checked() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"TIPBOT_KEY": KEY, "TIPBOT_TOKEN": "nonsense"}, need_token=False)
    assert caught.value.problems[0].startswith("TIPBOT_TOKEN:")


def test_key_is_not_needed_when_no_database_is_opened() -> None:
    config = load_config({"TIPBOT_TOKEN": TOKEN}, need_key=False)
    assert config.master_key == b""


def test_missing_key_is_reported_with_how_to_make_one() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"TIPBOT_TOKEN": TOKEN})
    (line,) = caught.value.problems
    assert line.startswith("TIPBOT_KEY:")
    assert "keygen" in line


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("not base64 at all!", "base64"),
        ("AAAA*AAA", "base64"),
        (KEY[:-1], "base64"),  # padding cut off
        (base64.b64encode(bytes(16)).decode(), "16 bytes"),
        (base64.b64encode(bytes(31)).decode(), "31 bytes"),
        (base64.b64encode(bytes(33)).decode(), "33 bytes"),
        (base64.b64encode(bytes(64)).decode(), "64 bytes"),
    ],
)
def test_malformed_key_is_one_line_naming_the_variable(key: str, why: str) -> None:
    line = only_problem_with("TIPBOT_KEY", key)
    assert why in line
    assert key not in line


# --- the other variables, malformed ------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "12;34", "-5", "1.5", "@admin", "12 34"])
def test_non_numeric_admin_id_is_reported(value: str) -> None:
    line = only_problem_with("TIPBOT_ADMIN_IDS", value)
    assert "numeric" in line


def test_each_bad_admin_id_gets_its_line() -> None:
    problems = problems_with(TIPBOT_ADMIN_IDS="1, x, 2, y")
    assert len(problems) == 2
    assert all(p.startswith("TIPBOT_ADMIN_IDS:") for p in problems)
    assert "'x'" in problems[0] and "'y'" in problems[1]


@pytest.mark.parametrize(
    "value", ["Mars/Olympus", "Asia", "asia/ho_chi_minh", "../etc/passwd", "GMT+7"]
)
def test_bad_timezone_is_reported(value: str) -> None:
    line = only_problem_with("TIPBOT_TIMEZONE", value)
    assert "IANA" in line


@pytest.mark.parametrize(("value", "minutes"), [("30", 30.0), ("0.5", 0.5), ("2.25", 2.25)])
def test_ack_minutes_accepts_decimals(value: str, minutes: float) -> None:
    assert config_with(TIPBOT_ACK_MINUTES=value).ack_minutes == minutes


@pytest.mark.parametrize("value", ["-1", "-0.5", "0", "0.0", "abc", "1,5", "nan", "inf", "1e400"])
def test_bad_ack_minutes_is_reported(value: str) -> None:
    only_problem_with("TIPBOT_ACK_MINUTES", value)


@pytest.mark.parametrize("value", ["-1", "2.5", "ten"])
def test_bad_max_attachments_is_reported(value: str) -> None:
    only_problem_with("TIPBOT_MAX_ATTACHMENTS", value)


def test_zero_attachments_turns_evidence_off() -> None:
    assert config_with(TIPBOT_MAX_ATTACHMENTS="0").max_attachments == 0


@pytest.mark.parametrize("value", ["0", "-3", "0.0", "a year", "nan"])
def test_bad_retention_days_is_reported(value: str) -> None:
    only_problem_with("TIPBOT_RETENTION_DAYS", value)


@pytest.mark.parametrize("value", ["30", "30.5", "31", "100", "1000"])
def test_broadcast_rate_at_or_above_telegrams_limit_is_refused(value: str) -> None:
    assert "30" in only_problem_with("TIPBOT_BROADCAST_RATE", value)


@pytest.mark.parametrize("value", ["30", "30.5", "100", "0", "-1", "fast", "0.05"])
def test_a_refused_broadcast_rate_repeats_the_value_given(value: str) -> None:
    assert repr(value) in only_problem_with("TIPBOT_BROADCAST_RATE", value)


@pytest.mark.parametrize("value", ["0", "-1", "fast", "0.05"])
def test_bad_broadcast_rate_is_reported(value: str) -> None:
    only_problem_with("TIPBOT_BROADCAST_RATE", value)


@pytest.mark.parametrize("value", ["1", "25", "29.5"])
def test_broadcast_rate_below_thirty_is_accepted(value: str) -> None:
    assert config_with(TIPBOT_BROADCAST_RATE=value).broadcast_rate == float(value)


@pytest.mark.parametrize("value", ["verbose", "5", "TRACE", "warn"])
def test_bad_log_level_is_reported(value: str) -> None:
    line = only_problem_with("TIPBOT_LOG_LEVEL", value)
    assert "DEBUG" in line and "INFO" in line


@pytest.mark.parametrize("value", ["debug", "Warning", "ERROR", "critical"])
def test_log_level_is_case_insensitive(value: str) -> None:
    assert config_with(TIPBOT_LOG_LEVEL=value).log_level == value.upper()


@pytest.mark.parametrize(
    "value",
    ["tipline_news", "@ab", "@1abc", "https://t.me/tipline", "@tip-line", "-100abc"],
)
def test_bad_channel_is_reported(value: str) -> None:
    line = only_problem_with("TIPBOT_CHANNELS", value)
    assert repr(value) in line


@pytest.mark.parametrize("value", ["fr", "EN", "vietnamese"])
def test_unknown_language_is_reported(value: str) -> None:
    only_problem_with("TIPBOT_LANGUAGE", value)


@pytest.mark.parametrize("variable", ["TIPBOT_API_BASE_URL", "TIPBOT_API_FILE_URL"])
@pytest.mark.parametrize("value", ["127.0.0.1:8081/bot", "ftp://host/bot"])
def test_api_url_must_be_http(variable: str, value: str) -> None:
    only_problem_with(variable, value)


def test_missing_areas_file_is_reported(tmp_path: Path) -> None:
    line = only_problem_with("TIPBOT_AREAS_FILE", str(tmp_path / "nowhere.toml"))
    assert "nowhere.toml" in line


def test_a_folder_is_not_an_areas_file(tmp_path: Path) -> None:
    only_problem_with("TIPBOT_AREAS_FILE", str(tmp_path))


def test_every_problem_is_reported_together() -> None:
    environ = {
        "TIPBOT_TOKEN": "not-a-token",
        "TIPBOT_KEY": "short",
        "TIPBOT_ADMIN_IDS": "me",
        "TIPBOT_LANGUAGE": "de",
        "TIPBOT_TIMEZONE": "Nowhere/Land",
        "TIPBOT_ACK_MINUTES": "-5",
        "TIPBOT_MAX_ATTACHMENTS": "many",
        "TIPBOT_CHANNELS": "news",
        "TIPBOT_BROADCAST_RATE": "50",
        "TIPBOT_LOG_LEVEL": "LOUD",
        "TIPBOT_RETENTION_DAYS": "0",
        "TIPBOT_API_BASE_URL": "localhost",
    }
    with pytest.raises(ConfigError) as caught:
        load_config(environ)
    named = sorted(line.split(":")[0] for line in caught.value.problems)
    assert named == sorted(environ)
    assert str(caught.value) == "\n".join(caught.value.problems)


def test_missing_token_and_key_are_both_reported() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({})
    assert [p.split(":")[0] for p in caught.value.problems] == ["TIPBOT_TOKEN", "TIPBOT_KEY"]


# --- the file URL and the .env file ------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "files"),
    [
        (TELEGRAM_BASE_URL, TELEGRAM_FILE_URL),
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("http://localhost:9000/api/", "http://localhost:9000/api/file/bot"),
        ("http://localhost:9000", "http://localhost:9000/file/bot"),
    ],
)
def test_file_url_is_derived_from_the_base_url(base: str, files: str) -> None:
    assert derive_file_url(base) == files


def test_file_url_follows_a_local_base_url() -> None:
    config = config_with(TIPBOT_API_BASE_URL="http://127.0.0.1:8081/bot")
    assert config.api_file_url == "http://127.0.0.1:8081/file/bot"


def test_env_file_fills_in_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# a comment\nTIPBOT_LANGUAGE=en\nTIPBOT_DB=from-file.db\nTIPBOT_LOG_LEVEL\n",
        encoding="utf-8",
    )
    merged = read_environment({"TIPBOT_DB": "from-env.db", "OTHER": "x"}, env_file)
    assert merged["TIPBOT_LANGUAGE"] == "en"
    assert merged["TIPBOT_DB"] == "from-env.db"
    assert merged["OTHER"] == "x"
    assert "TIPBOT_LOG_LEVEL" not in merged  # a name without a value sets nothing


def test_env_file_is_optional(tmp_path: Path) -> None:
    assert read_environment({"A": "1"}, tmp_path / "missing.env") == {"A": "1"}
    assert read_environment({"A": "1"}, None) == {"A": "1"}


def test_env_file_values_are_checked_like_the_environment(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"TIPBOT_KEY={KEY}\nTIPBOT_ACK_MINUTES=soon\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(read_environment({"TIPBOT_TOKEN": TOKEN}, env_file))
    assert [p.split(":")[0] for p in caught.value.problems] == ["TIPBOT_ACK_MINUTES"]


# --- the command line ---------------------------------------------------------------------------


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in `cwd`, with no TIPBOT_* variable but those in `env`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TIPBOT_")}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environ.get("PYTHONPATH")]))
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_starting_without_a_key_exits_2_naming_it(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert any(line.strip().startswith("TIPBOT_KEY:") for line in lines), result.stderr
    assert any(line.strip().startswith("TIPBOT_TOKEN:") for line in lines), result.stderr


def test_keygen_prints_a_key_the_config_accepts(tmp_path: Path) -> None:
    first = run_cli("keygen", cwd=tmp_path)
    second = run_cli("keygen", cwd=tmp_path)
    assert first.returncode == 0 and second.returncode == 0
    key = first.stdout.strip()
    assert len(load_config({"TIPBOT_TOKEN": TOKEN, "TIPBOT_KEY": key}).master_key) == 32
    assert key != second.stdout.strip()


def test_help_lists_the_subcommands(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "keygen", "officers", "audit", "sandbox"):
        assert command in result.stdout
    officers = run_cli("officers", "--help", cwd=tmp_path)
    assert officers.returncode == 0
    assert "add" in officers.stdout and "list" in officers.stdout


@pytest.fixture
def staffing_env(tmp_path: Path) -> dict[str, str]:
    return {"TIPBOT_KEY": KEY, "TIPBOT_DB": str(tmp_path / "db" / "tipline.db")}


def test_officers_add_with_an_unknown_area_lists_the_valid_codes(
    tmp_path: Path, staffing_env: dict[str, str]
) -> None:
    result = run_cli("officers", "add", "1", "--area", "nowhere", cwd=tmp_path, env=staffing_env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "nowhere" in result.stderr
    for code in ("a-luoi", "a-ngo", "hong-van", "trung-son"):
        assert code in result.stderr


def test_officers_add_twice_keeps_one_officer_with_the_new_areas(
    tmp_path: Path, staffing_env: dict[str, str]
) -> None:
    first = run_cli("officers", "add", "4242", "--area", "a-ngo", cwd=tmp_path, env=staffing_env)
    assert first.returncode == 0, first.stderr
    again = run_cli(
        "officers",
        "add",
        "4242",
        "--area",
        "hong-van",
        "--area",
        "a-luoi",
        "--name",
        "Lan",
        cwd=tmp_path,
        env=staffing_env,
    )
    assert again.returncode == 0, again.stderr
    listing = run_cli("officers", "list", cwd=tmp_path, env=staffing_env)
    assert listing.returncode == 0, listing.stderr
    lines = [line for line in listing.stdout.splitlines() if line.split("\t")[0] == "4242"]
    assert len(lines) == 1, listing.stdout
    assert "hong-van" in lines[0] and "a-luoi" in lines[0]
    assert "a-ngo" not in lines[0]
    assert "Lan" in lines[0]
    assert "pending" in lines[0]


def test_officers_commands_read_the_env_file_of_the_working_folder(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"TIPBOT_KEY={KEY}\nTIPBOT_DB={tmp_path / 'from-env-file.db'}\n", encoding="utf-8"
    )
    result = run_cli("officers", "add", "7", "--all-areas", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env-file.db").is_file()


def test_officers_add_with_the_wrong_key_exits_2_naming_it(
    tmp_path: Path, staffing_env: dict[str, str]
) -> None:
    created = run_cli("officers", "add", "2", "--all-areas", cwd=tmp_path, env=staffing_env)
    assert created.returncode == 0, created.stderr
    other_key = base64.b64encode(bytes(32)).decode()
    result = run_cli(
        "officers",
        "add",
        "1",
        "--all-areas",
        cwd=tmp_path,
        env={**staffing_env, "TIPBOT_KEY": other_key},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "TIPBOT_KEY" in result.stderr
