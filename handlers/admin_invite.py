"""Admin commands for staffing the line: `/invite` (a one-time officer link) and `/areas`.

The areas chosen for an invite travel in the button data as a bit mask over the areas file's
order (`inv:<hex mask>:<op>`), so the choice needs no server-side state and survives restarts;
the admin role is checked again on every press.
"""

from __future__ import annotations

import logging
import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.catalog import Html, plain, text
from handlers.buttons import number
from handlers.context import admin_in_private, language_of, private_user, role_of, services_of

log = logging.getLogger(__name__)

INVITE_HOURS = 72


async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = await admin_in_private(update, context)
    if admin is None:
        return
    _user, language = admin
    await update.effective_message.reply_text(
        text(language, "invite_choose"), reply_markup=_keyboard(context, language, 0)
    )


def _keyboard(
    context: ContextTypes.DEFAULT_TYPE, language: str, mask: int
) -> InlineKeyboardMarkup:
    areas = list(services_of(context).areas)
    buttons = [
        InlineKeyboardButton(
            ("✅ " if mask >> i & 1 else "") + area.name(language),
            callback_data=f"inv:{mask:x}:t{i}",
        )
        for i, area in enumerate(areas)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    for key, op in (("invite_all_areas", "all"), ("invite_make", "make")):
        if op == "all" or mask:
            label = plain(language, key)
            rows.append([InlineKeyboardButton(label, callback_data=f"inv:{mask:x}:{op}")])
    rows.append([InlineKeyboardButton(plain(language, "btn_cancel"), callback_data="inv:0:x")])
    return InlineKeyboardMarkup(rows)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    admin = await admin_in_private(update, context)
    if query is None or admin is None:
        return
    user, language = admin
    services = services_of(context)
    areas = list(services.areas)
    parts = (query.data or "").split(":")
    try:
        mask = int(parts[1], 16)
        op = parts[2]
    except (IndexError, ValueError):
        await query.answer(plain(language, "button_expired"))
        return
    if mask >> len(areas) or len(parts) != 3:
        await query.answer(plain(language, "button_expired"))
        return
    if op == "x":
        await query.answer()
        try:
            await query.edit_message_text(text(language, "invite_cancelled"))
        except BadRequest as error:  # a double tap: already cancelled
            if "not modified" not in str(error).lower():
                raise
        return
    if op.startswith("t") and number(op[1:]) is not None and int(op[1:]) < len(areas):
        await query.answer()
        await query.edit_message_reply_markup(_keyboard(context, language, mask ^ 1 << int(op[1:])))
        return
    if op not in ("all", "make") or (op == "make" and not mask):
        await query.answer(plain(language, "button_expired"))
        return
    chosen = () if op == "all" else tuple(a.code for i, a in enumerate(areas) if mask >> i & 1)
    token = secrets.token_urlsafe(24)
    await services.store.staff.create_invite(
        token, areas=chosen, all_areas=op == "all", created_by=user.id
    )
    await services.store.audit.record(
        user.id, "invite", None, areas="all" if op == "all" else ",".join(chosen)
    )
    log.info("admin %s created an officer invite", user.id)
    link = f"https://t.me/{services.bot_username}?start=inv-{token}"
    if op == "all":
        scope = text(language, "all_areas")
    else:
        scope = Html(", ".join(
            text(language, "area_item", name=a.name(language)) for a in areas
            if a.code in chosen
        ))
    await query.answer()
    await query.edit_message_text(
        text(language, "invite_link", link=link, areas=scope, hours=INVITE_HOURS)
    )


async def areas_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    if user is None:
        return
    language = await language_of(context, user)
    role = await role_of(context, user.id)
    if not role.is_staff:
        await update.effective_message.reply_text(text(language, "not_allowed"))
        return
    areas = services_of(context).areas
    lines = Html("\n".join(
        text(language, "area_line", code=a.code, name=a.name(language)) for a in areas
    ))
    await update.effective_message.reply_text(
        text(language, "areas_list", count=len(areas), lines=lines)
    )
