"""Telegram's error answers, read the same way by every handler and worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from telegram_api.answers import (
    certainly_not_delivered,
    is_not_modified,
    is_unreachable,
    retry_after_seconds,
    unless_unchanged,
)


@pytest.mark.parametrize("error", [
    Forbidden("Forbidden: bot was blocked by the user"),
    Forbidden("Forbidden: user is deactivated"),
    BadRequest("Bad Request: chat not found"),
    BadRequest("Bad Request: PEER_ID_INVALID"),
    BadRequest("Bad Request: bot was kicked from the group chat"),
])
def test_a_chat_that_cannot_be_written_to_is_unreachable(error) -> None:
    assert is_unreachable(error)


@pytest.mark.parametrize("error", [
    BadRequest("Bad Request: can't parse entities"),
    BadRequest("Bad Request: message is not modified"),
    NetworkError("Bad Gateway"),
    TimedOut(),
])
def test_other_errors_are_not_unreachable(error) -> None:
    assert not is_unreachable(error)


def test_an_edit_that_changes_nothing_is_done_and_other_errors_propagate() -> None:
    assert is_not_modified(BadRequest("Bad Request: message is not modified: specified new"))
    assert not is_not_modified(Forbidden("not modified"))  # only a 400 means that
    with unless_unchanged():
        raise BadRequest("Bad Request: message is not modified")
    with pytest.raises(BadRequest), unless_unchanged():
        raise BadRequest("Bad Request: message to edit not found")


def test_retry_after_in_either_form_and_certain_non_delivery() -> None:
    assert retry_after_seconds(7) == 7.0
    assert retry_after_seconds(timedelta(seconds=2.5)) == 2.5
    assert certainly_not_delivered(NetworkError("httpx.ConnectError: refused"))
    assert not certainly_not_delivered(NetworkError("Bad Gateway"))
