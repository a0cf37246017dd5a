"""This process among several on one database (docs/SCALING.md "Several processes").

Any process of the line may receive any update. `Fleet` is what one process does so that the
others can trust it:

- `claim` an update before handling it and mark it `done` only after (storage/updates_seen.py,
  keyed by this bot's id and the update id): a second delivery of a handled update is dropped,
  one in hand by a live process is refused for now (webhook: non-2xx, Telegram redelivers later;
  long polling waits), and one whose process is dead is handled again; with long polling the
  claim keeps the update itself (sealed), and the next start handles again the `orphans` of a
  process that died (Telegram does not send a confirmed update twice);
- take the chat's `turn` (storage/chat_turns.py) around the handling (webhook mode, inside the
  chat's lane of bot/chat_lanes.py), so one chat's updates are handled one at a time across
  processes; past `TURN_WAIT` seconds the update is refused and redelivered;
- count floods in the database (`flood`, storage/floods.py), so a flooder meets one limit;
- with several processes (webhook mode), keep this process's heartbeat (`beat`, renewed by a
  JobQueue tick, given back at a clean stop with the turns).

Claims and turns carry no time (an update is someone's message). Whether their holder lives is
decided by its process: on this host by its pid (workers/jobs.py `gone`); with several processes
by its heartbeat, in the claim's own SQL (BUSY only while the holder's heartbeat is live). Long
polling is one process by Telegram's rule (a second getUpdates gets 409 Conflict), so it keeps
no heartbeat: a claim of another holder is a dead process's unless that holder's pid still runs
on this host (a predecessor finishing its last updates), and even then only for `POLL_WAIT`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AbstractAsyncContextManager

from telegram import Update
from telegram.ext import ContextTypes

from bot.chat_lanes import Verdict
from storage import floods
from storage.store import Store
from storage.updates_seen import Claim, Seen
from telegram_api.types import App
from workers.jobs import PROCESS, alive_here, gone

log = logging.getLogger(__name__)

#: Seconds an update waits for its chat's turn held by another process before it is refused.
TURN_WAIT = 20.0
#: Seconds between renewals of this process's heartbeat (it lasts 30 s).
RENEW_SECONDS = 10.0
#: Long polling: how often to look again at an update another live process has in hand.
BUSY_POLL = 0.2
#: Long polling: how long an update in hand by another process of this host whose pid runs is
#: waited for before it is taken over (that pid may be an unrelated process by now).
POLL_WAIT = 120.0
KEY = "fleet"

_VERDICTS = {floods.ADMIT: Verdict.ADMIT, floods.WARN: Verdict.WARN, floods.DROP: Verdict.DROP}


class Fleet:
    def __init__(
        self, store: Store, bot: int, *, several: bool, holder: str = PROCESS
    ) -> None:
        self.store = store
        self.bot = bot
        self.several = several  # webhook mode: other processes may share the database
        self.holder = holder
        #: updates handled whose mark is not written yet, and who waits for it (see `done`)
        self._finished: list[tuple[int, asyncio.Future[None]]] = []
        self._marking: asyncio.Task[None] | None = None

    async def claim(
        self, update_id: int, *, force: bool = False, update: str | None = None
    ) -> Seen:
        """DONE, CLAIMED, or BUSY (in hand by a live process). `force`: take over even a claim
        of a process that seems alive (long polling, after `POLL_WAIT`). `update`: its JSON,
        kept (sealed) with the claim until it was handled (long polling, see `orphans`)."""
        seen = self.store.updates_seen
        claim = await seen.claim(
            self.bot, update_id, self.holder, alive_at=time.time() if self.several else None,
            update=update,
        )
        return await self._settled(update_id, claim, force=force, update=update)

    async def _settled(
        self, update_id: int, claim: Claim, *, force: bool = False, update: str | None = None
    ) -> Seen:
        """What a claim's answer comes to: a BUSY one whose holder is gone (or `force`) is
        taken over."""
        if claim.seen is not Seen.BUSY or claim.holder is None:
            return claim.seen
        if (force or self._dead(claim.holder)) and await self.store.updates_seen.take_over(
            self.bot, update_id, claim.holder, self.holder, update
        ):
            log.info("update %s: its process is gone; handled here", update_id)
            return Seen.CLAIMED
        return Seen.BUSY

    def _dead(self, holder: str) -> bool:
        """A holder the claim's SQL did not see dead: gone from this host; or, with long
        polling (one process), anything but a process whose pid runs here."""
        return gone(holder) or (not self.several and not alive_here(holder))

    def cut_off(self, holder: str, *, beating: bool) -> bool:
        """Whether work stamped with `holder` (a /status file on its way,
        handlers/resident/status.py) has nobody doing it any more, so that this process takes
        it over: never this process's own; a process of this host whose pid is gone; with
        several processes, one whose heartbeat (`beating`: live now) ran out; with long
        polling, any other but a predecessor of this host still finishing its work."""
        if holder == self.holder:
            return False
        if self._dead(holder):
            return True
        return self.several and not beating

    async def claim_batch(
        self, update_ids: list[int], updates: dict[int, str] | None = None
    ) -> dict[int, Seen]:
        """Long polling: `claim` for a whole getUpdates batch (a few statements, not two per
        update), each with its JSON from `updates`; BUSY ones are the caller's to wait for
        (`claim_waiting`)."""
        known = updates or {}
        claims = await self.store.updates_seen.claim_many(
            self.bot, update_ids, self.holder, known)
        return {update_id: await self._settled(update_id, claim, update=known.get(update_id))
                for update_id, claim in claims.items()}

    async def claim_waiting(
        self, update_id: int, stop: asyncio.Event | None = None, update: str | None = None
    ) -> Seen:
        """Long polling: DONE or CLAIMED, waiting while another live process has it."""
        deadline = time.monotonic() + POLL_WAIT
        told = False
        while True:
            force = time.monotonic() >= deadline
            seen = await self.claim(update_id, force=force, update=update)
            if seen is not Seen.BUSY:
                if force:
                    log.warning("update %s: taken over after %.0f s in hand elsewhere",
                                update_id, POLL_WAIT)
                return seen
            if not told:
                log.info("update %s is in hand in another process; waiting for it", update_id)
                told = True
            if stop is not None and stop.is_set():
                return Seen.BUSY
            await asyncio.sleep(BUSY_POLL)

    async def orphans(self) -> list[tuple[int, str]]:
        """Long polling, at start: the updates a process that is gone had claimed and not
        handled, taken over by this one, oldest first, each with its JSON. Telegram will not send
        them again (getUpdates confirmed them before they were handled). A claim whose holder
        still runs on this host is left to it; one whose copy does not open is given up (logged:
        it cannot be handled by anyone)."""
        found = []
        for orphan in await self.store.updates_seen.orphans(self.bot, self.holder):
            if not self._dead(orphan.holder):
                log.info("update %s is in hand in a running process; left to it",
                         orphan.update_id)
                continue
            if not await self.store.updates_seen.take_over(
                self.bot, orphan.update_id, orphan.holder, self.holder
            ):
                continue  # taken meanwhile
            if orphan.update is None:
                log.error("update %s: its process stopped before handling it, and its copy"
                          " does not open; it is lost", orphan.update_id)
                await self.release(orphan.update_id)
                continue
            found.append((orphan.update_id, orphan.update))
        return found

    async def done(self, update_id: int) -> None:
        """Handled: never handled again; returns once that is written (a failure only logs: it
        was handled). The updates finished while the previous mark was being written go
        together in one statement, a group commit: under a crowd one statement per update was
        a sixth of what the bot ran (issue 16), and a mark is never later than it was."""
        finished = asyncio.get_running_loop().create_future()
        self._finished.append((update_id, finished))
        if self._marking is None or self._marking.done():
            self._marking = asyncio.ensure_future(self._mark_finished())
        await finished

    async def _mark_finished(self) -> None:
        while self._finished:
            batch, self._finished = self._finished, []
            update_ids = [update_id for update_id, _ in batch]
            try:
                await self.store.updates_seen.done_many(self.bot, update_ids, self.holder)
            except Exception as error:
                log.error("updates %s: could not record them handled (%s)",
                          ", ".join(map(str, update_ids)), type(error).__name__)
            finally:
                for _, finished in batch:
                    if not finished.done():  # its caller may have been cancelled
                        finished.set_result(None)

    async def release(self, update_id: int) -> None:
        """Not handled: the next delivery handles it."""
        try:
            await self.store.updates_seen.release(self.bot, update_id, self.holder)
        except Exception as error:  # taken over once this process is known dead
            log.warning("update %s: could not give its claim back (%s)", update_id,
                        type(error).__name__)

    def turn(self, chat_id: int) -> AbstractAsyncContextManager[None]:
        return self.store.chat_turns.turn(chat_id, self.holder, wait=TURN_WAIT, gone=gone)

    async def flood(self, update: object) -> Verdict:
        """The flood check of bot/chat_lanes.py `FloodGuard`, counted in the database."""
        if not isinstance(update, Update) or update.effective_user is None:
            return Verdict.ADMIT
        verdict = await self.store.floods.note(
            update.effective_user.id, pressed=update.callback_query is not None
        )
        if verdict == floods.WARN:
            log.info("a chat sent too many %s: silenced for %.0f s (all processes)",
                     "presses" if update.callback_query is not None else "messages",
                     self.store.floods.silence)
        return _VERDICTS[verdict]

    async def beat(self) -> None:
        """Several processes: say this process lives (its claims and turns are not taken)."""
        if self.several and not await self.store.updates_seen.beat(self.holder):
            log.warning("heartbeat not taken: another process has this one's name")

    async def stop(self) -> None:
        """At a clean stop (everything accepted was handled): give the turns and the heartbeat
        back, so the others know at once."""
        if not self.several:
            return
        try:
            await self.store.chat_turns.release_all(self.holder)
            await self.store.updates_seen.stop_beating(self.holder)
        except Exception as error:
            log.warning("chat turns or heartbeat not released (%s); the heartbeat runs out",
                        type(error).__name__)


async def start_fleet(application: App, store: Store, *, several: bool) -> Fleet:
    """This process's Fleet; with several processes its heartbeat is taken now (before any
    update is handled) and renewed every RENEW_SECONDS."""
    fleet = Fleet(store, application.bot.id, several=several)
    application.bot_data[KEY] = fleet
    if not several:
        return fleet
    await fleet.beat()

    async def renew(context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await fleet.beat()
        except Exception as error:
            log.warning("heartbeat not renewed (%s); trying again", type(error).__name__)

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        renew, interval=RENEW_SECONDS, first=RENEW_SECONDS, name="fleet-heartbeat",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    return fleet


def fleet_of(application: App) -> Fleet | None:
    found = application.bot_data.get(KEY)
    return found if isinstance(found, Fleet) else None
