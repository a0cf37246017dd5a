"""`/stats` (officers: their areas; admins and officers of all areas: every area): a period, then
the numbers of that period and their chart (SPEC "Admin").

The periods are buttons `ss:p:<code>`; the last one asks for two typed dates, read from the
user's next message (handlers/shared/periods.py, shared with `/export`). The role is read
when each button or message is handled, and the numbers from the database at that moment.
"""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.ext import ContextTypes

from handlers.shared import flows
from handlers.shared.buttons import parse
from handlers.shared.context import language_of, private_user, role_of, services_of
from handlers.shared.flows import Purpose, TypedDates
from handlers.shared.periods import ask_dates, period_keyboard, typed_period
from reports.sending import send_report
from reports.stats import (
    TYPED,
    Period,
    collect,
    local_today,
    period_of,
    scope_of,
)
from rules.access import Role
from texts.catalog import plain, text

log = logging.getLogger(__name__)

async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    message = update.effective_message
    if user is None or message is None:
        return
    language = await language_of(context, user)
    if not (await role_of(context, user.id)).is_staff:
        await message.reply_text(text(language, "not_allowed"))
        return
    await message.reply_text(
        text(language, "stats_choose"), reply_markup=period_keyboard(language, "ss")
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`ss:p:<code>`: the numbers of that period, or (`ss:p:d`) ask for two dates."""
    query = update.callback_query
    user = private_user(update)
    if query is None or user is None:
        return
    language = await language_of(context, user)
    role = await role_of(context, user.id)
    if not role.is_staff:
        await query.answer(plain(language, "not_allowed"))
        return
    data = parse(query.data)
    code = data.word(1) if len(data) == 2 and data.text(0) == "p" else None
    services = services_of(context)
    if code == TYPED:
        await query.answer()
        await ask_dates(context, user.id, language, Purpose.STATS)
        return
    period = period_of(code, local_today(services.config.timezone)) if code else None
    if period is None:
        await query.answer(plain(language, "button_expired"))
        return
    await query.answer()
    await answer_stats(context, role, language, period)


async def answer_stats(
    context: ContextTypes.DEFAULT_TYPE, role: Role, language: str, period: Period
) -> None:
    services = services_of(context)
    started = time.perf_counter()
    scope = scope_of(role)
    report = await collect(services.store, period, scope, services.config.timezone)
    await send_report(context.bot, role.user_id, language, report, services.areas)
    log.info(
        "stats for staff %s: %s to %s, %s tips, %s areas, %.0f ms", role.user_id,
        period.first, period.last, report.counts.total,
        "all" if scope.everything else len(scope.areas),
        (time.perf_counter() - started) * 1000,
    )


async def on_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dates: TypedDates
) -> None:
    """The two typed dates for `/stats` (the role is checked again now)."""
    user = private_user(update)
    if user is None or update.effective_message is None:
        return
    language = await language_of(context, user)
    role = await role_of(context, user.id)
    if not role.is_staff:
        await flows.end(context, user.id)
        await update.effective_message.reply_text(text(language, "not_allowed"))
        return
    period = await typed_period(update, context, language)
    if period is not None:
        await answer_stats(context, role, language, period)
