"""The one conversation store: whatever a person is in the middle of, one at a time.

A conversation is a resident's report being written, a /status session, an owed receipt, an
admin's broadcast or schedule being composed, two dates being typed for /stats or /export, an
officer's reply or a transfer's agency. Each user has at most one: saving a conversation
replaces whatever was there (that is how starting one flow ends the other).

python-telegram-bot's persistence writes only every `update_interval` and pickles in clear, so
a kill -9 would lose the last steps and a stolen disk would show tip text. Instead each step's
state is committed here, encrypted, before the bot answers that step; the row is found by a
keyed hash of the user id with the conversation key, which no other table uses. Residents and
staff alike: no user id is kept in clear.

Every conversation expires (`LIFETIMES`): a /status session links a resident's pseudonym to a
tip, an abandoned report keeps what they typed, an owed receipt links them to their tip, an
officer's reply started and forgotten must not capture what the same person writes much later.
The exact deadline travels inside the encrypted state (checked on load); the clear
`expires_at` column is that deadline rounded up to the hour, so the sweep deletes by an index
without decrypting anything and a reader of the file learns no exact time.

The typed state of each flow (one dataclass per flow) lives in handlers/shared/flows.py; here a
state is the JSON object `{"flow": <Flow value>, ...fields}`, the shape drafts always had.

`drafts` also keeps the `/status` files on their way (`FilesOnTheirWay`): one row per file from
the moment the resident is told it is being cleaned until it is stored with the tip, so that it
outlives the session (the resident may press "done", open another tip or type `/forget` while it
is cleaned) and a process that dies with it in hand leaves it to another. Such a row's subject
is `FILE_PREFIX` and random bytes, never anyone's pseudonym; its state is sealed the same way
and names the process cleaning it (its holder) inside the seal.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from storage.crypto import DecryptionError
from storage.database import Database
from storage.keyring import KeyPurpose, Keyring
from storage.updates_seen import HEARTBEAT


class Flow(StrEnum):
    """Every kind of conversation; the value is the `flow` field of the stored JSON."""

    REPORT = "report"
    STATUS = "status"
    RECEIPT = "receipt"
    BROADCAST = "broadcast"
    SCHEDULE = "schedule"
    DATES = "stats"  # two dates typed for /stats or /export (the name drafts always had)
    REPLY = "reply"  # an officer writing a reply to a tip
    TRANSFER = "transfer"  # an officer naming the agency a tip is transferred to


#: Seconds a conversation of each flow lives after its last step.
LIFETIMES: Mapping[Flow, float] = {
    Flow.STATUS: 30 * 60,
    Flow.REPORT: 7 * 24 * 3600,
    Flow.RECEIPT: 24 * 3600,
    Flow.BROADCAST: 24 * 3600,
    Flow.SCHEDULE: 24 * 3600,
    Flow.DATES: 30 * 60,
    Flow.REPLY: 15 * 60,
    Flow.TRANSFER: 15 * 60,
}
_FORMAT = 2  # stored as {"v": 2, "until": <epoch>, "state": {"flow": ..., ...}}
#: How a `drafts` row of a /status file on its way begins (the rest is random): 32 bytes as a
#: pseudonym, told apart by an index range, and 2^-40 likely to begin a real pseudonym (whose
#: state would then not open as a file and be left alone).
FILE_PREFIX = b"\x00file"
_FILE_END = b"\x00filf"  # the first subject after every FILE_PREFIX one
#: Seconds a file on its way is kept for a process to store it: long enough for a line that was
#: down for days to store it when it is back; past that the sweep of conversations deletes it.
FILE_LIFETIME = 7 * 24 * 3600.0
_FILE_FLOW = "file"  # the `flow` field of a file's state; never a conversation's (Flow)


@dataclass(frozen=True)
class Saved:
    """A conversation as stored: its flow and the rest of its JSON object."""

    flow: Flow
    fields: Mapping[str, Any]


class Conversations:
    def __init__(
        self, db: Database, keyring: Keyring, lifetimes: Mapping[Flow, float] = LIFETIMES
    ) -> None:
        self._db = db
        self._keyring = keyring
        self._lifetimes = lifetimes
        #: The /status files on their way, kept beside the conversations (see the module).
        self.files = FilesOnTheirWay(db, keyring)

    def _subject(self, user_id: int) -> bytes:
        return self._keyring.pseudonym(KeyPurpose.CONVERSATION, user_id)

    async def load(self, user_id: int) -> Saved | None:
        """The conversation in progress, or None (none, past its deadline, or of a flow this
        version does not know, which is then ended)."""
        subject = self._subject(user_id)
        row = await self._db.lookup_one("SELECT state FROM drafts WHERE subject = ?", (subject,))
        if row is None:
            return None
        stored = json.loads(self._keyring.decrypt(row["state"], "drafts", subject.hex(), "state"))
        if stored.get("v") == _FORMAT:
            if stored["until"] <= datetime.now(UTC).timestamp():
                await self.end(user_id)
                return None
            state = stored["state"]
        else:
            state = stored  # written before deadlines existed; migration 0006 set its expiry
        fields = dict(state)
        try:
            flow = Flow(fields.pop("flow", None))
        except ValueError:
            await self.end(user_id)
            return None
        return Saved(flow, fields)

    async def save(self, user_id: int, flow: Flow, fields: Mapping[str, Any]) -> None:
        """Store this user's conversation, replacing whatever they were in the middle of."""
        subject = self._subject(user_id)
        until = datetime.now(UTC).timestamp() + self._lifetimes[flow]
        state = {"flow": flow.value, **fields}
        blob = self._keyring.encrypt(
            json.dumps({"v": _FORMAT, "until": until, "state": state}, ensure_ascii=False),
            "drafts", subject.hex(), "state",
        )
        await self._db.execute_grouped(  # a crowd's steps share their commits
            "INSERT INTO drafts (subject, state, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (subject) DO UPDATE SET state = excluded.state,"
            " expires_at = excluded.expires_at",
            (subject, blob, _hour_after(until)),
        )

    async def end(self, user_id: int) -> bool:
        """End this user's conversation, whatever its flow; True if there was one."""
        result = await self._db.execute_grouped(
            "DELETE FROM drafts WHERE subject = ?", (self._subject(user_id),)
        )
        return result.rowcount > 0

    async def expire(self) -> int:
        """Delete conversations past their (rounded) deadline; returns how many. Decrypts
        nothing."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        result = await self._db.execute("DELETE FROM drafts WHERE expires_at <= ?", (now,))
        return result.rowcount


def _hour_after(epoch: float) -> str:
    """`epoch` rounded up to the next full hour, as the ISO text of every *_at column."""
    hour = math.ceil(epoch / 3600) * 3600
    return datetime.fromtimestamp(hour, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class FileOnItsWay:
    """A /status file on its way, as stored: its row, the process cleaning it, and what the
    flow that took it wrote (handlers/resident/status.py)."""

    subject: bytes
    holder: str
    fields: Mapping[str, Any]


class FilesOnTheirWay:
    """The /status files on their way, each a `drafts` row sealed like a conversation.

    Who cleans a file is its holder (bot/fleet.py's process name), inside the seal: it is
    checked inside a transaction before the row changes hands (`take`) and before the file is
    stored (`drop` in the transaction that stores it), so a file is stored once even when two
    processes both believed it theirs."""

    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    async def put(self, holder: str, fields: Mapping[str, Any]) -> bytes:
        """Keep a new file on its way, cleaned by `holder`; its row's subject (random)."""
        subject = FILE_PREFIX + secrets.token_bytes(32 - len(FILE_PREFIX))
        await self._write(subject, holder, fields, insert=True)
        return subject

    async def _write(
        self, subject: bytes, holder: str, fields: Mapping[str, Any], *, insert: bool
    ) -> None:
        until = datetime.now(UTC).timestamp() + FILE_LIFETIME
        state = {**fields, "flow": _FILE_FLOW, "holder": holder}
        blob = self._keyring.encrypt(
            json.dumps({"v": _FORMAT, "until": until, "state": state}, ensure_ascii=False),
            "drafts", subject.hex(), "state",
        )
        if insert:
            await self._db.execute(
                "INSERT INTO drafts (subject, state, expires_at) VALUES (?, ?, ?)",
                (subject, blob, _hour_after(until)),
            )
        else:
            await self._db.execute(
                "UPDATE drafts SET state = ?, expires_at = ? WHERE subject = ?",
                (blob, _hour_after(until), subject),
            )

    def _open(self, subject: bytes, sealed: bytes) -> FileOnItsWay | None:
        try:
            stored = json.loads(self._keyring.decrypt(sealed, "drafts", subject.hex(), "state"))
        except (DecryptionError, ValueError):
            return None
        state = stored.get("state") if isinstance(stored, dict) else None
        if not isinstance(state, dict) or state.get("flow") != _FILE_FLOW:
            return None
        if stored.get("until", 0) <= datetime.now(UTC).timestamp():
            return None
        fields = {k: v for k, v in state.items() if k not in ("flow", "holder")}
        return FileOnItsWay(subject, str(state.get("holder", "")), fields)

    async def all(self) -> list[FileOnItsWay]:
        """Every file on its way (a few: each is a file being cleaned now), any process's.
        Rows that do not open are left to expire."""
        rows = await self._db.fetchall(
            "SELECT subject, state FROM drafts WHERE subject >= ? AND subject < ?",
            (FILE_PREFIX, _FILE_END),
        )
        found = (self._open(bytes(row["subject"]), bytes(row["state"])) for row in rows)
        return [f for f in found if f is not None]

    async def beating(self, holders: set[str]) -> set[str]:
        """Which of these processes' heartbeats are live now (storage/updates_seen.py `beat`),
        for the caller to tell a dead holder's files from a live one's."""
        now = datetime.now(UTC).timestamp()
        live = set()
        for holder in holders:
            row = await self._db.fetchone(
                "SELECT 1 FROM leases WHERE name = ? AND holder = ? AND until >= ?",
                (HEARTBEAT + holder, holder, now),
            )
            if row is not None:
                live.add(holder)
        return live

    async def exists(self, subject: bytes) -> bool:
        """Whether the file is still on its way in any process's hands: when it is not and its
        tip is gone, the purge took it with the tip, and nobody but the caller will tell the
        resident."""
        row = await self._db.fetchone("SELECT 1 FROM drafts WHERE subject = ?", (subject,))
        return row is not None

    async def _held_by(self, subject: bytes, holder: str) -> FileOnItsWay | None:
        """The file, when `holder` holds it now (read inside the caller's transaction)."""
        row = await self._db.fetchone("SELECT state FROM drafts WHERE subject = ?", (subject,))
        if row is None:
            return None
        found = self._open(subject, bytes(row["state"]))
        return found if found is not None and found.holder == holder else None

    async def take(self, subject: bytes, old_holder: str, holder: str) -> FileOnItsWay | None:
        """Take a file over from a process known dead; None when it is no longer `old_holder`'s
        (taken by another process meanwhile, or stored)."""
        async with self._db.transaction():
            found = await self._held_by(subject, old_holder)
            if found is None:
                return None
            await self._write(subject, holder, found.fields, insert=False)
        return FileOnItsWay(subject, holder, found.fields)

    async def remove(self, subject: bytes) -> bool:
        """Remove a file on its way, whoever cleans it (the resident's `/forget`: "anything in
        progress" goes, with the row's user and chat ids). Its holder then finds it gone and
        neither stores it nor tells the chat (handlers/resident/status.py). True when it was
        there."""
        result = await self._db.execute("DELETE FROM drafts WHERE subject = ?", (subject,))
        return result.rowcount > 0

    async def drop(self, subject: bytes, holder: str) -> bool:
        """Forget a file `holder` is done with (stored, or handed to the resident's choice),
        inside the caller's transaction if any; False when `holder` no longer holds it (another
        process took it over, or it was purged with its tip): then it must not be stored."""
        if self._db.in_transaction:
            return await self._drop(subject, holder)
        async with self._db.transaction():
            return await self._drop(subject, holder)

    async def _drop(self, subject: bytes, holder: str) -> bool:
        if await self._held_by(subject, holder) is None:
            return False
        await self._db.execute("DELETE FROM drafts WHERE subject = ?", (subject,))
        return True
