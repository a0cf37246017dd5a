"""Background work, all on one mechanism: python-telegram-bot's JobQueue (APScheduler).

Periodic work (escalation, housekeeping, schedules, the monthly review, the command menus) is
plain jobs. Work that must start at once when something is committed (the outbox towards
officers and residents, broadcasts) is a `Wakeable`: a pass that runs now, then again after the
pause it returns, or as soon as it is woken; it never runs twice at once, and a wake during a
pass runs another pass right after it, so nothing committed waits for the idle pause.

Stopping: `wind_down` is called before the Application stops (bot/polling.py). No pass starts
after it; a running pass is told to finish (its `stopping` flag) and is given its `stop_wait`
seconds (none by default), then cancelled. What a cancelled pass was sending stays in the
database and is sent after the restart (the outbox: at least once; broadcasts: counted as
uncertain, never sent twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable

from apscheduler.jobstores.base import JobLookupError
from telegram.ext import ContextTypes, Job

from storage.broadcasts import Leases
from telegram_api.types import App

log = logging.getLogger(__name__)

#: bot_data key of the running Wakeables, so `wind_down` finds them all.
KEY = "wakeables"
#: Seconds before a pass that failed is tried again.
AFTER_FAILURE = 5.0

#: This process among the others on the database: `host:pid:nonce`, the holder of its claims
#: and leases (the nonce tells a restarted process from its predecessor with the same pid).
PROCESS = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def gone(holder: str) -> bool:
    """Whether a claim's holder `host:pid:nonce` is a process of this host that is gone (then
    its claims are taken over at once)."""
    return _here(holder) is False


def alive_here(holder: str) -> bool:
    """Whether `holder` is a process of this host whose pid runs (this one, or another)."""
    return _here(holder) is True


def _here(holder: str) -> bool | None:
    """None: not a process of this host (or not a holder); else whether it runs."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if pid == os.getpid():
        return holder == PROCESS  # an earlier run under this pid (cannot be alive elsewhere)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Wakeable:
    """A pass of background work on the JobQueue: now, after its pause, or when woken."""

    def __init__(
        self,
        application: App,
        name: str,
        cycle: Callable[[], Awaitable[float]],
        *,
        stop_wait: float = 0.0,
        on_wind_down: Callable[[], Awaitable[None]] | None = None,
        on_stopped: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.application = application
        self.name = name
        self.stopping = False
        self._cycle = cycle
        self._stop_wait = stop_wait
        self._on_wind_down = on_wind_down
        self._on_stopped = on_stopped
        self._pending: Job[ContextTypes.DEFAULT_TYPE] | None = None
        self._running: asyncio.Task[object] | None = None
        self._again = False

    def start(self) -> None:
        """Run the first pass as soon as the JobQueue runs (it resumes what is pending)."""
        self.application.bot_data.setdefault(KEY, []).append(self)
        self._schedule(0.0)

    def wake(self) -> None:
        """Something was just committed: run a pass now, or right after the running one."""
        if self.stopping:
            return
        if self._running is not None:
            self._again = True
        else:
            self._schedule(0.0)

    async def wind_down(self) -> None:
        """No new pass; the running one gets `stop_wait` seconds to finish, then is cancelled."""
        self.stopping = True
        self._unschedule()
        if self._on_wind_down is not None:
            await self._on_wind_down()
        task = self._running
        if task is not None:
            if self._stop_wait > 0:
                await asyncio.wait({task}, timeout=self._stop_wait)
            if not task.done():
                log.info("%s: stopped mid-pass; what it was sending is resumed at restart",
                         self.name)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._on_stopped is not None:
            await self._on_stopped()

    def _schedule(self, delay: float) -> None:
        self._unschedule()
        job_queue = self.application.job_queue
        assert job_queue is not None, "python-telegram-bot[job-queue] is a dependency"
        self._pending = job_queue.run_once(
            self._run, when=max(delay, 0.0), name=self.name,
            job_kwargs={"misfire_grace_time": None},
        )

    def _unschedule(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            with contextlib.suppress(JobLookupError):
                pending.job.remove()

    async def _run(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._pending = None
        if self.stopping or self._running is not None:
            return
        self._again = False
        self._running = asyncio.current_task()
        pause = AFTER_FAILURE
        try:
            pause = await self._cycle()
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            return
        except Exception:
            log.exception("%s failed; trying again in %.0f s", self.name, AFTER_FAILURE)
        finally:
            self._running = None
        if not self.stopping:
            self._schedule(0.0 if self._again else pause)


async def wind_down(application: App) -> None:
    """Stop every Wakeable (before `Application.stop`, which waits for running jobs)."""
    wakeables: list[Wakeable] = application.bot_data.pop(KEY, [])
    await asyncio.gather(*(w.wind_down() for w in wakeables))


class Holdings:
    """Named leases this process holds while it lives (storage/broadcasts.py `Leases`): taken
    when free, when their lease ran out, or at once when their holder is a process known gone;
    renewed by `renew` (a JobQueue tick) and released at a clean stop. For work exactly one
    process of the line does (registering the webhook, publishing the command menus)."""

    #: Seconds a lease lasts without renewal; renewed every RENEW seconds.
    SECONDS = 30.0
    RENEW = 5.0

    def __init__(self, leases: Leases, holder: str = PROCESS) -> None:
        self._leases = leases
        self.holder = holder
        self.held: set[str] = set()

    async def take(self, name: str) -> bool:
        """True when this process holds `name` now (newly or still)."""
        if await self._leases.acquire(name, self.holder, self.SECONDS):
            self.held.add(name)
            return True
        other = await self._leases.holder(name)
        if other is not None and gone(other) and await self._leases.take_over(
            name, other, self.holder, self.SECONDS
        ):
            log.info("lease %s taken over from a process that is gone", name)
            self.held.add(name)
            return True
        self.held.discard(name)
        return False

    async def renew(self) -> None:
        for name in sorted(self.held):
            if not await self._leases.acquire(name, self.holder, self.SECONDS):
                log.warning("lease %s lost; another process has it", name)
                self.held.discard(name)

    async def release_all(self) -> None:
        for name in sorted(self.held):
            await self._leases.release(name, self.holder)
        self.held.clear()


HOLDINGS = "holdings"


def holdings_of(application: App) -> Holdings:
    """This process's Holdings (created on first use; renewed by `start_holdings`)."""
    found = application.bot_data.get(HOLDINGS)
    if found is None:
        found = application.bot_data[HOLDINGS] = Holdings(
            application.bot_data["services"].store.leases
        )
    assert isinstance(found, Holdings)
    return found


def start_holdings(application: App) -> None:
    """Renew what this process holds, every few seconds while it runs."""
    holdings = holdings_of(application)

    async def renew(context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await holdings.renew()
        except Exception as error:  # the next tick tries again; a lost lease says so
            log.warning("lease renewal failed (%s)", type(error).__name__)

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        renew, interval=Holdings.RENEW, first=Holdings.RENEW, name="holdings",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
