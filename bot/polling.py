"""`python -m bot`: connect to Telegram, start the bot, long-poll, stop cleanly; and the start-up
and clean stop that webhook mode (bot/webhook.py) shares (`Intake`, `serve`).

This is python-telegram-bot's `Application.run_polling`, written out so that start-up says what
the SPEC asks of it, which `run_polling` cannot be told to do:

- a token Telegram rejects (401/404 on getMe) raises `InvalidToken` at once, without the library
  logging a traceback first; the command line turns it into one line and exit status 2;
- while Telegram cannot be reached (connection refused, timeouts, 5xx past the request's own
  retries), on getMe as on getUpdates, the bot keeps trying with a growing delay and says so in
  one warning line at once, then at most one a minute (`Reachability`), and one line when it is
  back. The library's own polling loop retries timeouts silently and reports other network
  errors with a traceback each time;
- an update delivered again (the same update_id, as when Telegram did not hear the offset
  confirmation) is handled once: `RecentUpdates`, the memory webhook mode uses too, remembers
  the last ids accepted, and the database (bot/fleet.py, storage/updates_seen.py) remembers
  them across restarts: an update is claimed there before it is queued and marked done once
  it was handled, so a repeat after a restart is dropped;
- an update cut off by a crash is handled at the next start. The next getUpdates confirms a
  batch to Telegram while its updates are still queued or in hand (waiting for them would let
  one slow chat hold every other), and Telegram never sends a confirmed update again; so the
  claim keeps the update itself, sealed, until it was handled, and before it polls the bot
  hands the updates a dead process had in hand to the handlers again, oldest first (`_replay`);
- nothing decorative is awaited before polling starts: the command menus are published in the
  background (workers/menus.py), so a Bot API server without `setMyCommands` does not stop the
  line.

Order of work is the library's: initialize (getMe), deleteWebhook, `post_init`,
`Application.start()` and poll; on SIGINT/SIGTERM, stop polling (one last getUpdates confirms
what was fetched, so it is not fetched again), the updates already fetched are handled, the
background workers wind down (workers/jobs.py), `Application.stop()`, `shutdown`,
`post_shutdown`. Webhook mode runs the same steps with setWebhook and its own server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Protocol, TypeVar

from telegram import Update
from telegram.error import (
    BadRequest,
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.fleet import Fleet, fleet_of
from storage.updates_seen import Seen
from telegram_api.bot import TiplineBot
from telegram_api.types import App
from workers.jobs import wind_down

log = logging.getLogger(__name__)

#: At most one "unreachable" warning per this many seconds while Telegram stays unreachable.
WARNING_INTERVAL = 60.0
#: Delay before the next try after a failed connection, doubled each time up to the maximum.
RETRY_FIRST = 1.0
RETRY_MAX = 30.0
#: getUpdates long-polling timeout, in seconds (the library's default).
POLL_TIMEOUT = 10
#: Update ids remembered to recognise a repeated delivery (Telegram redelivers within minutes).
RECENT = 10_000

T = TypeVar("T")


class Reachability:
    """Whether Telegram answers; one warning when it stops, then at most one per interval."""

    def __init__(self, interval: float = WARNING_INTERVAL) -> None:
        self.interval = interval
        self._down_since: float | None = None
        self._last_warning: float | None = None

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, call: str, error: Exception, retry_in: float) -> None:
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        if self._last_warning is not None and now - self._last_warning < self.interval:
            log.debug("Telegram still unreachable (%s on %s)", type(error).__name__, call)
            return
        self._last_warning = now
        down_for = now - self._down_since
        log.warning(
            "Telegram unreachable (%s on %s: %s)%s; trying again in %.0f s",
            type(error).__name__, call, error,
            f" for {down_for:.0f} s" if down_for >= 1 else "", retry_in,
        )

    def answered(self) -> None:
        if self._down_since is not None:
            log.warning(
                "Telegram reachable again after %.0f s", time.monotonic() - self._down_since
            )
        self._down_since = None
        self._last_warning = None


def unreachable(error: TelegramError) -> bool:
    """A failure of the network or of Telegram's side, worth waiting out (not a bad request)."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


class RecentUpdates:
    """The ids of the last updates handled or in hand, each with its outcome (True: handled)."""

    def __init__(self, size: int = RECENT) -> None:
        self._size = size
        self._seen: OrderedDict[int, asyncio.Future[bool]] = OrderedDict()

    def begin(self, update_id: int) -> asyncio.Future[bool] | None:
        """None: new, the caller handles it and calls `done`; else the first delivery's
        outcome to wait for."""
        known = self._seen.get(update_id)
        if known is not None:
            return known
        self._seen[update_id] = asyncio.get_running_loop().create_future()
        while len(self._seen) > self._size:
            oldest = next(iter(self._seen.values()))
            if not oldest.done():
                break  # in hand: kept (there are at most max_connections of those)
            self._seen.popitem(last=False)
        return None

    def done(self, update_id: int, handled: bool) -> None:
        """Handled: remembered. Not handled: forgotten, so the next delivery handles it."""
        outcome = self._seen.get(update_id) if handled else self._seen.pop(update_id, None)
        if outcome is not None and not outcome.done():
            outcome.set_result(handled)

    def __len__(self) -> int:
        return len(self._seen)


