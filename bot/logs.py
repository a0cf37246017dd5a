"""Logging to standard error, with the secrets and request lines kept out.

python-telegram-bot's HTTP client (httpx) logs every request URL at INFO, and a Bot API URL
contains the bot token; those loggers are raised to WARNING. A filter also replaces the token
wherever it might still appear (an exception message quoting a URL, for example). What Tipline
itself logs is update ids, tip references, timings and errors: never what a resident wrote or who
they are, which is why handlers log ids, not messages.
"""

from __future__ import annotations

import logging
import sys

#: Loggers kept at WARNING: the HTTP client logs URLs with the token at INFO; APScheduler logs
#: every run of every job at INFO (the workers' passes run as jobs: a line per pass, with
#: microsecond times that say nothing useful).
QUIET_LOGGERS = ("httpx", "httpcore", "aiosqlite", "apscheduler")
#: Loggers kept at INFO or above: at DEBUG python-telegram-bot prints whole updates (what a
#: resident wrote, their id, username and name) and request payloads.
NO_DEBUG_LOGGERS = ("telegram", "asyncio")


class RedactingFilter(logging.Filter):
    """Replace each secret in a formatted record by a fixed mask."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "[redacted]")
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self._secrets:
                record.exc_text = record.exc_text.replace(secret, "[redacted]")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str, secrets: list[str] | None = None) -> None:
    """Send records to standard error at `level`, quieting the HTTP client and masking secrets."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets or []))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    numeric = logging.getLevelName(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, numeric))
    for name in NO_DEBUG_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, numeric))
