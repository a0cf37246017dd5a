"""The broadcaster: sends admins' broadcasts and scheduled posts from their queue in the database,
at most once per recipient, on a rate budget of its own.

- Pacing: at most `TIPBOT_BROADCAST_RATE` messages per second over all chats (evenly spaced, no
  bursts) and at most one per second to any one chat, so Telegram's ~30 messages/s leave room
  for residents' answers and officers' cards, which the delivery worker sends on its own.
- A RetryAfter (429) pauses the broadcaster, and only it, for as long as Telegram asks; that
  message goes back to the queue and is sent again after the pause.
- Each call is made inside `no_retry()` (the HTTP client never repeats it by itself), right after
  its row was claimed in the database ('sending'). The answer decides the row: sent; removed
  (403, chat not found: the subscriber is dropped); retried a few times and then failed when the
  call certainly did not deliver (a connection refused or never made); uncertain when the
  outcome is unknown (a timeout, a broken connection, a 5xx answer from Telegram). A row still
  'sending' after a crash is uncertain too: it is never sent again.
- One process at a time runs the broadcaster (a lease in the database, renewed every few
  seconds), so the rate budget holds for all processes together; a process that finds the lease
  held by a dead process of the same host takes it over at once.
- The admin's progress message is edited every few seconds (bar, counts, time left); a final
  report follows when the broadcast ends, also after a restart.
- A broadcast goes on only while the admin who answers for it (who confirmed it, or the creator
  of the schedule that posted it) is an admin, by the rule of every other right
  (rules/access.py). Demoting or deactivating them stops it in the same transaction
  (storage/staff.py), and no row of a stopped broadcast is claimed; besides, the creators are
  checked at each round and at least every second before a claim, so one taken out of
  TIPBOT_ADMIN_IDS (at a restart) or changed any other way is stopped too, audit-logged (actor
  0, the bot). Any admin can stop any running broadcast from /broadcast. Messages already
  delivered cannot be taken back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ContextTypes, Job

from bot.services import Services
from rules.access import role_under
from rules.times import local_time
from storage.broadcasts import Broadcast, Counts, QueueRow
from storage.store import Store
from telegram_api.answers import (
    certainly_not_delivered,
    is_not_modified,
    is_unreachable,
    retry_after_seconds,
)
from telegram_api.request import no_retry
from telegram_api.types import App
from texts.catalog import SOURCE_LANGUAGE, Html, is_language, pick_language, plain, text
from workers.jobs import PROCESS, Wakeable, gone

log = logging.getLogger(__name__)

LEASE_NAME = "broadcaster"
LEASE_SECONDS = 15.0
RENEW_SECONDS = 3.0
PROGRESS_SECONDS = 3.0
IDLE_SECONDS = 5.0
MAX_IN_FLIGHT = 8
MAX_ATTEMPTS = 3
PER_CHAT_SECONDS = 1.0
STOP_WAIT_SECONDS = 8.0
CREATOR_CHECK_SECONDS = 1.0
KEY = "broadcaster"


def start_broadcaster(application: App) -> None:
    """Start the worker (from post_init); it resumes any broadcast left unfinished."""
    services: Services = application.bot_data["services"]
    worker = Broadcaster(application, services)
    application.bot_data[KEY] = worker
    worker.start()


def wake_broadcaster(application: App) -> None:
    worker: Broadcaster | None = application.bot_data.get(KEY)
    if worker is not None:
        worker.job.wake()


def progress_keyboard(language: str, broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(plain(language, "btn_broadcast_stop"),
                               callback_data=f"bc:stop:{broadcast_id}")]]
    )


def progress_text(
    language: str, broadcast: Broadcast, counts: Counts, *, seconds_left: float | None,
    final: bool,
) -> Html:
    total = max(counts.total, 1)
    done = counts.finished
    filled = round(10 * done / total)
    bar = "▓" * filled + "░" * (10 - filled)
    percent = 100 if final and broadcast.state == "done" else int(100 * done / total)
    if final:
        title = text(
            language,
            "broadcast_title_stopped" if broadcast.state == "stopped" else "broadcast_title_done",
            id=broadcast.broadcast_id,
            time=Html(duration(language, (broadcast.finished_at or time.time())
                               - broadcast.created_at)),
        )
        eta = Html("")
    else:
        title = text(language, "broadcast_title_sending", id=broadcast.broadcast_id)
        eta = (
            text(language, "broadcast_eta", time=Html(duration(language, seconds_left)))
            if seconds_left is not None and counts.left
            else Html("")
        )
    return text(
        language,
        "broadcast_progress",
        title=title,
        bar=bar,
        percent=percent,
        sent=counts.sent,
        failed=counts.failed,
        removed=counts.removed,
        uncertain=counts.uncertain,
        left=counts.left,
        eta=eta,
    )


async def is_admin_now(store: Store, permanent_admins: frozenset[int], user_id: int) -> bool:
    """Whether `user_id` is an admin now (read in the caller's transaction, if any)."""
    return role_under(permanent_admins, user_id, await store.staff.get(user_id)).is_admin


async def stop_orphans(store: Store, permanent_admins: frozenset[int]) -> list[int]:
    """Stop every running broadcast whose creator is no longer an admin; returns their ids.

    The demotion or deactivation itself stops them (storage/staff.py); this catches every other
    way a right ends: an id taken out of TIPBOT_ADMIN_IDS and the bot restarted, a row changed
    by hand. A broadcast of a schedule that is gone (no creator left) was checked when it was
    posted and goes on. Each stop is audit-logged with the role read again in its transaction.
    """
    stopped = []
    for running in await store.broadcasts.running():
        creator = running.creator
        if creator is None or await is_admin_now(store, permanent_admins, creator):
            continue
        async with store.db.transaction():
            if await is_admin_now(store, permanent_admins, creator):
                continue  # promoted again meanwhile
            if not await store.broadcasts.stop(running.broadcast_id):
                continue
            await store.audit.record(0, "broadcast", None, broadcast=running.broadcast_id,
                                     change="stop", reason="creator_not_admin", creator=creator)
        log.warning("broadcast %s stopped: its creator, staff %s, is no longer an admin",
                    running.broadcast_id, creator)
        stopped.append(running.broadcast_id)
    return stopped


def duration(language: str, seconds: float) -> str:
    total = max(0, round(seconds))
    if total < 60:
        return plain(language, "duration_seconds", s=total)
    if total < 3600:
        return plain(language, "duration_minutes", m=total // 60, s=total % 60)
    return plain(language, "duration_hours", h=total // 3600, m=total % 3600 // 60)


class Broadcaster:
    def __init__(self, application: App, services: Services) -> None:
        self.application = application
        self.services = services
        self.store = services.store
        self.worker_id = PROCESS
        self.interval = 1.0 / services.config.broadcast_rate
        self.job = Wakeable(application, "broadcaster", self._cycle, stop_wait=STOP_WAIT_SECONDS,
                            on_wind_down=self._winding_down, on_stopped=self._stopped_now)
        self._ticker: Job[ContextTypes.DEFAULT_TYPE] | None = None
        self._stopped = asyncio.Event()
        self.holding = False
        self._next_slot = 0.0
        self._pause_until = 0.0
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._last_to: dict[str, float] = {}
        self._contents: dict[int, dict[str, Any]] = {}
        self._progress_task: asyncio.Task[None] | None = None
        self._shown: dict[int, str] = {}
        self._rate_base: dict[int, tuple[float, int]] = {}
        self._renewed = 0.0
        self._progressed = 0.0
        self._creators_checked = 0.0

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self.job.stopping

    def start(self) -> None:
        """The rounds and, beside them, the lease renewal and progress tick, on the JobQueue."""
        self.job.start()
        job_queue = self.application.job_queue
        assert job_queue is not None
        self._ticker = job_queue.run_repeating(
            self._tick, interval=1.0, first=1.0, name="broadcaster-tick",
            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )

    async def _winding_down(self) -> None:
        """No new claims; the round waits for the calls in flight (up to STOP_WAIT_SECONDS),
        so their answers are recorded (a call cut off here counts as uncertain at restart)."""
        self._stopped.set()
        if self._ticker is not None:
            self._ticker.schedule_removal()
            self._ticker = None

    async def _stopped_now(self) -> None:
        for task in (self._progress_task, *self._in_flight):
            if task is not None:
                task.cancel()
        if self.holding:
            with contextlib.suppress(Exception):
                await self.store.leases.release(LEASE_NAME, self.worker_id)
            self.holding = False

    # --- one round: hold the lease, send what is due, finish what ended ------------------

    async def _cycle(self) -> float:
        if not await self.store.broadcasts.has_work():
            if self.holding:
                await self.store.leases.release(LEASE_NAME, self.worker_id)
                self.holding = False
            return IDLE_SECONDS
        if not await self._hold():
            return RENEW_SECONDS
        await self._pump()
        await self._finish()
        due = await self.store.broadcasts.next_due_in()
        if due is None:
            return IDLE_SECONDS
        return max(due, self._pause_until - time.monotonic(), 0.05)

    async def _hold(self) -> bool:
        """Take (or keep) the broadcaster lease; on taking it, settle what a dead holder left."""
        leases = self.store.leases
        if await leases.acquire(LEASE_NAME, self.worker_id, LEASE_SECONDS):
            newly = not self.holding
        else:
            holder = await leases.holder(LEASE_NAME)
            if holder is None or not gone(holder):
                return False
            if not await leases.take_over(LEASE_NAME, holder, self.worker_id, LEASE_SECONDS):
                return False
            log.info("broadcaster lease taken over from a process that is gone")
            newly = True
        self.holding = True
        self._renewed = time.monotonic()
        if newly:
            orphans = await self.store.broadcasts.orphans_uncertain(self.worker_id)
            if orphans:
                log.warning("%s broadcast messages were being sent when the previous run"
                            " stopped: counted as uncertain, not sent again", orphans)
        return True

    async def _pump(self) -> None:
        """Send every due row, paced; returns when none is due (or on stop or lease loss)."""
        await self._check_creators()
        while not self.stopping and self.holding:
            await self._wait_pause()
            await self._wait_slot()
            await self._slots.acquire()
            if self.stopping or not self.holding:
                self._slots.release()
                break
            try:
                if time.monotonic() - self._creators_checked >= CREATOR_CHECK_SECONDS:
                    await self._check_creators()
                row = await self.store.broadcasts.claim_next(self.worker_id)
            except BaseException:
                self._slots.release()
                raise
            if row is None:
                self._slots.release()
                break
            task = asyncio.create_task(self._deliver(row), name="tipline-broadcast-send")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def _check_creators(self) -> None:
        """Stop the broadcasts whose creator lost the admin right (see `stop_orphans`)."""
        self._creators_checked = time.monotonic()
        await stop_orphans(self.store, self.services.config.admin_ids)

    async def _wait_pause(self) -> None:
        """Sleep while Telegram's RetryAfter lasts (it may be extended meanwhile)."""
        for _ in range(100):
            left = self._pause_until - time.monotonic()
            if left <= 0 or self.stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=left)

    async def _wait_slot(self) -> None:
        now = time.monotonic()
        if self._next_slot > now:
            await asyncio.sleep(self._next_slot - now)
            now = time.monotonic()
        self._next_slot = max(self._next_slot, now) + self.interval

    # --- one message ----------------------------------------------------------------------

    async def _deliver(self, row: QueueRow) -> None:
        broadcasts = self.store.broadcasts
        try:
            target, language = await self._target(row)
            if target is None:
                await broadcasts.finish(row, self.worker_id, "skipped", "unsubscribed")
                return
            key = str(target)
            wait = self._last_to.get(key, -PER_CHAT_SECONDS) + PER_CHAT_SECONDS - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            content = await self._content(row.broadcast_id)
            self._last_to[key] = time.monotonic()
            try:
                with no_retry():
                    await self._send(target, language, content)
            except RetryAfter as error:
                delay = retry_after_seconds(error.retry_after)
                self._pause_until = max(self._pause_until, time.monotonic() + delay)
                log.warning("broadcast %s: Telegram asks to wait %.0f s; broadcasts pause",
                            row.broadcast_id, delay)
                await broadcasts.retry_later(row, self.worker_id, delay, "retry_after",
                                             count_attempt=False)
            except Forbidden as error:
                await self._unreachable(row, str(error))
            except BadRequest as error:
                if is_unreachable(error):
                    await self._unreachable(row, str(error))
                else:
                    log.error("broadcast %s recipient %s rejected: %s", row.broadcast_id,
                              row.recipient_id, error)
                    await broadcasts.finish(row, self.worker_id, "failed", str(error))
            except TimedOut as error:
                if "pool" in str(error).lower():  # never left this process
                    await self._not_delivered(row, "pool timeout")
                else:
                    log.warning("broadcast %s recipient %s: timed out, outcome unknown",
                                row.broadcast_id, row.recipient_id)
                    await broadcasts.finish(row, self.worker_id, "uncertain", "timeout")
            except NetworkError as error:
                if certainly_not_delivered(error):
                    await self._not_delivered(row, str(error))
                else:
                    log.warning("broadcast %s recipient %s: %s, outcome unknown",
                                row.broadcast_id, row.recipient_id, type(error).__name__)
                    await broadcasts.finish(row, self.worker_id, "uncertain", str(error))
            except TelegramError as error:
                log.error("broadcast %s recipient %s: %s", row.broadcast_id, row.recipient_id,
                          type(error).__name__)
                await broadcasts.finish(row, self.worker_id, "failed", str(error))
            except Exception as error:
                log.exception("broadcast %s recipient %s: unexpected failure, outcome unknown",
                              row.broadcast_id, row.recipient_id)
                await broadcasts.finish(row, self.worker_id, "uncertain", type(error).__name__)
            else:
                await broadcasts.finish(row, self.worker_id, "sent")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("broadcast %s recipient %s: could not record the outcome",
                          row.broadcast_id, row.recipient_id)
        finally:
            self._slots.release()
            if len(self._last_to) > 10_000:
                horizon = time.monotonic() - PER_CHAT_SECONDS
                self._last_to = {k: v for k, v in self._last_to.items() if v > horizon}

    async def _target(self, row: QueueRow) -> tuple[int | str | None, str]:
        if row.channel is not None:
            channel = row.channel
            return (int(channel) if channel.lstrip("-").isdigit() else channel,
                    self.services.config.language)
        if row.subscriber_id is None:
            return None, self.services.config.language
        recipient = await self.store.subscribers.recipient(row.subscriber_id)
        if recipient is None:
            return None, self.services.config.language
        return recipient.chat_id, recipient.language

    async def _content(self, broadcast_id: int) -> dict[str, Any]:
        content = self._contents.get(broadcast_id)
        if content is None:
            broadcast = await self.store.broadcasts.get(broadcast_id)
            content = broadcast.content if broadcast else {"kind": "text", "texts": {}}
            self._contents[broadcast_id] = content
        return content

    async def _send(self, chat: int | str, language: str, content: dict[str, Any]) -> None:
        await send_content(self.application.bot, chat, language, content)

    async def _unreachable(self, row: QueueRow, error: str) -> None:
        if row.channel is not None:
            log.error("broadcast %s: channel %s cannot be written to (%s); check TIPBOT_CHANNELS",
                      row.broadcast_id, row.channel, error)
            await self.store.broadcasts.finish(row, self.worker_id, "failed", error)
            return
        log.info("broadcast %s recipient %s: unreachable, subscriber removed", row.broadcast_id,
                 row.recipient_id)
        await self.store.broadcasts.remove_subscriber(row, self.worker_id, error)

    async def _not_delivered(self, row: QueueRow, error: str) -> None:
        if row.attempts + 1 >= MAX_ATTEMPTS:
            log.error("broadcast %s recipient %s failed after %s attempts: %s",
                      row.broadcast_id, row.recipient_id, row.attempts + 1, error)
            await self.store.broadcasts.finish(row, self.worker_id, "failed", error)
            return
        delay = 2.0 * 2**row.attempts
        log.warning("broadcast %s recipient %s not delivered (%s); again in %.0f s",
                    row.broadcast_id, row.recipient_id, error, delay)
        await self.store.broadcasts.retry_later(row, self.worker_id, delay, error,
                                                count_attempt=True)

    # --- lease renewal and progress -------------------------------------------------------

    async def _tick(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every second while the bot runs: renew the lease, start a progress edit."""
        try:
            now = time.monotonic()
            if self.holding and now - self._renewed >= RENEW_SECONDS:
                if await self.store.leases.acquire(LEASE_NAME, self.worker_id, LEASE_SECONDS):
                    self._renewed = now
                else:
                    log.warning("broadcaster lease lost; another process continues")
                    self.holding = False
            if (
                self.holding
                and not self.stopping
                and now - self._progressed >= PROGRESS_SECONDS
                and (self._progress_task is None or self._progress_task.done())
            ):
                self._progressed = now
                self._progress_task = asyncio.create_task(self._show_progress())
        except Exception:
            log.exception("broadcaster tick failed")

    async def _show_progress(self) -> None:
        for broadcast in await self.store.broadcasts.sending():
            if broadcast.progress_chat is None or broadcast.progress_message is None:
                continue
            counts = await self.store.broadcasts.counts(broadcast.broadcast_id)
            language = await self._language_of(broadcast)
            body = progress_text(language, broadcast, counts,
                                 seconds_left=self._seconds_left(broadcast, counts), final=False)
            if self._shown.get(broadcast.broadcast_id) == body:
                continue
            try:
                await self.application.bot.edit_message_text(
                    body,
                    chat_id=broadcast.progress_chat,
                    message_id=broadcast.progress_message,
                    reply_markup=progress_keyboard(language, broadcast.broadcast_id),
                )
                self._shown[broadcast.broadcast_id] = body
            except BadRequest as error:
                if is_not_modified(error):
                    self._shown[broadcast.broadcast_id] = body
                else:
                    log.warning("broadcast %s: progress not shown: %s", broadcast.broadcast_id,
                                error)
            except TelegramError as error:
                log.warning("broadcast %s: progress not shown: %s", broadcast.broadcast_id,
                            type(error).__name__)

    def _seconds_left(self, broadcast: Broadcast, counts: Counts) -> float | None:
        now = time.monotonic()
        base = self._rate_base.setdefault(broadcast.broadcast_id, (now, counts.finished))
        elapsed, done = now - base[0], counts.finished - base[1]
        rate = self.services.config.broadcast_rate
        if elapsed >= 2.0 and done > 0:
            rate = min(rate, done / elapsed)
        return counts.left / rate

    async def _language_of(self, broadcast: Broadcast) -> str:
        """The language the admin used when confirming (else their chosen one)."""
        language = broadcast.content.get("ui_language")
        if is_language(language):
            return str(language)
        chosen = None
        if broadcast.progress_chat is not None:
            chosen = await self.store.preferences.language(broadcast.progress_chat)
        return pick_language(chosen, self.services.config.language)

    # --- the end of a broadcast -----------------------------------------------------------

    async def _finish(self) -> None:
        await self.store.broadcasts.complete_finished()
        for broadcast in await self.store.broadcasts.unreported():
            counts = await self.store.broadcasts.counts(broadcast.broadcast_id)
            log.info(
                "broadcast %s %s: sent %s, failed %s, removed %s, uncertain %s, skipped %s,"
                " cancelled %s", broadcast.broadcast_id, broadcast.state, counts.sent,
                counts.failed, counts.removed, counts.uncertain, counts.skipped, counts.cancelled,
            )
            if broadcast.progress_chat is not None:
                if await is_admin_now(self.store, self.services.config.admin_ids,
                                      broadcast.progress_chat):
                    await self._report(broadcast, counts)
                else:  # a deactivated admin's phone (perhaps stolen) learns nothing more
                    log.info("broadcast %s: no final report: staff %s is no longer an admin",
                             broadcast.broadcast_id, broadcast.progress_chat)
            await self.store.broadcasts.mark_reported(broadcast.broadcast_id)
            self._contents.pop(broadcast.broadcast_id, None)
            self._shown.pop(broadcast.broadcast_id, None)
            self._rate_base.pop(broadcast.broadcast_id, None)

    async def _report(self, broadcast: Broadcast, counts: Counts) -> None:
        bot = self.application.bot
        chat = broadcast.progress_chat
        assert chat is not None
        language = await self._language_of(broadcast)
        final = progress_text(language, broadcast, counts, seconds_left=None, final=True)
        if broadcast.progress_message is not None:
            try:
                await bot.edit_message_text(final, chat_id=chat,
                                            message_id=broadcast.progress_message)
            except TelegramError as error:
                log.info("broadcast %s: final progress not shown: %s", broadcast.broadcast_id,
                         type(error).__name__)
        report = text(
            language,
            "broadcast_report_stopped" if broadcast.state == "stopped" else "broadcast_report",
            id=broadcast.broadcast_id,
            sent=counts.sent,
            failed=counts.failed,
            removed=counts.removed,
            uncertain=counts.uncertain,
            cancelled=counts.cancelled,
            skipped=counts.skipped,
        )
        zone = self.services.config.timezone
        report = Html(report + "\n" + text(
            language, "broadcast_report_times", start=local_time(broadcast.created_at, zone),
            end=local_time(broadcast.finished_at or time.time(), zone),
        ))
        try:
            await bot.send_message(chat, report)
        except TelegramError as error:
            log.warning("broadcast %s: final report not sent: %s", broadcast.broadcast_id,
                        type(error).__name__)


async def send_content(bot: Any, chat: int | str, language: str, content: dict[str, Any],
                       reply_markup: InlineKeyboardMarkup | None = None) -> Any:
    """Send a broadcast's content (a text, or a photo with caption) in the recipient's language."""
    texts: dict[str, str] = content.get("texts", {})
    body = (texts.get(language) or texts.get("*") or texts.get(SOURCE_LANGUAGE)
            or next(iter(texts.values()), ""))
    if content.get("kind") == "photo":
        return await bot.send_photo(chat, content["file_id"], caption=body or None,
                                    reply_markup=reply_markup)
    return await bot.send_message(chat, body, reply_markup=reply_markup)


#: The check lives in workers/jobs.py now (every claim of several processes uses it).
_dead_here = gone
