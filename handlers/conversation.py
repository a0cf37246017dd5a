"""Where a free message lands: routed by the flow of the sender's one conversation (the
`ON_MESSAGE` table), else a kind hint; `/cancel` and `/forget` end that conversation.

Stickers, polls, contacts or GIFs where text is expected, and any message outside a flow, get a
short answer in the user's language; nothing changes and nothing is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from handlers.admin import broadcast as admin_broadcast
from handlers.admin import export
from handlers.admin import schedule as admin_schedule
from handlers.officer import desk as officer_desk
from handlers.officer import stats
from handlers.resident import evidence as resident_evidence
from handlers.resident import report as resident_report
from handlers.resident import status as resident_status
from handlers.resident.evidence import person_of, user_lock
from handlers.shared import flows
from handlers.shared.context import language_of, private_user, reads_of, services_of
from handlers.shared.flows import Flow, Purpose, TypedDates
from texts.catalog import Html, text

Context = ContextTypes.DEFAULT_TYPE
OnMessage = Callable[[Update, Context, Any], Awaitable[None]]

log = logging.getLogger(__name__)


async def _dates(update: Update, context: Context, dates: TypedDates) -> None:
    await _DATES_FOR[dates.purpose](update, context, dates)


#: Who takes a free message, by the flow the sender is in (an owed receipt takes none: the
#: gatekeeper shows it first).
ON_MESSAGE: Mapping[Flow, OnMessage] = {
    Flow.REPORT: resident_report.on_message,
    Flow.STATUS: resident_status.on_message,
    Flow.BROADCAST: admin_broadcast.on_message,
    Flow.SCHEDULE: admin_schedule.on_message,
    Flow.DATES: _dates,
    Flow.REPLY: officer_desk.on_reply_message,
    Flow.TRANSFER: officer_desk.on_agency_message,
}
_DATES_FOR: Mapping[Purpose, OnMessage] = {
    Purpose.STATS: stats.on_message,
    Purpose.EXPORT: export.on_dates,
}

def cancelled(language: str, flow: Flow) -> Html:
    """What `/cancel` says when it ends a conversation of `flow`."""
    for each, key in (
        (Flow.REPORT, "report_cancelled"),
        (Flow.STATUS, "status_closed"),
        (Flow.RECEIPT, "status_closed"),
        (Flow.BROADCAST, "broadcast_cancelled"),
        (Flow.SCHEDULE, "schedule_cancelled"),
        (Flow.DATES, "stats_cancelled"),
        (Flow.REPLY, "desk_action_cancelled"),
        (Flow.TRANSFER, "desk_action_cancelled"),
    ):
        if each is flow:
            return text(language, key)
    raise LookupError(flow)


async def on_private_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    if user is None or update.effective_message is None:
        return
    state = await flows.current(context, user.id)
    handler = ON_MESSAGE.get(state.flow) if state is not None else None
    if handler is not None:
        await handler(update, context, state)
        return
    language = await language_of(context, user)
    await update.effective_message.reply_text(text(language, "unknown_input"))


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/cancel`: end whatever is in progress (a report draft is deleted, nothing is sent)."""
    user = private_user(update)
    if user is None:
        return
    # Under the user's lock: an evidence file whose cleaning finishes now must not bring a
    # cancelled report back.
    async with user_lock(user.id):
        state = await flows.current(context, user.id)
        if state is not None:
            await flows.end(context, user.id)
    language = await language_of(context, user)
    if state is None:
        await update.effective_message.reply_text(text(language, "nothing_to_cancel"))
    elif state.flow is Flow.REPORT:
        await update.effective_chat.send_message(cancelled(language, state.flow))
    else:
        await update.effective_message.reply_text(cancelled(language, state.flow))


#: /forget at most FORGET_LIMIT times a person in FORGET_WINDOW seconds: each opens every
#: tip's notification chat (finding 2 of 2026-12-03), so a repeated /forget must not slow the
#: line for everyone. Two leave room for a second thought; the third waits a few minutes.
FORGET_LIMIT = 2
FORGET_WINDOW = 600.0


async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/forget` (SPEC "Resident"): this chat leaves every tip's notification link, campaign
    news, any conversation in progress (a report, a /status session, an owed receipt, a staff
    member's pending action) and the stored language preference.

    The answer is the same whether the chat was linked to no tip or to many, and nothing
    logs how many (finding 1 of 2026-12-03): whoever holds the phone later learns nothing
    from it about the tips sent."""
    user = private_user(update)
    if user is None:
        return
    services = services_of(context)
    store = services.store
    language = await language_of(context, user)  # before the preference goes
    limits = store.ratelimits
    if await limits.recent_failures(user.id, "forget", FORGET_WINDOW) >= FORGET_LIMIT:
        log.info("update %s: a /forget refused, too many in a few minutes", update.update_id)
        await update.effective_message.reply_text(text(language, "forget_later"))
        return
    await limits.record_failure(user.id, "forget", FORGET_WINDOW)
    await store.tips.forget_notify_chat(update.effective_chat.id)
    # Under the user's lock, as /cancel: a /status file whose cleaning finishes now must not
    # bring the ended session back (handlers/resident/status.py `_clean_addition`).
    async with user_lock(user.id):
        resident_evidence.stop_cleanings(person_of(store.keyring, user.id))
        await flows.end(context, user.id)
        await resident_status.forget_files(context, user.id)
    await store.preferences.forget(user.id)
    reads_of(context, user.id).language = None
    answer = text(language, "forget_done")
    if await store.subscribers.unsubscribe(user.id):
        answer = Html(answer + "\n\n" + text(language, "forget_subscription_removed"))
    await update.effective_message.reply_text(answer)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command this bot does not have: never taken as report text."""
    language = await language_of(context, update.effective_user)
    await update.effective_message.reply_text(text(language, "unknown_input"))
