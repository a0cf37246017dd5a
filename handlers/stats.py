"""`/stats` (officers: their areas; admins and officers of all areas: every area): a period, then
the numbers of that period and their chart (SPEC "Admin").

The periods are buttons `ss:p:<code>`; the last one asks for two typed dates, read from the
user's next message (the "stats" conversation draft, shared with `/export`). The role is read
when each button or message is handled, and the numbers from the database at that moment.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.catalog import plain, text
from bot.stats import (
    TYPED,
    DatesError,
    Period,
    collect,
    local_today,
    parse_dates,
    period_of,
    scope_of,
    send_report,
)
from handlers.buttons import parse
from handlers.context import Role, language_of, private_user, role_of, services_of

log = logging.getLogger(__name__)

#: The conversation draft of two typed dates; `for` says which command asked ("stats",
#: "export").
FLOW = "stats"


def period_keyboard(language: str, prefix: str) -> InlineKeyboardMarkup:
    """The periods of SPEC as buttons `<prefix>:p:<code>`, two typed dates last."""
    buttons = [
        InlineKeyboardButton(plain(language, key), callback_data=f"{prefix}:p:{code}")
        for code, key in (
            ("w", "period_w"),
            ("m", "period_m"),
            ("q", "period_q"),
            ("y", "period_y"),
            ("12", "period_12"),
        )
    ]
    dates = InlineKeyboardButton(
        plain(language, "btn_period_dates"), callback_data=f"{prefix}:p:{TYPED}"
    )
    return InlineKeyboardMarkup([buttons[0:2], buttons[2:4], buttons[4:5], [dates]])


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
        await ask_dates(context, user.id, language, "stats")
        return
    period = period_of(code, local_today(services.config.timezone)) if code else None
    if period is None:
        await query.answer(plain(language, "button_expired"))
        return
    await query.answer()
    await answer_stats(context, role, language, period)


async def ask_dates(
    context: ContextTypes.DEFAULT_TYPE, user_id: int, language: str, purpose: str
) -> None:
    """Read the user's next message as two dates, for `purpose` ("stats" or "export")."""
    store = services_of(context).store
    await store.staff.end_action(user_id)  # an officer's open reply never captures the dates
    await store.drafts.save(user_id, {"flow": FLOW, "for": purpose})
    await context.bot.send_message(user_id, text(language, "stats_ask_dates"))


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
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any]
) -> None:
    """The two typed dates, for `/stats` or `/export` (the role is checked again now)."""
    user = private_user(update)
    message = update.effective_message
    if user is None or message is None:
        return
    services = services_of(context)
    language = await language_of(context, user)
    role = await role_of(context, user.id)
    for_export = draft.get("for") == "export"
    if not (role.is_admin if for_export else role.is_staff):
        await services.store.drafts.clear(user.id)
        await message.reply_text(text(language, "not_allowed"))
        return
    try:
        period = parse_dates(message.text or "")
    except DatesError as error:
        key = "stats_dates_too_long" if error.kind == "too_long" else "stats_bad_dates"
        await message.reply_text(text(language, key))
        return
    await services.store.drafts.clear(user.id)
    if for_export:
        from handlers.export import ask_content

        await ask_content(context, user.id, language, period)
    else:
        await answer_stats(context, role, language, period)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/cancel` while typing the dates."""
    user = private_user(update)
    if user is None or update.effective_message is None:
        return
    await services_of(context).store.drafts.clear(user.id)
    language = await language_of(context, user)
    await update.effective_message.reply_text(text(language, "stats_cancelled"))
