"""Opens the database, checks the master key, and hands out the storage objects.

Handlers talk to these objects, named for the data they hold (tips, outbox, staff,
conversations...); only `storage/` touches SQL or keys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from storage.audit import AuditLog
from storage.broadcasts import Broadcasts, Leases
from storage.campaigns import Campaigns
from storage.chat_turns import ChatTurns
from storage.conversations import Conversations
from storage.database import Database, open_database
from storage.floods import FloodCounts
from storage.job_runs import JobRuns
from storage.keyring import Keyring, load_keyring
from storage.outbox import Outbox
from storage.postgres import is_postgres_url, open_postgres
from storage.preferences import Preferences
from storage.ratelimits import RateLimits
from storage.reseal import run_upgrades
from storage.schedules import Schedules
from storage.staff import Staff
from storage.stats import MonthlyReviews, Statistics
from storage.subscribers import Subscribers
from storage.tips import TipDesk, Tips
from storage.updates_seen import UpdatesSeen


@dataclass
class Store:
    db: Database
    keyring: Keyring
    staff: Staff
    tips: Tips
    outbox: Outbox
    conversations: Conversations
    preferences: Preferences
    ratelimits: RateLimits
    desk: TipDesk
    audit: AuditLog
    subscribers: Subscribers
    broadcasts: Broadcasts
    leases: Leases
    schedules: Schedules
    campaigns: Campaigns
    stats: Statistics
    reviews: MonthlyReviews
    # several processes on one database (migration 0015)
    updates_seen: UpdatesSeen
    chat_turns: ChatTurns
    floods: FloodCounts
    job_runs: JobRuns

    async def close(self) -> None:
        await self.db.close()


async def open_any_database(
    target: str | Path, *, migration_log_level: int = logging.INFO
) -> Database:
    """The database TIPBOT_DB names: a `postgresql://…` URL (storage/postgres.py), else the
    path of a SQLite file (created if missing). Either way migrated to the current schema."""
    if is_postgres_url(target):
        return await open_postgres(str(target), migration_log_level=migration_log_level)
    return await open_database(target, migration_log_level=migration_log_level)


async def open_store(
    path: str | Path, master_key: bytes, *, migration_log_level: int = logging.INFO
) -> Store:
    """Open (creating and migrating if needed) and unlock; a wrong key raises at once. An
    upgrade that needs the keys (re-encryption after a migration) runs here, once.
    `path` is a SQLite file or a `postgresql://…` URL (see open_any_database)."""
    db = await open_any_database(path, migration_log_level=migration_log_level)
    try:
        keyring = await load_keyring(db, master_key)
        await run_upgrades(db, keyring)  # steps that need the keys, once (storage/reseal.py)
    except BaseException:
        await db.close()
        raise
    return Store(
        db=db,
        keyring=keyring,
        staff=Staff(db),
        tips=Tips(db, keyring),
        outbox=Outbox(db, keyring),
        conversations=Conversations(db, keyring),
        preferences=Preferences(db, keyring),
        ratelimits=RateLimits(db, keyring),
        desk=TipDesk(db, keyring),
        audit=AuditLog(db, keyring),
        subscribers=Subscribers(db, keyring),
        broadcasts=Broadcasts(db, keyring),
        leases=Leases(db),
        schedules=Schedules(db, keyring),
        campaigns=Campaigns(db),
        stats=Statistics(db),
        reviews=MonthlyReviews(db),
        updates_seen=UpdatesSeen(db, keyring),
        chat_turns=ChatTurns(db, keyring),
        floods=FloodCounts(db, keyring),
        job_runs=JobRuns(db),
    )
