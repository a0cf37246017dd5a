"""Conversations in progress (a report being written, a /status session), kept across restarts.

python-telegram-bot's persistence writes only every `update_interval` and pickles in clear, so
a kill -9 would lose the last steps and a stolen disk would show tip text. Instead each step's
state is committed here, encrypted, before the bot answers that step; the row is found by a
keyed hash of the user id with the conversation key, which no other table uses.

Every draft expires: a /status session links a resident's pseudonym to a tip, an abandoned
report keeps what they typed, an owed receipt links them to their tip. The exact deadline
travels inside the encrypted state (checked on load); the clear `expires_at` column is that
deadline rounded up to the hour, so the sweep deletes by an index without decrypting anything
and a reader of the file learns no exact time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from storage.database import Database
from storage.keyring import KeyPurpose, Keyring

#: Seconds a draft of each flow lives after its last step (unknown flows: the longest).
LIFETIMES: Mapping[str, float] = {
    "status": 30 * 60,
    "report": 7 * 24 * 3600,
    "receipt": 24 * 3600,
    "broadcast": 24 * 3600,
    "schedule": 24 * 3600,
    "stats": 30 * 60,  # two dates typed for /stats or /export
}
_FORMAT = 2  # stored as {"v": 2, "until": <epoch>, "state": {...}}


class Drafts:
    def __init__(
        self, db: Database, keyring: Keyring, lifetimes: Mapping[str, float] = LIFETIMES
    ) -> None:
        self._db = db
        self._keyring = keyring
        self._lifetimes = lifetimes

    def _subject(self, user_id: int) -> bytes:
        return self._keyring.pseudonym(KeyPurpose.CONVERSATION, user_id)

    async def load(self, user_id: int) -> dict[str, Any] | None:
        """The draft in progress, or None (none, or past its deadline)."""
        subject = self._subject(user_id)
        row = await self._db.fetchone("SELECT state FROM drafts WHERE subject = ?", (subject,))
        if row is None:
            return None
        stored = json.loads(self._keyring.decrypt(row["state"], "drafts", subject.hex(), "state"))
        if stored.get("v") != _FORMAT:
            return stored  # written before deadlines existed; the migration set its expiry
        if stored["until"] <= datetime.now(UTC).timestamp():
            await self._db.execute("DELETE FROM drafts WHERE subject = ?", (subject,))
            return None
        return stored["state"]

    async def save(self, user_id: int, state: dict[str, Any]) -> None:
        subject = self._subject(user_id)
        lifetime = self._lifetimes.get(state.get("flow", ""), max(self._lifetimes.values()))
        until = datetime.now(UTC).timestamp() + lifetime
        blob = self._keyring.encrypt(
            json.dumps({"v": _FORMAT, "until": until, "state": state}, ensure_ascii=False),
            "drafts", subject.hex(), "state",
        )
        await self._db.execute(
            "INSERT INTO drafts (subject, state, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (subject) DO UPDATE SET state = excluded.state,"
            " expires_at = excluded.expires_at",
            (subject, blob, _hour_after(until)),
        )

    async def clear(self, user_id: int) -> bool:
        """Delete this user's draft, whatever its flow; True if there was one."""
        result = await self._db.execute(
            "DELETE FROM drafts WHERE subject = ?", (self._subject(user_id),)
        )
        return result.rowcount > 0

    async def expire(self) -> int:
        """Delete drafts past their (rounded) deadline; returns how many. Decrypts nothing."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        result = await self._db.execute("DELETE FROM drafts WHERE expires_at <= ?", (now,))
        return result.rowcount


def _hour_after(epoch: float) -> str:
    """`epoch` rounded up to the next full hour, as the ISO text of every *_at column."""
    hour = math.ceil(epoch / 3600) * 3600
    return datetime.fromtimestamp(hour, UTC).isoformat(timespec="seconds")