class Intake(Protocol):
    """How updates come in: long polling (`Polling`, here) or a webhook (bot/webhook.py).

    `serve` drives either through the same start-up and the same stop, so both keep one
    contract: getMe, `register` (deleteWebhook or setWebhook), `post_init`,
    `Application.start()`, `begin`; on stop `end` (stop accepting, and return once what was
    accepted is handled), then the workers wind down, `Application.stop()`, `shutdown`.
    """

    #: The Bot API call `register` makes, for the "Telegram unreachable" line.
    register_call: str
    #: True: `register` runs after `post_init` (it needs the database), else before it.
    register_after_init: bool
    #: A revoked token met while running; `serve` raises it after the clean stop.
    fatal: InvalidToken | None

    async def prepare(self) -> None:
        """Before Telegram is asked anything (the webhook takes its port here)."""

    async def register(self, application: App) -> None:
        """Tell Telegram how updates will be fetched; may raise TelegramError (retried when
        `unreachable`)."""

    async def begin(self, application: App, reach: Reachability, stop: asyncio.Event
                    ) -> None:
        """Start receiving updates (the application is running)."""

    async def end(self, application: App) -> None:
        """Stop receiving; return once everything accepted was handed to the application."""


class Polling:
    """Long polling: getUpdates into the application's update queue."""

    register_call = "deleteWebhook"
    register_after_init = False

    def __init__(self, recent: int = RECENT) -> None:
        self.offset: int | None = None  # the offset to confirm at the end
        self.recent = RecentUpdates(recent)
        self.fatal: InvalidToken | None = None
        self._task: asyncio.Task[None] | None = None

    async def prepare(self) -> None:
        """Nothing to take before connecting."""

    async def register(self, application: App) -> None:
        await application.bot.delete_webhook()

    async def begin(self, application: App, reach: Reachability, stop: asyncio.Event
                    ) -> None:
        self._task = asyncio.create_task(_poll(application, reach, stop, self), name="polling")

    async def end(self, application: App) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self.offset is not None:
            await _confirm(application, self.offset)


def run_bot(application: App, intake: Intake | None = None) -> int:
    """Run until SIGINT or SIGTERM (long polling unless another `intake` is given); 0 on a
    clean stop. `InvalidToken` propagates."""
    return asyncio.run(serve(application, intake or Polling()))


async def serve(application: App, intake: Intake) -> int:
    """The start-up and the clean stop both intakes share (see `Intake`)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reach = Reachability()
    initialized = False
    await intake.prepare()
    try:
        early = not intake.register_after_init
        if not await _connect(application, intake, reach, stop, register=early):
            return 0
        initialized = True
        if application.post_init is not None:
            await application.post_init(application)
        if stop.is_set():
            return 0
        if not early and not await _connect(application, intake, reach, stop, get_me=False):
            return 0
        await application.start()
        await intake.begin(application, reach, stop)
        await stop.wait()
    finally:
        await intake.end(application)
        if application.running:
            # The updates already accepted are handled first (the workers still deliver what
            # they commit), then the workers wind down: Application.stop() waits for running
            # jobs, and a long broadcast round must not hold the stop.
            await application.update_queue.join()
            await wind_down(application)
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
        if initialized:
            await application.shutdown()
            if application.post_shutdown is not None:
                await application.post_shutdown(application)
        else:  # getMe failed or the stop came first: the HTTP sessions were opened all the same
            await application.bot.shutdown()
    if intake.fatal is not None:
        raise intake.fatal
    return 0


async def _connect(
    application: App, intake: Intake, reach: Reachability, stop: asyncio.Event,
    *, get_me: bool = True, register: bool = True,
) -> bool:
    """getMe and the intake's registration until both answer; False when told to stop first."""
    delay = RETRY_FIRST
    call = "getMe"
    while True:
        try:
            call = "getMe"
            if get_me and not await _unless_stopped(application.initialize(), stop):
                return False
            call = intake.register_call
            if register and not await _unless_stopped(intake.register(application), stop):
                return False
            reach.answered()
            return True
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
            log.warning("Telegram asks to wait %.0f s before %s", seconds, call)
            if await _stopped_within(stop, seconds):
                return False
            continue
        except TelegramError as error:
            if not unreachable(error):
                raise
            reach.failed(call, error, delay)
        if await _stopped_within(stop, delay):
            return False
        delay = min(delay * 2, RETRY_MAX)


