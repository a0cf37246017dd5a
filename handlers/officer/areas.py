"""`/areas`: the codes and names of the district's areas, for staff (codes are what
`/tips`, `/invite` and `officers add --area` take)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.shared.context import language_of, private_user, role_of, services_of
from texts.catalog import Html, text


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
