"""Scheduled awareness posts: the bundled campaign messages, when a schedule is due, and its timers.

The database is the truth: each schedule stores the next occurrence to post (`next_run_at`).
At every start each active schedule is registered with PTB's JobQueue as one job whose trigger is
APScheduler's CronTrigger for its rule (daily, chosen weekdays or a day of the month, at HH:MM in
TIPBOT_TIMEZONE), combined with a one-off trigger at the stored occurrence when that comes first
(a post missed by a few minutes while the bot was down, say). When a timer fires, the occurrence
is claimed in the database in the same transaction that queues the broadcast, so it is posted at
most once, whatever the number of timers or processes. An occurrence missed by more than
`GRACE_SECONDS` is skipped, not sent late.

A schedule posts only while its creator (`created_by`) is an admin, by the rule of every other
right (rules/access.py: promoted and active, or in TIPBOT_ADMIN_IDS and not deactivated). The
claim checks it: a schedule whose creator lost the right is paused instead of posted, audit-logged
(actor 0, the bot), and waits in /schedules for another admin to take it over. Demoting or
deactivating pauses the creator's schedules at once (storage/staff.py), and each start pauses
those of an admin taken out of TIPBOT_ADMIN_IDS.

The decisions (`Rule.next_after`, `decide`, `fire_due`) take the time as an argument, so they are
tested with a moved clock instead of real minutes.
"""

from __future__ import annotations

import logging
import re
import time
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from telegram.ext import ContextTypes

from bot.services import Services
from rules.access import role_under
from storage.schedules import Schedule
from storage.store import Store
from telegram_api.types import App
from texts.catalog import CATEGORIES, LANGUAGES, Html, text
from workers.broadcaster import wake_broadcaster

log = logging.getLogger(__name__)

#: A post missed by more than this (the bot was down) is skipped, not sent late.
GRACE_SECONDS = 600.0
#: A timer may fire this early (clock rounding) and still count as on time.
EARLY_TOLERANCE = 1.0
#: How often each process re-reads the schedules (changes made by another process).
SYNC_SECONDS = 60.0
WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CAMPAIGN_CODE = re.compile(r"^[a-z0-9]{1,24}$")
TIME_INPUT = re.compile(r"^\s*(\d{1,2})\s*[:hH.]\s*(\d{2})?\s*$|^\s*(\d{2})(\d{2})\s*$")
JOB_PREFIX = "schedule-"


# --- the bundled campaign messages ---------------------------------------------------------


@dataclass(frozen=True)
class CampaignMessage:
    key: str
    category: str | None
    link: bool
    texts: dict[str, str]


class CampaignFileError(Exception):
    """The bundled campaign file is malformed (a packaging mistake, caught by the tests)."""


def parse_campaign(data: dict[str, Any]) -> tuple[CampaignMessage, ...]:
    messages = []
    seen: set[str] = set()
    for index, entry in enumerate(data.get("message", []), start=1):
        key = entry.get("key", "")
        if not isinstance(key, str) or not CAMPAIGN_CODE.match(key) or key in seen:
            raise CampaignFileError(f"message {index}: key must be unique [a-z0-9]{{1,24}}")
        category = entry.get("category")
        if category is not None and category not in CATEGORIES:
            raise CampaignFileError(f"message {key}: unknown category {category!r}")
        # The shipped languages; an added language's subscribers get the Vietnamese text.
        texts = {language: entry.get(language) for language in LANGUAGES}
        written = {lang: t for lang, t in texts.items() if isinstance(t, str) and t.strip()}
        if len(written) != len(texts):
            raise CampaignFileError(f"message {key}: needs both vi and en texts")
        seen.add(key)
        messages.append(
            CampaignMessage(key, category, bool(entry.get("link", True)), written)
        )
    if not messages:
        raise CampaignFileError("no [[message]] in the campaign file")
    return tuple(messages)


@cache
def campaign_messages() -> tuple[CampaignMessage, ...]:
    """The bundled rotation (rules/data/campaign.toml), loaded once."""
    raw = resources.files("rules.data").joinpath("campaign.toml").read_text(encoding="utf-8")
    return parse_campaign(tomllib.loads(raw))


def campaign_link(bot_username: str, campaign: str, category: str | None) -> str:
    payload = f"c-{campaign}-{category}" if category else "report"
    return f"https://t.me/{bot_username}?start={payload}"


def render_campaign(message: CampaignMessage, bot_username: str) -> dict[str, str]:
    """The message in each language, with its report link (counted under its key)."""
    rendered = {}
    for language, body in message.texts.items():
        if message.link:
            link = campaign_link(bot_username, message.key, message.category)
            body = Html(body) + text(language, "campaign_footer", link=link)
        rendered[language] = body
    return rendered


