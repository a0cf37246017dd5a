"""Tests of logging: the bot token never reaches the log, nor python-telegram-bot's debug output
(whole updates: what a resident wrote, their id and name), even at DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import NO_DEBUG_LOGGERS, QUIET_LOGGERS, RedactingFilter, configure_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
URL = f"https://api.telegram.org/bot{TOKEN}/getUpdates"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = (*QUIET_LOGGERS, *NO_DEBUG_LOGGERS, "telegram.ext", "bot")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def test_at_debug_the_http_client_stays_at_warning() -> None:
    configure_logging("DEBUG", secrets=[TOKEN])
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    for name in ("httpx", "httpcore"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)


def test_at_debug_telegram_stays_at_info() -> None:
    configure_logging("DEBUG", secrets=[TOKEN])
    for name in ("telegram", "telegram.ext", "telegram.ext.Application", "telegram._bot"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.INFO, name
    assert logging.getLogger("bot").isEnabledFor(logging.DEBUG)


@pytest.mark.parametrize("level", ["INFO", "WARNING", "ERROR"])
def test_higher_levels_apply_to_the_quiet_loggers_too(level: str) -> None:
    configure_logging(level)
    numeric = logging.getLevelName(level)
    assert logging.getLogger("telegram").getEffectiveLevel() == numeric
    assert logging.getLogger("httpx").getEffectiveLevel() == max(numeric, logging.WARNING)


def test_request_lines_and_update_dumps_are_not_written(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", secrets=[TOKEN])
    logging.getLogger("httpx").info('HTTP Request: POST %s "HTTP/1.1 200 OK"', URL)
    logging.getLogger("telegram.ext.Updater").debug("update: {'text': 'secret tip'}")
    logging.getLogger("bot").debug("bot debug line")
    err = capsys.readouterr().err
    assert "HTTP Request" not in err
    assert "secret tip" not in err
    assert "bot debug line" in err


def test_the_token_is_redacted_from_messages(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", secrets=[TOKEN])
    logging.getLogger("bot").warning("cannot reach %s", URL)
    logging.getLogger("httpx").warning("giving up on %s", URL)
    logging.getLogger("telegram").error(f"inline {TOKEN} text")
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert err.count("[redacted]") == 3
    assert "cannot reach https://api.telegram.org/bot[redacted]/getUpdates" in err


def test_the_token_is_redacted_from_exceptions(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", secrets=[TOKEN])
    log = logging.getLogger("workers.delivery")
    try:
        try:
            raise ConnectionError(f"connect failed for {URL}")
        except ConnectionError as inner:
            raise RuntimeError(f"while polling {URL}") from inner
    except RuntimeError as error:
        log.exception("polling failed")
        log.error("update %s failed: %s", 7, type(error).__name__, exc_info=error)
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert "Traceback" in err
    assert "connect failed for https://api.telegram.org/bot[redacted]/getUpdates" in err
    assert "while polling https://api.telegram.org/bot[redacted]/getUpdates" in err


def test_an_exception_passed_as_an_argument_is_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", secrets=[TOKEN])
    logging.getLogger("bot").warning("failed: %s", ValueError(URL))
    assert TOKEN not in capsys.readouterr().err


def test_configuring_twice_does_not_duplicate_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", secrets=[TOKEN])
    configure_logging("INFO", secrets=[TOKEN])
    logging.getLogger("bot").info("only once")
    assert capsys.readouterr().err.count("only once") == 1


def test_no_secret_means_nothing_is_changed() -> None:
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "value %s", (URL,), None)
    assert RedactingFilter([]).filter(record)
    assert RedactingFilter([""]).filter(record)
    assert record.getMessage() == f"value {URL}"


def test_the_filter_never_drops_a_record() -> None:
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "plain", None, None)
    assert RedactingFilter([TOKEN]).filter(record)
    assert record.getMessage() == "plain"
