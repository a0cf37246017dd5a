"""The Bot the application talks to Telegram with: python-telegram-bot's ExtBot, except that
answering a button press never fails its handler.

`answerCallbackQuery` only stops the spinner on the button (or shows a short notice). When its
call breaks on the way (a reset connection, a timeout, a 5xx past the request's own retries),
the handler that answered first and then does the real work (stores a tip, sends a reply) used
to stop there, and the resident's tip was not stored. A failed answer is logged and reported as
False instead; the spinner stops by itself. "The query is too old" is the same: the spinner is
gone, and the press's work is still to do. It happens when an update is handled again after
the process that first handled it (and answered the press) died, or after a press waited past
Telegram's answer time for its chat's turn (several processes, bot/fleet.py). Other refusals
still raise, since they are the caller's to judge.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import ExtBot

from telegram_api.answers import is_query_too_old

log = logging.getLogger(__name__)


class TiplineBot(ExtBot[None]):
    """ExtBot whose `answer_callback_query` survives a network failure (see the module)."""

    async def answer_callback_query(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return await super().answer_callback_query(*args, **kwargs)
        except BadRequest as error:
            if not is_query_too_old(error):
                raise
            log.info("a button's answer was refused as too old; going on")
            return False
        except NetworkError as error:  # TimedOut too: the spinner stops by itself
            log.info("a button's answer failed (%s); going on", type(error).__name__)
            return False
