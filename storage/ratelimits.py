"""Rate limits per person: tips a day (TIPBOT_MAX_TIPS_PER_DAY), wrong receipt codes (5 in
10 minutes) and /forget (2 in 10 minutes: kind "forget", each opens every tip's notification
chat), counted so that a stolen database ties no tip to its author or to another tip.

Why it looks like this (migration 0020, finding 1 of the review of 2026-12-03). Each tip used
to add a row (hash, 'tip', hour) to an ordinary rowid table in the tip's own transaction: the
n-th such row was the n-th tip, so two fully anonymous tips of one person shared a hash, and
the same hash's wrong receipt codes, kept to the microsecond, dated them.

Now a person is one row per limit, and the row shows nothing but that it exists:

* ``tip_limits``: one row per person who sent a tip in the last 25 hours, keyed by their
  pseudonym under a key of its own (``KeyPurpose.TIP_LIMIT``: no other table holds that hash,
  so the row joins with nothing), holding one value sealed with the content key and bound to
  the row: how many tips they sent in each of the last 25 hours.
* ``attempts``: the same for wrong receipt codes, per minute of the last 11 minutes, keyed by
  the rate-limit pseudonym of ``<kind>:<id>`` (not the flood count's hash of the id either).

Both are WITHOUT ROWID (no row number: the rows are in the order of the hash), and a value is
always the same number of bytes whatever it counts, so a new count rewrites the row in place.

Why not ``(pseudonym, hour) -> n`` in clear, as the finding first proposed: the tips' hours are
in clear in ``tips``, and a line gets few tips an hour, so a pseudonym with rows at two hours
would name one author for the tips of those two hours, the very link this removes. With the
hours sealed, a stolen file (without the master key) tells how many people sent a tip in the
last day (or typed a wrong code in the last minutes), and, by where SQLite placed each new row
in its page, the order in which they first did: it cannot tell whose a tip is or which two tips
are one person's, since a person's count is one row that changes at each of their tips (a swept
row is zeroed: ``secure_delete``). What it cannot hide (docs/privacy.md, "What rounding does not
hide"): two copies of the file made between two tips, the WAL's older page versions, or
PostgreSQL's dead row versions show whose row a tip's transaction changed, as they show the
resident's conversation row (``drafts``) changed in the same transaction.

The price of no clear time: the sweep (:meth:`RateLimits.expire`, every 5 minutes) opens every
row to see whether its counts have left the window, on the read connection. The rows are few
(the people of the last 25 hours and of the last 11 minutes): ~10-13 ms for 1,000 rows on a
shared 2-core machine, half of it opening them.

Windows, in whole units: a count is kept per unit (an hour, a minute) and an event is taken to
have happened at the *end* of its unit, so it is counted for at least the whole window and for
at most one unit more: a tip for 24 to 25 hours, a wrong code for 10 to 11 minutes. Rounding
makes a limit a little stricter, never easier to get round.
"""

from __future__ import annotations

import logging
import math
import struct
import time
from dataclasses import dataclass
from functools import cached_property

from storage.crypto import DecryptionError
from storage.database import Database
from storage.keyring import KeyPurpose, Keyring

log = logging.getLogger(__name__)

HOUR = 3600
MINUTE = 60
DAY = 24 * 3600.0
#: A count saturates here (2 bytes a unit): far above any limit, so saturation never lets more in.
MOST = 0xFFFF


