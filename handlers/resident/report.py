"""The resident's guided report: category, area, place, when, what happened, evidence,
follow-up, summary, send.

The conversation is a small state machine whose state is a draft in the database (encrypted,
found by a keyed hash of the user): every step's state is committed before the bot answers it,
so a restart (kill -9 included) resumes exactly where the resident was. Button data are short
plain strings `r:<step>:<value>` that are checked against the current step when pressed; a
button of another step says it expired and offers to continue.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
import secrets
from dataclasses import dataclass, replace
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.services import Services
from evidence.clean import CannotClean
from handlers.resident import evidence as resident_evidence
from handlers.resident import receipts
from handlers.resident.evidence import IN_FLIGHT_PER_PERSON, Received, person_of, user_lock
from handlers.shared import flows
from handlers.shared.attachments import attachment_of
from handlers.shared.buttons import number, parse, word
from handlers.shared.context import language_of, private_user, services_of
from handlers.shared.flows import OwedReceipt, ReportDraft
from handlers.shared.presses import answered_while
from rules.areas import Areas
from rules.routing import plan_delivery
from storage.tips import NewTip
from telegram_api.answers import is_not_modified
from telegram_api.keyboards import SharedKeyboard
from texts.catalog import CATEGORIES, Html, escape, plain, text
from workers.delivery import wake_delivery

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Draft = ReportDraft


class Answered(enum.Enum):
    """A button handler's result when it already answered the press itself."""

    ANSWERED = "answered"


ANSWERED = Answered.ANSWERED
#: What a button handler gives back: the next draft, ANSWERED, or None (an expired press).
Step = Draft | Answered | None
STEPS = ("category", "area", "place", "when", "text", "evidence", "followup", "summary")
WHEN_CHOICES = ("now", "today", "earlier")
AREAS_PER_PAGE = 8
MAX_TEXT_CHARS = 8000
MAX_PART_CHARS = 4096
MAX_VOICE_NOTES = 5
SUMMARY_TEXT_CHARS = 2500
EDITABLE = ("category", "area", "place", "when", "text", "evidence", "followup")

# --- entry points --------------------------------------------------------------------------


async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await start_report(update, context)


async def start_report(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    *,
    category: str | None = None,
    campaign: str | None = None,
) -> None:
    """Open a new report (or resume the one in progress) for the user of `update`."""
    user = private_user(update)
    if user is None:
        return
    language = await language_of(context, user)
    if not await _line_is_staffed(context):
        await _say(update, text(language, "report_not_staffed"))
        return
    # Under the user's lock, as /status and /cancel: a /status file whose cleaning ends now
    # must not write its session over the new draft (handlers/resident/status.py).
    async with user_lock(user.id):
        current = await flows.current_of(context, user.id, ReportDraft)
        if current is None:
            if await _over_daily_limit(update, context):
                return
            draft = ReportDraft(campaign=campaign or None)
            if category in CATEGORIES:
                draft = replace(draft, category=category, step="area")
            # Starting a report ends anything else in progress (an officer's open reply
            # included: it must never capture what is written here).
            await flows.begin(context, user.id, draft)
    if current is not None:
        # A deep link (e.g. in a campaign post) must not throw away a report being written.
        await _say(update, text(language, "report_resuming"))
        await _prompt(update, context, current, language, new_message=True)
        return
    await _say(update, text(language, "report_intro"))
    await _prompt(update, context, draft, language, new_message=True)


