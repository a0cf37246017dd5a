"""`/status`: a resident opens their tip with the receipt code, reads the thread, adds more.

The receipt code is the only credential a resident holds, so guessing is rate limited: at most
5 wrong codes per user in 10 minutes, then "try again later" and no lookup at all. The user is
counted by a keyed hash with the rate-limit key (see storage/ratelimits.py).

Additions are limited too, each refusal with a kind answer: ADDITIONS_PER_HOUR to one tip, the
files still on their way counted with those stored (each is stored once its clean copy exists),
and at most IN_FLIGHT_PER_PERSON files on their way at once (handlers/resident/evidence.py: a
flooder's files hold no memory while they wait and do not hold up other residents'). The session
remembers the last message it took, saved with what that message added, so an update handled
again after a crash (bot/polling.py) adds nothing twice.

A file on its way is kept on its own (storage/conversations.py `FilesOnTheirWay`, sealed like
the session), written in the transaction that saves the session which took it, and deleted in
the transaction that stores it with the tip: the resident was told it is being cleaned, so it
outlives the session ("done", another tip's code, a new /status, /forget, /report) and a
restart. Each names the process cleaning it (bot/fleet.py's holder, handed in as `Processes`).
A process takes over only the files of a process that is dead (`Fleet.cut_off`: its pid gone on
this host, its heartbeat run out), at start and every SWEEP_SECONDS (`start_resuming_files`),
and a resident's own at their next /status step; storing checks, in the storing transaction,
that the file is still this process's, so with several webhook processes a file is stored
once. A file that cannot be stored after all is told to the resident (`status_file_not_added`,
`status_file_tip_gone`).
The session and the files it changes beside the handlers are changed under the user's lock.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

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
from rules import links
from rules.times import local_time
from storage.conversations import FileOnItsWay
from storage.receipt_codes import normalise_receipt_code
from storage.staff import atomic
from storage.tips import Tip
from telegram_api.types import App
from texts.catalog import Html, plain, text
from workers.delivery import entitled_holders, wake_delivery
from workers.jobs import PROCESS, alive_here, gone

log = logging.getLogger(__name__)

WRONG_CODE_LIMIT = 5
WRONG_CODE_WINDOW = 600.0
THREAD_ITEM_CHARS = 600
ADDITION_MAX = 4000
ADDITIONS_PER_HOUR = 30
STATUS_TEXT_BUDGET = 3500
#: Seconds between looks for files on their way that a dead process had in hand (a process of
#: another host is known dead once its heartbeat runs out, 30 s).
SWEEP_SECONDS = 10.0


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
    """Start a /status session (under the user's lock); the person's files on their way that a
    restart cut off go on first (they are stored whatever the session)."""
    before = await flows.current_of(context, user_id, StatusSession)
    await _resume(context, user_id, before, language)
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
    if await _resume(context, update.effective_user.id, session, language):
        session = await flows.current_of(
            context, update.effective_user.id, StatusSession) or session
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
        if entry.author == "officer":  # one stored before replies were checked for links
            body = links.without_links(body, plain(language, "link_removed"))
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
        if await _resume(context, user.id, draft, language):
            draft = await flows.current_of(context, user.id, StatusSession)
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
        entry = {"received": received.to_json(), "n": number, "text": body_text}
        job = await _keep_file(context, _Job(b"", user_id, chat_id, tip.tip_id,
                                             secrets.token_hex(4), entry, language),
                               replace(taken, evidence_seq=number))
        _start(context, job)
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
    session: StatusSession,
) -> None:
    """Store a typed addition and, in the same transaction, the session that took it."""
    services = services_of(context)
    recipients = await _recipients(context, tip)
    async with atomic(services.store.db):
        await services.store.tips.add_resident_message(tip, body, recipients)
        await flows.save(context, user_id, session)
    log.info("tip %s: resident added information", tip.ref)
    wake_delivery(context.application)


async def _recipients(context: ContextTypes.DEFAULT_TYPE, tip: Tip) -> tuple[int, ...]:
    """Who an addition goes to: the tip's holders entitled now, else those who had its card."""
    services = services_of(context)
    recipients = await entitled_holders(services, tip)
    if not recipients:
        recipients = sorted(await services.store.outbox.card_recipients(tip.tip_id))
    return tuple(recipients)


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


@dataclass(frozen=True)
class _Job:
    """One /status file on its way: its row (`subject`, storage/conversations.py
    `FilesOnTheirWay`) and what its cleaning needs; `token` names it in the session's
    `undecided` and on its buttons."""

    subject: bytes
    user_id: int
    chat_id: int
    tip_id: int
    token: str
    entry: flows.Record
    language: str

    @property
    def running_key(self) -> str:
        """Its name in `evidence.running` (beside the report's tokens)."""
        return "status-file:" + self.subject.hex()

    def fields(self) -> dict[str, Any]:
        return {"user": self.user_id, "chat": self.chat_id, "tip_id": self.tip_id,
                "token": self.token, "entry": dict(self.entry), "language": self.language}

    @classmethod
    def of(cls, found: FileOnItsWay) -> _Job | None:
        """The job of a stored file; None when its fields are not a job's."""
        f: Mapping[str, Any] = found.fields
        try:
            job = cls(found.subject, int(f["user"]), int(f["chat"]), int(f["tip_id"]),
                      str(f["token"]), dict(f["entry"]), str(f["language"]))
            Received.from_json(job.entry["received"])
        except (KeyError, TypeError, ValueError):
            return None
        return job


class Processes(Protocol):
    """What bot/fleet.py's `Fleet` knows of the line's processes, handed in by bot/app.py
    (`start_resuming_files`: the handlers sit below bot/ and do not import it)."""

    holder: str

    def cut_off(self, holder: str, *, beating: bool) -> bool: ...


#: Where `start_resuming_files` keeps the `Processes` in bot_data.
PROCESSES_KEY = "status_files_processes"


def _processes(context: ContextTypes.DEFAULT_TYPE) -> Processes | None:
    found: Processes | None = context.application.bot_data.get(PROCESSES_KEY)
    return found


def _holder(context: ContextTypes.DEFAULT_TYPE) -> str:
    """This process's name, as bot/fleet.py's claims and heartbeats know it."""
    processes = _processes(context)
    return processes.holder if processes is not None else PROCESS


def _cut_off(context: ContextTypes.DEFAULT_TYPE, holder: str, *, beating: bool) -> bool:
    """Whether the process `holder` left its files on their way (bot/fleet.py `cut_off`; one
    process of this host when no fleet was handed in)."""
    processes = _processes(context)
    if processes is not None:
        return processes.cut_off(holder, beating=beating)
    return holder != PROCESS and (gone(holder) or not alive_here(holder))


async def _keep_file(
    context: ContextTypes.DEFAULT_TYPE, job: _Job, session: StatusSession
) -> _Job:
    """Keep a file on its way, held by this process, and save the session that took it in the
    same transaction: a crash after it handles the message again as taken, and the file is
    taken over from here (`resume_files`); the job with its row."""
    services = services_of(context)
    files = services.store.conversations.files
    async with atomic(services.store.db):
        subject = await files.put(_holder(context), job.fields())
        await flows.save(context, job.user_id, session)
    return replace(job, subject=subject)


def _start(context: ContextTypes.DEFAULT_TYPE, job: _Job) -> None:
    """Clean the file `job` in the background: one more of the person's files on their way (the
    caller checked the limits, or the file was within them when it was taken)."""
    person = person_of(services_of(context).store.keyring, job.user_id)
    resident_evidence.in_flight.take(person)
    resident_evidence.running.add(job.running_key)
    resident_evidence.track(person, context.application.create_task(
        _clean_addition(context, job, person), name="evidence"))


async def _resume(
    context: ContextTypes.DEFAULT_TYPE, user_id: int, session: StatusSession | None,
    language: str,
) -> bool:
    """At a resident's /status step (under the user's lock): their files on their way that
    nobody cleans now start again here (`resume_files`). A session saved by an earlier version
    holds its files in `cleaning`: they move to files on their way of this process first.
    True when the session changed."""
    moved = False
    if session is not None and session.cleaning and session.tip_id is not None:
        services = services_of(context)
        files = services.store.conversations.files
        async with atomic(services.store.db):
            now = await flows.current_of(context, user_id, StatusSession)
            if now is not None and now.cleaning and now.tip_id is not None:
                for token, entry in now.cleaning.items():
                    job = _Job(b"", user_id, user_id, now.tip_id, token, entry, language)
                    await files.put(_holder(context), job.fields())
                await flows.save(context, user_id, replace(now, cleaning={}))
                moved = True
    try:
        await resume_files(context, user_id=user_id)
    except Exception as error:  # the step goes on; the sweep looks again (start_resuming_files)
        log.warning("evidence: the person's files on their way not looked at (%s)",
                    type(error).__name__)
    return moved


_sweeping = asyncio.Lock()
#: A file of this process whose cleaning ended without storing it (the database failed, say)
#: is tried again by the sweep STALLED_FIRST seconds after the sweep first saw it so, then at
#: doubling delays up to STALLED_MAX: it used to wait for the resident's next /status step,
#: which may never come. Seen twice, never at once: a file just kept is not started yet.
STALLED_FIRST = 60.0
STALLED_MAX = 3600.0
#: subject -> (monotonic time of the next try, the delay that led to it); this process's only
_stalled: dict[bytes, tuple[float, float]] = {}
_clock = time.monotonic


def _stalled_due(subject: bytes) -> bool:
    """Whether the sweep tries this process's stalled file again now (and when next)."""
    now = _clock()
    seen = _stalled.get(subject)
    if seen is None:
        _stalled[subject] = (now + STALLED_FIRST, STALLED_FIRST)
        return False
    due, delay = seen
    if now < due:
        return False
    delay = min(delay * 2, STALLED_MAX)
    _stalled[subject] = (now + delay, delay)
    return True


async def resume_files(context: ContextTypes.DEFAULT_TYPE, *, user_id: int | None = None) -> int:
    """Start the files on their way whose process is dead (taken over first, so that no other
    process takes them too), and those of this process whose task ended without storing them
    (a failure): at the person's next step (`user_id`: only that person's), or by the sweep
    after a while (`_stalled_due`).
    How many started. Files a live process cleans are left to it: it stores them."""
    async with _sweeping:
        files = services_of(context).store.conversations.files
        me = _holder(context)
        everything = await files.all()
        if user_id is None:  # stored or gone since: nothing to try again
            for subject in set(_stalled) - {f.subject for f in everything}:
                del _stalled[subject]
        found = [f for f in everything if user_id is None or f.fields.get("user") == user_id]
        others = {f.holder for f in found if f.holder != me}
        beating = await files.beating(others) if others else set()
        started = 0
        for stored in found:
            job = _Job.of(stored)
            if job is None or job.running_key in resident_evidence.running:
                continue
            if stored.holder == me:
                if user_id is None and not _stalled_due(stored.subject):
                    continue  # ours and not running: a failure, tried later or at a next step
                log.info("evidence: a /status file whose storing failed here; tried again")
            elif not _cut_off(context, stored.holder, beating=stored.holder in beating):
                continue
            elif await files.take(stored.subject, stored.holder, me) is None:
                continue  # another process took it over first, or it was stored meanwhile
            else:
                log.info("evidence: a /status file cut off by a stopped process; cleaned here")
            _start(context, job)
            started += 1
        return started


def start_resuming_files(application: App, processes: Processes) -> None:
    """At start and every SWEEP_SECONDS: the files on their way of processes that are dead
    (a restart, a crash, another process of the line) are taken over and stored, whether or
    not the resident writes again. `processes`: this process's `Fleet` (bot/fleet.py)."""
    application.bot_data[PROCESSES_KEY] = processes
    async def sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await resume_files(context)
        except Exception as error:
            log.warning("evidence: files on their way not looked at (%s); trying again",
                        type(error).__name__)

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        sweep, interval=SWEEP_SECONDS, first=1.0, name="status-files",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )


