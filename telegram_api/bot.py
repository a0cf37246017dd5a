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
the message's id, chat and date back, and the files of what it sent; the keyboard, the entities
it wrote itself and its own name (`from`) are dropped before that (`ECHOED`): reading back a
step of the report with its buttons cost ~300 µs of CPU, ~125 µs without, on every step of
every resident (issue 16). An edit is not read back at all: nothing reads what an edit
returns, and python-telegram-bot's edit methods already answer `Message | bool` (True is what
Telegram answers for an inline message), so an edit answers True (`EDITS`, ~100 µs each, ten a
report). A button press brings the bot's own message back too: its keyboard and entities are
dropped from the update before it is read (`pressed_without_echo`), nothing reads them
(the handlers edit that message by its id), and the update's copy kept for a crash is smaller.
A person's own messages in updates are never touched: they keep their entities; the last
batch is kept as Telegram sent it, but for that (`copy_of`), so that long polling can store
each update with its claim (bot/polling.py) without writing it out again from objects
(~120 µs an update).
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
ECHOED = frozenset({"reply_markup", "entities", "caption_entities", "link_preview_options",
                    "from"})
#: Edits of a message: their answer is not read back (True, as for an inline message).
EDITS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})


def without_echo(result: Any) -> Any:
    """An answer of `OWN_MESSAGES` without its `ECHOED` fields (anything else unchanged)."""
    if isinstance(result, dict):
        return {key: value for key, value in result.items() if key not in ECHOED}
    if isinstance(result, list):
        return [without_echo(item) for item in result]
    return result


def pressed_without_echo(update: Any) -> None:
    """In place: the bot's own message inside a button press (a getUpdates item) without its
    `ECHOED` fields. The person's part of the update (who pressed, the button's data) stays."""
    if not isinstance(update, dict):
        return
    query = update.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    if isinstance(message, dict):
        for field in ECHOED & message.keys():
            del message[field]


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
            for item in result:
                pressed_without_echo(item)
            self._fetched = {item.get("update_id"): item for item in result
                             if isinstance(item, dict)}
        if endpoint in EDITS and isinstance(result, dict):
            return True
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
