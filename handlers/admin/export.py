"""`/export` (admins): a period, then "without content" or "with content"; a spreadsheet (.xlsx)
of that period's tips, built in memory and sent as a document in the admin's private chat.

Buttons: `ex:p:<code>` (a period; `ex:p:d` asks for two typed dates, see handlers/officer/stats.py),
then `ex:c:<0|1>:<period>` where 1 is "with content" and the period is its code or
`d:<yyyymmdd>:<yyyymmdd>`. "With content" decrypts each tip and its thread through the storage
functions and is written to the audit log (so is an export without content), before the file is
sent. The admin role is read again when each button is pressed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers.shared import flows
from handlers.shared.buttons import parse
from handlers.shared.context import (
    admin_in_private,
    language_of,
    private_user,
    role_of,
    services_of,
)
from handlers.shared.flows import Purpose, TypedDates
from handlers.shared.periods import ask_dates, period_keyboard, typed_period
from reports.stats import (
    TYPED,
    Period,
    collect,
    day_text,
    local_today,
    period_from_fields,
    period_name,
)
from rules.times import local_time
from storage.stats import StatsScope
from texts.catalog import plain, text

log = logging.getLogger(__name__)

#: Everything an admin may export: every area.
EVERY_AREA = StatsScope(everything=True)


async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = await admin_in_private(update, context)
    if admin is None:
        return
    _user, language = admin
    await update.effective_message.reply_text(
        text(language, "export_choose"), reply_markup=period_keyboard(language, "ex")
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    admin = await admin_in_private(update, context)
    if query is None or admin is None:
        return
    user, language = admin
    services = services_of(context)
    data = parse(query.data)
    today = local_today(services.config.timezone)
    if data.text(0) == "p" and len(data) == 2:
        code = data.word(1)
        if code == TYPED:
            await query.answer()
            await ask_dates(context, user.id, language, Purpose.EXPORT)
            return
        period = period_from_fields((code,), today) if code else None
        if period is not None:
            await query.answer()
            await ask_content(context, user.id, language, period)
            return
    elif data.text(0) == "c" and data.text(1) in ("0", "1"):
        period = period_from_fields(data.fields[2:], today)
        if period is not None:
            await query.answer()
            await _drop_buttons(query.message)
            await send_export(context, user.id, language, period, with_content=data.text(1) == "1")
            return
    await query.answer(plain(language, "button_expired"))


async def on_dates(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dates: TypedDates
) -> None:
    """The two typed dates for `/export` (the admin role is checked again now)."""
    user = private_user(update)
    if user is None or update.effective_message is None:
        return
    language = await language_of(context, user)
    if not (await role_of(context, user.id)).is_admin:
        await flows.end(context, user.id)
        await update.effective_message.reply_text(text(language, "not_allowed"))
        return
    period = await typed_period(update, context, language)
    if period is not None:
        await ask_content(context, user.id, language, period)


async def ask_content(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, language: str, period: Period
) -> None:
    field = period.field()
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(language, "btn_export_plain"),
                                  callback_data=f"ex:c:0:{field}")],
            [InlineKeyboardButton(plain(language, "btn_export_content"),
                                  callback_data=f"ex:c:1:{field}")],
        ]
    )
    await context.bot.send_message(
        chat_id,
        text(language, "export_content_ask", period=period_name(language, period),
             first=day_text(period.first), last=day_text(period.last)),
        reply_markup=keyboard,
    )


async def send_export(
    context: ContextTypes.DEFAULT_TYPE,
    admin_id: int,
    language: str,
    period: Period,
    *,
    with_content: bool,
) -> None:
    """Build the spreadsheet in memory, record the export in the audit log, send it."""
    from reports.spreadsheet import MAX_BYTES, build_workbook

    services = services_of(context)
    store = services.store
    zone = services.config.timezone
    # Defence in depth: the button's gate already asked for an admin; content needs one now.
    if with_content and not (await role_of(context, admin_id)).is_admin:
        await context.bot.send_message(admin_id, text(language, "not_allowed"))
        return
    started = time.perf_counter()
    progress = await context.bot.send_message(admin_id, text(language, "export_preparing"))
    report = await collect(store, period, EVERY_AREA, zone)
    rows = await store.stats.export_rows(period.window(zone), EVERY_AREA)
    names = {member.user_id: member.display_name for member in await store.staff.all()}
    contents = await _contents(services, language, rows, names) if with_content else None
    data = await asyncio.to_thread(
        build_workbook, language, report, rows, services.areas, names, zone,
        contents=contents, made_at=datetime.now(zone),
    )
    if len(data) > MAX_BYTES:
        await _edit(progress, text(language, "export_too_big"))
        return
    await store.audit.record(
        admin_id, "export", None, content=with_content, first=period.first.isoformat(),
        last=period.last.isoformat(), tips=len(rows),
    )
    content = (
        plain(language, "export_with_content") if with_content
        else plain(language, "export_without_content")
    )
    await context.bot.send_document(
        admin_id,
        data,
        filename=f"tipline-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx",
        caption=text(language, "export_caption", period=period_name(language, period),
                     first=day_text(period.first), last=day_text(period.last),
                     count=len(rows), content=content),
    )
    log.info(
        "export by staff %s: %s to %s, %s tips, content %s, %s bytes, %.0f ms", admin_id,
        period.first, period.last, len(rows), "yes" if with_content else "no", len(data),
        (time.perf_counter() - started) * 1000,
    )
    try:
        await progress.delete()
    except TelegramError as error:
        log.info("could not remove the export's progress message: %s", type(error).__name__)


async def _contents(services, language, rows, names):  # type: ignore[no-untyped-def]
    """Each tip's place, text and thread, decrypted through the storage functions."""
    from reports.spreadsheet import TipContent

    zone = services.config.timezone
    resident = plain(language, "xlsx_resident")
    contents = {}
    for row in rows:
        tip = await services.store.tips.by_id(row.tip_id)
        if tip is None:  # deleted meanwhile
            continue
        lines = []
        for entry in await services.store.tips.thread(row.tip_id):
            who = resident if entry.author == "resident" else names.get(
                entry.staff_id or 0, f"#{entry.staff_id}"
            )
            files = len(entry.body.get("attachments", []))
            body = entry.body.get("text") or ""
            if files:
                body = f"{body} {plain(language, 'xlsx_files', count=files)}".strip()
            lines.append(f"[{local_time(entry.created_at, zone)}] {who}: {body}")
        text_body = tip.content.get("text") or ""
        files = len(tip.content.get("attachments", []))
        if files:
            text_body = f"{text_body} {plain(language, 'xlsx_files', count=files)}".strip()
        contents[row.tip_id] = TipContent(
            place=tip.content.get("place") or "", text=text_body, thread="\n".join(lines)
        )
    return contents


async def _edit(message: Message, body: str) -> None:
    try:
        await message.edit_text(body)
    except TelegramError as error:
        log.info("could not edit the export's progress message: %s", type(error).__name__)


async def _drop_buttons(message: object) -> None:
    if isinstance(message, Message):
        try:
            await message.edit_reply_markup(reply_markup=None)
        except TelegramError as error:
            log.info("could not remove the export choice's buttons: %s", type(error).__name__)