async def _clean_addition(
    context: ContextTypes.DEFAULT_TYPE, job: _Job, person: bytes
) -> None:
    """Clean one added file, then store it with its text; or ask the resident what to do.

    Stored even when the session ended meanwhile (the resident pressed "done" at once): they
    were told it is on its way. Never stored when this process no longer holds it (another
    took it over, thinking this one dead): that one stores it."""
    received = Received.from_json(job.entry["received"])
    number = job.entry.get("n", 1)
    language = job.language
    try:
        try:
            attachment = await resident_evidence.prepare(
                context.bot, job.chat_id, received, number, language,
                as_it_is=bool(job.entry.get("as_is")), person=person,
            )
        except CannotClean as error:
            reason = error.reason
        except Exception as error:  # a Telegram or network failure: let the resident choose
            log.warning("evidence: an added file could not be prepared (%s)",
                        type(error).__name__)
            reason = resident_evidence.NOT_FETCHED
        else:
            body = {"text": job.entry.get("text", ""), "attachments": [attachment]}
            # Under the user's lock with its answer: a /forget (which removes the person's
            # files on their way) comes wholly before, and nothing is stored or said, or wholly
            # after, and no "added" follows its answer into the chat.
            async with user_lock(job.user_id):
                outcome = await _store_file(context, job, body)
                if outcome == "stored":
                    await context.bot.send_message(
                        job.chat_id, text(language, "status_addition_received"))
                elif outcome == "gone":
                    await context.bot.send_message(
                        job.chat_id, text(language, "status_file_tip_gone", number=number))
            return
        await _not_cleaned(context, job, received, number, reason)
    except TelegramError as error:
        log.warning("evidence: the resident could not be told (%s)", type(error).__name__)
    finally:
        # Given back only now: until the file is stored it counts in the hourly limit.
        resident_evidence.running.discard(job.running_key)
        resident_evidence.in_flight.give_back(person)
        try:  # a report's file waiting for this person's turn starts now, not at their next step
            await resume_waiting_files(context, job.user_id, job.chat_id, language)
        except Exception as error:
            log.warning("evidence: the report's waiting files not started (%s)",
                        type(error).__name__)