# --- rules and decisions -------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """When a schedule posts: daily, on some weekdays (0 = Monday) or a day of the month."""

    frequency: str
    hour: int
    minute: int
    weekdays: tuple[int, ...] = ()
    day: int | None = None

    def __post_init__(self) -> None:
        if self.frequency not in ("daily", "weekly", "monthly"):
            raise ValueError("unknown frequency")
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ValueError("bad time")
        if self.frequency == "weekly" and (
            not self.weekdays or any(not 0 <= d <= 6 for d in self.weekdays)
        ):
            raise ValueError("weekly needs weekdays 0-6")
        if self.frequency == "monthly" and not (self.day and 1 <= self.day <= 28):
            raise ValueError("monthly needs a day 1-28")

    @property
    def at_time(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    @classmethod
    def of(cls, schedule: Schedule) -> Rule:
        hour, minute = (int(p) for p in schedule.at_time.split(":"))
        return cls(schedule.frequency, hour, minute, schedule.weekdays, schedule.day_of_month)

    def trigger(self, timezone: ZoneInfo) -> CronTrigger:
        fields: dict[str, Any] = {"hour": self.hour, "minute": self.minute, "second": 0}
        if self.frequency == "weekly":
            fields["day_of_week"] = ",".join(WEEKDAY_CODES[d] for d in sorted(self.weekdays))
        elif self.frequency == "monthly":
            fields["day"] = self.day
        return CronTrigger(timezone=timezone, **fields)

    def next_after(self, timezone: ZoneInfo, after: float) -> float:
        """The first occurrence strictly after the unix time `after`."""
        start = datetime.fromtimestamp(after, timezone) + timedelta(microseconds=1)
        fire = self.trigger(timezone).get_next_fire_time(None, start)
        assert isinstance(fire, datetime)  # APScheduler 3 has no annotations
        return fire.timestamp()


def parse_time(value: str) -> tuple[int, int] | None:
    """`08:00`, `8:00`, `8h`, `8h30`, `0800` -> (8, 0); None when it is not a time of day."""
    match = TIME_INPUT.match(value or "")
    if not match:
        return None
    if match.group(1) is not None:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
    else:
        hour, minute = int(match.group(3)), int(match.group(4))
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return hour, minute


def decide(next_run_at: float, now: float, grace: float = GRACE_SECONDS) -> str:
    """'wait' (not yet), 'fire' (due, at most `grace` late) or 'skip' (missed by more)."""
    if next_run_at > now + EARLY_TOLERANCE:
        return "wait"
    if now - next_run_at > grace:
        return "skip"
    return "fire"


@dataclass(frozen=True)
class FireOutcome:
    decision: str  # 'fired', 'skipped', 'wait', 'inactive', 'paused' (its creator lost the right)
    broadcast_id: int | None = None
    recipients: int = 0


async def creator_is_admin(
    store: Store, permanent_admins: frozenset[int], schedule: Schedule
) -> bool:
    """Whether the schedule's creator is an admin now (read in the caller's transaction)."""
    member = await store.staff.get(schedule.created_by)
    return role_under(permanent_admins, schedule.created_by, member).is_admin


async def _pause_orphan(store: Store, schedule: Schedule, when: str) -> bool:
    """Pause a schedule whose creator is no longer an admin, with its audit entry. The caller
    holds the transaction."""
    if not await store.schedules.pause(schedule.schedule_id):
        return False
    await store.audit.record(0, "schedule", None, schedule=schedule.schedule_id,
                             change="pause", reason="creator_not_admin",
                             creator=schedule.created_by, on=when)
    log.warning("schedule %s paused: its creator, staff %s, is no longer an admin (%s)",
                schedule.schedule_id, schedule.created_by, when)
    return True


async def pause_orphans(store: Store, permanent_admins: frozenset[int]) -> list[int]:
    """Pause every active schedule whose creator is no longer an admin (at start: an admin
    taken out of TIPBOT_ADMIN_IDS); returns their ids."""
    paused = []
    for schedule in await store.schedules.active():
        async with store.db.transaction():
            current = await store.schedules.get(schedule.schedule_id)
            if current is None or not current.active:
                continue
            if await creator_is_admin(store, permanent_admins, current):
                continue
            if await _pause_orphan(store, current, "start"):
                paused.append(current.schedule_id)
    return paused


async def fire_due(
    store: Store,
    *,
    schedule_id: int,
    now: float,
    timezone: ZoneInfo,
    channels: tuple[str, ...],
    bot_username: str,
    permanent_admins: frozenset[int],
) -> FireOutcome:
    """Post the schedule's occurrence if it is due now; skip it if it was missed by too much;
    pause it instead when its creator is no longer an admin (`permanent_admins` are the
    settings' TIPBOT_ADMIN_IDS, as rules.access reads them).

    One transaction claims the occurrence, moves the schedule to its next one and queues the
    broadcast (and moves the campaign rotation): an occurrence is posted at most once.
    """
    async with store.db.transaction():
        schedule = await store.schedules.get(schedule_id)
        if schedule is None or not schedule.active:
            return FireOutcome("inactive")
        decision = decide(schedule.next_run_at, now)
        if decision == "wait":
            return FireOutcome("wait")
        if not await creator_is_admin(store, permanent_admins, schedule):
            await _pause_orphan(store, schedule, "due")
            return FireOutcome("paused")
        rule = Rule.of(schedule)
        following = rule.next_after(timezone, max(now, schedule.next_run_at))
        due = schedule.next_run_at
        if decision == "skip":
            await store.schedules.claim(schedule_id, due, following, "skipped")
            return FireOutcome("skipped")
        content = await _content_for(store, schedule, bot_username)
        broadcast_id, total = await store.broadcasts.create(
            origin="schedule",
            content=content,
            channels=channels,
            schedule_id=schedule_id,
        )
        if not await store.schedules.claim(schedule_id, due, following, "sent", broadcast_id):
            raise _Taken()
    return FireOutcome("fired", broadcast_id, total)


class _Taken(Exception):
    """Rolls the transaction back: someone else claimed this occurrence."""


async def _content_for(store: Store, schedule: Schedule, bot_username: str) -> dict[str, Any]:
    if schedule.content.get("kind") == "rotation":
        messages = campaign_messages()
        index = await store.campaigns.next_in_rotation(len(messages))
        message = messages[index]
        return {"kind": "text", "texts": render_campaign(message, bot_username),
                "campaign": message.key}
    return dict(schedule.content)


# --- the timers ----------------------------------------------------------------------------


def _services(application: App) -> Services:
    services: Services = application.bot_data["services"]
    return services


async def start_scheduler(application: App) -> None:
    """From post_init: skip what was missed for too long, then register every active schedule."""
    services = _services(application)
    await pause_orphans(services.store, services.config.admin_ids)
    now = time.time()
    for schedule in await services.store.schedules.active():
        if decide(schedule.next_run_at, now) == "skip":
            await _fire(application, schedule.schedule_id, now)
    await sync_jobs(application)
    queue = application.job_queue
    if queue is not None:
        queue.run_repeating(_sync_job, interval=SYNC_SECONDS, first=SYNC_SECONDS,
                            name="schedules-sync")


async def sync_jobs(application: App) -> None:
    """Make the registered timers match the active schedules in the database."""
    queue = application.job_queue
    if queue is None:
        log.error("no JobQueue: scheduled posts cannot run (python-telegram-bot[job-queue])")
        return
    services = _services(application)
    active = {s.schedule_id: s for s in await services.store.schedules.active()}
    registered: dict[int, float] = {}
    for job in queue.jobs():
        if not job.name or not job.name.startswith(JOB_PREFIX):
            continue
        schedule_id = int(job.name.removeprefix(JOB_PREFIX).split("@")[0])
        schedule = active.get(schedule_id)
        stamp = float(job.name.split("@")[1]) if "@" in job.name else -1.0
        if schedule is None or stamp != schedule.next_run_at:
            job.schedule_removal()
        else:
            registered[schedule_id] = stamp
    for schedule_id, schedule in active.items():
        if schedule_id not in registered:
            register(application, schedule)


def register(application: App, schedule: Schedule) -> None:
    """One job per schedule: the CronTrigger of its rule, plus its stored next occurrence."""
    queue = application.job_queue
    if queue is None:
        return
    unregister(application, schedule.schedule_id)
    timezone: ZoneInfo = _services(application).config.timezone
    cron = Rule.of(schedule).trigger(timezone)
    stored = datetime.fromtimestamp(schedule.next_run_at, timezone)
    trigger = OrTrigger([DateTrigger(run_date=stored, timezone=timezone), cron])
    queue.run_custom(
        _job,
        job_kwargs={"trigger": trigger, "misfire_grace_time": int(GRACE_SECONDS),
                    "coalesce": True},
        data=schedule.schedule_id,
        name=f"{JOB_PREFIX}{schedule.schedule_id}@{schedule.next_run_at}",
    )
    log.info("schedule %s registered", schedule.schedule_id)


def unregister(application: App, schedule_id: int) -> None:
    queue = application.job_queue
    if queue is None:
        return
    for job in queue.jobs():
        if job.name and job.name.startswith(f"{JOB_PREFIX}{schedule_id}@"):
            job.schedule_removal()


async def _job(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    if job is None or not isinstance(job.data, int):
        return
    await _fire(context.application, job.data, time.time())
    # The stored occurrence moved on: the job's name records which one it was registered for.
    schedule = await _services(context.application).store.schedules.get(job.data)
    if schedule is not None and schedule.active:
        register(context.application, schedule)


async def _fire(application: App, schedule_id: int, now: float) -> None:
    services = _services(application)
    try:
        outcome = await fire_due(
            services.store,
            schedule_id=schedule_id,
            now=now,
            timezone=services.config.timezone,
            channels=services.config.channels,
            bot_username=services.bot_username,
            permanent_admins=services.config.admin_ids,
        )
    except _Taken:
        log.info("schedule %s: occurrence already posted elsewhere", schedule_id)
        return
    if outcome.decision == "fired":
        log.info("schedule %s posted as broadcast %s to %s recipients", schedule_id,
                 outcome.broadcast_id, outcome.recipients)
        wake_broadcaster(application)
    elif outcome.decision == "paused":
        unregister(application, schedule_id)
    elif outcome.decision == "skipped":
        log.warning("schedule %s: missed by more than %.0f min while the bot was down; skipped",
                    schedule_id, GRACE_SECONDS / 60)


async def _sync_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await sync_jobs(context.application)
