"""Who gets a tip: the area's officers, else the all-area officers, else the admins.

The next tier is used only when nobody of the current tier can be reached; a tier counts as
"can be reached" when it has at least one active officer who has written to the bot and has not
since blocked it. Admins are tried even before they first write (a 403 then marks them).
"""

from __future__ import annotations

from collections.abc import Iterable

from storage.store import Store
from storage.tips import Delivery

AREA_TIER, ALL_AREAS_TIER, ADMIN_TIER = 1, 2, 3


def first_staffed_tier(
    tiers: Iterable[tuple[int, Iterable[int]]], exclude: frozenset[int] = frozenset()
) -> Delivery | None:
    """The first tier with a recipient not in `exclude`; pure, so routing is unit-tested."""
    for tier, recipients in tiers:
        chosen = tuple(r for r in dict.fromkeys(recipients) if r not in exclude)
        if chosen:
            return Delivery(tier, chosen)
    return None


async def plan_delivery(
    store: Store,
    area: str | None,
    admin_ids: frozenset[int],
    *,
    after_tier: int = 0,
    exclude: frozenset[int] = frozenset(),
) -> Delivery | None:
    """The tier and recipients for a tip of `area`, starting after `after_tier`."""
    tiers: list[tuple[int, list[int]]] = []
    if after_tier < AREA_TIER and area is not None:
        tiers.append((AREA_TIER, await store.staff.officers_of_area(area)))
    if after_tier < ALL_AREAS_TIER:
        tiers.append((ALL_AREAS_TIER, await store.staff.all_area_officers()))
    if after_tier < ADMIN_TIER:
        tiers.append((ADMIN_TIER, await store.staff.admins(admin_ids)))
    return first_staffed_tier(tiers, exclude)
