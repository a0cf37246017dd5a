"""`/subscribe`, `/unsubscribe` and the /start menu's "campaign news" button.

A subscription keeps this chat's id (encrypted) and the language to write in, found again by a
keyed hash of the user id with a key of its own; it is never linked to the user's tips.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers.shared.buttons import parse
from handlers.shared.context import language_of, private_user, services_of
from texts.catalog import plain, text

log = logging.getLogger(__name__)


async def subscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    if user is None or update.effective_message is None:
        return
    language = await language_of(context, user)
    await update.effective_message.reply_text(await _subscribe(update, context, language))


async def unsubscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    if user is None or update.effective_message is None:
        return
    language = await language_of(context, user)
    removed = await services_of(context).store.subscribers.unsubscribe(user.id)
    key = "unsubscribe_done" if removed else "unsubscribe_not_subscribed"
    await update.effective_message.reply_text(text(language, key))


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The /start menu's button: the state of the subscription, with the button to change it."""
    user = private_user(update)
    if user is None:
        return
    language = await language_of(context, user)
    subscribed = await services_of(context).store.subscribers.language(user.id) is not None
    key = "subscribe_menu_on" if subscribed else "subscribe_menu_off"
    await update.effective_chat.send_message(
        text(language, key), reply_markup=_keyboard(language, subscribed)
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`sub:on` / `sub:off`, pressed under the menu message."""
    query = update.callback_query
    user = private_user(update)
    if query is None or user is None:
        return
    language = await language_of(context, user)
    data = parse(query.data)
    action = data.word(0) if len(data) == 1 else None
    if action == "on":
        await query.answer()
        await query.edit_message_text(await _subscribe(update, context, language))
    elif action == "off":
        removed = await services_of(context).store.subscribers.unsubscribe(user.id)
        await query.answer()
        key = "unsubscribe_done" if removed else "unsubscribe_not_subscribed"
        await query.edit_message_text(text(language, key))
    else:
        await query.answer(plain(language, "button_expired"))


async def _subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE, language: str) -> str:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    subscribers = services_of(context).store.subscribers
    if await subscribers.subscribe(user.id, chat.id, language):
        log.info("update %s: a chat subscribed to campaign news", update.update_id)
        return text(language, "subscribe_done", language=plain(language, "language_name"))
    current = await subscribers.language(user.id) or language
    return text(current, "subscribe_already", language=plain(current, "language_name"))


def _keyboard(language: str, subscribed: bool) -> InlineKeyboardMarkup:
    if subscribed:
        button = InlineKeyboardButton(plain(language, "btn_unsubscribe"), callback_data="sub:off")
    else:
        button = InlineKeyboardButton(plain(language, "btn_subscribe"), callback_data="sub:on")
    return InlineKeyboardMarkup([[button]])
