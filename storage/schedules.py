"""Recurring posts: what to post, when (daily, some weekdays, a day of the month, at HH:MM), and
the next occurrence to post, which is the one truth for "is it due" across restarts and
processes. Claiming an occurrence moves `next_run_at` on in the same statement that checks it,
so an occurrence is posted at most once however many timers fire for it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from storage.database import Database
from storage.keyring import Keyring

FREQUENCIES = ("daily", "weekly", "monthly")


@dataclass(frozen=True)
class Schedule:
    schedule_id: int
    frequency: str
    weekdays: tuple[int, ...]
    day_of_month: int | None
    at_time: str
    active: bool
    next_run_at: float
    last_run_at: float | None
    last_outcome: str | None
    last_broadcast_id: int | None
    created_by: int
    content: dict[str, Any] = field(repr=False)


class Schedules:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    async def create(
        self,
        *,
        content: dict[str, Any],
        frequency: str,
        at_time: str,
        next_run_at: float,
        created_by: int,
        weekdays: tuple[int, ...] = (),
        day_of_month: int | None = None,
    ) -> int:
        if frequency not in FREQUENCIES:
            raise ValueError("unknown frequency")
        uid = secrets.token_hex(8)
        blob = self._keyring.encrypt(
            json.dumps(content, ensure_ascii=False), "schedules", uid, "content"
        )
        row = await self._db.fetchone(
            "INSERT INTO schedules (uid, content, frequency, weekdays, day_of_month, at_time,"
            " next_run_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING schedule_id",
            (
                uid,
                blob,
                frequency,
                ",".join(str(d) for d in sorted(set(weekdays))),
                day_of_month,
                at_time,
                next_run_at,
                created_by,
                time.time(),
            ),
        )
        assert row is not None
        schedule_id: int = row["schedule_id"]
        return schedule_id

    async def get(self, schedule_id: int) -> Schedule | None:
        row = await self._db.fetchone(
            "SELECT * FROM schedules WHERE schedule_id = ?", (schedule_id,)
        )
        return self._schedule(row) if row else None

    async def all(self) -> list[Schedule]:
        rows = await self._db.fetchall("SELECT * FROM schedules ORDER BY schedule_id")
        return [self._schedule(r) for r in rows]

    async def active(self) -> list[Schedule]:
        rows = await self._db.fetchall(
            "SELECT * FROM schedules WHERE active = 1 ORDER BY schedule_id"
        )
        return [self._schedule(r) for r in rows]

    async def claim(
        self, schedule_id: int, due: float, following: float, outcome: str,
        broadcast_id: int | None = None,
    ) -> bool:
        """Mark the occurrence `due` as done ('sent' or 'skipped') and move to `following`.

        False when the schedule is paused or gone, or `due` is no longer its next occurrence
        (another timer or process took it): then nothing must be posted."""
        result = await self._db.execute(
            "UPDATE schedules SET next_run_at = ?, last_run_at = ?, last_outcome = ?,"
            " last_broadcast_id = coalesce(?, last_broadcast_id)"
            " WHERE schedule_id = ? AND active = 1 AND next_run_at = ?",
            (following, due, outcome, broadcast_id, schedule_id, due),
        )
        return result.rowcount == 1

    async def set_next_run(self, schedule_id: int, next_run_at: float) -> None:
        await self._db.execute(
            "UPDATE schedules SET next_run_at = ? WHERE schedule_id = ?",
            (next_run_at, schedule_id),
        )

    async def pause(self, schedule_id: int) -> bool:
        result = await self._db.execute(
            "UPDATE schedules SET active = 0 WHERE schedule_id = ? AND active = 1",
            (schedule_id,),
        )
        return result.rowcount == 1

    async def resume(self, schedule_id: int, next_run_at: float, *, by: int) -> bool:
        """Active again from the next occurrence (occurrences missed while paused are not sent),
        under the admin `by`, who is its creator from now on: a schedule posts only while its
        creator is an admin (workers/scheduler.py), so the one who resumes it answers for it."""
        result = await self._db.execute(
            "UPDATE schedules SET active = 1, next_run_at = ?, created_by = ?"
            " WHERE schedule_id = ? AND active = 0",
            (next_run_at, by, schedule_id),
        )
        return result.rowcount == 1

    async def delete(self, schedule_id: int) -> bool:
        result = await self._db.execute(
            "DELETE FROM schedules WHERE schedule_id = ?", (schedule_id,)
        )
        return result.rowcount == 1

    def _schedule(self, row: sqlite3.Row) -> Schedule:
        content = json.loads(
            self._keyring.decrypt(row["content"], "schedules", row["uid"], "content")
        )
        weekdays = tuple(int(d) for d in row["weekdays"].split(",") if d)
        return Schedule(
            schedule_id=row["schedule_id"],
            frequency=row["frequency"],
            weekdays=weekdays,
            day_of_month=row["day_of_month"],
            at_time=row["at_time"],
            active=bool(row["active"]),
            next_run_at=float(row["next_run_at"]),
            last_run_at=row["last_run_at"],
            last_outcome=row["last_outcome"],
            last_broadcast_id=row["last_broadcast_id"],
            created_by=row["created_by"],
            content=content,
        )
