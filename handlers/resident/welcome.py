"""What a resident meets first: the welcome and its menu, /help, /language.

Staff see their role, areas and open tips above the same welcome and help (SPEC "Officer").
"""

from __future__ import annotations

import functools

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers.resident.report import start_report
from handlers.resident.status import status_command
from handlers.resident.subscribe import menu
from handlers.shared.buttons import parse
from handlers.shared.context import language_of, private_user, reads_of, role_of, services_of
from storage.tips import Scope
from telegram_api.answers import unless_unchanged
from telegram_api.keyboards import SharedKeyboard
from texts.catalog import Html, offered, plain, text
from workers.menus import publish_menu_for


async def send_welcome(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    language = await language_of(context, user)
    header = await staff_header(context, user.id, language)
    await update.effective_message.reply_text(
        Html(header + text(language, "welcome")), reply_markup=main_menu(language)
    )


async def staff_header(context: ContextTypes.DEFAULT_TYPE, user_id: int, language: str) -> str:
    """For an officer or admin: their role, areas and open tips; empty for a resident."""
    role = await role_of(context, user_id)
    if not role.is_staff:
        return ""
    services = services_of(context)
    member = await services.store.staff.get(user_id)
    everything = role.is_admin or role.all_areas
    if everything:
        areas: str = text(language, "all_areas")
    else:
        names = (services.areas.name(code, language) or code for code in sorted(role.areas))
        areas = ", ".join(names)
    scope = Scope(user_id, everything, tuple(sorted(role.areas)))
    _, open_tips = await services.store.desk.list_for(scope, status=None, limit=1, offset=0)
    return text(
        language,
        "staff_header",
        name=member.display_name if member else "",
        role=plain(language, "staff_role_admin" if role.is_admin else "staff_role_officer"),
        areas=Html(areas) if everything else areas,
        open=open_tips,
    )


@functools.cache
def main_menu(language: str) -> InlineKeyboardMarkup:
    """The welcome's menu in `language`, built once (a keyboard is immutable; building it for
    every /start was a twentieth of the welcome's cost under a crowd), and written out once
    (telegram_api/keyboards.py)."""
    return SharedKeyboard(
        [
            [InlineKeyboardButton(plain(language, "menu_report"), callback_data="m:report")],
            [InlineKeyboardButton(plain(language, "menu_status"), callback_data="m:status")],
            [InlineKeyboardButton(plain(language, "menu_subscribe"), callback_data="m:sub")],
            [InlineKeyboardButton(plain(language, "menu_language"), callback_data="m:lang")],
        ]
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    if user is None:
        return
    language = await language_of(context, user)
    role = await role_of(context, user.id)
    parts = [await staff_header(context, user.id, language), text(language, "help"),
             text(language, "help_subscribe")]
    if role.is_officer or role.is_admin:
        parts.append(text(language, "help_officer"))
    if role.is_admin:
        parts.append(text(language, "help_admin"))
        parts.append(text(language, "help_admin_campaign"))
    await update.effective_message.reply_text(Html("".join(parts)))


def language_keyboard() -> InlineKeyboardMarkup:
    """Every language whose catalog is complete, by its own name, two to a row."""
    choices = [InlineKeyboardButton(language.name, callback_data=f"lang:{language.code}")
               for language in offered()]
    return InlineKeyboardMarkup([choices[i:i + 2] for i in range(0, len(choices), 2)])


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    if user is None:
        return
    language = await language_of(context, user)
    await update.effective_message.reply_text(
        text(language, "language_choose"), reply_markup=language_keyboard()
    )


async def language_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = private_user(update)
    if query is None or user is None:
        return
    data = parse(query.data)
    choice = data.word(0) if len(data) == 1 else None
    if choice not in {language.code for language in offered()}:
        await query.answer(plain(await language_of(context, user), "button_expired"))
        return
    services = services_of(context)
    await services.store.preferences.set_language(user.id, choice)
    reads_of(context, user.id).language = choice
    await services.store.subscribers.set_language(user.id, choice)  # campaign news follow it
    await query.answer()
    with unless_unchanged():  # a double tap: the message already says so
        await query.edit_message_text(text(choice, "language_set"))
    await publish_menu_for(context.bot, services, user.id)


async def menu_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The /start menu's buttons open the same flows as the commands."""
    query = update.callback_query
    if query is None or private_user(update) is None:
        return
    data = parse(query.data)
    action = data.word(0) if len(data) == 1 else None
    if action not in ("lang", "report", "status", "sub"):
        await query.answer(plain(await language_of(context, update.effective_user),
                                 "button_expired"))
        return
    await query.answer()
    if action == "lang":
        await language_command(update, context)
    elif action == "report":
        await start_report(update, context)
    elif action == "status":
        await status_command(update, context)
    elif action == "sub":
        await menu(update, context)