async def _store_file(
    context: ContextTypes.DEFAULT_TYPE, job: _Job, body: dict[str, Any]
) -> str:
    """Store a cleaned file with the tip, and forget it as on its way, in one transaction:
    "stored"; "elsewhere" when this process no longer holds it: another took it over (and
    stores it) or the resident's /forget removed it (nothing stored, nothing said); "gone"
    when the tip no longer exists. The session is not touched: a /forget, a new /report or
    another tip opened meanwhile stay as they are (the review of 2026-12-03)."""
    services = services_of(context)
    tip = await services.store.tips.by_id(job.tip_id)
    recipients = await _recipients(context, tip) if tip is not None else ()
    files = services.store.conversations.files
    async with atomic(services.store.db):
        if not await files.drop(job.subject, _holder(context)):
            if tip is None and not await files.exists(job.subject):
                return "gone"  # purged with its tip (storage/purge.py): nobody else tells
            # Another process took it over (it stores it and tells), or /forget removed it:
            # in both cases nothing is stored or said here.
            log.info("evidence: a /status file no longer this process's (taken over, or"
                     " removed by /forget); not stored here")
            return "elsewhere"
        if tip is None:
            return "gone"
        await services.store.tips.add_resident_message(tip, body, recipients)
    log.info("tip %s: resident added information", tip.ref)
    wake_delivery(context.application)
    return "stored"


