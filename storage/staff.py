"""Officers and admins: who covers which areas, and whether Telegram lets the bot reach them.

Staff are not anonymous (they are police officers and Front cadres acting in their role), so
their Telegram ids and display names are kept in clear; that is what lets the bot deliver to
them. Nothing here ever refers to a resident.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.broadcasts import stop_broadcasts_of
from storage.database import Database, utc_now

PENDING, REACHABLE, UNREACHABLE = "pending", "reachable", "unreachable"

# What opening an invite link did (see `Staff.redeem_invite`).
REGISTERED = "registered"
INVALID = "invalid"
ALREADY_STAFF = "already_staff"
INACTIVE_STAFF = "inactive_staff"


@dataclass(frozen=True)
class StaffMember:
    user_id: int
    display_name: str
    is_officer: bool
    is_admin: bool
    all_areas: bool
    active: bool
    reach: str
    areas: tuple[str, ...]


@dataclass(frozen=True)
class Invite:
    areas: tuple[str, ...]
    all_areas: bool
    created_by: int
    key: int = 0  # see OpenInvite.key


@dataclass(frozen=True)
class Redemption:
    """The outcome of opening an invite link; `invite` only when it registered someone."""

    outcome: str
    invite: Invite | None = None


@dataclass(frozen=True)
class OpenInvite:
    """An invite that would still register someone now, as /invite lists it.

    `key` names it in button data: the first 8 bytes of the token's hash (the token itself is
    never stored, and a hash prefix says nothing about it).
    """

    key: int
    areas: tuple[str, ...]
    all_areas: bool
    created_by: int
    creator_name: str
    expires_at: str


@dataclass(frozen=True)
class AccessEnded:
    """What a change of a staff member ended with it: their open invites, their hand-overs,
    the schedules they made (paused, for another admin to take over in /schedules), and the
    broadcasts they answer for that were still being sent (stopped: their messages not yet
    sent are cancelled; those already delivered cannot be taken back)."""

    found: bool
    invites: int = 0
    handovers: int = 0
    schedules: int = 0
    broadcasts: tuple[int, ...] = ()


@contextlib.asynccontextmanager
async def atomic(db: Database) -> AsyncIterator[None]:
    """Join the caller's transaction when one is open, else open one: every caller of a
    change gets all of it or none of it."""
    if db.in_transaction:
        yield
        return
    async with db.transaction():
        yield


# An invite registers someone only while it is unused, not ended, not expired, and its creator
# is an admin now (permanent and not deactivated, or promoted and active). That clause is
# written out in full in each statement marked `# LIVE` (parameters: now, the permanent admins
# as JSON), so SQL text is never assembled at run time.


class Staff:
    """Queries and changes of the staff tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> StaffMember | None:
        row = await self._db.lookup_one("SELECT * FROM staff WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        areas = await self._db.lookup(
            "SELECT area FROM staff_areas WHERE user_id = ? ORDER BY area", (user_id,)
        )
        return _member(row, tuple(a["area"] for a in areas))

    async def all(self) -> list[StaffMember]:
        rows = await self._db.fetchall("SELECT * FROM staff ORDER BY created_at, user_id")
        area_rows = await self._db.fetchall("SELECT user_id, area FROM staff_areas ORDER BY area")
        by_user: dict[int, list[str]] = {}
        for a in area_rows:
            by_user.setdefault(a["user_id"], []).append(a["area"])
        return [_member(r, tuple(by_user.get(r["user_id"], ()))) for r in rows]

    async def upsert_officer(
        self,
        user_id: int,
        *,
        areas: tuple[str, ...],
        all_areas: bool,
        display_name: str | None,
        reachable: bool = False,
    ) -> int:
        """Add an officer, or replace an existing one's areas (idempotent), in one transaction.

        `display_name` None keeps the current name (or a placeholder until their first message
        tells the bot their Telegram first name). `reachable` is True when the officer is
        writing to the bot right now, so Telegram lets the bot answer. This is the operator's
        path (`officers add`): it makes the person an active officer. When their areas change,
        their hand-overs of tips outside the new areas end at once; returns how many ended.
        """
        async with atomic(self._db):
            return await self._write_officer(user_id, areas, all_areas, display_name, reachable)

    async def _write_officer(
        self,
        user_id: int,
        areas: tuple[str, ...],
        all_areas: bool,
        display_name: str | None,
        reachable: bool,
    ) -> int:
        """The body of `upsert_officer`; the caller holds the transaction."""
        now = utc_now()
        existing = await self._db.fetchone(
            "SELECT display_name, name_given, reach, all_areas FROM staff WHERE user_id = ?",
            (user_id,),
        )
        before = await self._areas_of(user_id) if existing else None
        name = display_name or (existing["display_name"] if existing else f"#{user_id}")
        name_given = 1 if display_name else (existing["name_given"] if existing else 0)
        reach = REACHABLE if reachable else (existing["reach"] if existing else PENDING)
        await self._db.execute(
            "INSERT INTO staff (user_id, display_name, is_officer, all_areas, active, reach,"
            " name_given, created_at, updated_at) VALUES (?, ?, 1, ?, 1, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,"
            " is_officer = 1, all_areas = excluded.all_areas, active = 1,"
            " reach = excluded.reach, name_given = excluded.name_given,"
            " updated_at = excluded.updated_at",
            (user_id, name, int(all_areas), reach, name_given, now, now),
        )
        await self._replace_areas(user_id, areas)
        if existing is None or (bool(existing["all_areas"]), before) == (
            all_areas, frozenset(areas)
        ):
            return 0
        return await self._end_handovers_outside(user_id, areas, all_areas)

    async def _areas_of(self, user_id: int) -> frozenset[str]:
        rows = await self._db.fetchall(
            "SELECT area FROM staff_areas WHERE user_id = ?", (user_id,)
        )
        return frozenset(r["area"] for r in rows)

    async def _replace_areas(self, user_id: int, areas: Iterable[str]) -> None:
        await self._db.execute("DELETE FROM staff_areas WHERE user_id = ?", (user_id,))
        await self._db.executemany(
            "INSERT INTO staff_areas (user_id, area) VALUES (?, ?)",
            [(user_id, area) for area in sorted(set(areas))],
        )

    async def _end_handovers_outside(
        self, user_id: int, areas: Iterable[str], all_areas: bool
    ) -> int:
        """End `user_id`'s hand-overs of tips outside `areas` (a tip of no area is outside)."""
        if all_areas:
            return 0
        result = await self._db.execute(
            "DELETE FROM tip_assignees WHERE staff_id = ? AND tip_id IN ("
            " SELECT tip_id FROM tips WHERE area IS NULL"
            "  OR area NOT IN (SELECT value FROM json_each(?)))",
            (user_id, json.dumps(sorted(set(areas)))),
        )
        return result.rowcount

    async def _end_invites_of(self, creator: int, reason: str) -> int:
        """The creator was deactivated or demoted: their open invites die (for good)."""
        result = await self._db.execute(
            "UPDATE invites SET ended_at = ?, end_reason = ?"
            " WHERE created_by = ? AND used_by IS NULL AND ended_at IS NULL",
            (utc_now(), reason, creator),
        )
        return result.rowcount

    async def _pause_schedules_of(self, creator: int) -> int:
        """The creator was deactivated or demoted: their active schedules are paused (kept, so
        that another admin can see and take them over; the scheduler also refuses to post for
        a creator who is no longer an admin, see workers/scheduler.py)."""
        result = await self._db.execute(
            "UPDATE schedules SET active = 0 WHERE created_by = ? AND active = 1", (creator,)
        )
        return result.rowcount

    async def ensure_admin_row(self, user_id: int, first_name: str) -> bool:
        """A permanent admin who writes gets a row (name, reachability), not officer rights.

        True when the row is new (their first message to the bot).
        """
        now = utc_now()
        result = await self._db.execute(
            "INSERT INTO staff (user_id, display_name, reach, created_at, updated_at)"
            " VALUES (?, ?, 'reachable', ?, ?) ON CONFLICT (user_id) DO NOTHING",
            (user_id, first_name[:64] or f"#{user_id}", now, now),
        )
        return result.rowcount > 0

    async def mark_seen(self, user_id: int, first_name: str) -> bool:
        """The staff member wrote to the bot: reachable again. True if that changed anything.

        Runs for every update, residents' included: a primary-key read answers most of them
        (not staff, or nothing to change) without taking SQLite's write lock.
        """
        row = await self._db.fetchone(
            "SELECT reach, name_given, display_name FROM staff WHERE user_id = ?", (user_id,)
        )
        name = first_name[:64] or f"#{user_id}"
        if row is None or (
            row["reach"] == REACHABLE and (row["name_given"] or row["display_name"] == name)
        ):
            return False
        result = await self._db.execute(
            "UPDATE staff SET reach = 'reachable',"
            " display_name = CASE WHEN name_given = 1 THEN display_name ELSE ? END,"
            " updated_at = ?"
            " WHERE user_id = ? AND (reach <> 'reachable'"
            "  OR (name_given = 0 AND display_name <> ?))",
            (first_name[:64] or f"#{user_id}", utc_now(), user_id, first_name[:64]),
        )
        return result.rowcount > 0

    async def mark_unreachable(self, user_id: int) -> None:
        await self._db.execute(
            "UPDATE staff SET reach = 'unreachable', updated_at = ? WHERE user_id = ?",
            (utc_now(), user_id),
        )

    async def officers_of_area(self, area: str) -> list[int]:
        """Active officers assigned to `area` itself (tier 1), reachable or not yet known."""
        rows = await self._db.fetchall(
            "SELECT s.user_id, s.reach FROM staff s JOIN staff_areas a USING (user_id)"
            " WHERE a.area = ? AND s.is_officer = 1 AND s.active = 1 AND s.all_areas = 0"
            " ORDER BY s.user_id",
            (area,),
        )
        return [r["user_id"] for r in rows if r["reach"] == REACHABLE]

    async def any_reachable_officer(self) -> bool:
        row = await self._db.fetchone(
            "SELECT 1 FROM staff WHERE is_officer = 1 AND active = 1 AND reach = 'reachable'"
            " LIMIT 1"
        )
        return row is not None

    async def all_area_officers(self) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT user_id FROM staff WHERE is_officer = 1 AND active = 1 AND all_areas = 1"
            " AND reach = 'reachable' ORDER BY user_id"
        )
        return [r["user_id"] for r in rows]

    async def admins(self, permanent: frozenset[int]) -> list[int]:
        """Admins to try: permanent ones and promoted ones, except those known unreachable
        and those deactivated in /officers (a permanent admin too: a stolen phone gets no tip,
        no monthly review, and does not count as staffing the line).

        A permanent admin who has not written yet is tried anyway (a 403 then marks them).
        """
        rows = await self._db.fetchall(
            "SELECT user_id, reach, is_admin, active FROM staff"
        )
        known = {r["user_id"]: r for r in rows}
        result = set()
        for user_id in permanent:
            row = known.get(user_id)
            if row is None or (row["reach"] != UNREACHABLE and row["active"]):
                result.add(user_id)
        for r in rows:
            if r["is_admin"] and r["active"] and r["reach"] != UNREACHABLE:
                result.add(r["user_id"])
        return sorted(result)

    async def set_active(self, user_id: int, active: bool) -> AccessEnded:
        """Deactivate or reactivate. Deactivating ends, in the same transaction, every
        hand-over to them and every open invite they made, pauses their schedules and stops
        their broadcasts still being sent (a stolen phone's message to every subscriber goes
        no further once the change commits); reactivating restores none of them."""
        async with atomic(self._db):
            result = await self._db.execute(
                "UPDATE staff SET active = ?, updated_at = ? WHERE user_id = ?",
                (int(active), utc_now(), user_id),
            )
            if result.rowcount == 0:
                return AccessEnded(False)
            if active:
                return AccessEnded(True)
            invites = await self._end_invites_of(user_id, "creator_deactivated")
            handovers = await self._db.execute(
                "DELETE FROM tip_assignees WHERE staff_id = ?", (user_id,)
            )
            schedules = await self._pause_schedules_of(user_id)
            broadcasts = await stop_broadcasts_of(self._db, user_id)
            return AccessEnded(True, invites, handovers.rowcount, schedules, tuple(broadcasts))

    async def set_admin(self, user_id: int, admin: bool) -> AccessEnded:
        """Promote or demote. Demoting ends the open invites they made, pauses their schedules
        and stops their broadcasts still being sent, in the same transaction (an invite lives,
        a schedule posts and a broadcast goes on only while its creator is an admin). The
        caller never demotes a permanent admin (they stay one)."""
        async with atomic(self._db):
            result = await self._db.execute(
                "UPDATE staff SET is_admin = ?, updated_at = ? WHERE user_id = ?",
                (int(admin), utc_now(), user_id),
            )
            if result.rowcount == 0:
                return AccessEnded(False)
            if admin:
                return AccessEnded(True)
            invites = await self._end_invites_of(user_id, "creator_demoted")
            schedules = await self._pause_schedules_of(user_id)
            broadcasts = await stop_broadcasts_of(self._db, user_id)
            return AccessEnded(True, invites, 0, schedules, tuple(broadcasts))

    async def set_areas(self, user_id: int, areas: tuple[str, ...], all_areas: bool) -> int:
        """Replace an officer's areas. When they change, the officer's hand-overs of tips
        outside the new areas end in the same transaction; returns how many ended."""
        async with atomic(self._db):
            existing = await self._db.fetchone(
                "SELECT all_areas FROM staff WHERE user_id = ?", (user_id,)
            )
            if existing is None:
                return 0
            before = (bool(existing["all_areas"]), await self._areas_of(user_id))
            await self._db.execute(
                "UPDATE staff SET all_areas = ?, updated_at = ? WHERE user_id = ?",
                (int(all_areas), utc_now(), user_id),
            )
            await self._replace_areas(user_id, areas)
            if before == (all_areas, frozenset(areas)):
                return 0
            return await self._end_handovers_outside(user_id, areas, all_areas)


    # --- invites ------------------------------------------------------------------------------

    async def create_invite(
        self, token: str, *, areas: tuple[str, ...], all_areas: bool, created_by: int,
        valid_for: timedelta = timedelta(hours=72),
    ) -> int:
        """Store a new invite (only the token's hash); returns its key (see OpenInvite.key)."""
        now = datetime.now(UTC)
        await self._db.execute(
            "INSERT INTO invites (token_hash, areas, all_areas, created_by, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                _token_hash(token),
                json.dumps(sorted(areas)),
                int(all_areas),
                created_by,
                now.isoformat(timespec="seconds"),
                (now + valid_for).isoformat(timespec="seconds"),
            ),
        )
        return invite_key(_token_hash(token))

    async def redeem_invite(
        self, token: str, user_id: int, first_name: str, *, permanent_admins: Iterable[int]
    ) -> Redemption:
        """Open an invite link: register `user_id` as an officer of the invite's areas, once.

        An invite never changes an existing staff row, active or not: a deactivated member
        stays deactivated (INACTIVE_STAFF), an officer or admin stays as they are
        (ALREADY_STAFF), and the invite stays unused for the newcomer it was made for (the
        token is not even looked at, so these answers say nothing about it). Otherwise an
        unknown, used, expired, revoked or dead invite (its creator no longer an admin) is
        INVALID, all alike. A newcomer gets officer rights only, never admin ones.
        """
        permanent = frozenset(permanent_admins)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        async with self._db.transaction():
            member = await self._db.fetchone(
                "SELECT is_officer, is_admin, active FROM staff WHERE user_id = ?", (user_id,)
            )
            if user_id in permanent or (
                member is not None and member["active"]
                and (member["is_officer"] or member["is_admin"])
            ):
                return Redemption(ALREADY_STAFF)
            if member is not None:
                return Redemption(INACTIVE_STAFF)
            row = await self._db.fetchone(
                "UPDATE invites SET used_by = ?, used_at = ?"
                " WHERE token_hash = ? AND"  # LIVE
                " invites.used_by IS NULL AND invites.ended_at IS NULL AND invites.expires_at > ?"
                " AND ((invites.created_by IN (SELECT value FROM json_each(?))"
                "  AND NOT EXISTS (SELECT 1 FROM staff d WHERE d.user_id = invites.created_by"
                "   AND d.active = 0))"
                "  OR EXISTS (SELECT 1 FROM staff c WHERE c.user_id = invites.created_by"
                "   AND c.is_admin = 1 AND c.active = 1))"
                " RETURNING areas, all_areas, created_by",
                (user_id, now, _token_hash(token), now, json.dumps(sorted(permanent))),
            )
            if row is None:
                return Redemption(INVALID)
            invite = Invite(
                tuple(json.loads(row["areas"])), bool(row["all_areas"]), row["created_by"],
                invite_key(_token_hash(token)),
            )
            await self._db.execute(
                "INSERT INTO staff (user_id, display_name, is_officer, all_areas, active, reach,"
                " name_given, created_at, updated_at)"
                " VALUES (?, ?, 1, ?, 1, 'reachable', 0, ?, ?)",
                (user_id, first_name[:64] or f"#{user_id}", int(invite.all_areas), now, now),
            )
            await self._replace_areas(user_id, invite.areas)
        return Redemption(REGISTERED, invite)

    async def open_invites(
        self, permanent_admins: Iterable[int], *, limit: int = 20
    ) -> tuple[list[OpenInvite], int]:
        """Invites that would register someone now, newest first (at most `limit`), and how
        many there are in all."""
        params = (utc_now(), json.dumps(sorted(set(permanent_admins))))
        total = await self._db.fetchone(
            "SELECT count(*) AS n FROM invites WHERE"  # LIVE
            " invites.used_by IS NULL AND invites.ended_at IS NULL AND invites.expires_at > ?"
            " AND ((invites.created_by IN (SELECT value FROM json_each(?))"
            "  AND NOT EXISTS (SELECT 1 FROM staff d WHERE d.user_id = invites.created_by"
            "   AND d.active = 0))"
            "  OR EXISTS (SELECT 1 FROM staff c WHERE c.user_id = invites.created_by"
            "   AND c.is_admin = 1 AND c.active = 1))",
            params,
        )
        rows = await self._db.fetchall(
            "SELECT invites.*, s.display_name FROM invites"
            " LEFT JOIN staff s ON s.user_id = invites.created_by WHERE"  # LIVE
            " invites.used_by IS NULL AND invites.ended_at IS NULL AND invites.expires_at > ?"
            " AND ((invites.created_by IN (SELECT value FROM json_each(?))"
            "  AND NOT EXISTS (SELECT 1 FROM staff d WHERE d.user_id = invites.created_by"
            "   AND d.active = 0))"
            "  OR EXISTS (SELECT 1 FROM staff c WHERE c.user_id = invites.created_by"
            "   AND c.is_admin = 1 AND c.active = 1))"
            " ORDER BY invites.created_at DESC, invites.token_hash LIMIT ?",
            (*params, limit),
        )
        return [_open_invite(r) for r in rows], int(total["n"]) if total else 0

    async def revoke_invite(
        self, key: int, *, by: int, permanent_admins: Iterable[int]
    ) -> OpenInvite | None:
        """End the open invite named `key` (see `OpenInvite.key`); None if none is open."""
        if not 0 <= key < 1 << 64:
            return None
        now = utc_now()
        async with atomic(self._db):
            row = await self._db.fetchone(
                "UPDATE invites SET ended_at = ?, ended_by = ?, end_reason = 'revoked'"
                " WHERE substr(token_hash, 1, 8) = ? AND"  # LIVE
                " invites.used_by IS NULL AND invites.ended_at IS NULL AND invites.expires_at > ?"
                " AND ((invites.created_by IN (SELECT value FROM json_each(?))"
                "  AND NOT EXISTS (SELECT 1 FROM staff d WHERE d.user_id = invites.created_by"
                "   AND d.active = 0))"
                "  OR EXISTS (SELECT 1 FROM staff c WHERE c.user_id = invites.created_by"
                "   AND c.is_admin = 1 AND c.active = 1))"
                " RETURNING *",
                (now, by, key.to_bytes(8, "big"), now,
                 json.dumps(sorted(set(permanent_admins)))),
            )
            if row is None:
                return None
            creator = await self._db.fetchone(
                "SELECT display_name FROM staff WHERE user_id = ?", (row["created_by"],)
            )
        return _open_invite(row, creator["display_name"] if creator else None)


