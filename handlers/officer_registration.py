"""An officer opens an admin's one-time invite link (`/start inv-<token>`) and is registered.

The link works once, within 72 hours; an unknown, used or expired link gets one answer, so a
guesser learns nothing about which tokens exist.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.catalog import Html, text
from handlers.context import language_of, services_of
from handlers.menus import publish_menu_for

log = logging.getLogger(__name__)


async def redeem(update: Update, context: ContextTypes.DEFAULT_TYPE, token: str) -> None:
    user = update.effective_user
    services = services_of(context)
    language = await language_of(context, user)
    invite = await services.store.staff.redeem_invite(token, user.id, user.first_name or "")
    if invite is None:
        await update.effective_message.reply_text(text(language, "invite_invalid"))
        return
    await services.store.audit.record(
        user.id, "register", None, invited_by=invite.created_by,
        areas="all" if invite.all_areas else ",".join(invite.areas),
    )
    log.info("officer %s registered by invite of %s", user.id, invite.created_by)
    if invite.all_areas:
        areas = text(language, "all_areas")
    else:
        areas = Html(", ".join(
            text(language, "area_item", name=services.areas.name(code, language) or code)
            for code in invite.areas
        ))
    await update.effective_message.reply_text(text(language, "invite_welcome", areas=areas))
    await publish_menu_for(context.bot, services, user.id)
    from bot.delivery import on_staff_reachable

    await on_staff_reachable(context.application)
