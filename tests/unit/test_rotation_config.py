"""Settings of issue 14: decimal retention, the previous master key, secrets read from files
(systemd credentials)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-_"
KEY = base64.b64encode(bytes(range(32))).decode("ascii")
OLD = base64.b64encode(bytes(range(1, 33))).decode("ascii")


def test_retention_takes_decimals() -> None:
    config = load_config({"TIPBOT_TOKEN": TOKEN, "TIPBOT_KEY": KEY,
                          "TIPBOT_RETENTION_DAYS": "0.5"})
    assert config.retention_days == 0.5


def test_the_previous_master_key_is_read_and_checked() -> None:
    config = load_config({"TIPBOT_TOKEN": TOKEN, "TIPBOT_KEY": KEY, "TIPBOT_KEY_OLD": OLD})
    assert config.master_key_old == bytes(range(1, 33))
    assert OLD not in repr(config) and "master_key_old" not in repr(config)
    assert load_config({"TIPBOT_TOKEN": TOKEN, "TIPBOT_KEY": KEY}).master_key_old is None
    with pytest.raises(ConfigError) as caught:
        load_config({"TIPBOT_TOKEN": TOKEN, "TIPBOT_KEY": KEY, "TIPBOT_KEY_OLD": "abc"})
    assert caught.value.problems == [
        "TIPBOT_KEY_OLD: not valid base64; `python -m bot keygen` prints one"]


def test_the_key_and_the_token_can_come_from_files(tmp_path: Path) -> None:
    (tmp_path / "key").write_text(KEY + "\n")
    (tmp_path / "token").write_text(TOKEN + "\n")
    config = load_config({"TIPBOT_KEY_FILE": str(tmp_path / "key"),
                          "TIPBOT_TOKEN_FILE": str(tmp_path / "token")})
    assert config.master_key == bytes(range(32)) and config.token == TOKEN
    # The variable itself wins (the sandbox sets its own key whatever a .env says).
    other = base64.b64encode(bytes(32)).decode()
    assert load_config({"TIPBOT_TOKEN": TOKEN, "TIPBOT_KEY": other,
                        "TIPBOT_KEY_FILE": str(tmp_path / "key")}).master_key == bytes(32)


def test_an_unreadable_key_file_is_one_line_without_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"TIPBOT_TOKEN": TOKEN, "TIPBOT_KEY_FILE": str(tmp_path / "absent")})
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("TIPBOT_KEY_FILE: cannot read ")
    (tmp_path / "bad").write_text("not a key")
    with pytest.raises(ConfigError) as caught:
        load_config({"TIPBOT_TOKEN": TOKEN, "TIPBOT_KEY_FILE": str(tmp_path / "bad")})
    assert caught.value.problems == [
        "TIPBOT_KEY: not valid base64; `python -m bot keygen` prints one"]
