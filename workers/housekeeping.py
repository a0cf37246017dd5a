"""Periodic clean-up of state that must not outlive its use.

An open /status session links a resident's pseudonym to a tip (encrypted, but linkable by
someone holding the database, the master key and a suspect's Telegram id); an abandoned report
keeps what the resident typed; rate-limit rows say that someone wrote. Each is deleted once
past its deadline (storage/conversations.py `LIFETIMES`, storage/ratelimits.py), by a JobQueue job
that deletes drafts by an indexed deadline column, decrypting nothing, so a restart changes
nothing. Rate-limit rows have no clear time to delete by (it would date the tips they count):
the sweep opens each of them, the few people of the last day.

It also deletes what several processes leave behind (bot/fleet.py): updates seen more than a
day ago (by the hour), chat turns of dead processes, heartbeats and flood counts long over. With
several processes on one database (webhook mode) one of them sweeps per period
(storage/job_runs.py); long polling is one process and sweeps by itself, writing no time of its
runs.
"""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from bot.services import Services
from telegram_api.types import App
from workers.jobs import PROCESS

log = logging.getLogger(__name__)

INTERVAL = 5 * 60


def start_housekeeping(application: App) -> None:
    assert application.job_queue is not None
    application.job_queue.run_repeating(_sweep, interval=INTERVAL, first=60, name="housekeeping")


async def _sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data["services"]
    store = services.store
    several = services.config.webhook is not None
    if several and not await store.job_runs.due("housekeeping", PROCESS, INTERVAL * 0.9):
        return  # another process of the line swept a moment ago
    drafts = await store.conversations.expire()
    limits = await store.ratelimits.expire()
    limits += await store.floods.expire()
    seen = await store.updates_seen.purge()
    await store.chat_turns.purge()
    if drafts or limits or seen:
        log.info("housekeeping: %s expired drafts, %s rate-limit rows, %s updates seen removed",
                 drafts, limits, seen)
