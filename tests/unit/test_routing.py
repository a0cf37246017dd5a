"""Tests of who gets a tip: the area's officers, else the all-area officers, else the admins."""

from __future__ import annotations

import pytest

from rules.routing import (
    ADMIN_TIER,
    ALL_AREAS_TIER,
    AREA_TIER,
    first_staffed_tier,
    plan_delivery,
)
from storage.store import Store
from storage.tips import Delivery

MASTER = bytes(range(32))

# --- first_staffed_tier (pure) ------------------------------------------------------------------


def test_the_areas_officers_get_the_tip_when_there_are_any() -> None:
    tiers = [(AREA_TIER, [11, 12]), (ALL_AREAS_TIER, [21]), (ADMIN_TIER, [31])]
    assert first_staffed_tier(tiers) == Delivery(AREA_TIER, (11, 12))


def test_an_empty_tier_passes_the_tip_to_the_next() -> None:
    tiers = [(AREA_TIER, []), (ALL_AREAS_TIER, []), (ADMIN_TIER, [31, 32])]
    assert first_staffed_tier(tiers) == Delivery(ADMIN_TIER, (31, 32))


def test_excluded_recipients_are_skipped() -> None:
    tiers = [(AREA_TIER, [11, 12]), (ALL_AREAS_TIER, [21])]
    assert first_staffed_tier(tiers, frozenset({11})) == Delivery(AREA_TIER, (12,))


def test_a_tier_whose_recipients_are_all_excluded_passes_to_the_next() -> None:
    tiers = [(AREA_TIER, [11, 12]), (ALL_AREAS_TIER, [21, 11])]
    assert first_staffed_tier(tiers, frozenset({11, 12})) == Delivery(ALL_AREAS_TIER, (21,))


def test_someone_in_two_tiers_or_listed_twice_gets_it_once() -> None:
    tiers = [(AREA_TIER, [12, 11, 12, 11]), (ALL_AREAS_TIER, [11])]
    assert first_staffed_tier(tiers) == Delivery(AREA_TIER, (12, 11))  # first-seen order


@pytest.mark.parametrize(
    "tiers",
    [
        [],
        [(AREA_TIER, []), (ALL_AREAS_TIER, []), (ADMIN_TIER, [])],
    ],
)
def test_nobody_means_none(tiers: list[tuple[int, list[int]]]) -> None:
    assert first_staffed_tier(tiers) is None


def test_everybody_excluded_means_none() -> None:
    tiers = [(AREA_TIER, [11]), (ADMIN_TIER, [31])]
    assert first_staffed_tier(tiers, frozenset({11, 31})) is None


def test_any_iterables_are_accepted() -> None:
    tiers = ((tier, iter(ids)) for tier, ids in [(AREA_TIER, []), (ADMIN_TIER, (31, 31))])
    assert first_staffed_tier(tiers) == Delivery(ADMIN_TIER, (31,))


def test_tiers_are_tried_in_the_order_given() -> None:
    assert first_staffed_tier([(ADMIN_TIER, [31]), (AREA_TIER, [11])]) == Delivery(
        ADMIN_TIER, (31,)
    )


# --- plan_delivery against the staff tables -----------------------------------------------------


async def add_officer(
    store: Store, user_id: int, *areas: str, all_areas: bool = False, reachable: bool = True
) -> None:
    await store.staff.upsert_officer(
        user_id, areas=areas, all_areas=all_areas, display_name=None, reachable=reachable
    )


async def test_a_tip_goes_to_every_reachable_officer_of_its_area(store: Store) -> None:
    await add_officer(store, 11, "hong-van")
    await add_officer(store, 12, "hong-van", "a-ngo")
    await add_officer(store, 13, "a-ngo")
    await add_officer(store, 21, all_areas=True)
    assert await plan_delivery(store, "hong-van", frozenset({31})) == Delivery(AREA_TIER, (11, 12))


async def test_officers_who_never_opened_the_bot_are_skipped(store: Store) -> None:
    await add_officer(store, 11, "hong-van", reachable=False)
    await add_officer(store, 21, all_areas=True)
    assert await plan_delivery(store, "hong-van", frozenset()) == Delivery(ALL_AREAS_TIER, (21,))


async def test_blocked_officers_are_skipped_until_they_write_again(store: Store) -> None:
    await add_officer(store, 11, "hong-van")
    await store.staff.mark_unreachable(11)
    assert await plan_delivery(store, "hong-van", frozenset({31})) == Delivery(ADMIN_TIER, (31,))
    await store.staff.mark_seen(11, "Lan")
    assert await plan_delivery(store, "hong-van", frozenset({31})) == Delivery(AREA_TIER, (11,))


async def test_not_sure_of_the_area_goes_to_the_all_area_officers(store: Store) -> None:
    await add_officer(store, 11, "hong-van")
    await add_officer(store, 21, all_areas=True)
    assert await plan_delivery(store, None, frozenset()) == Delivery(ALL_AREAS_TIER, (21,))


async def test_with_no_officer_the_permanent_admins_get_it_even_before_they_write(
    store: Store,
) -> None:
    assert await plan_delivery(store, "a-ngo", frozenset({31, 32})) == Delivery(
        ADMIN_TIER, (31, 32)
    )


async def test_an_unreachable_admin_is_not_tried(store: Store) -> None:
    await store.staff.ensure_admin_row(31, "Admin")
    await store.staff.mark_unreachable(31)
    assert await plan_delivery(store, "a-ngo", frozenset({31, 32})) == Delivery(ADMIN_TIER, (32,))


async def test_a_deactivated_permanent_admin_is_neither_a_target_nor_staff(store: Store) -> None:
    """A stolen phone of a TIPBOT_ADMIN_IDS admin, deactivated in /officers: no tip, no monthly
    review (workers/monthly_review sends to `admins()`), and the line is not staffed by it."""
    await store.staff.ensure_admin_row(31, "Admin")
    await store.staff.ensure_admin_row(32, "Stolen")
    await store.staff.set_active(32, False)
    assert await store.staff.admins(frozenset({31, 32})) == [31]
    assert await plan_delivery(store, "a-ngo", frozenset({31, 32})) == Delivery(ADMIN_TIER, (31,))
    assert await store.staff.admins(frozenset({32})) == []
    assert await plan_delivery(store, "a-ngo", frozenset({32})) is None
    await store.staff.set_active(32, True)
    assert await store.staff.admins(frozenset({32})) == [32]


async def test_an_unstaffed_line_has_nobody(store: Store) -> None:
    assert await plan_delivery(store, "a-ngo", frozenset()) is None


async def test_routing_again_starts_after_the_tier_already_tried(store: Store) -> None:
    await add_officer(store, 11, "hong-van")
    await add_officer(store, 21, all_areas=True)
    planned = await plan_delivery(store, "hong-van", frozenset({31}), after_tier=AREA_TIER)
    assert planned == Delivery(ALL_AREAS_TIER, (21,))
    planned = await plan_delivery(store, "hong-van", frozenset({31}), after_tier=ALL_AREAS_TIER)
    assert planned == Delivery(ADMIN_TIER, (31,))
    assert await plan_delivery(store, "hong-van", frozenset({31}), after_tier=ADMIN_TIER) is None


async def test_routing_can_exclude_those_already_tried(store: Store) -> None:
    await add_officer(store, 11, "hong-van")
    await add_officer(store, 12, "hong-van")
    planned = await plan_delivery(store, "hong-van", frozenset({31}), exclude=frozenset({11, 12}))
    assert planned == Delivery(ADMIN_TIER, (31,))
