"""Builds the python-telegram-bot App: settings, services, handlers, command menus.

Shared services (the database, the keys, the areas) live in `bot_data["services"]`: they open in
`post_init` and close in `post_shutdown`, and handlers take them from there instead of importing
globals, so the same code runs under the tests, the sandbox and production.
"""

from __future__ import annotations

import logging

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, CallbackContext, Defaults

from bot.chat_lanes import ChatLanes, FloodGuard
from bot.config import Config
from bot.fleet import Fleet, fleet_of, start_fleet
from bot.services import Services, open_services
from handlers import register_handlers
from handlers.gatekeeper import tell_to_slow_down
from handlers.resident.status import start_resuming_files
from storage.keyring import KeyPurpose
from telegram_api.bot import TiplineBot
from telegram_api.request import RetryingRequest
from telegram_api.transport import AiohttpRequest
from telegram_api.types import App
from workers.broadcaster import start_broadcaster
from workers.delivery import start_delivery
from workers.escalation import start_escalation
from workers.housekeeping import start_housekeeping
from workers.jobs import HOLDINGS, Holdings, start_holdings
from workers.menus import start_menu_publisher
from workers.monthly_review import start_monthly_review
from workers.purge import start_purge
from workers.scheduler import start_scheduler

log = logging.getLogger(__name__)


def build_application(config: Config) -> App:
    """The bot as it runs: long polling against `config.api_base_url`."""
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        tzinfo=config.timezone,
    )
    bot = TiplineBot(
        config.token,
        base_url=config.api_base_url,
        base_file_url=config.api_file_url,
        defaults=defaults,
        request=RetryingRequest(connection_pool_size=64),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )
    application = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(ChatLanes())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["config"] = config
    register_handlers(application)
    return application


async def _post_init(application: App) -> None:
    config: Config = application.bot_data["config"]
    services = await open_services(config, bot_username=application.bot.username)
    application.bot_data["services"] = services
    # Webhook mode may run several processes on the database: each keeps a heartbeat and takes
    # leases for what one of them does. Long polling is one process (Telegram answers a second
    # poller 409): no heartbeat, no lease, so no exact time of the process in the database.
    several = services.config.webhook is not None
    fleet = await start_fleet(application, services.store, several=several)
    if several:
        start_holdings(application)
    _guard_against_floods(application, services, fleet)
    start_menu_publisher(application, several=several)  # decoration: in the background
    start_delivery(application)
    start_escalation(application)
    start_housekeeping(application)
    await start_purge(application)  # the daily purge, and the keyring watch of key rotation
    start_broadcaster(application)
    start_resuming_files(application, fleet)  # /status files a stopped process had in hand
    await start_scheduler(application)
    await start_monthly_review(application)
    log.info("bot %s ready", application.bot.id)


def _guard_against_floods(application: App, services: Services, fleet: Fleet) -> None:
    """Count each person's updates as they arrive (SPEC "Resident", abuse). Long polling is one
    process by Telegram's rule (a second poller gets 409): the count is in memory, at arrival.
    A webhook may be one of several processes: the count is the database's, and each update
    takes its chat's turn there (bot/fleet.py)."""
    async def warn(update: Update) -> None:
        await tell_to_slow_down(update, CallbackContext.from_update(update, application))

    lanes = application.update_processor
    assert isinstance(lanes, ChatLanes)
    lanes.warn = warn
    if services.config.webhook is not None:
        lanes.admit_later = fleet.flood
        lanes.turn = fleet.turn
        return
    lanes.admit = FloodGuard(
        lambda user_id: services.store.keyring.pseudonym(KeyPurpose.RATELIMIT, user_id)
    )

    async def after(update: object, handled: bool) -> None:
        # Long polling claimed the update before queueing it (bot/polling.py): done only now.
        if isinstance(update, Update):
            if handled:
                await fleet.done(update.update_id)
            else:
                await fleet.release(update.update_id)

    lanes.after = after


async def _post_shutdown(application: App) -> None:
    services: Services | None = application.bot_data.pop("services", None)
    holdings = application.bot_data.pop(HOLDINGS, None)
    if isinstance(holdings, Holdings):
        try:
            await holdings.release_all()  # another process takes over at once
        except Exception as error:
            log.warning("leases not released (%s); they run out", type(error).__name__)
    fleet = fleet_of(application)
    if fleet is not None:
        await fleet.stop()
    if services is not None:
        await services.close()
    log.info("bot stopped")
