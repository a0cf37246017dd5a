"""Conversations in progress (a report being written, a /status session), kept across restarts.

python-telegram-bot's persistence writes only every `update_interval` and pickles in clear, so
a kill -9 would lose the last steps and a stolen disk would show tip text. Instead each step's
state is committed here, encrypted, before the bot answers that step; the row is found by a
keyed hash of the user id with the conversation key, which no other table uses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from storage.database import Database, utc_now
from storage.keyring import KeyPurpose, Keyring


class Drafts:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    def _subject(self, user_id: int) -> bytes:
        return self._keyring.pseudonym(KeyPurpose.CONVERSATION, user_id)

    async def load(self, user_id: int) -> dict[str, Any] | None:
        subject = self._subject(user_id)
        row = await self._db.fetchone("SELECT state FROM drafts WHERE subject = ?", (subject,))
        if row is None:
            return None
        plain = self._keyring.decrypt(row["state"], "drafts", subject.hex(), "state")
        return json.loads(plain)

    async def save(self, user_id: int, state: dict[str, Any]) -> None:
        subject = self._subject(user_id)
        blob = self._keyring.encrypt(
            json.dumps(state, ensure_ascii=False), "drafts", subject.hex(), "state"
        )
        await self._db.execute(
            "INSERT INTO drafts (subject, state, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (subject) DO UPDATE SET state = excluded.state,"
            " updated_at = excluded.updated_at",
            (subject, blob, utc_now()),
        )

    async def clear(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM drafts WHERE subject = ?", (self._subject(user_id),))

    async def expire(self, max_age_by_flow: dict[str, float]) -> int:
        """Delete drafts of the given flows untouched for longer than their age (seconds).

        A /status session left open links a resident's pseudonym to a tip; an abandoned
        report keeps what they typed. Neither should outlive its use. Returns how many.
        """
        rows = await self._db.fetchall("SELECT subject, state, updated_at FROM drafts")
        now = datetime.now(UTC)
        stale = []
        for row in rows:
            flow = json.loads(
                self._keyring.decrypt(row["state"], "drafts", row["subject"].hex(), "state")
            ).get("flow")
            limit = max_age_by_flow.get(flow)
            age = (now - datetime.fromisoformat(row["updated_at"])).total_seconds()
            if limit is not None and age > limit:
                stale.append((row["subject"],))
        if stale:
            await self._db.executemany("DELETE FROM drafts WHERE subject = ?", stale)
        return len(stale)

    async def clear_in_transaction(self, user_id: int) -> None:
        """Same as `clear`, for a caller that holds a transaction (a tip being committed)."""
        await self.clear(user_id)
