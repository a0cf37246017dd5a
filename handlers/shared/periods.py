"""The periods of SPEC "Admin" as buttons, and two typed dates, for `/stats` and `/export`.

The typed dates are read from the user's next message: the "stats" conversation draft, whose
`for` says which command asked ("stats" or "export"; handlers/conversation.py routes it).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers.shared.context import language_of, private_user, services_of
from reports.stats import TYPED, DatesError, Period, parse_dates
from texts.catalog import plain, text

#: The conversation draft of two typed dates.
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


async def ask_dates(
    context: ContextTypes.DEFAULT_TYPE, user_id: int, language: str, purpose: str
) -> None:
    """Read the user's next message as two dates, for `purpose` ("stats" or "export")."""
    store = services_of(context).store
    await store.staff.end_action(user_id)  # an officer's open reply never captures the dates
    await store.drafts.save(user_id, {"flow": FLOW, "for": purpose})
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
    await services_of(context).store.drafts.clear(update.effective_user.id)
    return period


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/cancel` while typing the dates."""
    user = private_user(update)
    if user is None or update.effective_message is None:
        return
    await services_of(context).store.drafts.clear(user.id)
    language = await language_of(context, user)
    await update.effective_message.reply_text(text(language, "stats_cancelled"))