# --- buttons -------------------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on `r:...`, with the draft to itself (an evidence file may finish meanwhile)."""
    user = private_user(update)
    if update.callback_query is None or user is None:
        return
    async with user_lock(user.id):
        await _on_button(update, context)


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on `r:...`: act if it belongs to the current step, else say it expired."""
    query = update.callback_query
    user = private_user(update)
    if query is None or user is None:
        return
    services = services_of(context)
    language = await language_of(context, user)
    data = parse(query.data)  # r:<step>:<value>; each step checks its value itself
    step, value = data.fields if len(data) == 2 else ("", "")
    draft = await flows.current_of(context, user.id, ReportDraft)
    if draft is None:
        await query.answer(plain(language, "button_expired"))
        if step != "resume":
            await _offer_new(update, language)
        return
    if step == "resume":
        await answered_while(query, _prompt(update, context, draft, language, new_message=True))
        return
    if step == "x" and value == "cancel":
        await query.answer()
        await flows.end(context, user.id)
        await _edit_or_say(update, text(language, "report_cancelled"), None)
        return
    if step == "x" and value == "back":
        if draft.editing or draft.choosing_edit or draft.step == "category":
            await _expired(update, language)
            return
        await query.answer()
        draft = replace(
            draft, step=_previous_step(draft.step, services.config.max_attachments)
        )
        await flows.save(context, user.id, draft)
        await _prompt(update, context, draft, language)
        return
    handler = _BUTTONS.get(step)
    if handler is None or _BUTTON_STEP.get(step) != draft.step:
        await _expired(update, language)
        return
    changed = await handler(update, context, draft, value, language)
    if changed is None:
        await _expired(update, language)
        return
    if changed is ANSWERED:
        return
    await answered_while(query, _saved_then_shown(update, context, changed, language))


async def _saved_then_shown(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: ReportDraft, language: str
) -> None:
    """The step's new state stored, then its prompt shown; the press is answered meanwhile
    (`answered_while`): the answer says nothing of the step, and waiting for the store before
    it kept the chat's lane busy for one more round trip (issue 16)."""
    await flows.save(context, update.effective_user.id, draft)
    await _prompt(update, context, draft, language)


async def _expired(update: Update, language: str) -> None:
    """A stale or forged button: nothing changes; offer to continue where the report is."""
    query = update.callback_query
    assert query is not None
    await query.answer(plain(language, "button_expired"))
    await update.effective_chat.send_message(
        text(language, "report_continue_hint"),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(plain(language, "btn_continue"), callback_data="r:resume:")]]
        ),
    )


async def _offer_new(update: Update, language: str) -> None:
    await update.effective_chat.send_message(
        text(language, "report_none_in_progress"),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(plain(language, "menu_report"), callback_data="m:report")]]
        ),
    )


