"""The flood count shared by every process of the line (migration 0015).

The same rule as bot/chat_lanes.py `FloodGuard` (more than `limit` messages, or `press_limit`
button presses, in `window` seconds: one "slow down", then `silence` seconds in which the
person's updates are dropped), counted in the database so that a flooder meets the same limit
whatever process their updates reach. The window is fixed from the first message counted in it
(one row per person and kind: a counter and its start), not sliding: a burst split across two
windows may pass up to twice the limit once before it is caught.

People are told apart by the rate-limit pseudonym, as everywhere else. Each update costs one
short write transaction (read the silence, count), so exactly one update (whichever process has
it) gets the "slow down". Housekeeping deletes old rows.
"""

from __future__ import annotations

import time

from storage.database import Database
from storage.keyring import KeyPurpose, Keyring

ADMIT = "admit"
WARN = "warn"
DROP = "drop"


class FloodCounts:
    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        *,
        limit: int = 20,
        press_limit: int = 60,
        window: float = 10.0,
        silence: float = 60.0,
    ) -> None:
        self._db = db
        self._keyring = keyring
        self.limit = limit
        self.press_limit = press_limit
        self.window = window
        self.silence = silence

    async def note(self, user_id: int, *, pressed: bool) -> str:
        """Count one message (or button press) of `user_id`: ADMIT, WARN (the first one over
        the limit) or DROP (silenced)."""
        subject = self._keyring.pseudonym(KeyPurpose.RATELIMIT, user_id)
        async with self._db.transaction():  # one writer at a time: the count has no race
            return await self._note(subject, pressed)

    async def _note(self, subject: bytes, pressed: bool) -> str:
        now = time.time()
        quiet = await self._db.fetchone(
            "SELECT since FROM flood_counts WHERE subject = ? AND kind = 'silence'", (subject,)
        )
        if quiet is not None and now < float(quiet["since"]):
            return DROP
        kind, limit = ("press", self.press_limit) if pressed else ("message", self.limit)
        rows = await self._db.fetchall(
            "INSERT INTO flood_counts (subject, kind, since, n) VALUES (?, ?, ?, 1)"
            " ON CONFLICT (subject, kind) DO UPDATE SET"
            " n = CASE WHEN flood_counts.since <= ? THEN 1 ELSE flood_counts.n + 1 END,"
            " since = CASE WHEN flood_counts.since <= ? THEN excluded.since"
            " ELSE flood_counts.since END"
            " RETURNING n",
            (subject, kind, now, now - self.window, now - self.window),
        )
        if not rows or int(rows[0]["n"]) <= limit:
            return ADMIT
        await self._db.execute(
            "INSERT INTO flood_counts (subject, kind, since, n) VALUES (?, 'silence', ?, 0)"
            " ON CONFLICT (subject, kind) DO UPDATE SET since = excluded.since",
            (subject, now + self.silence),
        )
        await self._db.execute(
            "DELETE FROM flood_counts WHERE subject = ? AND kind IN ('message', 'press')",
            (subject,),
        )
        return WARN

    async def expire(self) -> int:
        """Rows that mean nothing any more (windows and silences long over)."""
        horizon = time.time() - max(self.window, self.silence) - 60
        result = await self._db.execute(
            "DELETE FROM flood_counts WHERE since < ?", (horizon,)
        )
        return result.rowcount
