"""Updates seen by every process of the line, across restarts (migration 0015).

An update is claimed before it is handled (`claim`: state 'handling', this process as holder)
and marked done only after it was handled (`done`), so a crash in the middle loses nothing: once
its holder is known dead the next delivery handles the update again. An update is named by the
bot's id and its update id: update ids are unique per bot only (a new token starts again at 1 on
the same database). What a second delivery finds:

- DONE: it was handled; drop it (a webhook answers 200);
- BUSY: another live process has it in hand; a webhook answers non-2xx, so Telegram tries again
  later; long polling waits for it;
- CLAIMED: new, or its holder is dead: handle it.

A claim carries no time (an update is someone's message, and the database keeps no time of what
residents do finer than the hour). Whether its holder lives is a matter of the holder's process,
told apart from its claims: its heartbeat (`beat`, the lease named `process:<holder>` in
`leases`, renewed every few seconds while the process runs, given back at a clean stop; only
with several processes, webhook mode) or, on the same host, its pid (workers/jobs.py `gone`,
checked by the caller). `claim` with `alive_at` takes over at once a claim whose holder has no
heartbeat live at that moment; without it, it takes only a new update or the holder's own.

Long polling keeps the update itself with its claim (`payload`, sealed with the content key:
it holds someone's message, name and id; migration 0019), because getUpdates confirms a batch to
Telegram before it is handled and Telegram never sends a confirmed update again: `orphans` are
the updates a dead process had in hand, which the next start hands to the handlers again
(bot/polling.py). The payload goes once the update is done; a release deletes the row.

`at` is the hour the update was seen, the only time kept: `purge` (housekeeping) deletes rows
seen more than a day before, and heartbeats long run out. Plain SQL that PostgreSQL accepts too.
"""

from __future__ import annotations

import contextlib
import enum
import json
import time
from dataclasses import dataclass

from storage.crypto import DecryptionError
from storage.database import Database
from storage.keyring import Keyring

#: How long a process's heartbeat lasts without renewal.
HEARTBEAT_SECONDS = 30.0
#: A process's heartbeat is the lease of this name followed by the holder (`host:pid:nonce`);
#: the SQL of this module and of storage/chat_turns.py spells it out ('process:' || holder).
HEARTBEAT = "process:"
#: How long a row is kept (Telegram redelivers within minutes; a lost confirmation at restart).
KEEP_SECONDS = 24 * 3600.0


def _hour(moment: float) -> float:
    """The hour `moment` falls in (unix seconds), the only time kept of an update."""
    return moment - moment % 3600


class Seen(enum.Enum):
    CLAIMED = "claimed"  # yours: handle it, then `done` (or `release` if it was not handled)
    DONE = "done"  # handled already
    BUSY = "busy"  # in hand by `holder`, not known dead


@dataclass(frozen=True)
class Claim:
    seen: Seen
    holder: str | None = None  # BUSY: who has it


@dataclass(frozen=True)
class Orphan:
    """An update claimed by `holder` and not handled, with what it said (`update`: its JSON
    text; None when it could not be opened)."""

    update_id: int
    holder: str
    update: str | None


def _where(bot: int, update_id: int) -> str:
    """The row a payload is bound to (its associated data)."""
    return f"{bot}:{update_id}"


