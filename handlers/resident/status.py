"""`/status`: a resident opens their tip with the receipt code, reads the thread, adds more.

The receipt code is the only credential a resident holds, so guessing is rate limited: at most
5 wrong codes per user in 10 minutes, then "try again later" and no lookup at all. The user is
counted by a keyed hash with the rate-limit key (see storage/ratelimits.py).

Additions are limited too, each refusal with a kind answer: ADDITIONS_PER_HOUR to one tip, the
files still on their way counted with those stored (each is stored once its clean copy exists),
and at most IN_FLIGHT_PER_PERSON files on their way at once (handlers/resident/evidence.py: a
flooder's files hold no memory while they wait and do not hold up other residents'). The session
remembers the last message it took, saved with what that message added, so an update handled
again after a crash (bot/polling.py) adds nothing twice; the files on their way wait in the
session until the tip has them, and those a restart cut off start again at the resident's next
step. The session and the files it changes beside the handlers are changed under the user's lock.
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
from handlers.resident.evidence import IN_FLIGHT_PER_PERSON, Received, person_of, user_lock
from handlers.resident.report import resume_waiting_files
from handlers.shared import flows
from handlers.shared.attachments import attachment_of
from handlers.shared.buttons import parse
from handlers.shared.context import language_of, private_user, services_of
from handlers.shared.flows import StatusSession
from rules.times import local_time
from storage.receipt_codes import normalise_receipt_code
from storage.staff import atomic
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
    async with user_lock(user.id):
        await begin_session(context, user.id, update.effective_chat.id, StatusSession(), language)
        typed = " ".join(context.args or []) if update.callback_query is None else ""
        if typed:
            await _look_up(update, context, typed, language)
            return
    await update.effective_chat.send_message(text(language, "status_ask_code"))


async def begin_session(
    context: ContextTypes.DEFAULT_TYPE, user_id: int, chat_id: int, session: StatusSession,
    language: str,
) -> None:
    """Start a /status session (under the user's lock); the files of the one before that a
    restart cut off go on first (they are stored whatever the session)."""
    before = await flows.current_of(context, user_id, StatusSession)
    if before is not None:
        _resume(context, user_id, chat_id, before, language)
    await flows.begin(context, user_id, session)


async def on_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: StatusSession
) -> None:
    """A message while /status is open, with the session read again under the user's lock."""
    user = update.effective_user
    async with user_lock(user.id):
        session = await flows.current_of(context, user.id, StatusSession)
        if session is None:
            return  # ended (closed, cancelled) between the dispatch and now
        await _on_message(update, context, session)


async def _on_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session: StatusSession
) -> None:
    """A message while /status is open: the code, or an addition to the opened tip."""
    message = update.effective_message
    language = await language_of(context, update.effective_user)
    _resume(context, update.effective_user.id, update.effective_chat.id, session, language)
    if session.step == "code":
        if not message.text:
            await message.reply_text(text(language, "status_ask_code"))
            return
        await _look_up(update, context, message.text, language)
        return
    if session.step == "add":
        await _add(update, context, session, language)
        return
    await message.reply_text(text(language, "status_hint_open"), reply_markup=_open_keyboard(
        language, session.view
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
    async with user_lock(user.id):
        draft = await flows.current_of(context, user.id, StatusSession)
        if draft is not None:
            _resume(context, user.id, update.effective_chat.id, draft, language)
        await _on_button(update, context, draft, language)


async def _on_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: StatusSession | None,
    language: str,
) -> None:
    query = update.callback_query
    assert query is not None
    user = update.effective_user
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
    update: Update, context: ContextTypes.DEFAULT_TYPE, session: StatusSession, language: str
) -> None:
    """Store one addition (text or a file) and queue it for the tip's officers (under the
    user's lock, the session read under it).

    A document, audio, video or animation is cleaned first, off this handler's path; the
    addition is stored once its clean copy exists (see `_clean_addition`).
    """
    message = update.effective_message
    assert message is not None  # a private message (handlers/conversation.py)
    user_id, chat_id = update.effective_user.id, update.effective_chat.id
    services = services_of(context)
    received = resident_evidence.received_file(message)
    if message.message_id <= session.last_message:
        # Taken before the process stopped: a text is stored, a file on its way (resumed).
        log.info("a /status addition taken before (handled again after a restart); skipped")
        if received is None:
            await message.reply_text(text(language, "status_addition_received"))
        return
    attachment = None if received is not None else attachment_of(message)
    body_text = message.text or message.caption or ""
    if len(body_text) > ADDITION_MAX:
        await message.reply_text(text(language, "status_addition_too_long", limit=ADDITION_MAX))
        return
    if attachment is None and received is None and not body_text:
        await message.reply_text(text(language, "status_addition_hint"))
        return
    tip = await services.store.tips.by_id(session.tip_id) if session.tip_id is not None else None
    if tip is None:
        await flows.end(context, user_id)
        await message.reply_text(text(language, "status_closed"))
        return
    person = person_of(services.store.keyring, user_id)
    if await _over_hourly_limit(context, tip.tip_id, person):
        # Each addition queues a delivery per officer: a flood would hold up other tips' cards.
        limit = ADDITIONS_PER_HOUR
        await message.reply_text(text(language, "status_addition_flood", limit=limit))
        return
    taken = replace(session, last_message=message.message_id)
    if received is not None:
        if resident_evidence.in_flight.count(person) >= IN_FLIGHT_PER_PERSON:
            await message.reply_text(
                text(language, "evidence_busy", limit=IN_FLIGHT_PER_PERSON)
            )
            return
        number = await _next_file_number(context, session, tip)
        token = secrets.token_hex(4)
        entry = {"received": received.to_json(), "n": number, "text": body_text}
        taken = replace(taken, evidence_seq=number, cleaning={**session.cleaning, token: entry})
        await flows.save(context, user_id, taken)
        _start(context, user_id, chat_id, tip.tip_id, token, entry, language)
        await message.reply_text(text(language, "evidence_cleaning", number=number))
        return
    body = {"text": body_text, "attachments": [attachment] if attachment else []}
    await _store_addition(context, tip, body, user_id, taken)
    answer = text(language, "status_addition_received")
    if attachment is not None and attachment["kind"] == "video_note":
        answer = Html(answer + "\n\n" + text(language, "evidence_face_warning"))
    await message.reply_text(answer)