@dataclass(frozen=True)
class Ring:
    """Counts per unit of time (an hour, a minute) over the last `units` units, as the bytes
    that are sealed: the newest unit (units since the epoch, 4 bytes) and one count per unit,
    newest first (2 bytes each). Always `size` bytes, whatever the counts."""

    unit: int
    units: int

    @property
    def longest(self) -> float:
        """The longest window that can be counted: an event counts for up to a unit more."""
        return float((self.units - 1) * self.unit)

    @cached_property
    def _layout(self) -> struct.Struct:
        return struct.Struct(f">I{self.units}H")

    @property
    def size(self) -> int:
        return self._layout.size

    def added(self, plain: bytes | None, now: float) -> bytes:
        """`plain` (or nothing yet) with one more event in the unit of `now`."""
        newest, counts = self._moved_to(plain, self._unit_of(now))
        counts[0] = min(counts[0] + 1, MOST)
        return self._layout.pack(newest, *counts)

    def within(self, plain: bytes | None, now: float, window: float) -> int:
        """Events in the `window` seconds before `now`, each taken at the end of its unit."""
        if not 0 < window <= self.longest:
            raise ValueError(f"a window of {window} s is not within 0-{self.longest:.0f} s")
        if plain is None:
            return 0
        newest, counts = self._unpacked(plain)
        oldest = self._unit_of(now) - math.ceil(window / self.unit)
        return sum(n for age, n in enumerate(counts) if newest - age >= oldest)

    def spent(self, plain: bytes, now: float) -> bool:
        """Whether no event in it counts any more, in any window."""
        newest, counts = self._unpacked(plain)
        oldest = self._unit_of(now) - (self.units - 1)
        return not any(n for age, n in enumerate(counts) if newest - age >= oldest)

    def _unit_of(self, moment: float) -> int:
        return int(moment // self.unit)

    def _unpacked(self, plain: bytes) -> tuple[int, list[int]]:
        newest, *counts = self._layout.unpack(plain)
        return int(newest), [int(n) for n in counts]

    def _moved_to(self, plain: bytes | None, unit: int) -> tuple[int, list[int]]:
        """The counts with `unit` as the newest: older units shift along, those past the end
        fall off. A clock set back counts into the newest unit kept (never drops a count)."""
        if plain is None:
            return unit, [0] * self.units
        newest, counts = self._unpacked(plain)
        shift = unit - newest
        if shift <= 0:
            return newest, counts
        if shift >= self.units:
            return unit, [0] * self.units
        return unit, [0] * shift + counts[: self.units - shift]


#: Tips: 25 hours, so a tip counts for 24 to 25 hours.
TIPS = Ring(HOUR, 25)
#: Wrong codes (and any kind of failure): 11 minutes, so one counts for 10 to 11 minutes.
FAILURES = Ring(MINUTE, 11)


@dataclass(frozen=True)
class _Table:
    """Where one limit is kept, and the statements of the sweep and of a count."""

    name: str
    ring: Ring
    read: str  # in the writing transaction
    write: str
    every: str
    delete: str


_TIP_LIMITS = _Table(
    "tip_limits", TIPS,
    "SELECT counts FROM tip_limits WHERE subject = ?",
    "INSERT INTO tip_limits (subject, counts) VALUES (?, ?)"
    " ON CONFLICT (subject) DO UPDATE SET counts = excluded.counts",
    "SELECT subject, counts FROM tip_limits",
    "DELETE FROM tip_limits WHERE subject = ? AND counts = ?",
)
_ATTEMPTS = _Table(
    "attempts", FAILURES,
    "SELECT counts FROM attempts WHERE subject = ?",
    "INSERT INTO attempts (subject, counts) VALUES (?, ?)"
    " ON CONFLICT (subject) DO UPDATE SET counts = excluded.counts",
    "SELECT subject, counts FROM attempts",
    "DELETE FROM attempts WHERE subject = ? AND counts = ?",
)
FIELD = "counts"


class RateLimits:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring

    def _tipper(self, user_id: int) -> bytes:
        return self._keyring.pseudonym(KeyPurpose.TIP_LIMIT, user_id)

    def _guesser(self, user_id: int, kind: str) -> bytes:
        return self._keyring.pseudonym(KeyPurpose.RATELIMIT, f"{kind}:{user_id}")

    async def recent_failures(self, user_id: int, kind: str, window_seconds: float) -> int:
        """Failures of this kind in about the last `window_seconds` (at most 10 minutes)."""
        subject = self._guesser(user_id, kind)
        row = await self._db.lookup_one("SELECT counts FROM attempts WHERE subject = ?",
                                        (subject,))
        plain = self._opened(_ATTEMPTS, subject, row["counts"] if row else None)
        return FAILURES.within(plain, time.time(), window_seconds)

    async def record_failure(self, user_id: int, kind: str, window_seconds: float) -> None:
        """Count one failure; `window_seconds` is the window it will be counted over (it must
        fit in what is kept: at most 10 minutes)."""
        if not 0 < window_seconds <= FAILURES.longest:
            raise ValueError(f"failures are kept {FAILURES.longest:.0f} s, not {window_seconds}")
        async with self._db.transaction():
            await self._count(_ATTEMPTS, self._guesser(user_id, kind))

    async def tips_today(self, user_id: int) -> int:
        """Tips this person sent in the last 24 hours (each counted until the end of its hour
        plus 24 hours)."""
        subject = self._tipper(user_id)
        row = await self._db.lookup_one("SELECT counts FROM tip_limits WHERE subject = ?",
                                        (subject,))
        plain = self._opened(_TIP_LIMITS, subject, row["counts"] if row else None)
        return TIPS.within(plain, time.time(), DAY)

    async def note_tip(self, user_id: int) -> None:
        """Count one tip; run it inside the transaction that stores the tip (else it runs in
        one of its own)."""
        if self._db.in_transaction:
            await self._count(_TIP_LIMITS, self._tipper(user_id))
            return
        async with self._db.transaction():
            await self._count(_TIP_LIMITS, self._tipper(user_id))

    async def expire(self) -> int:
        """Delete the rows whose counts have all left the window, and rows that do not open;
        returns how many. Every row is opened: none has a clear time to sweep by."""
        now = time.time()
        return await self._sweep(_TIP_LIMITS, now) + await self._sweep(_ATTEMPTS, now)

    async def _count(self, table: _Table, subject: bytes) -> None:
        """One more in `subject`'s row (read and written in the caller's transaction)."""
        row = await self._db.fetchone(table.read, (subject,))
        plain = self._opened(table, subject, row["counts"] if row else None)
        counts = table.ring.added(plain, time.time())
        sealed = self._keyring.encrypt(counts, table.name, bytes(subject).hex(), FIELD)
        await self._db.execute(table.write, (subject, sealed))

    async def _sweep(self, table: _Table, now: float) -> int:
        rows = await self._db.read_all(table.every)
        spent = []
        for row in rows:
            plain = self._opened(table, row["subject"], row["counts"])
            if plain is None or table.ring.spent(plain, now):
                spent.append((row["subject"], row["counts"]))
        if not spent:
            return 0
        gone = 0
        async with self._db.transaction():  # a row counted again since it was read stays
            for subject, sealed in spent:
                gone += (await self._db.execute(table.delete, (subject, sealed))).rowcount
        return gone

    def _opened(self, table: _Table, subject: bytes, sealed: bytes | None) -> bytes | None:
        """The counts of a row, or None for no row, or one that does not open (moved or
        altered: its counts are lost, which only a writer of the file can cause)."""
        if sealed is None:
            return None
        try:
            plain = self._keyring.decrypt(sealed, table.name, bytes(subject).hex(), FIELD)
        except DecryptionError:
            log.error("integrity check failed: a row of %s does not open; counted as empty",
                      table.name)
            return None
        if len(plain) != table.ring.size:
            log.error("integrity check failed: a row of %s has the wrong size", table.name)
            return None
        return plain
