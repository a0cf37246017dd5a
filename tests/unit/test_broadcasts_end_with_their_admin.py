"""A broadcast goes on only while the admin who answers for it is one (review 3, finding 7): the
demotion or deactivation stops it in its own transaction, and the broadcaster's check
(`stop_orphans`) stops one whose creator lost the right any other way (an id taken out of
TIPBOT_ADMIN_IDS, a row edited by hand). Run on SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import json

from workers.broadcaster import stop_orphans

PERMANENT = frozenset({7001})
CONTENT = {"kind": "text", "texts": {"*": "Xác nhận tin báo tại t.me/lookalike_bot"}}


async def _promoted_admin(store, user_id: int) -> None:  # type: ignore[no-untyped-def]
    await store.staff.upsert_officer(user_id, areas=("hong-van",), all_areas=False,
                                     display_name="Cán bộ")
    await store.staff.set_admin(user_id, True)


async def _broadcast(store, created_by: int | None = None,  # type: ignore[no-untyped-def]
                     schedule_id: int | None = None) -> int:
    async with store.db.transaction():
        broadcast_id, total = await store.broadcasts.create(
            origin="schedule" if schedule_id else "admin", content=CONTENT,
            channels=("@alnews",), created_by=created_by, schedule_id=schedule_id,
            progress_chat=created_by,
        )
    assert total == 4  # three subscribers and the channel
    return int(broadcast_id)


async def _subscribers(store) -> None:  # type: ignore[no-untyped-def]
    async with store.db.transaction():
        for user_id in (640_001, 640_002, 640_003):
            await store.subscribers.subscribe(user_id, user_id, "vi")


async def _state(store, broadcast_id: int) -> tuple[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    broadcast = await store.broadcasts.get(broadcast_id)
    counts = await store.broadcasts.counts(broadcast_id)
    return broadcast.state, {"cancelled": counts.cancelled, "pending": counts.pending,
                             "sent": counts.sent, "sending": counts.sending}


async def test_deactivating_or_demoting_stops_the_broadcasts_they_answer_for(store):  # type: ignore[no-untyped-def]
    await _subscribers(store)
    await _promoted_admin(store, 7004)
    await _promoted_admin(store, 7006)
    schedule = await store.schedules.create(
        content={"kind": "rotation"}, frequency="daily", at_time="08:00",
        next_run_at=0.0, created_by=7006)
    of_7004 = await _broadcast(store, 7004)
    of_7006 = await _broadcast(store, 7006)
    of_schedule = await _broadcast(store, schedule_id=schedule)  # posted for 7006's schedule
    of_7001 = await _broadcast(store, 7001)
    # One row of 7004's broadcast is already out, one is in flight: neither is touched.
    first = await store.broadcasts.claim_next("w")
    await store.broadcasts.finish(first, "w", "sent")
    in_flight = await store.broadcasts.claim_next("w")
    assert first.broadcast_id == in_flight.broadcast_id == of_7004

    ended = await store.staff.set_admin(7004, False)
    assert ended.broadcasts == (of_7004,)
    assert await _state(store, of_7004) == (
        "stopped", {"cancelled": 2, "pending": 0, "sent": 1, "sending": 1})
    ended = await store.staff.set_active(7006, False)
    assert ended.broadcasts == (of_7006, of_schedule)
    for stopped in (of_7006, of_schedule):
        assert await _state(store, stopped) == (
            "stopped", {"cancelled": 4, "pending": 0, "sent": 0, "sending": 0})
    # Nothing of theirs is claimed any more; the permanent admin's goes on.
    await store.broadcasts.finish(in_flight, "w", "sent")  # the call in flight still answers
    claimed = [await store.broadcasts.claim_next("w") for _ in range(5)]
    assert [row.broadcast_id for row in claimed if row] == [of_7001] * 4
    assert (await store.broadcasts.get(of_7001)).state == "sending"
    # Promoting or reactivating again resumes nothing; a second change stops nothing more.
    await store.staff.set_admin(7004, True)
    await store.staff.set_active(7006, True)
    assert (await store.broadcasts.get(of_7004)).state == "stopped"
    assert (await store.staff.set_admin(7004, False)).broadcasts == ()


async def test_the_broadcasters_check_stops_those_whose_creator_lost_the_right_otherwise(store):  # type: ignore[no-untyped-def]
    """The rule of rules/access.py, applied to running broadcasts at each round."""
    await _subscribers(store)
    await _promoted_admin(store, 7004)
    await _promoted_admin(store, 7007)
    await store.staff.ensure_admin_row(7005, "Permanent")
    kept = await _broadcast(store, 7001)  # permanent, still in the settings
    out_of_settings = await _broadcast(store, 7002)  # was permanent, taken out of the list
    edited = await _broadcast(store, 7004)  # promoted, then demoted behind storage's back
    deactivated = await _broadcast(store, 7005)  # permanent, deactivated behind storage's back
    promoted = await _broadcast(store, 7007)  # promoted and active
    schedule = await store.schedules.create(
        content={"kind": "rotation"}, frequency="daily", at_time="08:00",
        next_run_at=0.0, created_by=7002)
    of_schedule = await _broadcast(store, schedule_id=schedule)
    await store.db.execute("UPDATE staff SET is_admin = 0 WHERE user_id = 7004")
    await store.db.execute("UPDATE staff SET active = 0 WHERE user_id = 7005")
    permanent = frozenset({7001, 7005})

    stopped = await stop_orphans(store, permanent)
    assert stopped == [out_of_settings, edited, deactivated, of_schedule]
    assert await stop_orphans(store, permanent) == []  # once
    for broadcast_id in (kept, promoted):
        assert (await store.broadcasts.get(broadcast_id)).state == "sending"
    for broadcast_id in stopped:
        assert (await store.broadcasts.counts(broadcast_id)).cancelled == 4
    rows = await store.db.fetchall(
        "SELECT actor_id, detail FROM audit_log WHERE action = 'broadcast' ORDER BY audit_id")
    assert [r["actor_id"] for r in rows] == [0, 0, 0, 0]
    details = [json.loads(r["detail"]) for r in rows]
    assert details[0] == {"broadcast": out_of_settings, "change": "stop", "creator": 7002,
                          "reason": "creator_not_admin"}
    assert [d["creator"] for d in details] == [7002, 7004, 7005, 7002]
    assert (await store.audit.verify()).first_broken is None


async def test_stop_joins_the_callers_transaction(store):  # type: ignore[no-untyped-def]
    """The handler stops and audit-logs in one transaction: a rollback leaves it running."""
    await _subscribers(store)
    broadcast_id = await _broadcast(store, 7001)

    class Boom(Exception):
        pass

    try:
        async with store.db.transaction():
            assert await store.broadcasts.stop(broadcast_id)
            raise Boom
    except Boom:
        pass
    assert (await store.broadcasts.get(broadcast_id)).state == "sending"
    assert await store.broadcasts.stop(broadcast_id)
    assert not await store.broadcasts.stop(broadcast_id)
    assert [r.broadcast_id for r in await store.broadcasts.running()] == []
