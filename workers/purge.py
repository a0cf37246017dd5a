"""The daily purge in the running bot (SPEC "Command line", purge: "runs by itself once a day").

A JobQueue job, like the housekeeping sweep: shortly after start and then every 24 hours it
deletes the tips closed longer than TIPBOT_RETENTION_DAYS ago, with everything bound to them,
and truncates the WAL (storage/purge.py). It works in short batches, so residents and officers
are never held up. The log line has counts only.

Long polling is one process: it purges shortly after start and then every 24 hours, by itself,
writing no time of its runs. With several processes on one database (webhook mode) one of them
purges per day (storage/job_runs.py): each looks every hour; the run is taken for an hour
first (a process that dies in the middle is replaced at the next look) and then marked for the
day. A start after the last purger is gone
(a restart) purges shortly after, as before.

The same module runs the bot's side of key rotation: every few seconds it compares the content
keys in the database with the ones the bot holds, reloads them when `rotate-key --content`
added one, and says which ones it holds (storage/rotation.KeyringWatch), so that a rotation
re-encrypts only what every running bot can read.
"""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from bot.services import Services
from storage.purge import purge_expired
from storage.rotation import HOLDER_INTERVAL, KeyringWatch
from telegram_api.types import App
from workers.jobs import PROCESS, gone

log = logging.getLogger(__name__)

INTERVAL = 24 * 3600
LOOK = 3600  # how often each process looks whether the day's purge is due
FIRST = 10  # seconds after start: a bot restarted daily still purges
WATCH_KEY = "keyring_watch"
NAME = "purge"
LOOKED_KEY = "purge_looked"


async def start_purge(application: App) -> None:
    """Schedule the daily purge and the keyring watch (one line in bot/app.py). The watch says
    which keys this bot holds before the bot is ready, so a rotation started at any moment
    waits for it."""
    services: Services = application.bot_data["services"]
    watch = KeyringWatch(services.store.db, services.store.keyring, services.config.master_key)
    application.bot_data[WATCH_KEY] = watch
    await watch.tick()
    assert application.job_queue is not None
    if services.config.webhook is None:  # one process: its own schedule
        application.job_queue.run_repeating(
            _purge_here, interval=INTERVAL, first=FIRST, name="purge"
        )
    else:
        application.job_queue.run_repeating(_purge, interval=LOOK, first=FIRST, name="purge")
    application.job_queue.run_repeating(
        _watch_keys, interval=HOLDER_INTERVAL, first=HOLDER_INTERVAL, name="keyring-watch"
    )


async def _purge_here(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Long polling, the only process: purge now."""
    services: Services = context.application.bot_data["services"]
    counts = await purge_expired(
        services.store.db, services.store.keyring, services.config.retention_days
    )
    if not counts.tips:
        log.debug("purge: no tip past the retention")


async def _purge(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Several processes: purge when this process takes the day's run."""
    services: Services = context.application.bot_data["services"]
    runs = services.store.job_runs
    first_look = not context.application.bot_data.get(LOOKED_KEY)
    context.application.bot_data[LOOKED_KEY] = True
    taken = await runs.due(NAME, PROCESS, INTERVAL, hold=LOOK)
    if not taken and first_look:
        last = await runs.last(NAME)
        taken = last is not None and last[0] != PROCESS and gone(last[0]) and (
            await runs.take_from(NAME, last[0], last[1], PROCESS, INTERVAL, LOOK)
        )
    if not taken:
        return  # another process of the line purged today (or is purging)
    counts = await purge_expired(
        services.store.db, services.store.keyring, services.config.retention_days
    )
    await runs.ran(NAME, PROCESS)
    if not counts.tips:
        log.debug("purge: no tip past the retention")


async def _watch_keys(context: ContextTypes.DEFAULT_TYPE) -> None:
    watch: KeyringWatch = context.application.bot_data[WATCH_KEY]
    await watch.tick()
