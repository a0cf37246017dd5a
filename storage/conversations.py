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
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from storage.database import Database
from storage.keyring import KeyPurpose, Keyring


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
