"""Subscribers to campaign news: one row per Telegram user, found again by a keyed hash.

The user id is never stored: a subscriber is recognised by `pseudonym(SUBSCRIBER, user_id)` (a key
of its own, so this table cannot be joined with drafts, preferences or rate limits), and the chat
to write to is encrypted, bound to that row. Nothing here points to a tip, and tips point to no
subscriber. The time of subscribing is kept to the hour (a resident may subscribe right after
reporting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from storage.database import Database
from storage.hours import this_hour
from storage.keyring import KeyPurpose, Keyring

#: A language code's shape (texts.catalog.LANGUAGE_CODE: a catalog's file name). storage/ sits
#: below texts/, so it checks the shape; which catalogs exist is the callers' business.
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class Recipient:
    """Where and in which language one subscriber gets a broadcast."""

    subscriber_id: int
    chat_id: int = field(repr=False)
    language: str


class Subscribers:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    def _subject(self, user_id: int) -> bytes:
        return self._keyring.pseudonym(KeyPurpose.SUBSCRIBER, user_id)

    async def subscribe(self, user_id: int, chat_id: int, language: str) -> bool:
        """Subscribe (True), or, when already subscribed, keep the row as it is (False)."""
        if not LANGUAGE_CODE.fullmatch(language):
            raise ValueError("not a language code")
        subject = self._subject(user_id)
        blob = self._keyring.encrypt(str(chat_id), "subscribers", subject.hex(), "chat_id")
        result = await self._db.execute(
            "INSERT INTO subscribers (subject, chat_id, language, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (subject) DO NOTHING",
            (subject, blob, language, this_hour()),
        )
        return result.rowcount == 1

    async def unsubscribe(self, user_id: int) -> bool:
        """Remove the subscription; True when there was one."""
        result = await self._db.execute(
            "DELETE FROM subscribers WHERE subject = ?", (self._subject(user_id),)
        )
        return result.rowcount > 0

    async def language(self, user_id: int) -> str | None:
        """The subscriber's language, or None when this user is not subscribed."""
        row = await self._db.fetchone(
            "SELECT language FROM subscribers WHERE subject = ?", (self._subject(user_id),)
        )
        return row["language"] if row else None

    async def set_language(self, user_id: int, language: str) -> None:
        """Follow a /language change (nothing happens for a user who is not subscribed)."""
        if not LANGUAGE_CODE.fullmatch(language):
            raise ValueError("not a language code")
        await self._db.execute(
            "UPDATE subscribers SET language = ? WHERE subject = ?",
            (language, self._subject(user_id)),
        )

    async def count(self) -> int:
        row = await self._db.fetchone("SELECT count(*) AS n FROM subscribers")
        return int(row["n"]) if row else 0

    async def recipient(self, subscriber_id: int) -> Recipient | None:
        """The chat and language of a subscriber row, or None if they left meanwhile."""
        row = await self._db.fetchone(
            "SELECT subject, chat_id, language FROM subscribers WHERE subscriber_id = ?",
            (subscriber_id,),
        )
        if row is None:
            return None
        chat = self._keyring.decrypt_text(
            row["chat_id"], "subscribers", bytes(row["subject"]).hex(), "chat_id"
        )
        return Recipient(subscriber_id, int(chat), row["language"])

    async def remove(self, subscriber_id: int) -> None:
        """Drop a subscriber Telegram says cannot be written to (blocked, chat not found)."""
        await self._db.execute("DELETE FROM subscribers WHERE subscriber_id = ?", (subscriber_id,))
