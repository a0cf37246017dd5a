"""The resident answers an officer from the button under a pushed message.

The button carries only the tip's number; it works in the chat the tip notifies (compared with
the tip's encrypted notification chat), so a forged press from anywhere else opens nothing. The
answer then goes through the same path as an addition from /status.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers.resident import status as resident_status
from handlers.resident.evidence import user_lock
from handlers.shared import flows
from handlers.shared.buttons import parse
from handlers.shared.context import language_of, private_user, services_of
from handlers.shared.flows import StatusSession
from texts.catalog import plain, text


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = private_user(update)
    if query is None or user is None:
        return
    services = services_of(context)
    language = await language_of(context, user)
    data = parse(query.data)
    tip_id = data.number(0) if len(data) == 1 else None
    tip = await services.store.tips.by_id(tip_id) if tip_id is not None else None
    if tip is None or tip.notify_chat != update.effective_chat.id:
        await query.answer(plain(language, "button_expired"))
        return
    await query.answer()
    if await flows.busy_with_report(update, context):
        return
    async with user_lock(user.id):
        await resident_status.begin_session(
            context, user.id, update.effective_chat.id,
            StatusSession(step="add", tip_id=tip.tip_id), language,
        )
    await update.effective_chat.send_message(
        text(language, "status_ask_addition"),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(plain(language, "btn_evidence_done"),
                                   callback_data="st:close")]]
        ),
    )
