"""Rate limits per person, by a keyed hash of their id: wrong receipt codes, tips a day.

The hash uses the rate-limit key, so these rows cannot be joined with drafts or preferences.
A row records a kind and a time; a tip's row is rounded down to the hour so that it does not
give the tip's exact arrival time back. Rows older than the longest window are swept.
"""

from __future__ import annotations

import time

from storage.database import Database
from storage.keyring import KeyPurpose, Keyring

TIP = "tip"
DAY = 24 * 3600.0
#: The longest window any kind is counted over; older rows mean nothing and are deleted.
LONGEST_WINDOW = DAY + 3600.0


class RateLimits:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    def _subject(self, user_id: int) -> bytes:
        return self._keyring.pseudonym(KeyPurpose.RATELIMIT, user_id)

    async def recent_failures(self, user_id: int, kind: str, window_seconds: float) -> int:
        return await self._count(user_id, kind, window_seconds)

    async def record_failure(self, user_id: int, kind: str, window_seconds: float) -> None:
        now = time.time()
        async with self._db.transaction():
            await self._db.execute(
                "DELETE FROM attempts WHERE kind = ? AND at <= ?", (kind, now - window_seconds)
            )
            await self._db.execute(
                "INSERT INTO attempts (subject, kind, at) VALUES (?, ?, ?)",
                (self._subject(user_id), kind, now),
            )

    async def tips_today(self, user_id: int) -> int:
        """Tips this person sent in about the last 24 hours (the hour of each is counted)."""
        return await self._count(user_id, TIP, DAY)

    async def note_tip(self, user_id: int) -> None:
        """Count one tip; run it inside the transaction that stores the tip."""
        hour = time.time() // 3600 * 3600
        await self._db.execute(
            "INSERT INTO attempts (subject, kind, at) VALUES (?, ?, ?)",
            (self._subject(user_id), TIP, hour),
        )

    async def expire(self) -> int:
        """Delete rows older than any window; returns how many."""
        result = await self._db.execute(
            "DELETE FROM attempts WHERE at <= ?", (time.time() - LONGEST_WINDOW,)
        )
        return result.rowcount

    async def _count(self, user_id: int, kind: str, window_seconds: float) -> int:
        row = await self._db.lookup_one(
            "SELECT count(*) AS n FROM attempts WHERE subject = ? AND kind = ? AND at > ?",
            (self._subject(user_id), kind, time.time() - window_seconds),
        )
        return int(row["n"]) if row else 0
