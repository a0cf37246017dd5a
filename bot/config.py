"""Configuration from the environment and an optional `.env` file.

Every setting is read and checked here, once, at start. A deployment fails loudly and clearly:
each missing or malformed value becomes one line that names the variable and says what is
wrong, and the program exits with status 2 without a traceback (a traceback in front of a
district IT officer hides the one line that matters).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from texts.catalog import CatalogError, add_languages, is_language, languages

TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
N = TypeVar("N", int, float)
CHANNEL_PATTERN = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_DB = "data/tipline.db"
TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
TELEGRAM_FILE_URL = "https://api.telegram.org/file/bot"
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WEBHOOK_LISTEN_DEFAULT = "127.0.0.1:8443"
#: Hosts a webhook URL may name over plain http (the emulator, a test, a proxy on this machine).
WEBHOOK_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: The only ports Telegram posts webhooks to.
WEBHOOK_TELEGRAM_PORTS = (443, 80, 88, 8443)
#: Simultaneous connections Telegram may open (setWebhook's max_connections; its default).
WEBHOOK_MAX_CONNECTIONS = 40

#: Variables that only the sandbox sets for itself; it ignores these from any `.env`.
SANDBOX_OVERRIDDEN = (
    "TIPBOT_TOKEN",
    "TIPBOT_KEY",
    "TIPBOT_DB",
    "TIPBOT_API_BASE_URL",
    "TIPBOT_API_FILE_URL",
    "TIPBOT_WEBHOOK_URL",  # the sandbox always long-polls its own emulator
)


class ConfigError(Exception):
    """One or more settings are missing or malformed; `problems` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class WebhookSettings:
    """Webhook mode: Telegram posts to `url`; this process serves `path` on `host:port`."""

    url: str = field(repr=False)  # its path may be part of the secret
    path: str = field(repr=False)
    host: str
    port: int
    secret: str = field(repr=False)
    max_connections: int = WEBHOOK_MAX_CONNECTIONS


