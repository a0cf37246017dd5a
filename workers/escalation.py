"""Reminding and escalating tips nobody acknowledged.

A repeating JobQueue job scans the database, so a restart loses nothing: a new tip not
acknowledged after TIPBOT_ACK_MINUTES (a quarter of that when it is happening now) reminds the
officers who hold it; after twice that, it goes to the officers covering all areas and to the
admins. Each step is marked on the tip in the same transaction that queues its messages, so it
is sent once.

The delays run from the tip's exact arrival, which is kept only encrypted with the tip (its
clear time is the hour: a clear "due at" would give the arrival back). The scan asks storage for
open, unacknowledged tips whose hour is early enough, and storage opens only those few tips'
sealed times to decide (storage.tips.TipDesk.due_reminders).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from telegram.ext import ContextTypes

from bot.services import Services
from storage.tips import Delivery
from telegram_api.types import App
from workers.delivery import entitled, wake_delivery

log = logging.getLogger(__name__)

ESCALATION_TIER = 9  # cards sent by escalation; never part of the routing tiers


def scan_interval(ack_minutes: float) -> float:
    """How often to look: a fraction of the shortest delay, between 1 s and 60 s."""
    return max(1.0, min(60.0, ack_minutes * 60 / 4 / 4))


def thresholds(now: datetime, ack_minutes: float, factor: float) -> tuple[str, str]:
    """Exact arrival times before which a normal and an urgent tip are due for a step."""
    normal = now - timedelta(minutes=ack_minutes * factor)
    urgent = now - timedelta(minutes=ack_minutes * factor / 4)
    return normal.isoformat(timespec="seconds"), urgent.isoformat(timespec="seconds")


def start_escalation(application: App) -> None:
    services: Services = application.bot_data["services"]
    interval = scan_interval(services.config.ack_minutes)
    assert application.job_queue is not None
    application.job_queue.run_repeating(_scan, interval=interval, first=interval, name="escalation")


async def _scan(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data["services"]
    store = services.store
    now = datetime.now(UTC)
    woke = False
    for tip_id in await store.desk.due_reminders(*thresholds(now, services.config.ack_minutes, 1)):
        tip = await store.tips.by_id(tip_id)
        if tip is None:
            continue
        # Only holders still entitled to the tip (not deactivated, still covering its area).
        holders = tuple(await entitled(services, tip, await store.outbox.holders(tip_id)))
        async with store.db.transaction():
            if not await store.desk.mark_reminded(tip_id):
                continue
            if holders:
                await store.outbox.enqueue(tip_id, Delivery(1, holders), "reminder")
        log.info("tip %s: reminder to %s holders", tip.ref, len(holders))
        woke = True
    due = await store.desk.due_escalations(*thresholds(now, services.config.ack_minutes, 2))
    for tip_id in due:
        tip = await store.tips.by_id(tip_id)
        if tip is None:
            continue
        had_it = set(await store.outbox.holders(tip_id))
        targets = [
            *await store.staff.all_area_officers(),
            *await store.staff.admins(services.config.admin_ids),
        ]
        fresh = tuple(t for t in dict.fromkeys(targets) if t not in had_it)
        async with store.db.transaction():
            if not await store.desk.mark_escalated(tip_id):
                continue
            if fresh:
                delivery = Delivery(ESCALATION_TIER, fresh)
                await store.outbox.enqueue(tip_id, delivery, "card")
                await store.outbox.enqueue(tip_id, delivery, "reminder", notice="escalated")
        log.info("tip %s escalated to %s staff", tip.ref, len(fresh))
        woke = True
    if woke:
        wake_delivery(context.application)
