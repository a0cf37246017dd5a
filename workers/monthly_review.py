"""The monthly review (sơ kết tháng): on the 1st of each month at 08:00 in TIPBOT_TIMEZONE, every
admin gets the previous month's `/stats` text and chart, once (SPEC "Admin").

The database is the truth, as for schedules: each month the bot runs in has a row in
`monthly_reviews` with the time its review is due (the 1st of the next month, 08:00 local). At
every start, and every few minutes, the month in progress is planned and each review still to
come is registered with the JobQueue at its stored time. When it is due, each admin's copy is
claimed in the database (one row per month and admin) before it is sent, so a restart, a second
timer or a second process never sends it twice; a review missed by more than a day (the bot was
down) is skipped, not sent late. A month that ended before the bot first ran has no review.

The decisions (`decide`, `run_review`) take the time as an argument: the tests move the clock
(the stored due time, or `now`) instead of waiting for the 1st of a month.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, tzinfo

from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from reports.sending import send_report
from reports.stats import collect, local_today, month_key, month_period
from storage.stats import StatsScope
from storage.store import Store
from texts.catalog import pick_language, text

log = logging.getLogger(__name__)

#: The review's hour on the 1st, in TIPBOT_TIMEZONE.
REVIEW_HOUR = 8
#: A review missed by more than this (the bot was down) is skipped, not sent late.
GRACE_SECONDS = 24 * 3600.0
#: A timer may fire this early (clock rounding) and still count as on time.
EARLY_TOLERANCE = 1.0
#: How often each process plans the month in progress and checks its timers.
SYNC_SECONDS = 600.0
JOB_PREFIX = "monthly-review-"

Sender = Callable[[int, str], Awaitable[None]]


def due_at(month: str, zone: tzinfo) -> float:
    """When the review of `month` ('YYYY-MM') is due: the 1st of the next month at 08:00."""
    day = month_period(month).end
    return datetime(day.year, day.month, day.day, REVIEW_HOUR, tzinfo=zone).timestamp()


def decide(due: float, now: float, grace: float = GRACE_SECONDS) -> str:
    """'wait' (not yet), 'fire' (due, at most a day late) or 'skip' (missed by more)."""
    if due > now + EARLY_TOLERANCE:
        return "wait"
    if now - due > grace:
        return "skip"
    return "fire"


async def plan(store: Store, now: float, zone: tzinfo) -> str:
    """Make sure the month in progress has its review to come; returns that month."""
    month = month_key(local_today(zone, now))
    await store.reviews.plan(month, due_at(month, zone))
    return month


async def run_review(
    store: Store, month: str, *, now: float, admins: Sequence[int], send: Sender
) -> str:
    """Send the review of `month` to every admin not yet sent it, if it is due now; skip it if
    it was missed by more than a day. Returns 'wait', 'skipped', 'sent' or 'done' (finished
    before)."""
    review = await store.reviews.get(month)
    if review is None or review.outcome is not None:
        return "done"
    decision = decide(review.due_at, now)
    if decision == "wait":
        return "wait"
    if decision == "skip":
        await store.reviews.finish(month, "skipped")
        return "skipped"
    for admin_id in admins:
        if not await store.reviews.claim(month, admin_id):
            continue  # sent, or being sent, by another timer or process
        state = "sent"
        try:
            await send(admin_id, month)
        except TelegramError as error:
            state = "failed"
            log.warning("monthly review %s not delivered to staff %s: %s", month, admin_id,
                        type(error).__name__)
        except Exception:
            state = "failed"
            log.exception("monthly review %s for staff %s failed", month, admin_id)
        await store.reviews.mark(month, admin_id, state)
    await store.reviews.finish(month, "sent")
    return "sent"


# --- the timers ----------------------------------------------------------------------------


def _services(application: Application):  # type: ignore[no-untyped-def]
    return application.bot_data["services"]


async def start_monthly_review(application: Application) -> None:
    """From post_init: plan this month, register the reviews to come, check again regularly."""
    await sync_reviews(application)
    queue = application.job_queue
    if queue is not None:
        queue.run_repeating(_sync_job, interval=SYNC_SECONDS, first=SYNC_SECONDS,
                            name=f"{JOB_PREFIX}sync")


async def sync_reviews(application: Application) -> None:
    """Plan the month in progress; one timer per review to come, at its stored time (a due
    one at once); a review missed by more than a day is recorded as skipped."""
    queue = application.job_queue
    if queue is None:
        log.error("no JobQueue: the monthly review cannot run (python-telegram-bot[job-queue])")
        return
    services = _services(application)
    store: Store = services.store
    now = time.time()
    await plan(store, now, services.config.timezone)
    pending = await store.reviews.pending()
    wanted = {f"{JOB_PREFIX}{r.month}@{r.due_at}": r for r in pending}
    registered = set()
    for job in queue.jobs():
        if not job.name or not job.name.startswith(JOB_PREFIX) or "@" not in job.name:
            continue
        if job.name in wanted:
            registered.add(job.name)
        else:
            job.schedule_removal()  # finished, or its time was moved
    for name, review in wanted.items():
        if decide(review.due_at, now) == "skip":
            await _fire(application, review.month)
        elif name not in registered:
            queue.run_once(_job, when=max(0.0, review.due_at - now), data=review.month,
                           name=name, job_kwargs={"misfire_grace_time": int(GRACE_SECONDS)})
            log.info("monthly review %s registered", review.month)


async def _job(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    if job is None or not isinstance(job.data, str):
        return
    await _fire(context.application, job.data)
    await sync_reviews(context.application)


async def _sync_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await sync_reviews(context.application)


async def _fire(application: Application, month: str) -> None:
    services = _services(application)
    store: Store = services.store
    zone = services.config.timezone
    reports = {}

    async def send(admin_id: int, reviewed: str) -> None:
        if reviewed not in reports:  # read once, when the first admin's copy is sent
            reports[reviewed] = await collect(
                store, month_period(reviewed), StatsScope(everything=True), zone
            )
        report = reports[reviewed]
        language = pick_language(await store.preferences.language(admin_id),
                                 services.config.language)
        intro = text(language, "review_intro", month=f"{report.period.first:%m/%Y}",
                     zone=str(zone))
        await send_report(application.bot, admin_id, language, report, services.areas,
                          intro=intro)

    admins = await store.staff.admins(services.config.admin_ids)
    outcome = await run_review(store, month, now=time.time(), admins=admins, send=send)
    if outcome == "sent":
        sends = await store.reviews.sends(month)
        log.info("monthly review %s: sent to %s of %s admins", month,
                 sum(1 for s in sends.values() if s == "sent"), len(sends))
    elif outcome == "skipped":
        log.warning("monthly review %s: missed by more than a day while the bot was down; "
                    "skipped", month)
