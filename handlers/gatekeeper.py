"""What every update passes first and last: the gatekeeper (handler group -1) and the error handler.

The gatekeeper stops what the bot must not act on: messages in groups and channels get one short
hint and go no further, since a tip written in a group is seen by the group; edited messages
are not taken as input (a resident might think editing changes a tip already sent); a staff
member who writes becomes reachable again, and a resident owed a receipt code gets it.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from handlers.resident import receipts
from handlers.shared.context import language_of, private_user, services_of, staff_read
from texts.catalog import plain, text
from workers.delivery import on_staff_reachable
from workers.menus import publish_menu_for

log = logging.getLogger(__name__)


async def gatekeeper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop updates the bot must not act on, before any other handler sees them."""
    chat = update.effective_chat
    if chat is not None and chat.type != chat.PRIVATE:
        message = update.effective_message
        addressed = message is not None and (
            (message.text or "").startswith("/") or update.callback_query is not None
        )
        if addressed and chat.type in (chat.GROUP, chat.SUPERGROUP):
            language = await language_of(context, update.effective_user)
            await message.reply_text(text(language, "private_only"))
        if update.callback_query is not None:
            await update.callback_query.answer()
        log.info("update %s: not a private chat, ignored", update.update_id)
        raise ApplicationHandlerStop
    if update.edited_message is not None:
        # A live location's moves arrive as edits: not the user's doing, so no hint for each.
        if update.edited_message.location is None:
            language = await language_of(context, update.effective_user)
            await update.edited_message.reply_text(text(language, "edited_ignored"))
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is None or user.is_bot:
        raise ApplicationHandlerStop
    await _note_staff_presence(context, update.update_id, user.id, user.first_name or "")
    await receipts.deliver_owed(update, context)


async def _note_staff_presence(
    context: ContextTypes.DEFAULT_TYPE, update_id: int, user_id: int, name: str
) -> None:
    """A staff member wrote: Telegram lets the bot write to them again; deliver what waits.
    The staff row read here is the gate's too (handlers/shared/context.staff_read)."""
    services = services_of(context)
    staff = services.store.staff
    member = await staff.get(user_id)
    staff_read.set((update_id, member))
    admin = user_id in services.config.admin_ids
    if member is None and not admin:
        return  # a resident: nobody to mark reachable
    first_time = admin and await staff.ensure_admin_row(user_id, name)
    if first_time:
        staff_read.set(None)  # the row was just written: the gate reads it again
    if await staff.mark_seen(user_id, name) or first_time:
        log.info("staff %s reachable", user_id)
        await publish_menu_for(context.bot, services, user_id)
        await on_staff_reachable(context.application)


async def tell_to_slow_down(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one "slow down" a flooder gets (bot/chat_lanes.py decides when), in a private chat."""
    if private_user(update) is None:
        return
    language = await language_of(context, update.effective_user)
    await context.bot.send_message(update.effective_chat.id, text(language, "slow_down"))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure by update id only (never content) and tell the user kindly."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        # Telegram did not answer in time or the connection broke: a bad moment of the network,
        # not a fault of the bot, so one line without a traceback (a Bad Request is ours).
        log.warning("update %s failed: %s (Telegram out of reach)", update_id,
                    type(error).__name__)
    else:
        log.error("update %s failed: %s", update_id, type(error).__name__, exc_info=error)
    user = private_user(update) if isinstance(update, Update) else None
    if not isinstance(update, Update) or user is None:
        return
    try:
        language = await language_of(context, user)
    except Exception:
        language = services_of(context).config.language
    if update.callback_query is not None:
        # A press is answered once: if the handler answered it before failing, the answer is
        # refused, and the person is told in the chat instead (else they would see nothing).
        # (telegram_api/bot.py reports a refused or failed answer as False.)
        answered = False
        with contextlib.suppress(Exception):
            answered = await update.callback_query.answer(plain(language, "error_try_again")[:190])
        if answered:
            return
        log.info("update %s: the press could not be answered; telling the chat", update_id)
    try:
        await context.bot.send_message(user.id, text(language, "error_try_again"))
    except Exception:
        log.warning("update %s: could not tell the user about the failure", update_id)
