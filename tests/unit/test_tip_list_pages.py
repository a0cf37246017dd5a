"""`/tips` pages (`TipDesk.list_for`) on both databases: every page holds the tips it should, in
the order of the rule (newest first, then the higher id), also where many tips share their
hour, as they do in production (the clear arrival is rounded to the hour). PostgreSQL reads
each (area, status) through a LATERAL subquery instead of SQLite's `tip_id IN (… LIMIT)`: both
forms must give the same pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.store import Store
from storage.tips import OPEN_STATUSES, Scope
from testing.stats_seed import SeedTip, seed

OFFICER, ADMIN, GIVER = 11, 12, 13
AREAS = ("hong-van", "a-ngo")
HISTORIES = ((), (("acknowledged", 1.0, GIVER),), (("acknowledged", 1.0, GIVER),
             ("verifying", 2.0, GIVER)), (("resolved", 3.0, GIVER),))


async def test_every_page_of_tips_is_in_order_and_complete(store: Store) -> None:
    await store.staff.upsert_officer(OFFICER, areas=AREAS, all_areas=False,
                                     display_name="O", reachable=True)
    await store.staff.upsert_officer(GIVER, areas=("a-luoi",), all_areas=False,
                                     display_name="G", reachable=True)
    await store.staff.ensure_admin_row(ADMIN, "A")
    start = datetime(2025, 3, 1, tzinfo=UTC)
    specs = [
        SeedTip(category="drugs", area=(*AREAS, "a-luoi", None)[n % 4],
                created=start + timedelta(hours=(n * 7) % 5),  # five hours, many ties
                changes=HISTORIES[(n // 4) % len(HISTORIES)])
        for n in range(96)
    ]
    ids = await seed(store, specs, batch=50)
    handed = [tip_id for tip_id, spec in zip(ids, specs, strict=True)
              if spec.area == "a-luoi"][::3]
    async with store.db.transaction():
        for tip_id in handed:
            await store.desk.assign(tip_id, OFFICER, given_by=GIVER)
    rows = {tip_id: spec for tip_id, spec in zip(ids, specs, strict=True)}
    newest_first = sorted(ids, key=lambda i: (rows[i].created, i), reverse=True)
    for scope in (Scope(OFFICER, False, AREAS), Scope(ADMIN, True, ())):
        for status in (None, *OPEN_STATUSES, "resolved"):
            wanted = {status} if status else set(OPEN_STATUSES)
            expected = [i for i in newest_first if rows[i].status in wanted and (
                scope.everything or rows[i].area in AREAS or i in handed)]
            assert expected, (scope, status)
            for size in (1, 4, 7):
                pages: list[int] = []
                for offset in range(0, len(expected) + size, size):
                    listed, total = await store.desk.list_for(scope, status=status,
                                                              limit=size, offset=offset)
                    assert total == len(expected), (scope, status)
                    assert len(listed) == len(expected[offset:offset + size])
                    pages += [s.tip_id for s in listed]
                assert pages == expected, (scope.everything, status, size)