@dataclass(frozen=True)
class Config:
    """The checked settings. Secrets are excluded from `repr` so they never reach a log."""

    token: str = field(repr=False)
    master_key: bytes = field(repr=False)
    db_path: Path
    admin_ids: frozenset[int]
    api_base_url: str
    api_file_url: str
    language: str
    languages_dir: Path | None
    timezone: ZoneInfo
    areas_file: Path | None
    ack_minutes: float
    max_attachments: int
    channels: tuple[str, ...]
    broadcast_rate: float
    log_level: str
    retention_days: float
    max_tips_per_day: int
    master_key_old: bytes | None = field(repr=False, default=None)
    webhook: WebhookSettings | None = None  # None: long polling
    #: TIPBOT_DB as a `postgresql://…` URL (it may hold a password: never in a repr or a log);
    #: None: the SQLite file `db_path`.
    db_url: str | None = field(repr=False, default=None)

    @property
    def database(self) -> str | Path:
        """What storage.store.open_store opens: the PostgreSQL URL, else the SQLite path."""
        return self.db_url if self.db_url is not None else self.db_path

    @property
    def database_name(self) -> str:
        """The database for a message: the SQLite path, or the URL without its password."""
        if self.db_url is None:
            return str(self.db_path)
        parts = urlsplit(self.db_url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        user = parts.username
        return f"{parts.scheme}://{user + '@' if user else ''}{netloc}{parts.path}"

    def database_exists(self) -> bool:
        """A SQLite file that exists, or any PostgreSQL URL (its server holds the database;
        an empty one is migrated when opened)."""
        return self.db_url is not None or self.db_path.exists()


def read_environment(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> dict[str, str]:
    """Merge the `.env` file of the working folder under the environment (the environment wins)."""
    merged: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return merged


def load_config(
    environ: Mapping[str, str], *, need_token: bool = True, need_key: bool = True
) -> Config:
    """Check every setting and return them, or raise ConfigError listing every problem.

    `need_token` is False for command-line tools (such as `officers add`) that never talk to
    Telegram; `need_key` is False for those that never open the database.
    """
    problems: list[str] = []

    def get(name: str) -> str:
        return environ.get(name, "").strip()

    token = _secret(environ, "TIPBOT_TOKEN", problems)
    if not token:
        if need_token:
            problems.append("TIPBOT_TOKEN: missing; get the bot's token from @BotFather")
    elif not TOKEN_PATTERN.match(token):
        problems.append(
            "TIPBOT_TOKEN: malformed; expected <digits>:<letters, digits, _ or -> as BotFather"
            " gives it"
        )

    master_key = _master_key(_secret(environ, "TIPBOT_KEY", problems), "TIPBOT_KEY", problems)
    if not master_key and need_key and not any(p.startswith("TIPBOT_KEY") for p in problems):
        problems.append("TIPBOT_KEY: missing; `python -m bot keygen` prints a new one")
    master_key_old = _master_key(
        _secret(environ, "TIPBOT_KEY_OLD", problems), "TIPBOT_KEY_OLD", problems
    )

    admin_ids: set[int] = set()
    for part in filter(None, (p.strip() for p in get("TIPBOT_ADMIN_IDS").split(","))):
        if re.fullmatch(r"\d{1,20}", part):
            admin_ids.add(int(part))
        else:
            problems.append(
                f"TIPBOT_ADMIN_IDS: {part!r} is not a numeric Telegram user id"
                " (comma-separated numbers expected)"
            )

    base_url = get("TIPBOT_API_BASE_URL") or TELEGRAM_BASE_URL
    file_url = get("TIPBOT_API_FILE_URL")
    if not re.match(r"^https?://", base_url):
        problems.append("TIPBOT_API_BASE_URL: must start with http:// or https://")
    if not file_url:
        file_url = derive_file_url(base_url)
    elif not re.match(r"^https?://", file_url):
        problems.append("TIPBOT_API_FILE_URL: must start with http:// or https://")

    # The added catalogs are read here, once, and join the shipped ones (texts.catalog).
    languages_text = get("TIPBOT_LANGUAGES_DIR")
    languages_dir = Path(languages_text) if languages_text else None
    try:
        add_languages(languages_dir)
    except CatalogError as error:
        problems.extend(f"TIPBOT_LANGUAGES_DIR: {problem}" for problem in error.problems)
    language = get("TIPBOT_LANGUAGE") or "vi"
    if not is_language(language):
        known = ", ".join(known.code for known in languages())
        problems.append(f"TIPBOT_LANGUAGE: {language!r} is not one of {known}")

    tz_name = get("TIPBOT_TIMEZONE") or "Asia/Ho_Chi_Minh"
    timezone = ZoneInfo("UTC")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder in tzdata
        problems.append(
            f"TIPBOT_TIMEZONE: {tz_name!r} is not a known IANA time zone (e.g. Asia/Ho_Chi_Minh)"
        )

    areas_text = get("TIPBOT_AREAS_FILE")
    areas_file = Path(areas_text) if areas_text else None
    if areas_file is not None and not areas_file.is_file():
        problems.append(f"TIPBOT_AREAS_FILE: no such file: {areas_text}")

    ack_minutes = _number(get, "TIPBOT_ACK_MINUTES", "60", float, problems, minimum=0.0)
    if ack_minutes == 0:
        problems.append("TIPBOT_ACK_MINUTES: must be greater than 0")
    max_attachments = _number(get, "TIPBOT_MAX_ATTACHMENTS", "10", int, problems, minimum=0)
    broadcast_rate = _number(get, "TIPBOT_BROADCAST_RATE", "25", float, problems, minimum=0.1)
    if broadcast_rate >= 30:
        problems.append(
            f"TIPBOT_BROADCAST_RATE: {get('TIPBOT_BROADCAST_RATE')!r} must stay below Telegram's"
            " 30 messages/s, leaving room for officers' cards and residents' answers"
        )
    retention_days = _number(get, "TIPBOT_RETENTION_DAYS", "365", float, problems, minimum=0.0)
    if retention_days == 0:
        problems.append("TIPBOT_RETENTION_DAYS: must be greater than 0")
    max_tips_per_day = _number(get, "TIPBOT_MAX_TIPS_PER_DAY", "5", int, problems, minimum=1)

    channels: list[str] = []
    for part in filter(None, (p.strip() for p in get("TIPBOT_CHANNELS").split(","))):
        if CHANNEL_PATTERN.match(part):
            channels.append(part)
        else:
            problems.append(
                f"TIPBOT_CHANNELS: {part!r} is neither a numeric chat id nor an @username"
            )

    log_level = (get("TIPBOT_LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"TIPBOT_LOG_LEVEL: {log_level!r} is not one of {', '.join(LOG_LEVELS)}")

    webhook = webhook_settings(environ, get, problems)
    db_url = _database_url(get("TIPBOT_DB"), problems)

    if problems:
        raise ConfigError(problems)
    return Config(
        token=token,
        master_key=master_key,
        db_path=Path(DEFAULT_DB if db_url else get("TIPBOT_DB") or DEFAULT_DB),
        db_url=db_url,
        admin_ids=frozenset(admin_ids),
        api_base_url=base_url,
        api_file_url=file_url,
        language=language,
        languages_dir=languages_dir,
        timezone=timezone,
        areas_file=areas_file,
        ack_minutes=ack_minutes,
        max_attachments=max_attachments,
        channels=tuple(channels),
        broadcast_rate=broadcast_rate,
        log_level=log_level,
        retention_days=retention_days,
        max_tips_per_day=max_tips_per_day,
        master_key_old=master_key_old or None,
        webhook=webhook,
    )


def webhook_settings(
    environ: Mapping[str, str], get: Callable[[str], str], problems: list[str]
) -> WebhookSettings | None:
    """The three TIPBOT_WEBHOOK_* variables (None without a URL: long polling).

    Neither the URL (its path may be secret) nor the secret is ever echoed in a problem line.
    """
    url = get("TIPBOT_WEBHOOK_URL")
    if not url:
        return None
    count = len(problems)
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("https", "http") or not host:
        problems.append("TIPBOT_WEBHOOK_URL: not a URL; expected https://host/path")
    elif parts.scheme == "http" and host not in WEBHOOK_LOCAL_HOSTS:
        problems.append(
            "TIPBOT_WEBHOOK_URL: must start with https:// (http:// only for 127.0.0.1 or"
            " localhost)"
        )
    elif port == -1:
        problems.append("TIPBOT_WEBHOOK_URL: the port is not a number from 1 to 65535")
    elif host not in WEBHOOK_LOCAL_HOSTS and (port or 443) not in WEBHOOK_TELEGRAM_PORTS:
        problems.append("TIPBOT_WEBHOOK_URL: Telegram posts only to ports 443, 80, 88 or 8443")

    unread = len(problems)
    secret = _secret(environ, "TIPBOT_WEBHOOK_SECRET", problems)  # or TIPBOT_WEBHOOK_SECRET_FILE
    if not secret:
        if len(problems) == unread:  # (an unreadable file has said so already)
            problems.append(
                "TIPBOT_WEBHOOK_SECRET: missing; required with TIPBOT_WEBHOOK_URL (1-256 of A-Z,"
                " a-z, 0-9, _ and -)"
            )
    elif not WEBHOOK_SECRET_PATTERN.match(secret):
        problems.append("TIPBOT_WEBHOOK_SECRET: must be 1-256 of A-Z, a-z, 0-9, _ and -")

    listen = get("TIPBOT_WEBHOOK_LISTEN") or WEBHOOK_LISTEN_DEFAULT
    address = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})", listen)
    listen_host, listen_port = "", 0
    if address is not None:
        listen_host, listen_port = address[1].strip("[]"), int(address[2])
    if address is None or not 1 <= listen_port <= 65535:
        problems.append(
            f"TIPBOT_WEBHOOK_LISTEN: {listen!r} is not host:port (e.g. {WEBHOOK_LISTEN_DEFAULT},"
            " or 0.0.0.0:8443 behind a proxy)"
        )
    if len(problems) > count:
        return None
    return WebhookSettings(
        url=url,
        path=parts.path or "/",
        host=listen_host,
        port=listen_port,
        secret=secret,
    )


def read_secret(environ: Mapping[str, str], name: str, problems: list[str]) -> str:
    """`NAME`, or the content of the file `NAME_FILE` names (see `_secret`); for the command
    line's own secrets (`migrate-db`'s TIPBOT_MIGRATE_TO)."""
    return _secret(environ, name, problems)


def _secret(environ: Mapping[str, str], name: str, problems: list[str]) -> str:
    """A secret from `NAME`, or, when that is unset, from the file named by `NAME_FILE` (a
    systemd credential: `LoadCredential=` and `NAME_FILE=%d/...`, see deploy/). The file's
    content is never echoed."""
    value = environ.get(name, "").strip()
    path = environ.get(name + "_FILE", "").strip()
    if value or not path:
        return value
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "unreadable"
        problems.append(f"{name}_FILE: cannot read {path}: {reason}")
        return ""


def _master_key(text: str, name: str, problems: list[str]) -> bytes:
    """Base64 of 32 bytes, or b"" when `text` is empty; a problem line otherwise."""
    if not text:
        return b""
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        problems.append(f"{name}: not valid base64; `python -m bot keygen` prints one")
        return b""
    if len(key) != 32:
        problems.append(
            f"{name}: decodes to {len(key)} bytes, expected 32; `python -m bot keygen` prints one"
        )
        return b""
    return key


def derive_file_url(base_url: str) -> str:
    """`http://host:8081/bot` serves files at `http://host:8081/file/bot`, as Telegram does."""
    if base_url.endswith("/bot"):
        return base_url[: -len("/bot")] + "/file/bot"
    return base_url.rstrip("/") + "/file/bot"


def _database_url(value: str, problems: list[str]) -> str | None:
    """TIPBOT_DB as a PostgreSQL URL (`postgresql://user:password@host:port/db`), or None
    when it names a SQLite file. A malformed URL is a problem line (its password never shown)."""
    if not value.startswith(("postgresql://", "postgres://")):
        return None
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        problems.append("TIPBOT_DB: not a valid postgresql:// URL"
                        " (postgresql://user:password@host:port/database)")
        return None
    if not parts.path.strip("/"):
        problems.append("TIPBOT_DB: the postgresql:// URL names no database"
                        " (postgresql://user:password@host:port/database)")
        return None
    return value


def _number(
    get: Callable[[str], str],
    name: str,
    default: str,
    kind: Callable[[str], N],
    problems: list[str],
    *,
    minimum: float,
) -> N:
    """Parse a numeric setting, adding a problem line (and returning the default) if it is bad."""
    text = get(name) or default
    try:
        value = kind(text)
    except ValueError:
        word = "a number" if kind is float else "a whole number"
        problems.append(f"{name}: {text!r} is not {word}")
        return kind(default)
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        problems.append(f"{name}: {text!r} is not a finite number")
        return kind(default)
    if value < minimum:
        problems.append(f"{name}: {text!r} must be at least {minimum}")
        return kind(default)
    return value
