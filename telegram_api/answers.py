"""What Telegram's error answers mean, decided in one place for handlers and workers alike.

- unreachable: the person cannot be written to (blocked the bot, deleted their account, never
  opened a chat, an id Telegram does not know). The sender stops trying that chat: a staff member
  is marked unreachable and the tip goes to someone else; a subscriber is dropped.
- not modified: an edit that changes nothing (a double tap). The screen already shows the
  answer, so it is not a failure.
- retry after: Telegram's flood control; the number of seconds to wait, whichever form
  python-telegram-bot gives it in.
- certainly not delivered: a connection that was never made, so a message that surely did not
  go out (a 5xx can come after the message went out, so it is not one).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

#: Telegram's wording (lower-cased) of a 400 that means "this chat cannot be written to".
UNREACHABLE_MARKS = (
    "chat not found",
    "user is deactivated",
    "bot was kicked",
    "bot was blocked",
    "peer_id_invalid",
)


def is_unreachable(error: TelegramError) -> bool:
    """A 403, or a 400 that says the chat is gone or unknown."""
    if isinstance(error, Forbidden):
        return True
    message = str(error).lower()
    return isinstance(error, BadRequest) and any(mark in message for mark in UNREACHABLE_MARKS)


def is_not_modified(error: TelegramError) -> bool:
    """"Bad Request: message is not modified": the edit changed nothing."""
    return isinstance(error, BadRequest) and "not modified" in str(error).lower()


def is_query_too_old(error: TelegramError) -> bool:
    """"query is too old ... or query ID is invalid": the press was answered already (by an
    earlier delivery of the same update, in a process that died) or waited past Telegram's
    answer time; its spinner is gone either way."""
    return isinstance(error, BadRequest) and "query is too old" in str(error).lower()


@contextmanager
def unless_unchanged() -> Iterator[None]:
    """Run an edit, taking "message is not modified" as done; any other error propagates.

    `with unless_unchanged(): await query.edit_message_text(...)`
    """
    try:
        yield
    except BadRequest as error:
        if not is_not_modified(error):
            raise


def retry_after_seconds(value: int | float | timedelta) -> float:
    """`RetryAfter.retry_after` in seconds (an int, or a timedelta with PTB's newer setting)."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def certainly_not_delivered(error: NetworkError) -> bool:
    """Only a connection that was never made (or never got a pooled socket) is certain.

    python-telegram-bot words transport failures `httpx.<Name>: ...`. A 5xx answer from
    Telegram ("Bad Gateway", "Internal Server Error") can come after the message went out, so
    it counts as an unknown outcome: broadcasts promise at most once per recipient.
    """
    message = str(error)
    return message.startswith(("httpx.ConnectError", "httpx.ConnectTimeout")) or (
        "Pool timeout" in message
    )
