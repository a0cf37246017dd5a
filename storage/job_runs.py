"""Periodic work that one process of the line does once per period (migration 0015).

`due(name, holder, every)` is true for exactly one caller per `every` seconds, across processes
and restarts: it moves the row's `at` to now only when the last run is at least `every` old.
With `hold`, the run is first taken for `hold` seconds only (it looks due again after that, so a
process that dies in the middle is replaced) and `ran` then marks it done for the whole period.
"""

from __future__ import annotations

import time

from storage.database import Database


class JobRuns:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def due(
        self, name: str, holder: str, every: float, *, hold: float | None = None
    ) -> bool:
        """Take this period's run of `name` for `holder`; False when another process (or an
        earlier run) has it."""
        now = time.time()
        at = now if hold is None else now - every + hold
        rows = await self._db.fetchall(
            "INSERT INTO job_runs (name, holder, at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, at = excluded.at"
            " WHERE job_runs.at <= ?"
            " RETURNING holder",
            (name, holder, at, now - every),
        )
        return bool(rows) and rows[0]["holder"] == holder

    async def ran(self, name: str, holder: str) -> None:
        """The run taken with `hold` is over: nobody runs it again for a whole period."""
        await self._db.execute(
            "UPDATE job_runs SET at = ? WHERE name = ? AND holder = ?",
            (time.time(), name, holder),
        )

    async def last(self, name: str) -> tuple[str, float] | None:
        row = await self._db.fetchone("SELECT holder, at FROM job_runs WHERE name = ?", (name,))
        return None if row is None else (str(row["holder"]), float(row["at"]))

    async def take_from(
        self, name: str, old_holder: str, old_at: float, holder: str, every: float, hold: float
    ) -> bool:
        """Take the run from the last run's holder, known gone, if nobody took it since."""
        result = await self._db.execute(
            "UPDATE job_runs SET holder = ?, at = ? WHERE name = ? AND holder = ? AND at = ?",
            (holder, time.time() - every + hold, name, old_holder, old_at),
        )
        return result.rowcount == 1
