"""The periods of SPEC "Admin" as buttons, and two typed dates, for `/stats` and `/export`.

The typed dates are read from the user's next message: the `TypedDates` conversation, whose
`purpose` says which command asked (handlers/conversation.py routes it).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers.shared import flows
from handlers.shared.flows import Purpose, TypedDates
from reports.stats import TYPED, DatesError, Period, parse_dates
from texts.catalog import plain, text


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


async def ask_dates(
    context: ContextTypes.DEFAULT_TYPE, user_id: int, language: str, purpose: Purpose
) -> None:
    """Read the user's next message as two dates, for `purpose`."""
    await flows.begin(context, user_id, TypedDates(purpose))
    await context.bot.send_message(user_id, text(language, "stats_ask_dates"))


async def typed_period(
    update: Update, context: ContextTypes.DEFAULT_TYPE, language: str
) -> Period | None:
    """The period the user's message types, and the draft ended; None after a short answer
    when the dates cannot be read (the draft stays: they may try again)."""
    message = update.effective_message
    try:
        period = parse_dates(message.text or "")
    except DatesError as error:
        key = "stats_dates_too_long" if error.kind == "too_long" else "stats_bad_dates"
        await message.reply_text(text(language, key))
        return None
    await flows.end(context, update.effective_user.id)
    return period

