"""One chat's turn, shared by every process of the line (migration 0015).

Updates of one chat are handled one after another even when they reach different processes:
before an update is handled its process takes the chat's turn (a row per chat), and gives it
back after. Another process wanting the same chat meanwhile tries again with a short backoff,
up to a bound (then `TurnBusy`: a webhook answers non-2xx and Telegram redelivers). A turn
carries no time (a chat wrote then): a dead holder's turn is taken over as soon as its process
is known dead, by its heartbeat (storage/updates_seen.py `beat`: the lease 'process:<holder>'
is not live) or, on the same host, its pid (`gone`). Different chats never wait for each other.
A turn is used in webhook mode only (several processes; long polling has one).

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

    async def try_take(self, chat_id: int, holder: str) -> str | None:
        """Take the chat's turn: None when `holder` has it now, else who holds it. A turn whose
        holder has no live heartbeat is taken over."""
        chat = self._chat(chat_id)
        rows = await self._db.fetchall(
            "INSERT INTO chat_turns (chat, holder) VALUES (?, ?)"
            " ON CONFLICT (chat) DO UPDATE SET holder = excluded.holder"
            " WHERE chat_turns.holder = excluded.holder OR NOT EXISTS ("
            "SELECT 1 FROM leases WHERE leases.name = 'process:' || chat_turns.holder"
            " AND leases.until >= ?)"
            " RETURNING holder",
            (chat, holder, time.time()),
        )
        if rows:
            return None
        row = await self._db.fetchone("SELECT holder FROM chat_turns WHERE chat = ?", (chat,))
        return None if row is None else str(row["holder"]) or "?"

    async def take_over(self, chat_id: int, old_holder: str, holder: str) -> bool:
        """Take the turn from a holder known to be gone."""
        result = await self._db.execute(
            "UPDATE chat_turns SET holder = ? WHERE chat = ? AND holder = ?",
            (holder, self._chat(chat_id), old_holder),
        )
        return result.rowcount == 1

    async def release(self, chat_id: int, holder: str) -> None:
        await self._db.execute(
            "DELETE FROM chat_turns WHERE chat = ? AND holder = ?", (self._chat(chat_id), holder)
        )

    async def release_all(self, holder: str) -> None:
        """At a clean stop (nothing is in hand any more)."""
        await self._db.execute("DELETE FROM chat_turns WHERE holder = ?", (holder,))

    async def purge(self) -> int:
        """Turns whose holder has no live heartbeat (a dead process's)."""
        result = await self._db.execute(
            "DELETE FROM chat_turns WHERE NOT EXISTS (SELECT 1 FROM leases"
            " WHERE leases.name = 'process:' || chat_turns.holder AND leases.until >= ?)",
            (time.time(),),
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
