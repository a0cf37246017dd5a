"""The three TIPBOT_WEBHOOK_* settings: webhook mode only with an https URL (plain http only on
this machine), a secret Telegram can send, and an address to listen on; every problem one line
naming its variable, never echoing the URL or the secret."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, WebhookSettings, load_config

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-_"
KEY = base64.b64encode(bytes(range(32))).decode("ascii")
SECRET = "Abc_123-xyz"
HOOK = {
    "TIPBOT_TOKEN": TOKEN,
    "TIPBOT_KEY": KEY,
    "TIPBOT_WEBHOOK_URL": "https://tipline.example.vn/telegram/hook",
    "TIPBOT_WEBHOOK_SECRET": SECRET,
}


def webhook_of(**settings: str) -> WebhookSettings | None:
    return load_config({**HOOK, **settings}).webhook


def problems_of(**settings: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config({**HOOK, **settings})
    return caught.value.problems


def test_long_polling_without_a_url() -> None:
    assert load_config({"TIPBOT_TOKEN": TOKEN, "TIPBOT_KEY": KEY}).webhook is None
    # the other two alone do not switch the mode (nor are they checked)
    assert webhook_of(TIPBOT_WEBHOOK_URL="", TIPBOT_WEBHOOK_LISTEN="nonsense") is None


def test_webhook_settings_and_defaults() -> None:
    webhook = webhook_of()
    assert webhook is not None
    assert (webhook.url, webhook.path) == (HOOK["TIPBOT_WEBHOOK_URL"], "/telegram/hook")
    assert (webhook.host, webhook.port) == ("127.0.0.1", 8443)
    assert webhook.secret == SECRET
    assert webhook.max_connections == 40
    assert SECRET not in repr(webhook) and "/telegram/hook" not in repr(webhook)
    assert SECRET not in repr(load_config(HOOK))


@pytest.mark.parametrize(
    ("listen", "host", "port"),
    [("0.0.0.0:8443", "0.0.0.0", 8443), ("localhost:9000", "localhost", 9000),
     ("[::1]:8080", "::1", 8080), ("10.0.0.5:1", "10.0.0.5", 1)],
)
def test_listen_addresses(listen: str, host: str, port: int) -> None:
    webhook = webhook_of(TIPBOT_WEBHOOK_LISTEN=listen)
    assert webhook is not None and (webhook.host, webhook.port) == (host, port)


@pytest.mark.parametrize(
    "url",
    ["https://tipline.example.vn/hook", "https://tipline.example.vn:8443/h", "https://a.vn:88/",
     "http://127.0.0.1:8081/hook", "http://localhost:9000/x", "https://203.0.113.7/hook"],
)
def test_accepted_urls(url: str) -> None:
    assert webhook_of(TIPBOT_WEBHOOK_URL=url) is not None


def test_a_url_without_a_path_is_served_at_the_root() -> None:
    webhook = webhook_of(TIPBOT_WEBHOOK_URL="https://tipline.example.vn")
    assert webhook is not None and webhook.path == "/"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://tipline.example.vn/hook", "must start with https://"),
        ("http://192.168.1.10:8080/hook", "must start with https://"),
        ("ftp://tipline.example.vn/hook", "not a URL"),
        ("tipline.example.vn/hook", "not a URL"),
        ("https:///hook", "not a URL"),
        ("https://tipline.example.vn:99999/hook", "port"),
        ("https://tipline.example.vn:8080/hook", "443, 80, 88 or 8443"),
    ],
)
def test_bad_urls_are_one_line_without_the_url(url: str, why: str) -> None:
    problems = problems_of(TIPBOT_WEBHOOK_URL=url)
    assert len(problems) == 1, problems
    assert problems[0].startswith("TIPBOT_WEBHOOK_URL:") and why in problems[0]
    assert "/hook" not in problems[0]


def test_the_secret_is_required_with_a_url() -> None:
    problems = problems_of(TIPBOT_WEBHOOK_SECRET="")
    assert len(problems) == 1 and problems[0].startswith("TIPBOT_WEBHOOK_SECRET: missing")


@pytest.mark.parametrize("secret", ["has space", "ü-umlaut", "semi;colon", "x" * 257, "a/b"])
def test_malformed_secrets_are_one_line_without_the_secret(secret: str) -> None:
    problems = problems_of(TIPBOT_WEBHOOK_SECRET=secret)
    assert len(problems) == 1 and problems[0].startswith("TIPBOT_WEBHOOK_SECRET:")
    assert secret not in problems[0]


@pytest.mark.parametrize("secret", ["a", "x" * 256, "A-Z_a-z_0-9"])
def test_well_formed_secrets(secret: str) -> None:
    webhook = webhook_of(TIPBOT_WEBHOOK_SECRET=secret)
    assert webhook is not None and webhook.secret == secret


@pytest.mark.parametrize(
    "listen", ["8443", "127.0.0.1", "127.0.0.1:", ":8443", "127.0.0.1:0", "host:65536",
               "127.0.0.1:84a3", "a b:80", "[::1:80"],
)
def test_bad_listen_addresses(listen: str) -> None:
    problems = problems_of(TIPBOT_WEBHOOK_LISTEN=listen)
    assert len(problems) == 1 and problems[0].startswith("TIPBOT_WEBHOOK_LISTEN:")


def test_every_webhook_problem_at_once_and_with_the_others() -> None:
    problems = problems_of(
        TIPBOT_WEBHOOK_URL="http://tipline.example.vn/hook",
        TIPBOT_WEBHOOK_SECRET="bad secret",
        TIPBOT_WEBHOOK_LISTEN="nowhere",
        TIPBOT_LANGUAGE="de",
    )
    names = sorted(line.split(":", 1)[0] for line in problems)
    assert names == ["TIPBOT_LANGUAGE", "TIPBOT_WEBHOOK_LISTEN", "TIPBOT_WEBHOOK_SECRET",
                     "TIPBOT_WEBHOOK_URL"]


def test_the_command_line_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    env = {**HOOK, "TIPBOT_WEBHOOK_URL": "http://tipline.example.vn/hook",
           "TIPBOT_WEBHOOK_SECRET": "", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "tipline: cannot start:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "TIPBOT_WEBHOOK_URL", "TIPBOT_WEBHOOK_SECRET"
    ]
    assert "Traceback" not in result.stderr


def test_the_secret_may_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "webhook-secret"
    path.write_text(SECRET + "\n")
    webhook = webhook_of(TIPBOT_WEBHOOK_SECRET="", TIPBOT_WEBHOOK_SECRET_FILE=str(path))
    assert webhook is not None and webhook.secret == SECRET
    problems = problems_of(
        TIPBOT_WEBHOOK_SECRET="", TIPBOT_WEBHOOK_SECRET_FILE=str(tmp_path / "missing")
    )
    assert len(problems) == 1 and problems[0].startswith("TIPBOT_WEBHOOK_SECRET_FILE:")
