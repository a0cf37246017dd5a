"""All handlers, registered in one place, top to bottom. Order matters:

group -1  the gatekeeper: groups, channels, edited messages and bots stop here;
group  0  commands, then buttons by their data prefix, then any other private message.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

GATE_GROUP = -1


def register_handlers(application: Application) -> None:
    from handlers import (
        admin_broadcast,
        admin_campaign,
        admin_invite,
        admin_officers,
        admin_schedule,
        common,
        conversation,
        officer_desk,
        resident_reply,
        resident_report,
        resident_status,
        resident_subscribe,
    )

    application.add_handler(TypeHandler(Update, common.gatekeeper), group=GATE_GROUP)

    private = filters.ChatType.PRIVATE
    commands = {
        "start": common.start,
        "help": common.help_command,
        "language": common.language_command,
        "report": resident_report.report_command,
        "status": resident_status.status_command,
        "cancel": conversation.cancel_command,
        "forget": conversation.forget_command,
        "subscribe": resident_subscribe.subscribe_command,
        "unsubscribe": resident_subscribe.unsubscribe_command,
        "broadcast": admin_broadcast.broadcast_command,
        "schedule": admin_schedule.schedule_command,
        "schedules": admin_schedule.schedules_command,
        "campaign": admin_campaign.campaign_command,
        "invite": admin_invite.invite_command,
        "areas": admin_invite.areas_command,
        "tips": officer_desk.tips_command,
        "tip": officer_desk.tip_command,
        "officers": admin_officers.officers_command,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=private))

    buttons = {
        r"^m:": common.menu_button,
        r"^lang:": common.language_chosen,
        r"^r:": resident_report.on_button,
        r"^st:": resident_status.on_button,
        r"^inv:": admin_invite.on_button,
        r"^sub:": resident_subscribe.on_button,
        r"^bc:": admin_broadcast.on_button,
        r"^sch:": admin_schedule.on_button,
        r"^o:": officer_desk.on_button,
        r"^ol:": officer_desk.on_list_button,
        r"^a:": admin_officers.on_button,
        r"^rr:": resident_reply.on_button,
    }
    for pattern, callback in buttons.items():
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    application.add_handler(CallbackQueryHandler(_stale_button))

    application.add_handler(MessageHandler(private & filters.COMMAND, conversation.unknown_command))
    application.add_handler(
        MessageHandler(private & ~filters.UpdateType.EDITED, conversation.on_private_message)
    )
    application.add_error_handler(common.on_error)


async def _stale_button(update: Update, context) -> None:  # type: ignore[no-untyped-def]
    """Buttons this version does not know (forged, or from an older version): expired."""
    from bot.catalog import plain
    from handlers.context import language_of

    language = await language_of(context, update.effective_user)
    await update.callback_query.answer(plain(language, "button_expired"))
