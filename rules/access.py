"""Who may do what: a user's role now, and the one rule of who may see a tip.

Below handlers and workers alike: a button press (handlers/) and a delivery (workers/) ask the
same question of the same code, so access ends for both at the same moment.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.services import Services
from storage.staff import StaffMember
from storage.tips import Tip


@dataclass(frozen=True)
class Role:
    """What a user may do right now: resident always; officer and admin from the database."""

    user_id: int
    is_officer: bool
    is_admin: bool
    is_permanent_admin: bool
    areas: frozenset[str]
    all_areas: bool

    def covers(self, area: str | None) -> bool:
        """May this user see and act on a tip of `area`? Admins see every area."""
        if self.is_admin or (self.is_officer and self.all_areas):
            return True
        return self.is_officer and area is not None and area in self.areas

    @property
    def is_staff(self) -> bool:
        return self.is_officer or self.is_admin


async def staff_role(services: Services, user_id: int) -> Role:
    """The role of `user_id` now, read from the database (usable outside a handler too)."""
    return role_from(services, user_id, await services.store.staff.get(user_id))


def role_from(services: Services, user_id: int, member: StaffMember | None) -> Role:
    """The role that `member` (the staff row of `user_id` just read, or None) gives."""
    return role_under(services.config.admin_ids, user_id, member)


def role_under(
    permanent_admins: Collection[int], user_id: int, member: StaffMember | None
) -> Role:
    """`role_from` where only the permanent admins (TIPBOT_ADMIN_IDS) are at hand: the one rule,
    also for a worker handed a store (a scheduled post checks its creator with it)."""
    permanent = user_id in permanent_admins
    if member is not None and not member.active:
        # Deactivated in /officers: no rights at once, even for an admin of TIPBOT_ADMIN_IDS
        # (a stolen phone is cut off without editing the settings and restarting; another
        # admin reactivates). The list said "deactivated" while the account kept every right.
        return Role(user_id, False, False, False, frozenset(), False)
    if member is None:
        return Role(user_id, False, permanent, permanent, frozenset(), False)
    return Role(
        user_id=user_id,
        is_officer=member.is_officer,
        is_admin=permanent or member.is_admin,
        is_permanent_admin=permanent,
        areas=frozenset(member.areas),
        all_areas=member.all_areas,
    )


async def may_see(services: Services, role: Role, tip: Tip) -> bool:
    """The one entitlement rule: may `role` see and act on `tip` now?

    An admin (permanent, or promoted and active); an active officer covering the tip's area
    (or all areas); or an active officer someone else handed the tip to personally, while that
    hand-over lasts (moving the tip to another area, changing the officer's areas or
    deactivating them ends it: see storage). Checked by every button and command, at send time
    by every delivery, and mirrored by the SQL of `/tips` (storage.tips.TipDesk.list_for), so
    access ends at once, old buttons included.
    """
    if not role.is_staff:
        return False
    if role.covers(tip.area):
        return True
    return role.is_officer and await services.store.desk.is_assigned(tip.tip_id, role.user_id)