async def _pick_category(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    if value not in CATEGORIES:
        return None
    return _advance(replace(draft, category=value), "area")


async def _pick_area(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    areas = services_of(context).areas
    if value != "unsure" and value not in areas:
        return None
    return _advance(replace(draft, area=value), "place")


async def _area_page(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    pages = _page_count(len(services_of(context).areas))
    page = number(value)
    if page is None or not 0 <= page < pages:
        return None
    return replace(draft, area_page=int(value))


async def _place(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    if value != "skip":
        return None
    return _advance(replace(draft, place=None, location=None), "when")


async def _when(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    if value not in (*WHEN_CHOICES, "skip"):
        return None
    return _advance(replace(draft, when=None if value == "skip" else value), "text")


async def _text_done(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    if value != "done" or not (draft.text or draft.voice):
        return None
    max_attachments = services_of(context).config.max_attachments
    return _advance(draft, "evidence" if max_attachments > 0 else "followup")


async def _evidence(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    if value not in ("done", "skip", "clear"):
        return None
    if value == "clear":
        return replace(draft, attachments=(), evidence_seq=0)
    attachments = draft.attachments
    undecided = [a for a in attachments if a.get("undecided")]
    if undecided:
        await update.callback_query.answer(
            plain(language, "evidence_decide_first", number=undecided[0].get("n", "?"))
        )
        return ANSWERED
    if any(a.get("pending") for a in attachments):
        _resume_cleanings(context, update.effective_user.id, update.effective_chat.id, draft,
                          language)
        await update.callback_query.answer(plain(language, "evidence_wait_cleaning"))
        return ANSWERED
    return _advance(draft, "followup")


async def _evidence_choice(
    update: Update, context: Context, draft: Draft, value: str, language: str, *, keep: bool
) -> Step:
    """"Send as it is" or "leave it out" for a file that could not be cleaned."""
    token = word(value)
    attachments = list(draft.attachments)
    entry = next((a for a in attachments if token and a.get("undecided") == token), None)
    if entry is None or token is None:
        return None
    query = update.callback_query
    await query.answer()
    if not keep:
        attachments.remove(entry)
        draft = replace(draft, attachments=tuple(attachments))
        await flows.save(context, update.effective_user.id, draft)
        await _edit_or_say(
            update, text(language, "evidence_left_out", number=entry.get("n", "?")), None
        )
        await _prompt(update, context, draft, language, new_message=True)
        return ANSWERED
    kept = {k: v for k, v in entry.items() if k not in ("undecided", "reason")}
    attachments[attachments.index(entry)] = {**kept, "pending": token, "as_is": True}
    draft = replace(draft, attachments=tuple(attachments))
    await flows.save(context, update.effective_user.id, draft)
    await _edit_or_say(update, text(language, "evidence_cleaning_as_is",
                                    number=entry.get("n", "?")), None)
    _start_cleaning(context, update.effective_user.id, update.effective_chat.id, token, language)
    return ANSWERED


async def _evidence_as_is(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    return await _evidence_choice(update, context, draft, value, language, keep=True)


async def _evidence_leave_out(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    return await _evidence_choice(update, context, draft, value, language, keep=False)


async def _followup(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    if value not in ("anon", "notify"):
        return None
    return _advance(replace(draft, followup=value), "summary")


async def _summary(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    if value == "send":
        # The spinner ends while the tip is stored and the receipt given.
        query = update.callback_query
        assert query is not None  # a button step
        await answered_while(query, _submit(update, context, draft, language))
        return ANSWERED
    if value == "edit":
        return replace(draft, step="summary", choosing_edit=True)
    return None


async def _edit_field(
    update: Update, context: Context, draft: Draft, value: str, language: str
) -> Step:
    if value not in EDITABLE or not draft.choosing_edit:
        return None
    if value == "evidence" and services_of(context).config.max_attachments == 0:
        return None
    draft = replace(draft, choosing_edit=False, editing=True, step=value)
    if value == "text":
        draft = replace(draft, text=(), voice=())
    if value == "evidence":
        draft = replace(draft, attachments=(), evidence_seq=0)
    return draft


_BUTTONS = {
    "cat": _pick_category,
    "area": _pick_area,
    "ap": _area_page,
    "place": _place,
    "when": _when,
    "text": _text_done,
    "ev": _evidence,
    "evk": _evidence_as_is,
    "evd": _evidence_leave_out,
    "fu": _followup,
    "sum": _summary,
    "edit": _edit_field,
}
_BUTTON_STEP = {
    "cat": "category",
    "area": "area",
    "ap": "area",
    "place": "place",
    "when": "when",
    "text": "text",
    "ev": "evidence",
    "evk": "evidence",
    "evd": "evidence",
    "fu": "followup",
    "sum": "summary",
    "edit": "summary",
}


def _advance(draft: Draft, next_step: str) -> Draft:
    """Go to the next step, or back to the summary when the resident was editing one field."""
    if draft.editing:
        return replace(draft, editing=False, step="summary")
    return replace(draft, step=next_step)


def _previous_step(step: str, max_attachments: int) -> str:
    index = STEPS.index(step)
    previous = STEPS[max(0, index - 1)]
    if previous == "evidence" and max_attachments == 0:
        previous = "text"
    return previous


# --- messages ------------------------------------------------------------------------------


async def on_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft
) -> None:
    """A message while a report is in progress, with the draft read again under the lock."""
    user = update.effective_user
    async with user_lock(user.id):
        current = await flows.current_of(context, user.id, ReportDraft)
        if current is None:
            return  # ended (cancelled, sent) between the dispatch and now
        await _on_message(update, context, current)


async def _on_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft
) -> None:
    """A message while a report is in progress: used by the text-taking steps, else a hint."""
    user = update.effective_user
    message = update.effective_message
    assert message is not None  # routed here for a private message (handlers/conversation.py)
    if message.message_id <= draft.last_message:
        log.info("a report's message taken before (handled again after a restart); skipped")
        return
    draft = replace(draft, last_message=message.message_id)  # kept by every save below
    services = services_of(context)
    language = await language_of(context, user)
    step = draft.step
    if step == "place" and (message.text or message.location):
        if message.location:
            draft = replace(draft, location={
                "lat": message.location.latitude,
                "lon": message.location.longitude,
            })
        else:
            if len(message.text or "") > 500:
                await message.reply_text(text(language, "report_place_too_long"))
                return
            draft = replace(draft, place=message.text)
        draft = _advance(draft, "when")
        await flows.save(context, user.id, draft)
        await _prompt(update, context, draft, language, new_message=True)
        return
    if step == "text" and message.text:
        used = sum(len(p) for p in draft.text)
        if used + len(message.text) > MAX_TEXT_CHARS:
            await message.reply_text(text(language, "report_text_full", limit=MAX_TEXT_CHARS))
            return
        draft = replace(draft, text=(*draft.text, message.text[:MAX_PART_CHARS]))
        await flows.save(context, user.id, draft)
        await _step_message(
            update, context, draft, text(language, "report_text_added", count=len(draft.text))
        )
        return
    if step == "text" and message.voice:
        # Many would rather speak than type: voice notes count as the description.
        if len(draft.voice) >= MAX_VOICE_NOTES:
            await message.reply_text(text(language, "report_voice_full", limit=MAX_VOICE_NOTES))
            return
        first = not draft.voice_warned
        voice = {"kind": "voice", "file_id": message.voice.file_id}
        draft = replace(draft, voice=(*draft.voice, voice), voice_warned=True)
        await flows.save(context, user.id, draft)
        answer = text(language, "report_voice_added", count=len(draft.voice))
        if first:
            answer = Html(answer + "\n\n" + text(language, "report_voice_warning"))
        await _step_message(update, context, draft, answer)
        return
    if step == "evidence":
        _resume_cleanings(context, user.id, update.effective_chat.id, draft, language)
    if step == "evidence" and (attachment := attachment_of(message)):
        limit = services.config.max_attachments
        if len(draft.attachments) >= limit:
            await message.reply_text(text(language, "report_evidence_full", limit=limit))
            return
        number = draft.evidence_seq + 1
        received = resident_evidence.received_file(message)
        token = ""
        if received is not None:
            # Cleaned off this handler's path; until then the draft holds the original's file
            # id (encrypted, like all of it), and nothing else ever does.
            token = secrets.token_hex(4)
            attachment = {"kind": received.kind, "pending": token, "n": number,
                          "received": received.to_json()}
        caption = (message.caption[:1024],) if message.caption else ()
        draft = replace(
            draft, attachments=(*draft.attachments, attachment), evidence_seq=number,
            text=(*draft.text, *caption),
        )
        await flows.save(context, user.id, draft)
        if received is not None:
            await message.reply_text(text(language, "evidence_cleaning", number=number))
            _start_cleaning(context, user.id, update.effective_chat.id, token, language)
            return
        answer = text(language, "report_evidence_added", count=len(draft.attachments), limit=limit)
        if attachment["kind"] == "video_note":
            answer = Html(answer + "\n\n" + text(language, "evidence_face_warning"))
        await _step_message(update, context, draft, answer)
        return
    await _step_message(update, context, draft, text(language, f"report_hint_{step}"))


def _start_cleaning(
    context: Context, user_id: int, chat_id: int, token: str, language: str
) -> None:
    """Clean (or prepare as it is) the draft's file `token` in the background; past the
    person's IN_FLIGHT_PER_PERSON files on their way it waits in the draft ("being cleaned")
    and starts when one of theirs is done (`_clean_in_background`)."""
    if token in resident_evidence.running:
        return
    person = person_of(services_of(context).store.keyring, user_id)
    if resident_evidence.in_flight.count(person) >= IN_FLIGHT_PER_PERSON:
        return
    resident_evidence.in_flight.take(person)
    resident_evidence.running.add(token)
    resident_evidence.track(person, context.application.create_task(
        _clean_in_background(context, user_id, chat_id, token, language, person),
        name="evidence",
    ))


def _resume_cleanings(
    context: Context, user_id: int, chat_id: int, draft: Draft, language: str
) -> None:
    """Files waiting for their turn, or whose cleaning a restart cut off (their entry is still
    pending), start, as many as the person may have on their way."""
    for attachment in draft.attachments:
        token = attachment.get("pending")
        if token:
            _start_cleaning(context, user_id, chat_id, token, language)


async def resume_waiting_files(
    context: Context, user_id: int, chat_id: int, language: str
) -> None:
    """Start the report's files waiting for their turn: called when one of the person's files
    of another flow (/status) is done, since those share the person's files on their way and
    the report's own would otherwise wait until the resident pressed something."""
    draft = await flows.current_of(context, user_id, ReportDraft)
    if draft is not None:
        _resume_cleanings(context, user_id, chat_id, draft, language)


def _pending(draft: Draft | None, token: str) -> flows.Record | None:
    if draft is None:
        return None
    return next((a for a in draft.attachments if a.get("pending") == token), None)


async def _clean_in_background(
    context: Context, user_id: int, chat_id: int, token: str, language: str, person: bytes
) -> None:
    """Prepare one file (`_clean_one`), then start the next of the draft's waiting files."""
    try:
        await _clean_one(context, user_id, chat_id, token, language, person)
    finally:
        resident_evidence.running.discard(token)
        resident_evidence.in_flight.give_back(person)
    draft = await flows.current_of(context, user_id, ReportDraft)
    if draft is not None:
        _resume_cleanings(context, user_id, chat_id, draft, language)


async def _clean_one(
    context: Context, user_id: int, chat_id: int, token: str, language: str, person: bytes
) -> None:
    """Download, clean and upload one file, then put the copy's file id in the draft.

    Runs beside the handlers (a 20 MB video does not hold up anyone else). The draft is read
    and written under the user's lock; if the file was removed, or the report cancelled or
    sent meanwhile, the result is dropped.
    """
    services = services_of(context)
    try:
        async with user_lock(user_id):
            draft = await flows.current_of(context, user_id, ReportDraft)
            entry = _pending(draft, token)
            if draft is None or entry is None:
                return
            received = Received.from_json(entry["received"])
            number = entry.get("n", 1)
            as_it_is = bool(entry.get("as_is"))
            in_step = draft.step == "evidence" and not draft.choosing_edit
            keyboard = _keyboard_for(draft, language, services) if in_step else None
            count = len(draft.attachments)
        limit = services.config.max_attachments
        suffix = text(language, "report_evidence_added", count=count, limit=limit)
        try:
            result = await resident_evidence.prepare(
                context.bot, chat_id, received, number, language, as_it_is=as_it_is,
                reply_markup=keyboard, caption_suffix=suffix if in_step else "",
                person=person,
            )
        except CannotClean as error:
            result = {"kind": received.kind, "undecided": token, "n": number,
                      "reason": error.reason, "received": received.to_json()}
        except Exception as error:  # a Telegram or network failure: let the resident choose
            log.warning("evidence: a file could not be prepared (%s)", type(error).__name__)
            result = {"kind": received.kind, "undecided": token, "n": number,
                      "reason": resident_evidence.NOT_FETCHED, "received": received.to_json()}
        async with user_lock(user_id):
            draft = await flows.current_of(context, user_id, ReportDraft)
            entry = _pending(draft, token)
            if draft is None or entry is None:
                return
            attachments = list(draft.attachments)
            attachments[attachments.index(entry)] = result
            await flows.save(context, user_id, replace(draft, attachments=tuple(attachments)))
        if result.get("as_is") and not result.get("name"):
            # Not fetched, so not uploaded again: nothing showed the resident the outcome.
            await context.bot.send_message(
                chat_id,
                Html(text(language, "evidence_kept_original", number=number)
                     + ("\n\n" + suffix if in_step else "")),
                reply_markup=keyboard,
            )
        if result.get("undecided"):
            await context.bot.send_message(
                chat_id,
                resident_evidence.cannot_clean_text(language, number, received, result["reason"]),
                reply_markup=InlineKeyboardMarkup([
                    [InlineKeyboardButton(plain(language, "btn_evidence_as_is"),
                                          callback_data=f"r:evk:{token}")],
                    [InlineKeyboardButton(plain(language, "btn_evidence_leave_out"),
                                          callback_data=f"r:evd:{token}")],
                ]),
            )
    except TelegramError as error:
        # The draft already says what happened; the evidence step shows it again.
        log.warning("evidence: the resident could not be told (%s)", type(error).__name__)


# --- prompts -------------------------------------------------------------------------------


async def _prompt(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: Draft,
    language: str,
    *,
    new_message: bool = False,
) -> None:
    """Show the current step: edit the pressed message, or send a new one.

    A new prompt takes the buttons off the one before it (its id is kept in the draft), so
    the chat never shows two sets of "done / back / cancel". Best effort: a button left on an
    old message still only says it has expired.
    """
    services = services_of(context)
    body = _step_text(draft, language, services)
    if not (new_message or update.callback_query is None):
        await _edit_or_say(update, body, _keyboard_for(draft, language, services))
        return
    await _step_message(update, context, draft, body, reply=False)


async def _step_message(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: Draft,
    body: str,
    *,
    reply: bool = True,
) -> None:
    """Send `body` with the current step's buttons and take them off the step message before
    (its id is kept in the draft)."""
    services = services_of(context)
    language = await language_of(context, update.effective_user)
    keyboard = _keyboard_for(draft, language, services)
    message = update.effective_message
    if reply and message is not None and update.callback_query is None:
        sending = message.reply_text(body, reply_markup=keyboard)
    else:
        sending = update.effective_chat.send_message(body, reply_markup=keyboard)
    previous = draft.prompt_id
    if isinstance(previous, int):  # its buttons come off while the new prompt is sent
        sent, _ = await asyncio.gather(
            sending, _take_buttons_off(context, update.effective_chat.id, previous)
        )
    else:
        sent = await sending
    await flows.save(context, update.effective_user.id, replace(draft, prompt_id=sent.message_id))


async def _take_buttons_off(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int
) -> None:
    """The previous step's buttons off; a failure leaves them (a press on them says expired)."""
    with contextlib.suppress(TelegramError):
        await context.bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id, reply_markup=None
        )


async def _edit_or_say(
    update: Update, body: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    query = update.callback_query
    if query is None or query.message is None:
        await update.effective_chat.send_message(body, reply_markup=keyboard)
        return
    try:
        await query.edit_message_text(body, reply_markup=keyboard)
    except BadRequest as error:
        if not is_not_modified(error):
            # The old message may be gone or too old to edit: say it anew.
            await update.effective_chat.send_message(body, reply_markup=keyboard)


def _step_text(draft: Draft, language: str, services: Services) -> Html:
    step = draft.step
    if step == "area":
        pages = _page_count(len(services.areas))
        return text(language, "report_ask_area", page=draft.area_page + 1, pages=pages)
    if step == "evidence":
        return text(
            language, "report_ask_evidence", limit=services.config.max_attachments,
            count=len(draft.attachments),
        )
    if step == "summary":
        if draft.choosing_edit:
            return text(language, "report_ask_edit")
        return summary_text(draft, language, services)
    return text(language, f"report_ask_{step}")


def summary_text(draft: Draft, language: str, services: Services) -> Html:
    description = "\n".join(draft.text)
    if len(description) > SUMMARY_TEXT_CHARS:
        description = description[:SUMMARY_TEXT_CHARS] + "…"
    if draft.voice:
        spoken = plain(language, "report_spoken", count=len(draft.voice))
        description = spoken + ("\n" + description if description else "")
    place = draft.place or ""
    if draft.location:
        place = (place + " " if place else "") + plain(language, "report_pin_attached")
    area = draft.area
    area_name = (
        plain(language, "area_unsure")
        if area in (None, "unsure")
        else services.areas.name(area, language)
    )
    return text(
        language,
        "report_summary",
        category=plain(language, f"cat_{draft.category or 'other'}"),
        area=area_name,
        place=place or plain(language, "not_given"),
        when=plain(language, f"when_{draft.when}") if draft.when else plain(
            language, "not_given"
        ),
        description=description,
        attachments=_attachment_summary(draft, language),
        followup=plain(language, f"followup_{draft.followup or 'anon'}"),
    )


def _attachment_summary(draft: Draft, language: str) -> Html:
    """How many files, and for each what officers will get (cleaned, as it is…)."""
    attachments = draft.attachments
    lines = "".join(
        "\n  • " + resident_evidence.attachment_line(language, a) for a in attachments
    )
    return text(language, "evidence_summary_files", count=len(attachments), lines=Html(lines))


@dataclass(frozen=True)
class _Shape:
    """Everything a step's keyboard depends on, but the evidence files' own buttons."""

    step: str
    language: str
    areas: Areas
    area_page: int
    has_text: bool
    editing: bool
    choosing_edit: bool
    with_evidence: bool


def _keyboard_for(draft: Draft, language: str, services: Services) -> InlineKeyboardMarkup:
    """The keyboard of the draft's step: built once per shape and shared (python-telegram-bot's
    objects are immutable), since every resident at a step gets the same one; building its
    buttons anew was about a twentieth of the bot's CPU under a crowd (issue 16). Only the
    evidence step with files is built each time: its buttons name the files."""
    shape = _Shape(
        draft.step, language, services.areas, draft.area_page, bool(draft.text or draft.voice),
        draft.editing, draft.choosing_edit, services.config.max_attachments > 0,
    )
    if draft.step == "evidence" and draft.attachments:
        return _built(shape, draft.attachments)
    return _shared_keyboard(shape)


@functools.lru_cache(maxsize=512)
def _shared_keyboard(shape: _Shape) -> InlineKeyboardMarkup:
    return SharedKeyboard(_built(shape, ()).inline_keyboard)


def _built(shape: _Shape, attachments: tuple[flows.Record, ...]) -> InlineKeyboardMarkup:
    step, language = shape.step, shape.language
    rows: list[list[InlineKeyboardButton]] = []

    def button(key: str, data: str, **values: object) -> InlineKeyboardButton:
        return InlineKeyboardButton(plain(language, key, **values), callback_data=data)

    if step == "category":
        buttons = [button(f"cat_{c}", f"r:cat:{c}") for c in CATEGORIES]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    elif step == "area":
        areas = list(shape.areas)
        page = min(shape.area_page, _page_count(len(areas)) - 1)
        shown = areas[page * AREAS_PER_PAGE : (page + 1) * AREAS_PER_PAGE]
        buttons = [
            InlineKeyboardButton(a.name(language), callback_data=f"r:area:{a.code}")
            for a in shown
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        nav = []
        if page > 0:
            nav.append(button("btn_prev", f"r:ap:{page - 1}"))
        if page < _page_count(len(areas)) - 1:
            nav.append(button("btn_next", f"r:ap:{page + 1}"))
        if nav:
            rows.append(nav)
        rows.append([button("area_unsure", "r:area:unsure")])
    elif step == "place":
        rows = [[button("btn_skip", "r:place:skip")]]
    elif step == "when":
        rows = [[button(f"when_{w}", f"r:when:{w}")] for w in WHEN_CHOICES]
        rows.append([button("btn_skip", "r:when:skip")])
    elif step == "text":
        if shape.has_text:
            rows = [[button("btn_text_done", "r:text:done")]]
    elif step == "evidence":
        for attachment in attachments:
            if attachment.get("undecided"):
                number, token = attachment.get("n", "?"), attachment["undecided"]
                rows.append([
                    button("btn_evidence_as_is_n", f"r:evk:{token}", number=number),
                    button("btn_evidence_leave_out_n", f"r:evd:{token}", number=number),
                ])
        if attachments:
            rows += [
                [button("btn_evidence_done", "r:ev:done")],
                [button("btn_evidence_clear", "r:ev:clear")],
            ]
        else:
            rows = [[button("btn_skip", "r:ev:skip")]]
    elif step == "followup":
        rows = [
            [button("followup_anon", "r:fu:anon")],
            [button("followup_notify", "r:fu:notify")],
        ]
    elif step == "summary":
        if shape.choosing_edit:
            fields = [
                f for f in EDITABLE
                if f != "evidence" or shape.with_evidence
            ]
            buttons = [button(f"edit_{f}", f"r:edit:{f}") for f in fields]
            rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        else:
            rows = [
                [button("btn_send", "r:sum:send")],
                [button("btn_edit", "r:sum:edit")],
            ]
    footer = [button("btn_cancel", "r:x:cancel")]
    if step != "category" and not shape.editing and not shape.choosing_edit:
        footer.insert(0, button("btn_back", "r:x:back"))
    rows.append(footer)
    return InlineKeyboardMarkup(rows)


def _page_count(count: int) -> int:
    return max(1, -(-count // AREAS_PER_PAGE))


# --- sending -------------------------------------------------------------------------------


async def _submit(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, language: str
) -> None:
    """Store the tip and its deliveries in one transaction, then give the receipt code.

    The resident is told "received" only after the commit: if anything fails before, the
    draft is still there and they can press send again.
    """
    user = update.effective_user
    services = services_of(context)
    store = services.store
    area = None if draft.area in (None, "unsure") else draft.area
    delivery = await plan_delivery(store, area, services.config.admin_ids)
    if delivery is None:
        await _edit_or_say(update, text(language, "report_not_staffed"), None)
        return
    content = {
        "place": draft.place,
        "location": draft.location,
        "when": draft.when,
        "text": "\n".join(draft.text),
        # Spoken descriptions first, then the evidence; `spoken` says how many are which.
        "attachments": [dict(v) for v in draft.voice] + _ready_attachments(draft),
        "spoken": len(draft.voice),
        "language": language,
    }
    new_tip = NewTip(
        category=draft.category or "other",
        area=area,
        urgent=draft.when == "now",
        content=content,
        notify_chat=update.effective_chat.id if draft.followup == "notify" else None,
        campaign=draft.campaign,
    )
    followup = draft.followup or "anon"
    if await _over_daily_limit(update, context):
        return  # the draft stays: it can be sent once the day has passed
    async with store.db.transaction():
        tip, code = await store.tips.insert(new_tip, delivery)
        await store.ratelimits.note_tip(user.id)
        # Until the receipt is shown, the draft remembers that one is owed (never the code).
        await flows.save(context, user.id, OwedReceipt(tip.tip_id, followup))
    log.info("tip %s stored, tier %s, %s deliveries", tip.ref, delivery.tier, len(
        delivery.recipients
    ))
    wake_delivery(context.application)
    # The summary's buttons go away while the receipt is sent: failing the first must not keep
    # the code from the resident, and neither waits for the other.
    await asyncio.gather(
        _summary_sent(update, language, tip.ref),
        receipts.send(update, context, code, followup, language),
    )


async def _summary_sent(update: Update, language: str, ref: str) -> None:
    try:
        await _edit_or_say(update, text(language, "report_sent_summary"), None)
    except TelegramError as error:
        log.info("tip %s: summary not updated (%s)", ref, type(error).__name__)


async def _over_daily_limit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """At most TIPBOT_MAX_TIPS_PER_DAY tips a person in 24 hours: past it, a kind answer that
    does not say why (whoever holds the phone later is not told that tips were sent)."""
    services = services_of(context)
    limit = services.config.max_tips_per_day
    if await services.store.ratelimits.tips_today(update.effective_user.id) < limit:
        return False
    language = await language_of(context, update.effective_user)
    await _say(update, text(language, "tips_limit_reached"))
    log.info("update %s: a report refused, daily tip limit reached", update.update_id)
    return True


def _ready_attachments(draft: Draft) -> list[dict[str, Any]]:
    """What the tip keeps of each file: the clean copy's file id (or a photo's, a voice's);
    never a file still being cleaned or not yet decided, never the original's id."""
    kept = ("kind", "file_id", "cleaned", "as_is", "name")
    return [
        {k: a[k] for k in kept if k in a}
        for a in draft.attachments
        if a.get("file_id") and not a.get("pending") and not a.get("undecided")
    ]


async def _line_is_staffed(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Someone can receive a tip: a reachable officer, or any admin not known unreachable and
    not deactivated (a deactivated permanent admin does not staff the line)."""
    staff = services_of(context).store.staff
    if await staff.any_reachable_officer():
        return True
    return bool(await staff.admins(services_of(context).config.admin_ids))


async def _say(update: Update, body: str) -> None:
    await update.effective_chat.send_message(body)


__all__ = ["escape", "on_button", "on_message", "start_report"]
