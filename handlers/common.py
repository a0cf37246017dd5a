"""What every user meets: /start (and its deep links), /help, /language, and the gatekeepers.

The gatekeepers run first (handler group -1): messages in groups and channels get one short
hint and go no further, since a tip written in a group is seen by the group; edited messages
are not taken as input (a resident might think editing changes a tip already sent); a staff
member who writes becomes reachable again.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.catalog import Html, plain, text
from handlers.context import language_of, private_user, role_of, services_of
from storage.tips import Scope

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
    await _note_staff_presence(context, user.id, user.first_name or "")
    from handlers import receipts

    await receipts.deliver_owed(update, context)


async def _note_staff_presence(context: ContextTypes.DEFAULT_TYPE, user_id: int, name: str) -> None:
    """A staff member wrote: Telegram lets the bot write to them again; deliver what waits."""
    services = services_of(context)
    staff = services.store.staff
    first_time = user_id in services.config.admin_ids and await staff.ensure_admin_row(
        user_id, name
    )
    if await staff.mark_seen(user_id, name) or first_time:
        log.info("staff %s reachable", user_id)
        from bot.delivery import on_staff_reachable
        from handlers.menus import publish_menu_for

        await publish_menu_for(context.bot, services, user_id)
        await on_staff_reachable(context.application)


async def tell_to_slow_down(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one "slow down" a flooder gets (bot/chat_lanes.py decides when), in a private chat."""
    if private_user(update) is None:
        return
    language = await language_of(context, update.effective_user)
    await context.bot.send_message(update.effective_chat.id, text(language, "slow_down"))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/start [payload]`: a deep link opens its flow; anything else gets the welcome."""
    user = private_user(update)
    if user is None or update.effective_message is None:
        return
    payload = context.args[0] if context.args else ""
    from handlers import deep_links

    if payload and await deep_links.open_payload(update, context, payload):
        return
    await send_welcome(update, context)


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


def main_menu(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
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
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Tiếng Việt", callback_data="lang:vi"),
                InlineKeyboardButton("English", callback_data="lang:en"),
            ]
        ]
    )


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
    choice = (query.data or "").removeprefix("lang:")
    if choice not in ("vi", "en"):
        await query.answer(plain(await language_of(context, user), "button_expired"))
        return
    services = services_of(context)
    await services.store.preferences.set_language(user.id, choice)
    await services.store.subscribers.set_language(user.id, choice)  # campaign news follow it
    await query.answer()
    try:
        await query.edit_message_text(text(choice, "language_set"))
    except BadRequest as error:  # a double tap: the message already says so
        if "not modified" not in str(error).lower():
            raise
    from handlers.menus import publish_menu_for

    await publish_menu_for(context.bot, services, user.id)


async def menu_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The /start menu's buttons open the same flows as the commands."""
    query = update.callback_query
    if query is None or private_user(update) is None:
        return
    action = (query.data or "").removeprefix("m:")
    if action not in ("lang", "report", "status", "sub"):
        await query.answer(plain(await language_of(context, update.effective_user),
                                 "button_expired"))
        return
    await query.answer()
    if action == "lang":
        await language_command(update, context)
    elif action == "report":
        from handlers.resident_report import start_report

        await start_report(update, context)
    elif action == "status":
        from handlers.resident_status import status_command

        await status_command(update, context)
    elif action == "sub":
        from handlers.resident_subscribe import menu

        await menu(update, context)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure by update id only (never content) and tell the user kindly."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error(
        "update %s failed: %s", update_id, type(context.error).__name__, exc_info=context.error
    )
    if isinstance(update, Update) and private_user(update) is not None:
        try:
            language = await language_of(context, update.effective_user)
            if update.callback_query is not None:
                await update.callback_query.answer(plain(language, "error_try_again")[:190])
            elif update.effective_message is not None:
                await update.effective_message.reply_text(text(language, "error_try_again"))
        except Exception:
            log.warning("update %s: could not tell the user about the failure", update_id)