async def _over_hourly_limit(
    context: ContextTypes.DEFAULT_TYPE, tip_id: int, person: bytes
) -> bool:
    """ADDITIONS_PER_HOUR reached: the additions stored in the last hour and the person's files
    on their way (stored once cleaned) together."""
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    recent = await services_of(context).store.tips.resident_messages_since(tip_id, hour_ago)
    return recent + resident_evidence.in_flight.count(person) >= ADDITIONS_PER_HOUR


async def _store_addition(
    context: ContextTypes.DEFAULT_TYPE,
    tip: Tip,
    body: dict[str, Any],
    user_id: int,
    session: StatusSession | None,
    *,
    done_token: str | None = None,
) -> None:
    """Store the addition and, in the same transaction, the session that took it (if any).

    `done_token`: a cleaned file's entry to take out of the session as it is now, read inside
    the transaction, not the session read before the awaits that led here: a /forget, a new
    /report or a campaign link may have ended or replaced it meanwhile, and writing the old
    one back would bring a /status session back to life (the next text typed would go to
    the tip's officers) or overwrite the new report (the review of 2026-12-03)."""
    services = services_of(context)
    recipients = await entitled_holders(services, tip)
    if not recipients:
        recipients = sorted(await services.store.outbox.card_recipients(tip.tip_id))
    async with atomic(services.store.db):
        await services.store.tips.add_resident_message(tip, body, tuple(recipients))
        if done_token is not None:
            session = _without(await flows.current_of(context, user_id, StatusSession),
                               done_token)
        if session is not None:
            await flows.save(context, user_id, session)
    log.info("tip %s: resident added information", tip.ref)
    wake_delivery(context.application)


async def _next_file_number(
    context: ContextTypes.DEFAULT_TYPE, session: StatusSession, tip: Tip
) -> int:
    """N of `evidence-N`: after the files the tip already has, and those on their way."""
    number = session.evidence_seq
    if number is None:
        thread = await services_of(context).store.tips.thread(tip.tip_id)
        number = len(tip.content.get("attachments", [])) + sum(
            len(m.body.get("attachments", [])) for m in thread if m.author != "officer"
        )
    return number + 1


def _start(
    context: ContextTypes.DEFAULT_TYPE,
    user_id: int,
    chat_id: int,
    tip_id: int,
    token: str,
    entry: flows.Record,
    language: str,
) -> None:
    """Clean the session's file `token` in the background: one more of the person's files on
    their way (the caller checked the limits)."""
    person = person_of(services_of(context).store.keyring, user_id)
    resident_evidence.in_flight.take(person)
    resident_evidence.running.add(token)
    context.application.create_task(
        _clean_addition(context, user_id, chat_id, tip_id, token, entry, language, person),
        name="evidence",
    )