def invite_key(token_hash: bytes) -> int:
    """An invite's name in button data and the audit log: its hash's first 8 bytes."""
    return int.from_bytes(token_hash[:8], "big")


def _token_hash(token: str) -> bytes:
    """Invite tokens are 128 random bits, so a plain hash suffices to keep them out of the file."""
    return hashlib.sha256(token.encode()).digest()


def _open_invite(row: sqlite3.Row, creator_name: str | None = None) -> OpenInvite:
    columns = row.keys()  # a sqlite3.Row: `in row` would search its values
    if creator_name is None and "display_name" in columns:
        creator_name = row["display_name"]
    name = creator_name
    return OpenInvite(
        key=invite_key(row["token_hash"]),
        areas=tuple(json.loads(row["areas"])),
        all_areas=bool(row["all_areas"]),
        created_by=row["created_by"],
        creator_name=name or f"#{row['created_by']}",
        expires_at=row["expires_at"],
    )


def _member(row: sqlite3.Row, areas: tuple[str, ...]) -> StaffMember:
    return StaffMember(
        user_id=row["user_id"],
        display_name=row["display_name"],
        is_officer=bool(row["is_officer"]),
        is_admin=bool(row["is_admin"]),
        all_areas=bool(row["all_areas"]),
        active=bool(row["active"]),
        reach=row["reach"],
        areas=areas,
    )
