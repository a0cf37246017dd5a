"""Updates of different chats run concurrently; updates of one chat run one after another.

python-telegram-bot handles updates one at a time by default, so one slow answer (a 429's
retry_after, a large file) made every resident wait. With `concurrent_updates` alone, two
messages of one resident could run at once and race on their conversation draft. `ChatLanes`
gives each chat a lane: a FIFO lock taken in arrival order, so a chat's updates keep their
order while other chats go past. Waiting in a lane costs no processing slot; only a bounded
number of updates (`RUNNING`) actually run at once.

The flood check (`FloodGuard`) runs here, at arrival, before an update joins its lane: a
flooder's updates are counted when they arrive (not when their slow lane gets to them) and
the dropped ones never reach a handler.

Several processes on one database (webhook mode, docs/SCALING.md "Several processes"): a chat's
lane here orders its updates within this process; `turn` (set then) adds the chat's turn in the
database inside the lane, so one chat's updates reaching different processes are still handled
one at a time, and `admit_later` replaces the in-memory count by the database's (storage/floods.py)
so a flooder meets the same limit whatever process their updates reach. That check is awaited
before the lane's lock, which is right in webhook mode only: Telegram sends a chat's next update
once the previous one was answered, so no two updates of one chat race for the lane. `after` is
told of every update that leaves (long polling marks it done in the database there).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

#: Updates that may wait in lanes at once (PTB's own bound; waiting costs only memory).
WAITING = 100_000
#: Updates that run at once, all chats together.
RUNNING = 32



class Verdict(enum.Enum):
    """What the flood check decided for one update."""

    ADMIT = "admit"  # handle it
    WARN = "warn"  # the first one over the limit: say "slow down" (in the lane) instead
    DROP = "drop"  # silenced: never reaches a handler


Admit = Callable[[object], Verdict]
AdmitLater = Callable[[object], Awaitable[Verdict]]
Warn = Callable[[Update], Awaitable[None]]
Turn = Callable[[int], AbstractAsyncContextManager[None]]
After = Callable[[object, bool], Awaitable[None]]


@dataclass
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


def lane_of(update: object) -> int | None:
    """The chat whose order `update` must keep (None: it has no chat, e.g. a poll's state)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatLanes(BaseUpdateProcessor):
    """One lane per chat; `admit` and `warn` (set once the services are open) may replace an
    update by a "slow down" or drop it."""

    def __init__(self, running: int = RUNNING) -> None:
        super().__init__(max_concurrent_updates=WAITING)
        self._running = asyncio.Semaphore(running)
        self._lanes: dict[int, _Lane] = {}
        self.admit: Admit | None = None
        self.admit_later: AdmitLater | None = None
        self.warn: Warn | None = None
        self.turn: Turn | None = None
        self.after: After | None = None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        handled = False
        try:
            await self._in_lane(update, coroutine)
            handled = True
        finally:
            if self.after is not None:
                await self.after(update, handled)

    async def _in_lane(self, update: object, coroutine: Awaitable[Any]) -> None:
        # No await before the lane's lock (but `admit_later`, see the module's docstring):
        # tasks reach it in the order they were created, which is the order Telegram sent
        # the updates.
        if self.admit is not None:
            verdict = self.admit(update)
        elif self.admit_later is not None:
            try:
                verdict = await self.admit_later(update)
            except BaseException:
                if asyncio.iscoroutine(coroutine):
                    coroutine.close()
                raise
        else:
            verdict = Verdict.ADMIT
        if verdict is not Verdict.ADMIT:
            if asyncio.iscoroutine(coroutine):
                coroutine.close()  # never started: nothing to undo
            if verdict is Verdict.DROP or self.warn is None or not isinstance(update, Update):
                return
            coroutine = self._warned(update, self.warn)
        key = lane_of(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        lane.users += 1
        try:
            async with lane.lock:
                if self.turn is None:
                    async with self._running:
                        await coroutine
                else:
                    started = False
                    try:
                        # the chat's turn among the processes, then a running slot
                        async with self.turn(key), self._running:
                            started = True
                            await coroutine
                    finally:
                        if not started and asyncio.iscoroutine(coroutine):
                            coroutine.close()  # the turn never came: not handled
        finally:
            lane.users -= 1
            if lane.users == 0:
                del self._lanes[key]

    @staticmethod
    async def _warned(update: Update, warn: Warn) -> None:
        try:
            await warn(update)
        except Exception as error:  # a failed "slow down" must not end the lane
            log.info("update %s: the slow-down notice failed (%s)", update.update_id,
                     type(error).__name__)

    @property
    def lanes(self) -> int:
        """Chats with an update waiting or running (for tests and benchmarks)."""
        return len(self._lanes)


@dataclass
class _Pace:
    stamps: deque[float] = field(default_factory=deque)
    presses: deque[float] = field(default_factory=deque)
    silent_until: float = 0.0


class FloodGuard:
    """More than `limit` messages in `window` seconds: one "slow down", then `silence` seconds
    in which that person's updates are dropped. Nobody else waits for it.

    Messages are what SPEC counts (a resident's album of ten photos is ten messages at once, so
    the limit is not lower). Button presses are counted apart, against a looser
    `press_limit`: a person tapping through a report presses quickly, a script forging button
    data presses far more.

    People are told apart by `pseudonym(user_id)` (the keyed hash of the rate-limit purpose),
    so not even this process's memory holds a list of who wrote. The counts live in memory:
    they are about the last minute only, and a restart forgetting them costs nothing.
    """

    def __init__(
        self,
        pseudonym: Callable[[int], bytes],
        *,
        limit: int = 20,
        press_limit: int = 60,
        window: float = 10.0,
        silence: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pseudonym = pseudonym
        self._limit = limit
        self._press_limit = press_limit
        self._window = window
        self._silence = silence
        self._clock = clock
        self._paces: dict[bytes, _Pace] = {}
        self._since_sweep = 0

    def __call__(self, update: object) -> Verdict:
        """Whether `update` goes through, is answered "slow down", or is dropped."""
        if not isinstance(update, Update) or update.effective_user is None:
            return Verdict.ADMIT
        now = self._clock()
        self._sweep(now)
        key = self._pseudonym(update.effective_user.id)
        pace = self._paces.get(key)
        if pace is None:
            pace = self._paces[key] = _Pace()
        if now < pace.silent_until:
            return Verdict.DROP
        pressed = update.callback_query is not None
        stamps, limit = (pace.presses, self._press_limit) if pressed else (pace.stamps, self._limit)
        while stamps and stamps[0] <= now - self._window:
            stamps.popleft()
        stamps.append(now)
        if len(stamps) <= limit:
            return Verdict.ADMIT
        pace.stamps.clear()
        pace.presses.clear()
        pace.silent_until = now + self._silence
        log.info("a chat sent more than %s %s in %.0f s: silenced for %.0f s",
                 limit, "presses" if pressed else "messages", self._window, self._silence)
        return Verdict.WARN

    def _sweep(self, now: float) -> None:
        """Forget people who have been quiet for a while (bounded memory)."""
        self._since_sweep += 1
        if self._since_sweep < 1000:
            return
        self._since_sweep = 0
        quiet = [
            key
            for key, pace in self._paces.items()
            if now >= pace.silent_until
            and all(not q or q[-1] <= now - self._window for q in (pace.stamps, pace.presses))
        ]
        for key in quiet:
            del self._paces[key]

    @property
    def tracked(self) -> int:
        return len(self._paces)
