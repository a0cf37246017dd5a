"""`/broadcast` (admins): a text or a photo with caption, a preview with the number of
recipients, confirm, then the broadcaster sends it in the background with a progress message.

The conversation state is a `BroadcastDraft` (encrypted, like every conversation); the confirm
button carries a random token of that draft, and every button checks the admin role at the
moment it is pressed.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers.shared import flows
from handlers.shared.buttons import parse
from handlers.shared.context import (
    admin_composing,
    admin_in_private,
    services_of,
)
from handlers.shared.flows import BroadcastDraft
from texts.catalog import plain, text
from workers.broadcaster import send_content, wake_broadcaster

log = logging.getLogger(__name__)


async def broadcast_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = await admin_in_private(update, context)
    if admin is None:
        return
    user, language = admin
    services = services_of(context)
    subscribers = await services.store.subscribers.count()
    channels = len(services.config.channels)
    if subscribers + channels == 0:
        await update.effective_message.reply_text(text(language, "broadcast_nobody"))
        return
    await flows.begin(context, user.id, BroadcastDraft())
    await update.effective_message.reply_text(
        text(language, "broadcast_ask", subscribers=subscribers, channels=channels)
    )


def content_of(message: Message) -> dict[str, Any] | None:
    """A broadcast's content from the admin's message: its text or photo, formatting kept."""
    if message.photo:
        return {
            "kind": "photo",
            "file_id": message.photo[-1].file_id,
            "texts": {"*": message.caption_html or ""},
        }
    if message.text and not message.text.startswith("/"):
        return {"kind": "text", "texts": {"*": message.text_html}}
    return None


async def on_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: BroadcastDraft
) -> None:
    """The admin's message while composing: it becomes the content, shown as a preview."""
    services = services_of(context)
    admin = await admin_composing(update, context)
    if admin is None:
        return
    user, language = admin
    message = update.effective_message
    content = content_of(message)
    if content is None:
        await message.reply_text(text(language, "broadcast_bad_content"))
        return
    token = secrets.token_urlsafe(6)
    draft = BroadcastDraft(step="confirm", token=token, content=content)
    await flows.save(context, user.id, draft)
    count = await services.store.subscribers.count() + len(services.config.channels)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(language, "btn_broadcast_send", count=count),
                                  callback_data=f"bc:go:{token}")],
            [InlineKeyboardButton(plain(language, "btn_cancel"), callback_data=f"bc:no:{token}")],
        ]
    )
    await send_content(context.bot, message.chat_id, language, content, reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`bc:go:<token>` send, `bc:no:<token>` cancel, `bc:stop:<id>` stop a running broadcast."""
    query = update.callback_query
    admin = await admin_in_private(update, context)
    if query is None or admin is None:
        return
    _user, language = admin
    data = parse(query.data)
    action = data.text(0) if len(data) == 2 else None
    if action == "go":
        await _confirm(update, context, language, data.fields[1])
    elif action == "no":
        await _cancel_pressed(update, context, language, data.fields[1])
    elif action == "stop" and (broadcast_id := data.number(1)) is not None:
        await _stop(update, context, language, broadcast_id)
    else:
        await query.answer(plain(language, "button_expired"))


async def _confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, language: str, token: str
) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    services = services_of(context)
    store = services.store
    if not _is_draft(await flows.current(context, user.id), token):
        await query.answer(plain(language, "button_expired"))
        return
    await query.answer()
    await _drop_buttons(query.message)
    count = await store.subscribers.count() + len(services.config.channels)
    # The progress message exists before the broadcast, so the worker can always edit it.
    progress = await context.bot.send_message(
        user.id, text(language, "broadcast_preparing", count=count)
    )
    async with store.db.transaction():
        draft = await flows.current(context, user.id)
        if isinstance(draft, BroadcastDraft) and _is_draft(draft, token):
            broadcast_id, total = await store.broadcasts.create(
                origin="admin",
                # The admin's language, for the progress message and the report.
                content={**(draft.content or {}), "ui_language": language},
                channels=services.config.channels,
                created_by=user.id,
                progress_chat=user.id,
            )
            await store.broadcasts.set_progress_message(broadcast_id, progress.message_id)
            await flows.end(context, user.id)
        else:
            broadcast_id = None
    if broadcast_id is None:  # pressed twice at once: the other press queued it
        await progress.edit_text(text(language, "button_expired"))
        return
    log.info("broadcast %s queued by staff %s for %s recipients", broadcast_id, user.id, total)
    wake_broadcaster(context.application)


async def _cancel_pressed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, language: str, token: str
) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    if not _is_draft(await flows.current(context, user.id), token):
        await query.answer(plain(language, "button_expired"))
        return
    await flows.end(context, user.id)
    await query.answer()
    await _drop_buttons(query.message)
    await context.bot.send_message(user.id, text(language, "broadcast_cancelled"))


async def _stop(
    update: Update, context: ContextTypes.DEFAULT_TYPE, language: str, broadcast_id: int
) -> None:
    query = update.callback_query
    assert query is not None
    if await services_of(context).store.broadcasts.stop(broadcast_id):
        admin_id = update.effective_user.id  # staff, not a resident
        log.info("broadcast %s stopped by staff %s", broadcast_id, admin_id)
        wake_broadcaster(context.application)
        await query.answer(plain(language, "broadcast_stopping"))
    else:
        await query.answer(plain(language, "broadcast_already_over"))


def _is_draft(draft: flows.State | None, token: str) -> bool:
    return (
        isinstance(draft, BroadcastDraft)
        and draft.step == "confirm"
        and secrets.compare_digest(draft.token, token)
    )


async def _drop_buttons(message: object) -> None:
    if isinstance(message, Message):
        try:
            await message.edit_reply_markup(reply_markup=None)
        except TelegramError as error:
            log.info("could not remove the preview's buttons: %s", type(error).__name__)
