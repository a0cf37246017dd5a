"""Officers and admins: who covers which areas, and whether Telegram lets the bot reach them.

Staff are not anonymous (they are police officers and Front cadres acting in their role), so
their Telegram ids and display names are kept in clear; that is what lets the bot deliver to
them. Nothing here ever refers to a resident.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.database import Database, utc_now

PENDING, REACHABLE, UNREACHABLE = "pending", "reachable", "unreachable"


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


class Staff:
    """Queries and changes of the staff tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> StaffMember | None:
        row = await self._db.fetchone("SELECT * FROM staff WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        areas = await self._db.fetchall(
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
    ) -> None:
        """Add an officer, or replace an existing one's areas (idempotent), in one transaction.

        `display_name` None keeps the current name (or a placeholder until their first message
        tells the bot their Telegram first name). `reachable` is True when the officer is
        writing to the bot right now (an invite link), so Telegram lets the bot answer.
        """
        async with self._db.transaction():
            await self._write_officer(user_id, areas, all_areas, display_name, reachable)

    async def _write_officer(
        self,
        user_id: int,
        areas: tuple[str, ...],
        all_areas: bool,
        display_name: str | None,
        reachable: bool,
    ) -> None:
        """The body of `upsert_officer`; the caller holds the transaction."""
        now = utc_now()
        existing = await self._db.fetchone(
            "SELECT display_name, name_given, reach FROM staff WHERE user_id = ?", (user_id,)
        )
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
        await self._db.execute("DELETE FROM staff_areas WHERE user_id = ?", (user_id,))
        await self._db.executemany(
            "INSERT INTO staff_areas (user_id, area) VALUES (?, ?)",
            [(user_id, area) for area in sorted(set(areas))],
        )

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

    async def reach_of(self, user_id: int) -> str | None:
        row = await self._db.fetchone("SELECT reach FROM staff WHERE user_id = ?", (user_id,))
        return row["reach"] if row else None

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
        """Admins to try: permanent ones and promoted ones, except those known unreachable.

        A permanent admin who has not written yet is tried anyway (a 403 then marks them).
        """
        rows = await self._db.fetchall(
            "SELECT user_id, reach, is_admin, active FROM staff"
        )
        known = {r["user_id"]: r for r in rows}
        result = set()
        for user_id in permanent:
            row = known.get(user_id)
            if row is None or row["reach"] != UNREACHABLE:
                result.add(user_id)
        for r in rows:
            if r["is_admin"] and r["active"] and r["reach"] != UNREACHABLE:
                result.add(r["user_id"])
        return sorted(result)

    async def set_active(self, user_id: int, active: bool) -> bool:
        result = await self._db.execute(
            "UPDATE staff SET active = ?, updated_at = ? WHERE user_id = ?",
            (int(active), utc_now(), user_id),
        )
        return result.rowcount > 0

    async def set_admin(self, user_id: int, admin: bool) -> bool:
        result = await self._db.execute(
            "UPDATE staff SET is_admin = ?, updated_at = ? WHERE user_id = ?",
            (int(admin), utc_now(), user_id),
        )
        return result.rowcount > 0

    async def set_areas(self, user_id: int, areas: tuple[str, ...], all_areas: bool) -> None:
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE staff SET all_areas = ?, updated_at = ? WHERE user_id = ?",
                (int(all_areas), utc_now(), user_id),
            )
            await self._db.execute("DELETE FROM staff_areas WHERE user_id = ?", (user_id,))
            await self._db.executemany(
                "INSERT INTO staff_areas (user_id, area) VALUES (?, ?)",
                [(user_id, a) for a in sorted(set(areas))],
            )

    async def officers_for_area(self, area: str | None) -> list[int]:
        """Active officers who cover `area` (its own and all-area officers), any reachability."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT s.user_id FROM staff s LEFT JOIN staff_areas a USING (user_id)"
            " WHERE s.is_officer = 1 AND s.active = 1 AND (s.all_areas = 1 OR a.area = ?)"
            " ORDER BY s.user_id",
            (area,),
        )
        return [r["user_id"] for r in rows]

    # --- pending actions (a reply being written, a transfer's agency) ----------------------

    async def begin_action(self, user_id: int, action: str, tip_id: int) -> None:
        await self._db.execute(
            "INSERT INTO staff_actions (user_id, action, tip_id, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET action = excluded.action,"
            " tip_id = excluded.tip_id, updated_at = excluded.updated_at",
            (user_id, action, tip_id, utc_now()),
        )

    async def pending_action(
        self, user_id: int, max_age: timedelta = timedelta(minutes=15)
    ) -> tuple[str, int] | None:
        """The action this staff member started, if it is recent; an old one is dropped.

        A reply started and forgotten must not capture what the same person writes much
        later, perhaps as a resident.
        """
        row = await self._db.fetchone(
            "SELECT action, tip_id, updated_at FROM staff_actions WHERE user_id = ?", (user_id,)
        )
        if row is None:
            return None
        if datetime.fromisoformat(row["updated_at"]) < datetime.now(UTC) - max_age:
            await self.end_action(user_id)
            return None
        return row["action"], row["tip_id"]

    async def end_action(self, user_id: int) -> bool:
        result = await self._db.execute("DELETE FROM staff_actions WHERE user_id = ?", (user_id,))
        return result.rowcount > 0

    # --- invites ------------------------------------------------------------------------------

    async def create_invite(
        self, token: str, *, areas: tuple[str, ...], all_areas: bool, created_by: int,
        valid_for: timedelta = timedelta(hours=72),
    ) -> None:
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

    async def redeem_invite(self, token: str, user_id: int, first_name: str) -> Invite | None:
        """Use an invite once, within its validity, registering `user_id` as an officer.

        Returns None for an unknown, used or expired token (all look the same to the user).
        """
        now = datetime.now(UTC).isoformat(timespec="seconds")
        async with self._db.transaction():
            row = await self._db.fetchone(
                "UPDATE invites SET used_by = ?, used_at = ?"
                " WHERE token_hash = ? AND used_by IS NULL AND expires_at > ?"
                " RETURNING areas, all_areas, created_by",
                (user_id, now, _token_hash(token), now),
            )
            if row is None:
                return None
            invite = Invite(
                tuple(json.loads(row["areas"])), bool(row["all_areas"]), row["created_by"]
            )
            await self._write_officer(
                user_id, invite.areas, invite.all_areas, display_name=None, reachable=True
            )
        await self.mark_seen(user_id, first_name)
        return invite


def _token_hash(token: str) -> bytes:
    """Invite tokens are 128 random bits, so a plain hash suffices to keep them out of the file."""
    return hashlib.sha256(token.encode()).digest()


def _member(row, areas: tuple[str, ...]) -> StaffMember:  # type: ignore[no-untyped-def]
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
