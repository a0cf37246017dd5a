"""Where a resident's free message lands: routed to the flow in progress, else a kind hint.

Stickers, polls, contacts or GIFs where text is expected, and any message outside a flow, get a
short answer in the user's language; nothing changes and nothing is kept.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.admin import broadcast as admin_broadcast
from handlers.admin import export
from handlers.admin import schedule as admin_schedule
from handlers.officer import desk as officer_desk
from handlers.officer import stats
from handlers.resident import report as resident_report
from handlers.resident import status as resident_status
from handlers.shared import periods
from handlers.shared.context import language_of, private_user, services_of
from texts.catalog import Html, text


async def on_private_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    if user is None or update.effective_message is None:
        return
    services = services_of(context)
    if await officer_desk.on_staff_message(update, context):
        return
    draft = await services.store.drafts.load(user.id)
    if draft and draft.get("flow") == "report":
        await resident_report.on_message(update, context, draft)
        return
    if draft and draft.get("flow") == "status":
        await resident_status.on_message(update, context, draft)
        return
    if draft and draft.get("flow") == admin_broadcast.FLOW:
        await admin_broadcast.on_message(update, context, draft)
        return
    if draft and draft.get("flow") == admin_schedule.FLOW:
        await admin_schedule.on_message(update, context, draft)
        return
    if draft and draft.get("flow") == periods.FLOW and draft.get("for") == "export":
        await export.on_dates(update, context, draft)
        return
    if draft and draft.get("flow") == periods.FLOW:
        await stats.on_message(update, context, draft)
        return
    language = await language_of(context, user)
    await update.effective_message.reply_text(text(language, "unknown_input"))


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/cancel`: end whatever is in progress (a report draft is deleted, nothing is sent)."""
    user = private_user(update)
    if user is None:
        return
    if await officer_desk.cancel_action(update, context):
        return
    if await resident_report.cancel_report(update, context):
        return
    services = services_of(context)
    language = await language_of(context, user)
    draft = await services.store.drafts.load(user.id)
    if draft is not None and draft.get("flow") == admin_broadcast.FLOW:
        await admin_broadcast.cancel(update, context)
        return
    if draft is not None and draft.get("flow") == admin_schedule.FLOW:
        await admin_schedule.cancel(update, context)
        return
    if draft is not None and draft.get("flow") == periods.FLOW:
        await periods.cancel(update, context)
        return
    if draft is not None:
        await services.store.drafts.clear(user.id)
        await update.effective_message.reply_text(text(language, "status_closed"))
        return
    await update.effective_message.reply_text(text(language, "nothing_to_cancel"))


async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/forget` (SPEC "Resident"): this chat leaves every tip's notification link, campaign
    news, any conversation in progress (a report, a /status session, an owed receipt, a staff
    member's pending action) and the stored language preference."""
    user = private_user(update)
    if user is None:
        return
    services = services_of(context)
    store = services.store
    language = await language_of(context, user)  # before the preference goes
    count = await store.tips.forget_notify_chat(update.effective_chat.id)
    await store.drafts.clear(user.id)
    await store.staff.end_action(user.id)
    await store.preferences.forget(user.id)
    answer = text(language, "forget_done", count=count)
    if await store.subscribers.unsubscribe(user.id):
        answer = Html(answer + "\n\n" + text(language, "forget_subscription_removed"))
    await update.effective_message.reply_text(answer)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command this bot does not have: never taken as report text."""
    language = await language_of(context, update.effective_user)
    await update.effective_message.reply_text(text(language, "unknown_input"))
