"""Storage side of "access ends when it should": who may see a tip (may_see and the SQL of
/tips agree), which changes end hand-overs and invites, and the cleanup of migration 0005."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from handlers.officer.desk import _scope
from rules.access import may_see, staff_role
from storage.database import load_migrations, open_database
from storage.staff import ALREADY_STAFF, INACTIVE_STAFF, INVALID, REGISTERED
from storage.store import Store
from storage.tips import OPEN_STATUSES, Delivery, NewTip

MASTER = bytes(range(32))
PERMANENT = frozenset({90})


def _services(store: Store):  # type: ignore[no-untyped-def]
    return SimpleNamespace(config=SimpleNamespace(admin_ids=PERMANENT), store=store)


async def _tip(store: Store, area: str | None, status: str = "new") -> int:
    async with store.db.transaction():
        tip, _code = await store.tips.insert(
            NewTip("drugs", area, False, {"text": "…"}), Delivery(1, ())
        )
    if status != "new":
        await store.desk.set_status(tip.tip_id, status)
    return tip.tip_id


async def _officer(store: Store, user_id: int, *areas: str, all_areas: bool = False) -> None:
    await store.staff.upsert_officer(
        user_id, areas=areas, all_areas=all_areas, display_name=f"O{user_id}", reachable=True
    )


async def _handovers(store: Store) -> set[tuple[int, int]]:
    rows = await store.db.fetchall("SELECT tip_id, staff_id FROM tip_assignees")
    return {(r["tip_id"], r["staff_id"]) for r in rows}


async def test_the_sql_of_tips_agrees_with_may_see_for_every_kind_of_staff(store: Store) -> None:
    services = _services(store)
    await _officer(store, 1, "hong-van")
    await _officer(store, 2, "a-ngo", "hong-van")
    await _officer(store, 3, all_areas=True)
    await _officer(store, 4, "a-roang")  # deactivated below, with a stale hand-over
    await _officer(store, 5, "a-luoi")  # promoted admin
    await _officer(store, 6, "a-luoi")  # promoted admin, then deactivated
    await store.staff.ensure_admin_row(90, "Permanent")
    await store.staff.ensure_admin_row(91, "Former permanent")  # a row with no role
    tips = [
        await _tip(store, area, status)
        for area in ("hong-van", "a-ngo", "a-roang", "a-luoi", None)
        for status in ("new", "verifying", "resolved")
    ]
    await store.staff.set_admin(5, True)
    await store.staff.set_admin(6, True)
    await store.staff.set_active(4, False)
    await store.staff.set_active(6, False)
    for tip_id in tips[6:9] + tips[12:]:  # a-roang and no-area tips handed to 1
        await store.desk.assign(tip_id, 1, given_by=2)
    # Rows a hand-over should never have, written as old data could hold them.
    for staff_id in (4, 6, 91, 90):
        await store.db.execute(
            "INSERT INTO tip_assignees (tip_id, staff_id) VALUES (?, ?)", (tips[9], staff_id)
        )
    for staff_id in (1, 2, 3, 4, 5, 6, 90, 91, 99):
        role = await staff_role(services, staff_id)
        for status in (None, *OPEN_STATUSES, "resolved"):
            listed, total = await store.desk.list_for(
                _scope(role), status=status, limit=100, offset=0
            )
            wanted = {status} if status else set(OPEN_STATUSES)
            expected = set()
            for tip_id in tips:
                tip = await store.tips.by_id(tip_id)
                assert tip is not None
                if tip.status in wanted and await may_see(services, role, tip):
                    expected.add(tip_id)
            if not role.is_staff:
                assert not expected  # /tips refuses them before any SQL
                continue
            assert {s.tip_id for s in listed} == expected, (staff_id, status)
            assert total == len(expected)
    role = await staff_role(services, 1)
    listed, _ = await store.desk.list_for(_scope(role), status=None, limit=100, offset=0)
    assert {s.tip_id for s in listed} == {tips[0], tips[1], tips[6], tips[7], tips[12], tips[13]}


async def test_changes_that_end_hand_overs(store: Store) -> None:
    await _officer(store, 1, "hong-van")
    await _officer(store, 2, "a-ngo")
    await _officer(store, 3, "a-roang")
    in_hong_van, in_a_ngo, nowhere = (
        await _tip(store, "hong-van"), await _tip(store, "a-ngo"), await _tip(store, None)
    )
    with pytest.raises(ValueError):
        await store.desk.assign(in_a_ngo, 1, given_by=1)
    for tip_id in (in_hong_van, in_a_ngo, nowhere):
        await store.desk.assign(tip_id, 3, given_by=1)
    await store.desk.assign(in_a_ngo, 1, given_by=2)

    # The same areas again (`officers add` run twice, /officers saved unchanged): nothing ends.
    assert await store.staff.set_areas(3, ("a-roang",), False) == 0
    await _officer(store, 3, "a-roang")
    assert len(await _handovers(store)) == 4
    # New areas: hand-overs of tips outside them end (a tip of no area is outside any).
    assert await store.staff.set_areas(3, ("hong-van", "a-roang"), False) == 2
    assert await _handovers(store) == {(in_hong_van, 3), (in_a_ngo, 1)}
    await store.desk.assign(nowhere, 3, given_by=1)
    assert await store.staff.upsert_officer(
        3, areas=("a-luoi",), all_areas=False, display_name=None
    ) == 2
    assert await _handovers(store) == {(in_a_ngo, 1)}
    # All areas: nothing is outside them.
    await store.desk.assign(nowhere, 3, given_by=1)
    assert await store.staff.set_areas(3, (), True) == 0
    # A move ends every hand-over of the tip; deactivating ends every hand-over to them.
    assert await store.desk.move_to_area(in_a_ngo, "a-luoi") == 1
    assert await _handovers(store) == {(nowhere, 3)}
    ended = await store.staff.set_active(3, False)
    assert (ended.found, ended.handovers) == (True, 1)
    assert await _handovers(store) == set()
    assert (await store.staff.set_active(404, False)).found is False


async def test_a_self_hand_over_is_refused_by_the_database_too(store: Store) -> None:
    await _officer(store, 1, "hong-van")
    tip_id = await _tip(store, "a-ngo")
    with pytest.raises(Exception, match=r"(?i)check"):
        await store.db.execute(
            "INSERT INTO tip_assignees (tip_id, staff_id, given_by) VALUES (?, 1, 1)", (tip_id,)
        )


async def test_invites_never_change_staff_and_die_with_their_creator(store: Store) -> None:
    staff = store.staff
    await _officer(store, 1, "hong-van")
    await _officer(store, 2, "a-ngo")
    await staff.set_admin(2, True)
    for token in ("t-one-aaaaaaaaaaaaaa", "t-two-aaaaaaaaaaaaaa", "t-three-aaaaaaaaaaaa"):
        await staff.create_invite(token, areas=("a-roang",), all_areas=False, created_by=2)
    await staff.create_invite("t-perm-aaaaaaaaaaaaa", areas=(), all_areas=True, created_by=90)

    # Existing rows, whatever their state, are never changed; the invite stays unused.
    assert (await staff.redeem_invite("t-one-aaaaaaaaaaaaaa", 1, "A", permanent_admins=PERMANENT)
            ).outcome == ALREADY_STAFF
    assert (await staff.redeem_invite("t-one-aaaaaaaaaaaaaa", 90, "P", permanent_admins=PERMANENT)
            ).outcome == ALREADY_STAFF
    await staff.set_active(1, False)
    assert (await staff.redeem_invite("t-one-aaaaaaaaaaaaaa", 1, "A", permanent_admins=PERMANENT)
            ).outcome == INACTIVE_STAFF
    member = await staff.get(1)
    assert member is not None and not member.active and not member.is_admin
    assert member.areas == ("hong-van",)
    assert (await staff.open_invites(PERMANENT))[1] == 4

    got = await staff.redeem_invite("t-one-aaaaaaaaaaaaaa", 10, "Mai", permanent_admins=PERMANENT)
    assert got.outcome == REGISTERED and got.invite is not None
    assert got.invite.created_by == 2 and got.invite.areas == ("a-roang",)
    newcomer = await staff.get(10)
    assert newcomer is not None and newcomer.is_officer and not newcomer.is_admin
    assert (newcomer.display_name, newcomer.reach) == ("Mai", "reachable")
    assert (await staff.redeem_invite("t-one-aaaaaaaaaaaaaa", 11, "X", permanent_admins=PERMANENT)
            ).outcome == INVALID

    # Revoked by key; a key of nothing open revokes nothing.
    two = next(i for i in (await staff.open_invites(PERMANENT))[0] if i.created_by == 2)
    assert await staff.revoke_invite(two.key, by=90, permanent_admins=PERMANENT) is not None
    assert await staff.revoke_invite(two.key, by=90, permanent_admins=PERMANENT) is None
    assert await staff.revoke_invite(1 << 70, by=90, permanent_admins=PERMANENT) is None
    # The demoted creator's invites die for good, even once promoted again.
    assert (await staff.set_admin(2, False)).invites == 1
    await staff.set_admin(2, True)
    for token in ("t-two-aaaaaaaaaaaaaa", "t-three-aaaaaaaaaaaa"):
        assert (await staff.redeem_invite(token, 12, "Y", permanent_admins=PERMANENT)
                ).outcome == INVALID
    # A permanent admin's invite lives while they are permanent, not after.
    assert (await staff.redeem_invite("t-perm-aaaaaaaaaaaaa", 13, "Z", permanent_admins=())
            ).outcome == INVALID
    assert (await staff.open_invites(()))[1] == 0
    assert (await staff.open_invites(PERMANENT))[1] == 1
    got = await staff.redeem_invite("t-perm-aaaaaaaaaaaaa", 13, "Z", permanent_admins=PERMANENT)
    assert got.outcome == REGISTERED and got.invite is not None and got.invite.all_areas
    assert await staff.get(12) is None


async def test_an_expired_invite_is_neither_listed_nor_usable(store: Store) -> None:
    await store.staff.create_invite(
        "t-old-aaaaaaaaaaaaaa", areas=("a-ngo",), all_areas=False, created_by=90,
        valid_for=timedelta(seconds=-1),
    )
    assert (await store.staff.open_invites(PERMANENT))[1] == 0
    assert (await store.staff.redeem_invite(
        "t-old-aaaaaaaaaaaaaa", 10, "A", permanent_admins=PERMANENT
    )).outcome == INVALID


async def test_migration_0005_ends_the_hand_overs_the_audit_log_cannot_vouch_for(
    tmp_path: Path,
) -> None:
    migrations = load_migrations()
    db = await open_database(tmp_path / "old.db", migrations=[m for m in migrations
                                                             if m.version < 5])
    now = "2025-01-01T00:00:00+00:00"
    for user_id, active in ((1, 1), (2, 1), (3, 1), (4, 0), (5, 1)):
        await db.execute(
            "INSERT INTO staff (user_id, display_name, is_officer, active, created_at,"
            " updated_at) VALUES (?, 'x', 1, ?, ?, ?)", (user_id, active, now, now),
        )
    for tip_id in range(1, 8):
        await db.execute(
            "INSERT INTO tips (tip_id, ref, receipt_hash, category, area, content, created_at,"
            " updated_at) VALUES (?, ?, ?, 'drugs', 'hong-van', x'00', ?, ?)",
            (tip_id, f"T-{tip_id}", bytes([tip_id]), now, now),
        )
    audit = [
        (1, "reassign", 1, {"officer": 2}),  # tip 1 to 2 by 1: kept
        (3, "reassign", 2, {"officer": 3}),  # tip 2 to 3 by itself: ended
        (1, "reassign", 3, {"officer": 2}),  # tip 3 to 2, then moved: ended
        (1, "reassign", 3, {"area": "a-ngo"}),
        (1, "reassign", 4, {"officer": 5}),  # tip 4 to 5, then 5's areas changed: ended
        (9, "staff", None, {"target": 5, "change": "areas", "areas": "a-luoi"}),
        (1, "reassign", 5, {"officer": 4}),  # tip 5 to 4, deactivated: ended
        (1, "view", 6, {}),  # tip 6 to 2 with no record of who gave it: ended
        (9, "staff", None, {"target": 2, "change": "promote"}),
        (2, "reassign", 7, {"area": "a-ngo"}),  # tip 7 moved, then handed to 3: kept
        (2, "reassign", 7, {"officer": 3}),
    ]
    for audit_id, (actor, action, tip_id, detail) in enumerate(audit, 1):
        await db.execute(
            "INSERT INTO audit_log (audit_id, at, actor_id, action, tip_id, detail, link)"
            " VALUES (?, ?, ?, ?, ?, ?, x'00')",
            (audit_id, now, actor, action, tip_id, json.dumps(detail) if detail else ""),
        )
    for tip_id, staff_id in ((1, 2), (2, 3), (3, 2), (4, 5), (5, 4), (6, 2), (7, 3)):
        await db.execute(
            "INSERT INTO tip_assignees (tip_id, staff_id) VALUES (?, ?)", (tip_id, staff_id)
        )
    for token_hash, creator in ((b"a", 4), (b"b", 1)):
        await db.execute(
            "INSERT INTO invites (token_hash, areas, created_by, created_at, expires_at)"
            " VALUES (?, '[]', ?, ?, '2999-01-01T00:00:00+00:00')", (token_hash, creator, now),
        )
    await db.close()

    db = await open_database(tmp_path / "old.db")
    try:
        rows = await db.fetchall("SELECT tip_id, staff_id FROM tip_assignees ORDER BY tip_id")
        assert [(r["tip_id"], r["staff_id"]) for r in rows] == [(1, 2), (7, 3)]
        ended = await db.fetchall("SELECT created_by, end_reason FROM invites ORDER BY 1")
        assert [(r["created_by"], r["end_reason"]) for r in ended] == [
            (1, None), (4, "creator_deactivated")
        ]
    finally:
        await db.close()
