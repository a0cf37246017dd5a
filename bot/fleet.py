"""This process among several on one database (docs/SCALING.md "Several processes").

Any process of the line may receive any update. `Fleet` is what one process does so that the
others can trust it:

- `claim` an update before handling it and mark it `done` only after (storage/updates_seen.py):
  a second delivery of a handled update is dropped, one in hand by a live process is refused for
  now (webhook: non-2xx, Telegram redelivers later; long polling waits), and one whose process
  died is handled again, at once when that process was on this host (`workers.jobs.gone`), else
  when its lease runs out;
- take the chat's `turn` (storage/chat_turns.py) around the handling (webhook mode, inside the
  chat's lane of bot/chat_lanes.py), so one chat's updates are handled one at a time across
  processes; past `TURN_WAIT` seconds the update is refused and redelivered;
- count floods in the database (`flood`, storage/floods.py), so a flooder meets one limit;
- renew its claims and turns while it lives (`renew`, a JobQueue tick) and give its turns back at
  a clean stop.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager

from telegram import Update
from telegram.ext import ContextTypes

from bot.chat_lanes import Verdict
from storage import floods
from storage.store import Store
from storage.updates_seen import Seen
from telegram_api.types import App
from workers.jobs import PROCESS, gone

log = logging.getLogger(__name__)

#: Seconds an update waits for its chat's turn held by another process before it is refused.
TURN_WAIT = 20.0
#: Seconds between renewals of this process's claims and turns (their leases last 30 s).
RENEW_SECONDS = 10.0
#: Long polling: how often to look again at an update another live process has in hand.
BUSY_POLL = 0.2
KEY = "fleet"

_VERDICTS = {floods.ADMIT: Verdict.ADMIT, floods.WARN: Verdict.WARN, floods.DROP: Verdict.DROP}


class Fleet:
    def __init__(self, store: Store, holder: str = PROCESS) -> None:
        self.store = store
        self.holder = holder

    async def claim(self, update_id: int) -> Seen:
        claim = await self.store.updates_seen.claim(update_id, self.holder)
        if (
            claim.seen is Seen.BUSY
            and claim.holder is not None
            and gone(claim.holder)
            and await self.store.updates_seen.take_over(update_id, claim.holder, self.holder)
        ):
            log.info("update %s: its process is gone; handled here", update_id)
            return Seen.CLAIMED
        return claim.seen

    async def claim_waiting(self, update_id: int, stop: asyncio.Event | None = None) -> Seen:
        """Long polling: DONE or CLAIMED, waiting while another live process has it."""
        told = False
        while True:
            seen = await self.claim(update_id)
            if seen is not Seen.BUSY:
                return seen
            if not told:
                log.info("update %s is in hand in another process; waiting for it", update_id)
                told = True
            if stop is not None and stop.is_set():
                return Seen.BUSY
            await asyncio.sleep(BUSY_POLL)

    async def done(self, update_id: int) -> None:
        """Handled: never handled again (a failure here only logs: it was handled)."""
        try:
            await self.store.updates_seen.done(update_id, self.holder)
        except Exception as error:
            log.error("update %s: could not record it handled (%s)", update_id,
                      type(error).__name__)

    async def release(self, update_id: int) -> None:
        """Not handled: the next delivery handles it."""
        try:
            await self.store.updates_seen.release(update_id, self.holder)
        except Exception as error:  # the lease runs out by itself
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

    async def renew(self) -> None:
        await self.store.updates_seen.renew(self.holder)
        await self.store.chat_turns.renew(self.holder)

    async def stop(self) -> None:
        """At a clean stop (everything accepted was handled): give the turns back."""
        try:
            await self.store.chat_turns.release_all(self.holder)
        except Exception as error:
            log.warning("chat turns not released (%s); their leases run out", type(error).__name__)


def start_fleet(application: App, store: Store) -> Fleet:
    fleet = Fleet(store)
    application.bot_data[KEY] = fleet

    async def renew(context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await fleet.renew()
        except Exception as error:
            log.warning("claims not renewed (%s); trying again", type(error).__name__)

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        renew, interval=RENEW_SECONDS, first=RENEW_SECONDS, name="fleet-renewal",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    return fleet


def fleet_of(application: App) -> Fleet | None:
    found = application.bot_data.get(KEY)
    return found if isinstance(found, Fleet) else None
