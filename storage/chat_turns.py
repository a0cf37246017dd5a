"""One chat's turn, shared by every process of the line (migration 0015).

Updates of one chat are handled one after another even when they reach different processes:
before an update is handled its process takes the chat's turn (a lease row per chat), and gives
it back after. Another process wanting the same chat meanwhile tries again with a short backoff,
up to a bound (then `TurnBusy`: a webhook answers non-2xx and Telegram redelivers). A dead
holder's turn expires after its lease (`LEASE_SECONDS`, renewed while the holder lives) or at
once when its holder is known gone. Different chats never wait for each other.

The chat is named by a keyed pseudonym (the rate-limit key, of the text "turn:<chat id>"), so
the table never holds a chat id. The API is abstract (`async with turns.turn(chat_id, holder)`)
so that PostgreSQL may later use `pg_advisory_lock` behind it; the SQL here is plain SQL that
both databases accept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from storage.database import Database
from storage.keyring import KeyPurpose, Keyring

LEASE_SECONDS = 30.0
#: How long `turn` keeps trying before it gives up (`TurnBusy`).
WAIT_SECONDS = 20.0
FIRST_BACKOFF = 0.005
MAX_BACKOFF = 0.2


class TurnBusy(Exception):
    """The chat's turn stayed with another live process past the wait."""


class ChatTurns:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    def _chat(self, chat_id: int) -> bytes:
        return self._keyring.pseudonym(KeyPurpose.RATELIMIT, f"turn:{chat_id}")

    async def try_take(
        self, chat_id: int, holder: str, *, seconds: float = LEASE_SECONDS
    ) -> str | None:
        """Take the chat's turn: None when `holder` has it now, else who holds it."""
        now = time.time()
        chat = self._chat(chat_id)
        rows = await self._db.fetchall(
            "INSERT INTO chat_turns (chat, holder, until) VALUES (?, ?, ?)"
            " ON CONFLICT (chat) DO UPDATE SET holder = excluded.holder, until = excluded.until"
            " WHERE chat_turns.until < ? OR chat_turns.holder = excluded.holder"
            " RETURNING holder",
            (chat, holder, now + seconds, now),
        )
        if rows:
            return None
        row = await self._db.fetchone("SELECT holder FROM chat_turns WHERE chat = ?", (chat,))
        return None if row is None else str(row["holder"]) or "?"

    async def take_over(
        self, chat_id: int, old_holder: str, holder: str, *, seconds: float = LEASE_SECONDS
    ) -> bool:
        """Take the turn from a holder known to be gone."""
        result = await self._db.execute(
            "UPDATE chat_turns SET holder = ?, until = ? WHERE chat = ? AND holder = ?",
            (holder, time.time() + seconds, self._chat(chat_id), old_holder),
        )
        return result.rowcount == 1

    async def release(self, chat_id: int, holder: str) -> None:
        await self._db.execute(
            "DELETE FROM chat_turns WHERE chat = ? AND holder = ?", (self._chat(chat_id), holder)
        )

    async def renew(self, holder: str, *, seconds: float = LEASE_SECONDS) -> int:
        """Extend every turn `holder` holds; how many."""
        result = await self._db.execute(
            "UPDATE chat_turns SET until = ? WHERE holder = ?", (time.time() + seconds, holder)
        )
        return result.rowcount

    async def release_all(self, holder: str) -> None:
        """At a clean stop (nothing is in hand any more)."""
        await self._db.execute("DELETE FROM chat_turns WHERE holder = ?", (holder,))

    async def purge(self) -> int:
        """Turns whose lease ran out long ago (a dead holder's)."""
        result = await self._db.execute(
            "DELETE FROM chat_turns WHERE until < ?", (time.time() - 3600,)
        )
        return result.rowcount

    @asynccontextmanager
    async def turn(
        self,
        chat_id: int,
        holder: str,
        *,
        wait: float = WAIT_SECONDS,
        gone: Callable[[str], bool] | None = None,
    ) -> AsyncIterator[None]:
        """Hold the chat's turn for the block; `TurnBusy` after `wait` seconds of trying.
        `gone(holder)`: whether a holder is known dead (then its turn is taken over at once)."""
        deadline = time.monotonic() + wait
        delay = FIRST_BACKOFF
        while True:
            other = await self.try_take(chat_id, holder)
            if other is None:
                break
            if gone is not None and gone(other) and await self.take_over(chat_id, other, holder):
                break
            if time.monotonic() >= deadline:
                raise TurnBusy(f"chat turn held by another process for {wait:.0f} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)
        try:
            yield
        finally:
            await asyncio.shield(self.release(chat_id, holder))
