"""Counting failed attempts (wrong receipt codes) per user, by a keyed hash of their id.

The hash uses the rate-limit key, so these rows cannot be joined with drafts or preferences;
rows older than the window are deleted as new ones are written.
"""

from __future__ import annotations

import time

from storage.database import Database
from storage.keyring import KeyPurpose, Keyring


class RateLimits:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    def _subject(self, user_id: int) -> bytes:
        return self._keyring.pseudonym(KeyPurpose.RATELIMIT, user_id)

    async def recent_failures(self, user_id: int, kind: str, window_seconds: float) -> int:
        row = await self._db.fetchone(
            "SELECT count(*) AS n FROM attempts WHERE subject = ? AND kind = ? AND at > ?",
            (self._subject(user_id), kind, time.time() - window_seconds),
        )
        return int(row["n"]) if row else 0

    async def record_failure(self, user_id: int, kind: str, window_seconds: float) -> None:
        now = time.time()
        async with self._db.transaction():
            await self._db.execute("DELETE FROM attempts WHERE at <= ?", (now - window_seconds,))
            await self._db.execute(
                "INSERT INTO attempts (subject, kind, at) VALUES (?, ?, ?)",
                (self._subject(user_id), kind, now),
            )