async def forget_files(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> int:
    """`/forget` (under the user's lock): the person's /status files on their way are removed,
    whoever cleans them; SPEC: the chat leaves the conversations in progress, and these rows
    hold its user and chat ids. How many, for tests: like /forget's own answer, nothing tells
    or logs it."""
    files = services_of(context).store.conversations.files
    removed = 0
    for stored in await files.all():
        if stored.fields.get("user") == user_id and await files.remove(stored.subject):
            removed += 1
    return removed


async def _not_cleaned(
    context: ContextTypes.DEFAULT_TYPE, job: _Job, received: Received, number: int, reason: str
) -> None:
    """A file that cannot be cleaned: while the resident is in the tip's /status session it
    waits there for their choice (send as it is, or leave it out), its buttons with the
    answer; else they are told it was not added and how to send it again."""
    # The answer too is sent under the user's lock: a /forget comes wholly before (this task is
    # stopped, nothing is said) or wholly after.
    async with user_lock(job.user_id):
        said = await _not_cleaned_kept(context, job, received, number)
        if said is not None:
            await _say_not_cleaned(context, job, received, number, reason, *said)


async def _not_cleaned_kept(
    context: ContextTypes.DEFAULT_TYPE, job: _Job, received: Received, number: int
) -> tuple[bool, StatusSession | None] | None:
    """In one transaction: the file off its way, and waiting for the resident's choice in the
    session of its tip if they are in it. None when another process has it (it tells the
    resident); else (purged with its tip, the session it waits in)."""
    services = services_of(context)
    files = services.store.conversations.files
    async with atomic(services.store.db):
        if not await files.drop(job.subject, _holder(context)):
            if await files.exists(job.subject) or await services.store.tips.by_id(job.tip_id):
                return None  # taken over by another process: it tells the resident
            return True, None  # purged with its tip (storage/purge.py): nobody else tells
        session = await flows.current_of(context, job.user_id, StatusSession)
        if session is None or session.tip_id != job.tip_id:
            return False, None
        # Until the resident chooses, the original's file id waits here (encrypted).
        waiting = {job.token: {"received": received.to_json(), "n": number,
                               "text": job.entry.get("text", "")}}
        await flows.save(context, job.user_id,
                         replace(session, undecided={**session.undecided, **waiting}))
        return False, session


async def _say_not_cleaned(
    context: ContextTypes.DEFAULT_TYPE, job: _Job, received: Received, number: int,
    reason: str, purged: bool, session: StatusSession | None,
) -> None:
    language = job.language
    if purged:
        await context.bot.send_message(
            job.chat_id, text(language, "status_file_tip_gone", number=number))
        return
    if session is None:
        await context.bot.send_message(job.chat_id, text(
            language, "status_file_not_added", number=number,
            reason=resident_evidence.reason_text(language, reason)))
        return
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(plain(language, "btn_evidence_as_is"),
                              callback_data=f"st:evk:{job.token}")],
        [InlineKeyboardButton(plain(language, "btn_evidence_leave_out"),
                              callback_data=f"st:evd:{job.token}")],
    ])
    await context.bot.send_message(
        job.chat_id, resident_evidence.cannot_clean_text(language, number, received, reason),
        reply_markup=keyboard,
    )


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
    job = await _keep_file(
        context, _Job(b"", user_id, update.effective_chat.id, tip_id, token, entry, language),
        replace(draft, undecided=waiting),
    )
    _start(context, job)
    await query.answer()
    await query.edit_message_text(text(language, "evidence_cleaning_as_is", number=number))
