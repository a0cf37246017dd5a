"""The Bot the application talks to Telegram with: python-telegram-bot's ExtBot, except that
answering a button press never fails its handler, and that what Telegram echoes back of the
bot's own messages is not rebuilt into objects nobody reads.

`answerCallbackQuery` only stops the spinner on the button (or shows a short notice). When its
call breaks on the way (a reset connection, a timeout, a 5xx past the request's own retries),
the handler that answered first and then does the real work (stores a tip, sends a reply) used
to stop there, and the resident's tip was not stored. A failed answer is logged and reported as
False instead; the spinner stops by itself. "The query is too old" is the same: the spinner is
gone, and the press's work is still to do. It happens when an update is handled again after
the process that first handled it (and answered the press) died, or after a press waited past
Telegram's answer time for its chat's turn (several processes, bot/fleet.py). Other refusals
still raise, since they are the caller's to judge.

Every message the bot sends or edits comes back whole: its text, its formatting entities and
its keyboard, which python-telegram-bot turns into objects (one per button). The bot only reads
the message's id, chat and date back, and the files of what it sent; the keyboard and the
entities it wrote itself are dropped before that (`ECHOED`): reading back a step of the report
with its buttons cost ~300 µs of CPU, ~125 µs without, on every step of every resident (issue
16). Updates (getUpdates) are never touched: a person's message keeps its entities; the last
batch is kept as Telegram sent it (`copy_of`), so that long polling can store each update with
its claim (bot/polling.py) without writing it out again from objects (~120 µs an update).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import ExtBot
from telegram.request import BaseRequest

from telegram_api.answers import is_query_too_old

log = logging.getLogger(__name__)


#: What the bot sends and Telegram answers with the message it made (a list for an album).
OWN_MESSAGES = frozenset({
    "sendMessage", "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
    "sendPhoto", "sendDocument", "sendVideo", "sendVoice", "sendAudio", "sendAnimation",
    "sendMediaGroup", "sendLocation",
})
#: The fields of such an answer that only repeat what the bot wrote (see the module).
ECHOED = frozenset({"reply_markup", "entities", "caption_entities", "link_preview_options"})


def without_echo(result: Any) -> Any:
    """An answer of `OWN_MESSAGES` without its `ECHOED` fields (anything else unchanged)."""
    if isinstance(result, dict):
        return {key: value for key, value in result.items() if key not in ECHOED}
    if isinstance(result, list):
        return [without_echo(item) for item in result]
    return result


class TiplineBot(ExtBot[None]):
    """ExtBot whose `answer_callback_query` survives a network failure and whose own
    messages come back without what it wrote itself (see the module)."""

    async def _do_post(
        self,
        endpoint: str,
        data: dict[str, Any],
        *,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,  # python-telegram-bot's ODVInput[float]
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        result = await super()._do_post(
            endpoint, data, read_timeout=read_timeout, write_timeout=write_timeout,
            connect_timeout=connect_timeout, pool_timeout=pool_timeout,
        )
        if endpoint == "getUpdates" and isinstance(result, list):
            self._fetched = {item.get("update_id"): item for item in result
                             if isinstance(item, dict)}
        return without_echo(result) if endpoint in OWN_MESSAGES else result

    def copy_of(self, update: Update) -> str:
        """`update` as JSON: as Telegram sent it in the last getUpdates batch, else written
        out from the object (`Update.de_json` reads either back)."""
        raw = getattr(self, "_fetched", {}).get(update.update_id)
        if raw is None:
            return update.to_json()
        return json.dumps(raw, ensure_ascii=False, separators=(",", ":"))

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
