"""A user's chosen language, found again by a keyed hash of their Telegram id (never the id)."""

from __future__ import annotations

from storage.database import Database
from storage.keyring import KeyPurpose, Keyring
from storage.subscribers import LANGUAGE_CODE


class Preferences:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    def _subject(self, user_id: int) -> bytes:
        return self._keyring.pseudonym(KeyPurpose.PREFERENCES, user_id)

    async def language(self, user_id: int) -> str | None:
        row = await self._db.lookup_one(
            "SELECT language FROM preferences WHERE subject = ?", (self._subject(user_id),)
        )
        return row["language"] if row else None

    async def set_language(self, user_id: int, language: str) -> None:
        if not LANGUAGE_CODE.fullmatch(language):
            raise ValueError("not a language code")
        await self._db.execute(
            "INSERT INTO preferences (subject, language) VALUES (?, ?)"
            " ON CONFLICT (subject) DO UPDATE SET language = excluded.language",
            (self._subject(user_id), language),
        )

    async def forget(self, user_id: int) -> bool:
        """Remove this user's stored preferences; True if there were any."""
        result = await self._db.execute(
            "DELETE FROM preferences WHERE subject = ?", (self._subject(user_id),)
        )
        return result.rowcount > 0