def _resume(
    context: ContextTypes.DEFAULT_TYPE,
    user_id: int,
    chat_id: int,
    session: StatusSession,
    language: str,
) -> None:
    """Files of the session whose cleaning a restart cut off start again (all of them: each was
    within the limits when it was taken)."""
    if session.tip_id is None:
        return
    for token, entry in session.cleaning.items():
        if token not in resident_evidence.running:
            _start(context, user_id, chat_id, session.tip_id, token, entry, language)


def _without(session: StatusSession | None, token: str) -> StatusSession | None:
    """The session without its file `token` on its way; None when it does not hold it."""
    if session is None or token not in session.cleaning:
        return None
    return replace(session, cleaning={k: v for k, v in session.cleaning.items() if k != token})


async def _clean_addition(
    context: ContextTypes.DEFAULT_TYPE,
    user_id: int,
    chat_id: int,
    tip_id: int,
    token: str,
    entry: flows.Record,
    language: str,
    person: bytes,
) -> None:
    """Clean one added file, then store it with its text; or ask the resident what to do.

    Stored even when the session ended meanwhile (the resident pressed "done" at once): they
    were told it is on its way. The session's entry goes in the same transaction."""
    services = services_of(context)
    received = Received.from_json(entry["received"])
    number = entry.get("n", 1)
    body_text = entry.get("text", "")
    try:
        try:
            attachment = await resident_evidence.prepare(
                context.bot, chat_id, received, number, language,
                as_it_is=bool(entry.get("as_is")), person=person,
            )
        except CannotClean as error:
            reason = error.reason
        except Exception as error:  # a Telegram or network failure: let the resident choose
            log.warning("evidence: an added file could not be prepared (%s)",
                        type(error).__name__)
            reason = resident_evidence.NOT_FETCHED
        else:
            async with user_lock(user_id):
                after = _without(await flows.current_of(context, user_id, StatusSession), token)
                tip = await services.store.tips.by_id(tip_id)
                if tip is None:
                    if after is not None:
                        await flows.save(context, user_id, after)
                    return
                body = {"text": body_text, "attachments": [attachment]}
                await _store_addition(context, tip, body, user_id, None, done_token=token)
            await context.bot.send_message(chat_id, text(language, "status_addition_received"))
            return
        async with user_lock(user_id):
            session = await flows.current_of(context, user_id, StatusSession)
            if session is None or session.tip_id != tip_id:
                session = None
            else:
                # Until the resident chooses, the original's file id waits here (encrypted).
                waiting = {token: {"received": received.to_json(), "n": number, "text": body_text}}
                session = replace(_without(session, token) or session,
                                  undecided={**session.undecided, **waiting})
                await flows.save(context, user_id, session)
        keyboard = None
        if session is not None:
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
    finally:
        # Given back only now: until the file is stored it counts in the hourly limit.
        resident_evidence.running.discard(token)
        resident_evidence.in_flight.give_back(person)
        try:  # a report's file waiting for this person's turn starts now, not at their next step
            await resume_waiting_files(context, user_id, chat_id, language)
        except Exception as error:
            log.warning("evidence: the report's waiting files not started (%s)",
                        type(error).__name__)


async def _evidence_choice(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: StatusSession,
    choice: str,
    token: str | None,
    language: str,
) -> None:
    """"Send as it is" (`st:evk:TOKEN`) or "leave it out" (`st:evd:TOKEN`) for an added file
    (under the user's lock: `draft` was read under it)."""
    query = update.callback_query
    user_id = update.effective_user.id
    waiting = dict(draft.undecided)
    pending = waiting.pop(token, None) if token else None
    if pending is None or token is None or draft.tip_id is None:
        await query.answer(plain(language, "button_expired"))
        return
    tip_id = draft.tip_id
    number = pending.get("n", "?")
    if choice == "evd":
        await flows.save(context, user_id, replace(draft, undecided=waiting))
        await query.answer()
        await query.edit_message_text(text(language, "evidence_left_out_addition", number=number))
        return
    # As it is: one more file on its way, within the same limits as a file sent (its buttons
    # stay when it is refused, so nothing is lost).
    person = person_of(services_of(context).store.keyring, user_id)
    if await _over_hourly_limit(context, tip_id, person):
        await query.answer(
            plain(language, "status_addition_flood", limit=ADDITIONS_PER_HOUR), show_alert=True
        )
        return
    if resident_evidence.in_flight.count(person) >= IN_FLIGHT_PER_PERSON:
        await query.answer(plain(language, "evidence_busy_press"), show_alert=True)
        return
    entry = {**pending, "as_is": True}
    await flows.save(context, user_id, replace(
        draft, undecided=waiting, cleaning={**draft.cleaning, token: entry}
    ))
    _start(context, user_id, update.effective_chat.id, tip_id, token, entry, language)
    await query.answer()
    await query.edit_message_text(text(language, "evidence_cleaning_as_is", number=number))
