"""While Telegram cannot be reached: one warning at once, then at most one a minute, and one line
when it answers again (bot/polling.py's Reachability; the end-to-end side is
tests/e2e/test_startup.py)."""

from __future__ import annotations

import logging

import pytest
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, TimedOut

from bot import polling
from bot.polling import Reachability, unreachable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(polling.time, "monotonic", fake)
    return fake


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_one_warning_at_once_then_one_a_minute_then_one_when_back(clock, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.polling")
    reach = Reachability()
    reach.failed("getMe", NetworkError("connection refused"), retry_in=1)
    assert len(_warnings(caplog)) == 1 and "getMe" in _warnings(caplog)[0]
    for _ in range(29):  # two seconds apart, for just under a minute (58 s)
        clock.now += 2
        reach.failed("getUpdates", TimedOut(), retry_in=2)
    assert len(_warnings(caplog)) == 1
    assert reach.down
    clock.now += 4  # 62 s after the first warning
    reach.failed("getUpdates", TimedOut(), retry_in=2)
    assert len(_warnings(caplog)) == 2
    assert "for 62 s" in _warnings(caplog)[1]
    reach.answered()
    assert len(_warnings(caplog)) == 3 and "reachable again" in _warnings(caplog)[2]
    assert not reach.down
    reach.answered()  # nothing to say while all is well
    assert len(_warnings(caplog)) == 3
    reach.failed("getMe", NetworkError("refused"), retry_in=1)  # a new outage: at once again
    assert len(_warnings(caplog)) == 4


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NetworkError("httpx.ConnectError"), True),
        (TimedOut(), True),
        (NetworkError("Bad Gateway"), True),
        (BadRequest("chat not found"), False),  # a NetworkError subclass, but our mistake
        (Conflict("terminated by other getUpdates request"), False),
        (InvalidToken("Unauthorized"), False),
    ],
)
def test_what_counts_as_unreachable(error, expected) -> None:  # type: ignore[no-untyped-def]
    assert unreachable(error) is expected
