"""Updates seen by every process of the line, across restarts (migration 0015).

An update is claimed before it is handled (`claim`: state 'handling', this process as holder,
a lease until `until`) and marked done only after it was handled (`done`), so a crash in the
middle loses nothing: the claim's lease runs out (or its holder is known gone) and the next
delivery handles the update again. What a second delivery finds:

- DONE: it was handled; drop it (a webhook answers 200);
- BUSY: another live process has it in hand; a webhook answers non-2xx, so Telegram tries again
  later; long polling waits for it;
- CLAIMED: new, or its holder's lease ran out: handle it.

`renew` keeps the claims of a long-running process alive; `purge` (housekeeping) deletes rows
older than a day. Plain SQL that PostgreSQL accepts as well.

Times, because an update is someone's message: `at` is kept to the hour (as every other time
the database keeps of what residents do), and `until`, exact because a lease must be, lives
only while the update is in hand; once done it is 0.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from storage.database import Database

#: How long a claim stays with its holder without renewal.
LEASE_SECONDS = 30.0
#: How long a row is kept (Telegram redelivers within minutes; a lost confirmation at restart).
KEEP_SECONDS = 24 * 3600.0


def _hour(moment: float) -> float:
    """The hour `moment` falls in (unix seconds), the only time kept of a handled update."""
    return moment - moment % 3600


class Seen(enum.Enum):
    CLAIMED = "claimed"  # yours: handle it, then `done` (or `release` if it was not handled)
    DONE = "done"  # handled already
    BUSY = "busy"  # in hand by `holder`, whose lease has not run out


@dataclass(frozen=True)
class Claim:
    seen: Seen
    holder: str | None = None  # BUSY: who has it


class UpdatesSeen:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(
        self, update_id: int, holder: str, *, seconds: float = LEASE_SECONDS
    ) -> Claim:
        """Take `update_id` for `holder` unless it is done or in another live holder's hand."""
        now = time.time()
        rows = await self._db.fetchall(
            "INSERT INTO updates_seen (update_id, state, holder, until, at)"
            " VALUES (?, 'handling', ?, ?, ?)"
            " ON CONFLICT (update_id) DO UPDATE SET holder = excluded.holder,"
            " until = excluded.until, at = excluded.at"
            " WHERE updates_seen.state = 'handling'"
            " AND (updates_seen.until < ? OR updates_seen.holder = excluded.holder)"
            " RETURNING holder",
            (update_id, holder, now + seconds, _hour(now), now),
        )
        if rows:
            return Claim(Seen.CLAIMED)
        row = await self._db.fetchone(
            "SELECT state, holder FROM updates_seen WHERE update_id = ?", (update_id,)
        )
        if row is None:  # purged in between: try once more
            return await self.claim(update_id, holder, seconds=seconds)
        if row["state"] == "done":
            return Claim(Seen.DONE)
        return Claim(Seen.BUSY, row["holder"])

    async def take_over(
        self, update_id: int, old_holder: str, holder: str, *, seconds: float = LEASE_SECONDS
    ) -> bool:
        """Take an update in hand by a holder known to be gone (its process died)."""
        result = await self._db.execute(
            "UPDATE updates_seen SET holder = ?, until = ?, at = ?"
            " WHERE update_id = ? AND holder = ? AND state = 'handling'",
            (holder, time.time() + seconds, _hour(time.time()), update_id, old_holder),
        )
        return result.rowcount == 1

    async def done(self, update_id: int, holder: str) -> None:
        """`update_id` was handled (call only after it was)."""
        await self._db.execute(
            "UPDATE updates_seen SET state = 'done', until = 0, at = ?"
            " WHERE update_id = ? AND holder = ?",
            (_hour(time.time()), update_id, holder),
        )

    async def release(self, update_id: int, holder: str) -> None:
        """`update_id` was not handled: the next delivery handles it."""
        await self._db.execute(
            "DELETE FROM updates_seen WHERE update_id = ? AND holder = ? AND state = 'handling'",
            (update_id, holder),
        )

    async def renew(self, holder: str, *, seconds: float = LEASE_SECONDS) -> int:
        """Extend every claim `holder` has in hand; how many."""
        result = await self._db.execute(
            "UPDATE updates_seen SET until = ? WHERE holder = ? AND state = 'handling'",
            (time.time() + seconds, holder),
        )
        return result.rowcount

    async def state(self, update_id: int) -> str | None:
        """'handling', 'done' or None (for tests and the log)."""
        row = await self._db.fetchone(
            "SELECT state FROM updates_seen WHERE update_id = ?", (update_id,)
        )
        return None if row is None else str(row["state"])

    async def purge(self, *, keep_seconds: float = KEEP_SECONDS) -> int:
        """Delete rows older than `keep_seconds` (done, or claims long abandoned)."""
        now = time.time()
        result = await self._db.execute(
            "DELETE FROM updates_seen WHERE at < ? AND (state = 'done' OR until < ?)",
            (now - keep_seconds, now),
        )
        return result.rowcount
