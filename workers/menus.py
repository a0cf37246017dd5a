"""The command menus Telegram shows: residents' by default, officers' and admins' per chat.

Role checks never rely on these menus (a resident can type any command); they only show each
person the commands that work for them, in their language. They only decorate the client, so the
bot never waits for them: `start_menu_publisher` publishes them from a JobQueue job once the bot
runs, and a failure (a Bot API server without `setMyCommands`, a bad moment at Telegram) is
logged in one line and tried again later, with a growing delay.

Long polling is one process: it publishes once it runs, without any lease. With several
processes on one database (webhook mode) exactly one publishes: the one that holds the lease
"command-menus" (workers/jobs.py `Holdings`). Every process looks every `LOOK_SECONDS`; the holder
keeps it while it lives, and when it stops or dies another takes the lease over and publishes
once more (the menus are the same, so that repeats nothing wrong).
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.services import Services
from rules.access import role_from
from telegram_api.types import App
from texts.catalog import SOURCE_LANGUAGE, offered, pick_language, plain
from workers.jobs import holdings_of

log = logging.getLogger(__name__)

RESIDENT_COMMANDS = (
    "start", "report", "status", "subscribe", "unsubscribe", "language", "forget", "help",
    "cancel",
)
OFFICER_COMMANDS = ("tips", "tip", "stats")
ADMIN_COMMANDS = (
    "invite", "officers", "areas", "broadcast", "schedule", "schedules", "campaign", "export",
)

#: Seconds before the first new try after a failed publication; doubled each time, up to
#: RETRY_MAX_SECONDS.
RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 3600.0
JOB_NAME = "command-menus"
LEASE = "command-menus"
#: How often a process that does not publish looks whether the publisher is gone.
LOOK_SECONDS = 10.0


def commands_for(language: str, *, officer: bool, admin: bool) -> list[BotCommand]:
    names = list(RESIDENT_COMMANDS)
    if officer or admin:
        names += OFFICER_COMMANDS
    if admin:
        names += ADMIN_COMMANDS
    return [BotCommand(name, plain(language, f"cmd_{name}")) for name in names]


def start_menu_publisher(application: App, *, several: bool) -> None:
    """Publish the menus in the background as soon as the bot runs (with `several` processes,
    in the one that holds the lease); retry while it fails."""
    assert application.job_queue is not None
    if not several:
        application.job_queue.run_once(
            _publish_job, when=0, data=RETRY_FIRST_SECONDS, name=JOB_NAME
        )
        return
    # A first look at once, then every LOOK_SECONDS. Not `run_repeating(first=0)`: scheduled
    # here, before the JobQueue starts, its first moment is past by the time the scheduler runs,
    # and APScheduler's interval trigger then waits for the next interval (10 s without menus).
    application.job_queue.run_once(_look, when=0, name=f"{JOB_NAME}-first-look")
    application.job_queue.run_repeating(
        _look, interval=LOOK_SECONDS, first=LOOK_SECONDS, name=f"{JOB_NAME}-lease",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )


async def _look(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take the publisher's lease when free; on taking it, publish."""
    holdings = holdings_of(context.application)
    held = LEASE in holdings.held
    try:
        if not await holdings.take(LEASE) or held:
            return
    except Exception as error:  # the next look tries again
        log.warning("command menus: lease not taken (%s)", type(error).__name__)
        return
    assert context.job_queue is not None
    context.job_queue.run_once(_publish_job, when=0, data=RETRY_FIRST_SECONDS, name=JOB_NAME)


async def _publish_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    assert context.job is not None and isinstance(context.job.data, float)
    delay = context.job.data
    services: Services = context.application.bot_data["services"]
    several = services.config.webhook is not None
    if several and LEASE not in holdings_of(context.application).held:
        return  # lost to another process meanwhile: it publishes
    try:
        await publish_command_menus(context.bot, services)
    except TelegramError as error:
        log.warning(
            "command menus not published (%s: %s); trying again in %.0f s",
            type(error).__name__, error, delay,
        )
        assert context.job_queue is not None
        context.job_queue.run_once(
            _publish_job, when=delay, data=min(delay * 2, RETRY_MAX_SECONDS), name=JOB_NAME
        )
        return
    log.info("command menus published")


async def publish_command_menus(bot: Bot, services: Services) -> None:
    """Set the default menus (Vietnamese; each other language's for its clients) and staff menus.

    Telegram names a client's language by a two-letter code, so a language with a three-letter
    code gets no menu of its own (its people get the Vietnamese one, or their own once chosen).
    """
    await bot.set_my_commands(
        commands_for(SOURCE_LANGUAGE, officer=False, admin=False), scope=BotCommandScopeDefault()
    )
    for language in offered():
        if language.code != SOURCE_LANGUAGE and len(language.code) == 2:
            await bot.set_my_commands(
                commands_for(language.code, officer=False, admin=False),
                scope=BotCommandScopeDefault(),
                language_code=language.code,
            )
    staff_ids = {m.user_id for m in await services.store.staff.all()} | set(
        services.config.admin_ids
    )
    for user_id in sorted(staff_ids):
        await publish_menu_for(bot, services, user_id)


async def publish_menu_for(bot: Bot, services: Services, user_id: int) -> None:
    """One chat's menu, after its role or language changed. Failures are only logged."""
    # The live role (rules.access): a deactivated permanent admin gets no admin menu either.
    role = role_from(services, user_id, await services.store.staff.get(user_id))
    admin, officer = role.is_admin, role.is_officer
    language = pick_language(await services.store.preferences.language(user_id),
                             services.config.language)
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
