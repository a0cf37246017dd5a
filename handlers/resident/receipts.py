"""Giving the resident their receipt code, even when Telegram fails at that moment.

The code exists only in the message that shows it (the database keeps a keyed hash). If that
message cannot be sent after the tip was stored, the code is lost; so the tip's draft is turned
into a note that a receipt is owed (the tip's number, never the code), and the resident's next
message or press draws a new code for that tip and shows it. The lost code was seen by nobody,
so replacing its hash takes nothing away.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from handlers.shared import flows
from handlers.shared.context import language_of, private_user, services_of
from handlers.shared.flows import OwedReceipt
from texts.catalog import Html, text

log = logging.getLogger(__name__)

async def send(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    code: str,
    followup: str,
    language: str,
    *,
    replaced: bool = False,
) -> None:
    """Show the code; once Telegram accepted it, nothing is owed any more."""
    body = text(
        language,
        "report_receipt",
        code=code,
        notify=Html(text(language, f"receipt_followup_{followup}")),
    )
    if replaced:
        body = Html(text(language, "receipt_replaced") + "\n\n" + body)
    await update.effective_chat.send_message(body)
    await flows.end(context, update.effective_user.id)


async def deliver_owed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """If this resident is owed a receipt, draw a new code and show it (gatekeeper)."""
    user = private_user(update)
    if user is None:
        return
    store = services_of(context).store
    owed = await flows.current_of(context, user.id, OwedReceipt)
    if owed is None:
        return
    language = await language_of(context, user)
    try:
        code = await store.tips.replace_receipt_code(owed.tip_id)
    except LookupError:
        await flows.end(context, user.id)
        return
    log.info("update %s: a new code drawn for a tip whose first one never reached its resident",
             update.update_id)
    try:
        await send(update, context, code, owed.followup, language, replaced=True)
    except TelegramError as error:
        # Still failing: keep owing it, and do nothing else with this update, so that no
        # other flow replaces the note (the next message tries again).
        log.warning("update %s: the new code could not be shown either (%s)", update.update_id,
                    type(error).__name__)
        raise ApplicationHandlerStop from error
