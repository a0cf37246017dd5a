"""Periodic clean-up of conversation state that must not outlive its use.

An open /status session links a resident's pseudonym to a tip (encrypted, but linkable by
someone holding the database, the master key and a suspect's Telegram id); an abandoned report
keeps what the resident typed. Both are deleted after a while, by a JobQueue job that reads the
database, so a restart changes nothing.
"""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.services import Services

log = logging.getLogger(__name__)

#: Seconds a draft of each flow may stay untouched. An owed receipt is kept until shown.
MAX_AGE_BY_FLOW = {
    "status": 30 * 60,
    "report": 7 * 24 * 3600,
    "broadcast": 24 * 3600,
    "schedule": 24 * 3600,
}
INTERVAL = 5 * 60


def start_housekeeping(application: Application) -> None:
    assert application.job_queue is not None
    application.job_queue.run_repeating(_sweep, interval=INTERVAL, first=60, name="housekeeping")


async def _sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data["services"]
    removed = await services.store.drafts.expire(MAX_AGE_BY_FLOW)
    if removed:
        log.info("housekeeping: %s stale conversation drafts removed", removed)
