"""Periodic clean-up of state that must not outlive its use.

An open /status session links a resident's pseudonym to a tip (encrypted, but linkable by
someone holding the database, the master key and a suspect's Telegram id); an abandoned report
keeps what the resident typed; rate-limit rows say that someone wrote. Each is deleted once
past its deadline (storage/conversations.py `LIFETIMES`, storage/ratelimits.py), by a JobQueue job
that deletes by an indexed deadline column and decrypts nothing, so a restart changes nothing.
"""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.services import Services

log = logging.getLogger(__name__)

INTERVAL = 5 * 60


def start_housekeeping(application: Application) -> None:
    assert application.job_queue is not None
    application.job_queue.run_repeating(_sweep, interval=INTERVAL, first=60, name="housekeeping")


async def _sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data["services"]
    drafts = await services.store.conversations.expire()
    limits = await services.store.ratelimits.expire()
    if drafts or limits:
        log.info("housekeeping: %s expired drafts, %s rate-limit rows removed", drafts, limits)
