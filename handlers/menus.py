"""The command menus Telegram shows: residents' by default, officers' and admins' per chat.

Role checks never rely on these menus (a resident can type any command); they only show each
person the commands that work for them, in their language.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.catalog import plain
from bot.services import Services

log = logging.getLogger(__name__)

RESIDENT_COMMANDS = (
    "start", "report", "status", "subscribe", "unsubscribe", "language", "forget", "help",
    "cancel",
)
OFFICER_COMMANDS = ("tips", "tip")
ADMIN_COMMANDS = (
    "invite", "officers", "areas", "broadcast", "schedule", "schedules", "campaign",
)


def commands_for(language: str, *, officer: bool, admin: bool) -> list[BotCommand]:
    names = list(RESIDENT_COMMANDS)
    if officer or admin:
        names += OFFICER_COMMANDS
    if admin:
        names += ADMIN_COMMANDS
    return [BotCommand(name, plain(language, f"cmd_{name}")) for name in names]


async def publish_command_menus(bot: Bot, services: Services) -> None:
    """Set the default menus (Vietnamese, and English for English clients) and staff menus."""
    await bot.set_my_commands(
        commands_for("vi", officer=False, admin=False), scope=BotCommandScopeDefault()
    )
    await bot.set_my_commands(
        commands_for("en", officer=False, admin=False),
        scope=BotCommandScopeDefault(),
        language_code="en",
    )
    staff_ids = {m.user_id for m in await services.store.staff.all()} | set(
        services.config.admin_ids
    )
    for user_id in sorted(staff_ids):
        await publish_menu_for(bot, services, user_id)


async def publish_menu_for(bot: Bot, services: Services, user_id: int) -> None:
    """One chat's menu, after its role or language changed. Failures are only logged."""
    member = await services.store.staff.get(user_id)
    admin = user_id in services.config.admin_ids or bool(
        member and member.active and member.is_admin
    )
    officer = bool(member and member.active and member.is_officer)
    language = await services.store.preferences.language(user_id) or services.config.language
    try:
        await bot.set_my_commands(
            commands_for(language, officer=officer, admin=admin),
            scope=BotCommandScopeChat(user_id),
        )
    except TelegramError as error:
        # A chat that never wrote to the bot may be unknown to Telegram yet. A resident's id
        # is never logged, so only staff are named.
        who = user_id if (officer or admin) else "of a resident"
        log.info("command menu %s not set: %s", who, type(error).__name__)
