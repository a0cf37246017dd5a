"""`/broadcast` (admins): a text or a photo with caption, a preview with the number of
recipients, confirm, then the broadcaster sends it in the background with a progress message.

The conversation state is a `BroadcastDraft` (encrypted, like every conversation); the confirm
button carries a random token of that draft, and every button checks the admin role at the
moment it is pressed.

`/broadcast` first lists the broadcasts still being sent, whoever started them, each with a stop
button: the progress message's stop button is only in its creator's chat, and a creator whose
phone was stolen is the one who will not press it. Any admin may stop any broadcast (the role is
read at the press, so forged button data of anyone else stops nothing); each stop is
audit-logged. What was already delivered stays with its recipients.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers.shared import flows
from handlers.shared.buttons import parse
from handlers.shared.context import (
    admin_composing,
    admin_in_private,
    services_of,
)
from handlers.shared.flows import BroadcastDraft
from rules.times import local_time
from storage.broadcasts import Running
from texts.catalog import Html, plain, text
from workers.broadcaster import send_content, wake_broadcaster

log = logging.getLogger(__name__)


async def broadcast_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = await admin_in_private(update, context)
    if admin is None:
        return
    user, language = admin
    services = services_of(context)
    await _show_running(update, context, language)
    subscribers = await services.store.subscribers.count()
    channels = len(services.config.channels)
    if subscribers + channels == 0:
        await update.effective_message.reply_text(text(language, "broadcast_nobody"))
        return
    await flows.begin(context, user.id, BroadcastDraft())
    await update.effective_message.reply_text(
        text(language, "broadcast_ask", subscribers=subscribers, channels=channels)
    )


#: At most this many running broadcasts are listed (they go out one after another, so more
#: than a couple at once is already unusual).
RUNNING_LISTED = 10
EXCERPT_CHARS = 60


async def _show_running(
    update: Update, context: ContextTypes.DEFAULT_TYPE, language: str
) -> None:
    """The broadcasts being sent now, with who answers for each, how far each is and a stop
    button; nothing when none is."""
    store = services_of(context).store
    running = await store.broadcasts.running()
    if not running:
        return
    lines = [text(language, "broadcast_running_title")]
    rows = []
    for each in running[:RUNNING_LISTED]:
        lines.append(await _running_line(context, language, each))
        rows.append([InlineKeyboardButton(
            plain(language, "btn_broadcast_stop_id", id=each.broadcast_id),
            callback_data=f"bc:stop:{each.broadcast_id}",
        )])
    await update.effective_message.reply_text(
        Html("\n".join(lines)), reply_markup=InlineKeyboardMarkup(rows)
    )


async def _running_line(
    context: ContextTypes.DEFAULT_TYPE, language: str, running: Running
) -> Html:
    services = services_of(context)
    store = services.store
    counts = await store.broadcasts.counts(running.broadcast_id)
    broadcast = await store.broadcasts.get(running.broadcast_id)
    excerpt = _excerpt(broadcast.content if broadcast else {}, language)
    creator = (await store.staff.get(running.creator)) if running.creator is not None else None
    who = creator.display_name if creator else (
        f"#{running.creator}" if running.creator is not None else "—")
    return text(
        language,
        "broadcast_running_schedule" if running.origin == "schedule" else "broadcast_running_admin",
        id=running.broadcast_id,
        schedule=running.schedule_id or "—",
        who=who,
        done=counts.finished,
        total=counts.total,
        start=local_time(running.created_at, services.config.timezone),
        excerpt=excerpt,
    )


def _excerpt(content: dict[str, Any], language: str) -> str:
    """The first words of a broadcast's text, tags removed (escaped again by the catalog), so
    an admin knows which one they stop."""
    texts: dict[str, str] = content.get("texts", {})
    body = texts.get(language) or texts.get("*") or next(iter(texts.values()), "")
    flat = " ".join(html.unescape(re.sub(r"<[^>]*>", "", body)).split())
    if not flat:
        return plain(language, "broadcast_photo_only") if content.get("kind") == "photo" else "—"
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def content_of(message: Message) -> dict[str, Any] | None:
    """A broadcast's content from the admin's message: its text or photo, formatting kept."""
    if message.photo:
        return {
            "kind": "photo",
            "file_id": message.photo[-1].file_id,
            "texts": {"*": message.caption_html or ""},
        }
    if message.text and not message.text.startswith("/"):
        return {"kind": "text", "texts": {"*": message.text_html}}
    return None


async def on_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: BroadcastDraft
) -> None:
    """The admin's message while composing: it becomes the content, shown as a preview."""
    services = services_of(context)
    admin = await admin_composing(update, context)
    if admin is None:
        return
    user, language = admin
    message = update.effective_message
    assert message is not None  # a private message (handlers/conversation.py)
    content = content_of(message)
    if content is None:
        await message.reply_text(text(language, "broadcast_bad_content"))
        return
    token = secrets.token_urlsafe(6)
    draft = BroadcastDraft(step="confirm", token=token, content=content)
    await flows.save(context, user.id, draft)
    count = await services.store.subscribers.count() + len(services.config.channels)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(language, "btn_broadcast_send", count=count),
                                  callback_data=f"bc:go:{token}")],
            [InlineKeyboardButton(plain(language, "btn_cancel"), callback_data=f"bc:no:{token}")],
        ]
    )
    await send_content(context.bot, message.chat_id, language, content, reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`bc:go:<token>` send, `bc:no:<token>` cancel, `bc:stop:<id>` stop a running broadcast."""
    query = update.callback_query
    admin = await admin_in_private(update, context)
    if query is None or admin is None:
        return
    _user, language = admin
    data = parse(query.data)
    action = data.text(0) if len(data) == 2 else None
    if action == "go":
        await _confirm(update, context, language, data.fields[1])
    elif action == "no":
        await _cancel_pressed(update, context, language, data.fields[1])
    elif action == "stop" and (broadcast_id := data.number(1)) is not None:
        await _stop(update, context, language, broadcast_id)
    else:
        await query.answer(plain(language, "button_expired"))


async def _confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, language: str, token: str
) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    services = services_of(context)
    store = services.store
    if not _is_draft(await flows.current(context, user.id), token):
        await query.answer(plain(language, "button_expired"))
        return
    await query.answer()
    await _drop_buttons(query.message)
    count = await store.subscribers.count() + len(services.config.channels)
    # The progress message exists before the broadcast, so the worker can always edit it.
    progress = await context.bot.send_message(
        user.id, text(language, "broadcast_preparing", count=count)
    )
    async with store.db.transaction():
        draft = await flows.current(context, user.id)
        if isinstance(draft, BroadcastDraft) and _is_draft(draft, token):
            broadcast_id, total = await store.broadcasts.create(
                origin="admin",
                # The admin's language, for the progress message and the report.
                content={**(draft.content or {}), "ui_language": language},
                channels=services.config.channels,
                created_by=user.id,
                progress_chat=user.id,
            )
            await store.broadcasts.set_progress_message(broadcast_id, progress.message_id)
            await flows.end(context, user.id)
        else:
            broadcast_id = None
    if broadcast_id is None:  # pressed twice at once: the other press queued it
        await progress.edit_text(text(language, "button_expired"))
        return
    log.info("broadcast %s queued by staff %s for %s recipients", broadcast_id, user.id, total)
    wake_broadcaster(context.application)


async def _cancel_pressed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, language: str, token: str
) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    if not _is_draft(await flows.current(context, user.id), token):
        await query.answer(plain(language, "button_expired"))
        return
    await flows.end(context, user.id)
    await query.answer()
    await _drop_buttons(query.message)
    await context.bot.send_message(user.id, text(language, "broadcast_cancelled"))


async def _stop(
    update: Update, context: ContextTypes.DEFAULT_TYPE, language: str, broadcast_id: int
) -> None:
    """Any admin (checked at this press by `on_button`) stops any running broadcast; the stop
    and its audit entry commit together."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None  # staff, not a resident
    store = services_of(context).store
    async with store.db.transaction():
        broadcast = await store.broadcasts.get(broadcast_id)
        stopped = await store.broadcasts.stop(broadcast_id)
        if stopped and broadcast is not None:
            whose = {"creator": broadcast.created_by, "schedule": broadcast.schedule_id}
            await store.audit.record(user.id, "broadcast", None, broadcast=broadcast_id,
                                     change="stop",
                                     **{k: v for k, v in whose.items() if v is not None})
    if stopped:
        log.info("broadcast %s stopped by staff %s", broadcast_id, user.id)
        wake_broadcaster(context.application)
        await query.answer(plain(language, "broadcast_stopping"))
    else:
        await query.answer(plain(language, "broadcast_already_over"))


def _is_draft(draft: flows.State | None, token: str) -> bool:
    return (
        isinstance(draft, BroadcastDraft)
        and draft.step == "confirm"
        and secrets.compare_digest(draft.token, token)
    )


async def _drop_buttons(message: object) -> None:
    if isinstance(message, Message):
        try:
            await message.edit_reply_markup(reply_markup=None)
        except TelegramError as error:
            log.info("could not remove the preview's buttons: %s", type(error).__name__)