class UpdatesSeen:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    def _seal(self, bot: int, update_id: int, update: str | None) -> bytes | None:
        if update is None:
            return None
        return self._keyring.encrypt(update, "updates_seen", _where(bot, update_id), "payload")

    async def claim(
        self, bot: int, update_id: int, holder: str, *, alive_at: float | None = None,
        update: str | None = None,
    ) -> Claim:
        """Take update `update_id` of bot `bot` for `holder` unless it is done or in another
        holder's hand. With `alive_at` (a moment, usually now): also when that holder has no
        heartbeat live then (several processes); without it, the caller decides. `update`
        (its JSON, long polling) is kept sealed with the claim until it is done."""
        hour = _hour(time.time())
        if alive_at is None:
            rows = await self._db.fetchall(
                "INSERT INTO updates_seen (bot, update_id, state, holder, at, payload)"
                " VALUES (?, ?, 'handling', ?, ?, ?)"
                " ON CONFLICT (bot, update_id) DO UPDATE SET at = excluded.at,"
                " payload = coalesce(excluded.payload, updates_seen.payload)"
                " WHERE updates_seen.state = 'handling'"
                " AND updates_seen.holder = excluded.holder"
                " RETURNING holder",
                (bot, update_id, holder, hour, self._seal(bot, update_id, update)),
            )
        else:
            rows = await self._db.fetchall(
                "INSERT INTO updates_seen (bot, update_id, state, holder, at)"
                " VALUES (?, ?, 'handling', ?, ?)"
                " ON CONFLICT (bot, update_id) DO UPDATE SET holder = excluded.holder,"
                " at = excluded.at"
                " WHERE updates_seen.state = 'handling'"
                " AND (updates_seen.holder = excluded.holder OR NOT EXISTS ("
                "SELECT 1 FROM leases WHERE leases.name = 'process:' || updates_seen.holder"
                " AND leases.until >= ?))"
                " RETURNING holder",
                (bot, update_id, holder, hour, alive_at),
            )
        if rows:
            return Claim(Seen.CLAIMED)
        row = await self._db.fetchone(
            "SELECT state, holder FROM updates_seen WHERE bot = ? AND update_id = ?",
            (bot, update_id),
        )
        if row is None:  # purged in between: try once more
            return await self.claim(bot, update_id, holder, alive_at=alive_at, update=update)
        if row["state"] == "done":
            return Claim(Seen.DONE)
        return Claim(Seen.BUSY, row["holder"])

    async def claim_many(
        self, bot: int, update_ids: list[int], holder: str,
        updates: dict[int, str] | None = None,
    ) -> dict[int, Claim]:
        """`claim` (without `alive_at`: long polling) for a whole getUpdates batch. Each update
        gets what `claim` would have said; `updates` (update id -> its JSON) are kept sealed
        with their claims.

        On SQLite one statement an update, with its payload, all in one group commit
        (`Database.execute_grouped_many`): the claim is on every update's way (the batch is
        queued only once it is stored), and as two statements of their own, the claims and then
        the payloads, it took a third of a crowd's poll round (issue 16). A statement's
        rowcount says whether it took the update: new, or already this holder's. On
        PostgreSQL the two statements stay (`_claimed_in_two`)."""
        if not update_ids:
            return {}
        known = updates or {}
        if self._db.dialect != "sqlite":
            claimed = await self._claimed_in_two(bot, update_ids, holder, known)
        else:
            claimed = await self._claimed_grouped(bot, update_ids, holder, known)
        return await self._found(bot, update_ids, holder, known, claimed)

    async def _claimed_grouped(
        self, bot: int, update_ids: list[int], holder: str, known: dict[int, str]
    ) -> set[int]:
        """SQLite: an upsert an update, with its payload, in the group commit of the moment."""
        moment = _hour(time.time())
        outcomes = await self._db.execute_grouped_many(
            "INSERT INTO updates_seen (bot, update_id, state, holder, at, payload)"
            " VALUES (?, ?, 'handling', ?, ?, ?)"
            " ON CONFLICT (bot, update_id) DO UPDATE SET at = excluded.at,"
            " payload = coalesce(excluded.payload, updates_seen.payload)"
            " WHERE updates_seen.state = 'handling' AND updates_seen.holder = excluded.holder",
            [(bot, update_id, holder, moment, self._seal(bot, update_id, known.get(update_id)))
             for update_id in update_ids],
        )
        return {update_id for update_id, outcome in zip(update_ids, outcomes, strict=True)
                if outcome.rowcount == 1}

    async def _claimed_in_two(
        self, bot: int, update_ids: list[int], holder: str, known: dict[int, str]
    ) -> set[int]:
        """PostgreSQL: the claims in one statement, then the payloads of those taken (the pool's
        connections commit side by side, and one statement an update there would be one round
        trip each under the writers' lock: the review of session 11). Not in one transaction,
        and it need not be: the batch is queued only after this returns, and Telegram keeps it
        until the next getUpdates, so a crash in between leaves it to be delivered again."""
        claimed = {
            int(row["update_id"])
            for row in await self._db.fetchall(
                "INSERT INTO updates_seen (bot, update_id, state, holder, at)"
                " SELECT CAST(? AS BIGINT), CAST(ids.value AS BIGINT), 'handling',"
                " CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION) FROM json_each(?) ids WHERE true"
                " ON CONFLICT (bot, update_id) DO UPDATE SET at = excluded.at"
                " WHERE updates_seen.state = 'handling'"
                " AND updates_seen.holder = excluded.holder"
                " RETURNING update_id",
                (bot, holder, _hour(time.time()), json.dumps(update_ids)),
            )
        }
        sealed = [(self._seal(bot, update_id, known[update_id]), bot, update_id, holder)
                  for update_id in update_ids if update_id in claimed and update_id in known]
        if sealed:
            await self._db.executemany(
                "UPDATE updates_seen SET payload = ? WHERE bot = ? AND update_id = ?"
                " AND holder = ? AND state = 'handling'", sealed)
        return claimed

    async def _found(
        self, bot: int, update_ids: list[int], holder: str, known: dict[int, str],
        claimed: set[int],
    ) -> dict[int, Claim]:
        """What each update of the batch is: claimed, or the state of the row that kept it."""
        found = {update_id: Claim(Seen.CLAIMED) for update_id in update_ids if update_id in claimed}
        others = [update_id for update_id in update_ids if update_id not in claimed]
        if others:
            rows = await self._db.fetchall(
                "SELECT update_id, state, holder FROM updates_seen"
                " WHERE bot = ? AND update_id IN (SELECT value FROM json_each(?))",
                (bot, json.dumps(others)),
            )
            held = {int(row["update_id"]): row for row in rows}
            for update_id in others:
                row = held.get(update_id)
                if row is None:  # purged in between: the one-by-one way
                    found[update_id] = await self.claim(
                        bot, update_id, holder, update=known.get(update_id))
                elif row["state"] == "done":
                    found[update_id] = Claim(Seen.DONE)
                else:
                    found[update_id] = Claim(Seen.BUSY, row["holder"])
        return found

    async def orphans(self, bot: int, holder: str) -> list[Orphan]:
        """Updates of bot `bot` claimed by another holder than `holder` and not handled, that
        carry their payload (long polling's), oldest first: the caller decides which holders are
        gone and takes those over (`take_over`) before handling them again."""
        rows = await self._db.fetchall(
            "SELECT update_id, holder, payload FROM updates_seen"
            " WHERE bot = ? AND state = 'handling' AND holder <> ? AND payload IS NOT NULL"
            " ORDER BY update_id",
            (bot, holder),
        )
        found = []
        for row in rows:
            update_id = int(row["update_id"])
            text: str | None = None
            with contextlib.suppress(DecryptionError):
                text = self._keyring.decrypt_text(
                    bytes(row["payload"]), "updates_seen", _where(bot, update_id), "payload")
            found.append(Orphan(update_id, str(row["holder"]), text))
        return found

    async def take_over(
        self, bot: int, update_id: int, old_holder: str, holder: str, update: str | None = None
    ) -> bool:
        """Take an update in hand by a holder known to be gone (its process died); its payload
        stays, or becomes `update` (its JSON) when it had none."""
        result = await self._db.execute(
            "UPDATE updates_seen SET holder = ?, at = ?, payload = coalesce(payload, ?)"
            " WHERE bot = ? AND update_id = ? AND holder = ? AND state = 'handling'",
            (holder, _hour(time.time()), self._seal(bot, update_id, update), bot, update_id,
             old_holder),
        )
        return result.rowcount == 1

    async def done(self, bot: int, update_id: int, holder: str) -> None:
        """The update was handled (call only after it was)."""
        await self._db.execute(
            "UPDATE updates_seen SET state = 'done', at = ?, payload = NULL"
            " WHERE bot = ? AND update_id = ? AND holder = ?",
            (_hour(time.time()), bot, update_id, holder),
        )

    async def done_many(self, bot: int, update_ids: list[int], holder: str) -> None:
        """`done` for several updates in one statement (bot/fleet.py gathers the updates
        finished while the previous statement ran); its commit is shared with the other
        grouped writes of that moment (storage/database.py)."""
        await self._db.execute_grouped(
            "UPDATE updates_seen SET state = 'done', at = ?, payload = NULL"
            " WHERE bot = ? AND holder = ? AND update_id IN (SELECT value FROM json_each(?))",
            (_hour(time.time()), bot, holder, json.dumps(update_ids)),
        )

    async def release(self, bot: int, update_id: int, holder: str) -> None:
        """The update was not handled: the next delivery handles it."""
        await self._db.execute(
            "DELETE FROM updates_seen"
            " WHERE bot = ? AND update_id = ? AND holder = ? AND state = 'handling'",
            (bot, update_id, holder),
        )

    async def state(self, bot: int, update_id: int) -> str | None:
        """'handling', 'done' or None (for tests and the log)."""
        row = await self._db.fetchone(
            "SELECT state FROM updates_seen WHERE bot = ? AND update_id = ?", (bot, update_id)
        )
        return None if row is None else str(row["state"])

    # ---- the process's heartbeat ------------------------------------------------------------

    async def beat(self, holder: str, *, seconds: float = HEARTBEAT_SECONDS) -> bool:
        """Say that `holder`'s process lives for `seconds` more (take or renew its heartbeat)."""
        now = time.time()
        rows = await self._db.fetchall(
            "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET until = excluded.until"
            " WHERE leases.holder = excluded.holder"
            " RETURNING holder",
            (HEARTBEAT + holder, holder, now + seconds),
        )
        return bool(rows)

    async def stop_beating(self, holder: str) -> None:
        """At a clean stop: the process is gone at once for the others."""
        await self._db.execute(
            "DELETE FROM leases WHERE name = ? AND holder = ?", (HEARTBEAT + holder, holder)
        )

    async def purge(self, *, keep_seconds: float = KEEP_SECONDS) -> int:
        """Delete rows seen more than `keep_seconds` before (by the hour; done, or claims whose
        holder has no heartbeat), and heartbeats that ran out an hour ago; how many rows."""
        now = time.time()
        result = await self._db.execute(
            "DELETE FROM updates_seen WHERE at < ? AND (state = 'done' OR NOT EXISTS ("
            "SELECT 1 FROM leases WHERE leases.name = 'process:' || updates_seen.holder"
            " AND leases.until >= ?))",
            (_hour(now - keep_seconds), now),
        )
        await self._db.execute(
            "DELETE FROM leases WHERE name LIKE 'process:%' AND until < ?", (now - 3600,)
        )
        return result.rowcount
