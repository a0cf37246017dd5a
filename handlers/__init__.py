"""All handlers, registered in one place, top to bottom. Order matters:

group -1  the gatekeeper: groups, channels, edited messages and bots stop here;
group  0  commands, then buttons by their data prefix, then any other private message.

Deny by default: every command and button is listed in `COMMANDS` or `BUTTONS` with the role it
needs, and is registered only through `handlers.shared.gate.guarded`, which checks that role before
the handler runs. A callback not in these tables is reachable by nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import conversation, deep_links, gatekeeper
from handlers.admin import broadcast as admin_broadcast
from handlers.admin import campaign as admin_campaign
from handlers.admin import export
from handlers.admin import invite as admin_invite
from handlers.admin import officers as admin_officers
from handlers.admin import schedule as admin_schedule
from handlers.officer import areas as officer_areas
from handlers.officer import desk as officer_desk
from handlers.officer import stats
from handlers.resident import reply as resident_reply
from handlers.resident import report as resident_report
from handlers.resident import status as resident_status
from handlers.resident import subscribe as resident_subscribe
from handlers.resident import welcome
from handlers.shared.context import language_of
from handlers.shared.gate import Callback, Need, guarded
from telegram_api.types import App
from texts.catalog import plain

GATE_GROUP = -1

RESIDENT, OFFICER, ADMIN = Need.RESIDENT, Need.OFFICER, Need.ADMIN


@dataclass(frozen=True)
class Route:
    """A command name or a button data prefix, the role it needs, and its handler."""

    key: str
    need: Need
    callback: Callback


COMMANDS: tuple[Route, ...] = (
    Route("start", RESIDENT, deep_links.start),
    Route("help", RESIDENT, welcome.help_command),
    Route("language", RESIDENT, welcome.language_command),
    Route("report", RESIDENT, resident_report.report_command),
    Route("status", RESIDENT, resident_status.status_command),
    Route("cancel", RESIDENT, conversation.cancel_command),
    Route("forget", RESIDENT, conversation.forget_command),
    Route("subscribe", RESIDENT, resident_subscribe.subscribe_command),
    Route("unsubscribe", RESIDENT, resident_subscribe.unsubscribe_command),
    Route("tips", OFFICER, officer_desk.tips_command),
    Route("tip", OFFICER, officer_desk.tip_command),
    Route("areas", OFFICER, officer_areas.areas_command),
    Route("stats", OFFICER, stats.stats_command),
    Route("broadcast", ADMIN, admin_broadcast.broadcast_command),
    Route("schedule", ADMIN, admin_schedule.schedule_command),
    Route("schedules", ADMIN, admin_schedule.schedules_command),
    Route("campaign", ADMIN, admin_campaign.campaign_command),
    Route("invite", ADMIN, admin_invite.invite_command),
    Route("officers", ADMIN, admin_officers.officers_command),
    Route("export", ADMIN, export.export_command),
)

#: Button data is `<prefix>:<fields>`; the prefix picks the handler.
BUTTONS: tuple[Route, ...] = (
    Route("m", RESIDENT, welcome.menu_button),
    Route("lang", RESIDENT, welcome.language_chosen),
    Route("r", RESIDENT, resident_report.on_button),
    Route("st", RESIDENT, resident_status.on_button),
    Route("sub", RESIDENT, resident_subscribe.on_button),
    Route("rr", RESIDENT, resident_reply.on_button),
    Route("o", OFFICER, officer_desk.on_button),
    Route("ol", OFFICER, officer_desk.on_list_button),
    Route("inv", ADMIN, admin_invite.on_button),
    Route("bc", ADMIN, admin_broadcast.on_button),
    Route("sch", ADMIN, admin_schedule.on_button),
    Route("a", ADMIN, admin_officers.on_button),
    Route("ss", OFFICER, stats.on_button),
    Route("ex", ADMIN, export.on_button),
)


def register_handlers(application: App) -> None:
    application.add_handler(TypeHandler(Update, gatekeeper.gatekeeper), group=GATE_GROUP)

    private = filters.ChatType.PRIVATE
    for route in COMMANDS:
        application.add_handler(
            CommandHandler(route.key, guarded(route.need, route.callback), filters=private)
        )
    for route in BUTTONS:
        application.add_handler(
            CallbackQueryHandler(
                guarded(route.need, route.callback), pattern=f"^{route.key}:"
            )
        )
    application.add_handler(CallbackQueryHandler(guarded(RESIDENT, _stale_button)))

    # Free messages belong to a flow, and each flow re-checks its own role when it continues
    # (an officer's pending reply, an admin's composition): see handlers/conversation.py.
    application.add_handler(
        MessageHandler(private & filters.COMMAND, guarded(RESIDENT, conversation.unknown_command))
    )
    application.add_handler(
        MessageHandler(
            private & ~filters.UpdateType.EDITED,
            guarded(RESIDENT, conversation.on_private_message),
        )
    )
    application.add_error_handler(gatekeeper.on_error)


async def _stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Buttons this version does not know (forged, or from an older version): expired."""
    language = await language_of(context, update.effective_user)
    await update.callback_query.answer(plain(language, "button_expired"))
