"""`/status`: a resident opens their tip with the receipt code, reads the thread, adds more.

The receipt code is the only credential a resident holds, so guessing is rate limited: at most
5 wrong codes per user in 10 minutes, then "try again later" and no lookup at all. The user is
counted by a keyed hash with the rate-limit key (see storage/ratelimits.py).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from evidence.clean import CannotClean
from handlers.resident import evidence as resident_evidence
from handlers.resident.evidence import Received, user_lock
from handlers.shared import flows
from handlers.shared.attachments import attachment_of
from handlers.shared.buttons import parse
from handlers.shared.context import language_of, private_user, services_of
from handlers.shared.flows import StatusSession
from rules.times import local_time
from storage.receipt_codes import normalise_receipt_code
from storage.tips import Tip
from texts.catalog import Html, plain, text
from workers.delivery import entitled_holders, wake_delivery

log = logging.getLogger(__name__)

WRONG_CODE_LIMIT = 5
WRONG_CODE_WINDOW = 600.0
THREAD_ITEM_CHARS = 600
ADDITION_MAX = 4000
ADDITIONS_PER_HOUR = 30
STATUS_TEXT_BUDGET = 3500


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    if user is None:
        return
    language = await language_of(context, user)
    if await flows.busy_with_report(update, context):
        return
    await flows.begin(context, user.id, StatusSession(step="code"))
    typed = " ".join(context.args or []) if update.callback_query is None else ""
    if typed:
        await _look_up(update, context, typed, language)
        return
    await update.effective_chat.send_message(text(language, "status_ask_code"))


async def on_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: StatusSession
) -> None:
    """A message while /status is open: the code, or an addition to the opened tip."""
    message = update.effective_message
    language = await language_of(context, update.effective_user)
    if draft.step == "code":
        if not message.text:
            await message.reply_text(text(language, "status_ask_code"))
            return
        await _look_up(update, context, message.text, language)
        return
    if draft.step == "add":
        await _add(update, context, draft, language)
        return
    await message.reply_text(text(language, "status_hint_open"), reply_markup=_open_keyboard(
        language, draft.view
    ))


async def _look_up(
    update: Update, context: ContextTypes.DEFAULT_TYPE, typed: str, language: str
) -> None:
    user = update.effective_user
    services = services_of(context)
    limits = services.store.ratelimits
    if await limits.recent_failures(user.id, "receipt", WRONG_CODE_WINDOW) >= WRONG_CODE_LIMIT:
        await update.effective_chat.send_message(text(language, "status_rate_limited"))
        return
    code = normalise_receipt_code(typed)
    tip = await services.store.tips.by_receipt_code(code) if code else None
    if tip is None:
        await limits.record_failure(user.id, "receipt", WRONG_CODE_WINDOW)
        await flows.save(context, user.id, StatusSession(step="code"))
        await update.effective_chat.send_message(text(language, "status_wrong_code"))
        return
    # A new view makes the buttons of earlier views (maybe of another tip) expire.
    view = secrets.token_hex(3)
    await flows.save(context, user.id, StatusSession(step="open", tip_id=tip.tip_id, view=view))
    await update.effective_chat.send_message(
        await render_status(context, tip, language), reply_markup=_open_keyboard(language, view)
    )


async def render_status(context: ContextTypes.DEFAULT_TYPE, tip: Tip, language: str) -> Html:
    """The tip as its resident sees it: no officer names, ids or references to staff."""
    services = services_of(context)
    thread = await services.store.tips.thread(tip.tip_id)
    items: list[str] = []
    budget = STATUS_TEXT_BUDGET
    for entry in reversed(thread):
        body = entry.body.get("text") or ""
        if len(body) > THREAD_ITEM_CHARS:
            body = body[:THREAD_ITEM_CHARS] + "…"
        files = len(entry.body.get("attachments", []))
        key = "status_item_officer" if entry.author == "officer" else "status_item_you"
        when = local_time(entry.created_at, services.config.timezone)
        item = text(language, key, when=when, text=body, files=files)
        if len(item) > budget:
            break
        budget -= len(item)
        items.append(item)
    items.reverse()
    area = services.areas.name(tip.area, language) or plain(language, "area_unsure")
    return text(
        language,
        "status_view",
        category=plain(language, f"cat_{tip.category}"),
        area=area,
        sent=local_time(tip.created_at, services.config.timezone),
        updated=local_time(tip.updated_at, services.config.timezone),
        status=plain(language, f"status_{tip.status}"),
        thread=Html("\n".join(items)) if items else plain(language, "status_no_messages"),
    )


def _open_keyboard(language: str, view: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(language, "btn_status_add"),
                                  callback_data=f"st:add:{view}")],
            [InlineKeyboardButton(plain(language, "btn_status_close"), callback_data="st:close")],
        ]
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = private_user(update)
    if query is None or user is None:
        return
    language = await language_of(context, user)
    draft = await flows.current_of(context, user.id, StatusSession)
    data = parse(query.data)
    action = data.word(0)
    if draft is None or draft.tip_id is None:
        await query.answer(plain(language, "button_expired"))
        return
    # "Add" belongs to one view of one tip (answered once: a second answer is refused).
    if draft.view and data.fields == ("add", str(draft.view)) and draft.step == "open":
        await query.answer()
        await flows.save(context, user.id, replace(draft, step="add"))
        await update.effective_chat.send_message(
            text(language, "status_ask_addition"),
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton(plain(language, "btn_evidence_done"),
                                       callback_data="st:close")]]
            ),
        )
    elif action in ("evk", "evd") and len(data) == 2:
        await _evidence_choice(update, context, draft, action, data.word(1), language)
    elif data.fields == ("close",):
        await query.answer()
        await flows.end(context, user.id)
        await update.effective_chat.send_message(text(language, "status_closed"))
    else:
        await query.answer(plain(language, "button_expired"))


async def _add(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: StatusSession, language: str
) -> None:
    """Store one addition (text or a file) and queue it for the tip's officers.

    A document, audio, video or animation is cleaned first, off this handler's path; the
    addition is stored once its clean copy exists (see `_clean_addition`).
    """
    message = update.effective_message
    services = services_of(context)
    received = resident_evidence.received_file(message)
    attachment = None if received is not None else attachment_of(message)
    body_text = message.text or message.caption or ""
    if len(body_text) > ADDITION_MAX:
        await message.reply_text(text(language, "status_addition_too_long", limit=ADDITION_MAX))
        return
    if attachment is None and received is None and not body_text:
        await message.reply_text(text(language, "status_addition_hint"))
        return
    tip = await services.store.tips.by_id(draft.tip_id) if draft.tip_id is not None else None
    if tip is None:
        await flows.end(context, update.effective_user.id)
        await message.reply_text(text(language, "status_closed"))
        return
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    recent = await services.store.tips.resident_messages_since(tip.tip_id, hour_ago)
    if recent >= ADDITIONS_PER_HOUR:
        # Each addition queues a delivery per officer: a flood would hold up other tips' cards.
        limit = ADDITIONS_PER_HOUR
        await message.reply_text(text(language, "status_addition_flood", limit=limit))
        return
    if received is not None:
        number = await _next_file_number(context, update.effective_user.id, tip)
        await message.reply_text(text(language, "evidence_cleaning", number=number))
        context.application.create_task(
            _clean_addition(context, update.effective_user.id, update.effective_chat.id,
                            tip.tip_id, received, number, body_text, language),
            name="evidence",
        )
        return
    body = {"text": body_text, "attachments": [attachment] if attachment else []}
    await _store_addition(context, tip, body)
    answer = text(language, "status_addition_received")
    if attachment is not None and attachment["kind"] == "video_note":
        answer = Html(answer + "\n\n" + text(language, "evidence_face_warning"))
    await message.reply_text(answer)


async def _store_addition(
    context: ContextTypes.DEFAULT_TYPE, tip: Tip, body: dict[str, Any]
) -> None:
    services = services_of(context)
    recipients = await entitled_holders(services, tip)
    if not recipients:
        recipients = sorted(await services.store.outbox.card_recipients(tip.tip_id))
    await services.store.tips.add_resident_message(tip, body, tuple(recipients))
    log.info("tip %s: resident added information", tip.ref)
    wake_delivery(context.application)


async def _next_file_number(context: ContextTypes.DEFAULT_TYPE, user_id: int, tip: Tip) -> int:
    """N of `evidence-N`: after the files the tip already has, and those on their way."""
    services = services_of(context)
    async with user_lock(user_id):
        draft = await flows.current_of(context, user_id, StatusSession)
        if draft is None or draft.tip_id != tip.tip_id:
            draft = None
        number = draft.evidence_seq if draft is not None else None
        if number is None:
            thread = await services.store.tips.thread(tip.tip_id)
            number = len(tip.content.get("attachments", [])) + sum(
                len(m.body.get("attachments", [])) for m in thread if m.author != "officer"
            )
        number += 1
        if draft is not None:
            await flows.save(context, user_id, replace(draft, evidence_seq=number))
    return number


async def _clean_addition(
    context: ContextTypes.DEFAULT_TYPE,
    user_id: int,
    chat_id: int,
    tip_id: int,
    received: Received,
    number: int,
    body_text: str,
    language: str,
    *,
    as_it_is: bool = False,
) -> None:
    """Clean one added file, then store it with its text; or ask the resident what to do."""
    services = services_of(context)
    try:
        try:
            attachment = await resident_evidence.prepare(
                context.bot, chat_id, received, number, language, as_it_is=as_it_is
            )
        except CannotClean as error:
            reason = error.reason
        except Exception as error:  # a Telegram or network failure: let the resident choose
            log.warning("evidence: an added file could not be prepared (%s)",
                        type(error).__name__)
            reason = resident_evidence.NOT_FETCHED
        else:
            tip = await services.store.tips.by_id(tip_id)
            if tip is None:
                return
            await _store_addition(context, tip, {"text": body_text, "attachments": [attachment]})
            await context.bot.send_message(chat_id, text(language, "status_addition_received"))
            return
        token = secrets.token_hex(4)
        async with user_lock(user_id):
            draft = await flows.current_of(context, user_id, StatusSession)
            if draft is None or draft.tip_id != tip_id:
                draft = None
            else:
                # Until the resident chooses, the original's file id waits here (encrypted).
                waiting = {token: {"received": received.to_json(), "n": number, "text": body_text}}
                draft = replace(draft, undecided={**draft.undecided, **waiting})
                await flows.save(context, user_id, draft)
        keyboard = None
        if draft is not None:
            keyboard = InlineKeyboardMarkup([
                [InlineKeyboardButton(plain(language, "btn_evidence_as_is"),
                                      callback_data=f"st:evk:{token}")],
                [InlineKeyboardButton(plain(language, "btn_evidence_leave_out"),
                                      callback_data=f"st:evd:{token}")],
            ])
        await context.bot.send_message(
            chat_id,
            resident_evidence.cannot_clean_text(language, number, received, reason),
            reply_markup=keyboard,
        )
    except TelegramError as error:
        log.warning("evidence: the resident could not be told (%s)", type(error).__name__)


async def _evidence_choice(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: StatusSession,
    choice: str,
    token: str | None,
    language: str,
) -> None:
    """"Send as it is" (`st:evk:TOKEN`) or "leave it out" (`st:evd:TOKEN`) for an added file."""
    query = update.callback_query
    user_id = update.effective_user.id
    async with user_lock(user_id):
        current = await flows.current_of(context, user_id, StatusSession)
        waiting = dict(current.undecided) if current is not None else {}
        pending = waiting.pop(token, None) if token else None
        if current is None or pending is None or current.tip_id != draft.tip_id:
            await query.answer(plain(language, "button_expired"))
            return
        current = replace(current, undecided=waiting)
        await flows.save(context, user_id, current)
    await query.answer()
    number = pending.get("n", "?")
    if choice == "evd":
        await query.edit_message_text(text(language, "evidence_left_out_addition", number=number))
        return
    await query.edit_message_text(text(language, "evidence_cleaning_as_is", number=number))
    context.application.create_task(
        _clean_addition(context, user_id, update.effective_chat.id, current.tip_id,
                        Received.from_json(pending["received"]), number,
                        pending.get("text", ""), language, as_it_is=True),
        name="evidence",
    )