async def _poll(
    application: App, reach: Reachability, stop: asyncio.Event, polling: Polling
) -> None:
    """Fetch updates into the application's queue until cancelled (or the token is revoked)."""
    await _replay(application, polling)
    delay = RETRY_FIRST
    conflict_logged = 0.0
    while True:
        try:
            updates = await application.bot.get_updates(
                offset=polling.offset, timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES
            )
        except InvalidToken as error:  # revoked while running: stop, the command line says why
            polling.fatal = error
            stop.set()
            return
        except RetryAfter as error:
            wait = error.retry_after
            await asyncio.sleep(wait if isinstance(wait, int | float) else wait.total_seconds())
            continue
        except Conflict:
            if time.monotonic() - conflict_logged >= WARNING_INTERVAL:
                conflict_logged = time.monotonic()
                log.warning(
                    "another process is polling this bot's updates (409 Conflict); retrying"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)
            continue
        except TelegramError as error:
            if not unreachable(error):
                log.error("getUpdates failed: %s; retrying in %.0f s", type(error).__name__, delay)
            else:
                reach.failed("getUpdates", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)
            continue
        reach.answered()
        delay = RETRY_FIRST
        fleet = fleet_of(application)
        fresh = []
        for update in updates:
            if polling.recent.begin(update.update_id) is not None:
                log.info("update %s delivered again; not handled twice", update.update_id)
                continue
            # Remembered as accepted: polling has no answer to withhold, so a failure later
            # (the handler's) is never retried by a redelivery either.
            polling.recent.done(update.update_id, True)
            fresh.append(update)
        # Claimed in the database before they are queued, the whole batch at once; each is
        # marked done once handled (bot/app.py, the lanes' `after`), so a restart does not
        # handle it again.
        copies = {update.update_id: _copy_of(application, update) for update in fresh
                  } if fleet else {}
        claims = await _claimed(fleet, copies)
        for update in fresh:
            if fleet is not None:
                seen = claims.get(update.update_id, Seen.CLAIMED)
                if seen is Seen.BUSY:
                    try:
                        seen = await fleet.claim_waiting(
                            update.update_id, stop, copies[update.update_id])
                    except Exception as error:
                        log.warning("update %s: not claimed in the database (%s); handled"
                                    " anyway", update.update_id, type(error).__name__)
                        seen = Seen.CLAIMED
                if seen is Seen.DONE:
                    log.info("update %s delivered again; handled before this start",
                             update.update_id)
                    continue
                if seen is Seen.BUSY:  # stopping while another process had it: theirs
                    continue
            await application.update_queue.put(update)
        if updates:
            polling.offset = updates[-1].update_id + 1


def _copy_of(application: App, update: Update) -> str:
    """The update as JSON, to keep with its claim (as Telegram sent it, with the line's Bot)."""
    bot = application.bot
    return bot.copy_of(update) if isinstance(bot, TiplineBot) else update.to_json()


async def _claimed(fleet: Fleet | None, copies: dict[int, str]) -> dict[int, Seen]:
    """The batch's claims (bot/fleet.py), each with its update's JSON (`copies`); none when the
    database fails: handled anyway (a lost claim risks a repeat after a restart, a lost update
    a resident unanswered)."""
    if fleet is None or not copies:
        return {}
    try:
        return await fleet.claim_batch(list(copies), copies)
    except Exception as error:
        log.warning("%s updates not claimed in the database (%s); handled anyway",
                    len(copies), type(error).__name__)
        return {}


async def _replay(application: App, polling: Polling) -> None:
    """Before the first getUpdates: hand the updates a dead process had claimed and not handled
    to the handlers again, oldest first, so each chat's go in their order and before its newer
    ones (bot/fleet.py `orphans`). Then forget the updates seen more than a day ago (the
    housekeeping does it too, a minute later): after a week of silence Telegram numbers
    updates anew at random, and an old row must not be mistaken for one of them."""
    fleet = fleet_of(application)
    if fleet is None:
        return
    try:
        orphans = await fleet.orphans()
    except Exception as error:
        log.warning("the updates a stopped process had in hand were not looked for (%s)",
                    type(error).__name__)
        orphans = []
    for update_id, copy in orphans:
        try:
            update = Update.de_json(json.loads(copy), application.bot)
        except Exception as error:
            log.error("update %s: its copy does not read as an update (%s); it is lost",
                      update_id, type(error).__name__)
            await fleet.release(update_id)
            continue
        if polling.recent.begin(update_id) is not None:
            continue
        polling.recent.done(update_id, True)
        log.info("update %s: its process stopped before handling it; handled now", update_id)
        await application.update_queue.put(update)
    try:
        await fleet.store.updates_seen.purge()
    except Exception as error:
        log.warning("old updates not forgotten at start (%s); housekeeping will",
                    type(error).__name__)


async def _confirm(application: App, offset: int) -> None:
    """Tell Telegram the fetched updates are ours, so the next start does not fetch them again."""
    try:
        await application.bot.get_updates(
            offset=offset, timeout=0, allowed_updates=Update.ALL_TYPES
        )
    except TelegramError as error:
        log.warning(
            "could not confirm the last updates (%s); they may be handled again at next start",
            type(error).__name__,
        )


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> bool:
    """Await `work` unless `stop` is set first (then `work` is cancelled); True when it ran."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait((task, stopper), return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        stopper.cancel()
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, TelegramError):
        await task
    return False


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
