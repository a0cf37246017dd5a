"""Schedules: the rules, the due / skip decision, and posting an occurrence at most once, with a
moved clock instead of real minutes."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from storage.store import open_store
from workers.scheduler import (
    GRACE_SECONDS,
    Rule,
    campaign_messages,
    decide,
    fire_due,
    parse_time,
    pause_orphans,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


def local(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, TZ).strftime("%a %Y-%m-%d %H:%M")


# --- rules ---------------------------------------------------------------------------------


def test_daily_rule_is_the_next_occurrence_strictly_after():
    rule = Rule("daily", 8, 0)
    assert local(rule.next_after(TZ, at("2025-01-06 07:59:59"))) == "Mon 2025-01-06 08:00"
    assert local(rule.next_after(TZ, at("2025-01-06 08:00:00"))) == "Tue 2025-01-07 08:00"
    assert local(rule.next_after(TZ, at("2025-01-06 08:00:01"))) == "Tue 2025-01-07 08:00"


def test_weekly_rule_on_chosen_days_in_the_configured_zone():
    rule = Rule("weekly", 19, 30, weekdays=(0, 2))  # Monday and Wednesday
    start = at("2025-01-06 20:00")  # Monday evening
    first = rule.next_after(TZ, start)
    assert local(first) == "Wed 2025-01-08 19:30"
    assert local(rule.next_after(TZ, first)) == "Mon 2025-01-13 19:30"
    # 19:30 in Hanoi is 12:30 UTC
    assert datetime.fromtimestamp(first, ZoneInfo("UTC")).strftime("%H:%M") == "12:30"


def test_monthly_rule_on_a_day_of_the_month():
    rule = Rule("monthly", 7, 5, day=28)
    first = rule.next_after(TZ, at("2025-01-28 07:05"))
    assert local(first) == "Fri 2025-02-28 07:05"
    assert local(rule.next_after(TZ, first)) == "Fri 2025-03-28 07:05"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frequency": "weekly", "hour": 8, "minute": 0},
        {"frequency": "monthly", "hour": 8, "minute": 0, "day": 31},
        {"frequency": "daily", "hour": 24, "minute": 0},
        {"frequency": "hourly", "hour": 8, "minute": 0},
    ],
)
def test_bad_rules_are_refused(kwargs):
    with pytest.raises(ValueError):
        Rule(**kwargs)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("08:00", (8, 0)),
        ("8:00", (8, 0)),
        (" 19:30 ", (19, 30)),
        ("8h", (8, 0)),
        ("8h30", (8, 30)),
        ("0730", (7, 30)),
        ("23.59", (23, 59)),
        ("24:00", None),
        ("8:60", None),
        ("tomorrow", None),
        ("", None),
    ],
)
def test_time_of_day_input_is_forgiving(typed, expected):
    assert parse_time(typed) == expected


# --- the decision --------------------------------------------------------------------------


def test_decide_waits_fires_within_grace_and_skips_beyond():
    due = at("2025-01-06 08:00")
    assert decide(due, due - 60) == "wait"
    assert decide(due, due - 0.5) == "fire"  # a timer a hair early
    assert decide(due, due) == "fire"
    assert decide(due, due + 9 * 60) == "fire"  # late by 9 minutes: still sent
    assert decide(due, due + GRACE_SECONDS) == "fire"
    assert decide(due, due + GRACE_SECONDS + 1) == "skip"  # more than 10 minutes: skipped
    assert decide(due, due + 3 * 86400) == "skip"


# --- firing against a real store -------------------------------------------------------------


async def _schedule(store, rule: Rule, next_run_at: float, content=None) -> int:
    return await store.schedules.create(
        content=content or {"kind": "rotation"},
        frequency=rule.frequency,
        at_time=rule.at_time,
        next_run_at=next_run_at,
        created_by=7001,
        weekdays=rule.weekdays,
        day_of_month=rule.day,
    )


#: The creator of the tests' schedules (`_schedule`) is an admin of the settings.
ADMINS = frozenset({7001})


async def _fire(store, schedule_id: int, now: float, admins: frozenset[int] = ADMINS):
    return await fire_due(
        store, schedule_id=schedule_id, now=now, timezone=TZ, channels=("@alnews",),
        bot_username="tipline_bot", permanent_admins=admins,
    )


async def _broadcast_count(store) -> int:
    row = await store.db.fetchone("SELECT count(*) AS n FROM broadcasts")
    return row["n"]


async def test_a_schedule_fires_once_at_its_time_then_moves_to_the_next_occurrence(store):
    for user in (11, 12, 13):
        await store.subscribers.subscribe(user, user, "vi" if user != 13 else "en")
    rule = Rule("daily", 8, 0)
    due = at("2025-01-06 08:00")
    schedule_id = await _schedule(store, rule, due)

    assert (await _fire(store, schedule_id, due - 30)).decision == "wait"
    assert await _broadcast_count(store) == 0

    fired = await _fire(store, schedule_id, due + 0.2)
    assert fired.decision == "fired"
    assert fired.recipients == 4  # three subscribers and the channel
    again = await _fire(store, schedule_id, due + 0.4)  # a second timer for the same minute
    assert again.decision == "wait"
    assert await _broadcast_count(store) == 1

    schedule = await store.schedules.get(schedule_id)
    assert local(schedule.next_run_at) == "Tue 2025-01-07 08:00"
    assert schedule.last_outcome == "sent"
    assert schedule.last_broadcast_id == fired.broadcast_id
    broadcast = await store.broadcasts.get(fired.broadcast_id)
    assert broadcast.origin == "schedule"
    first = campaign_messages()[0]
    assert broadcast.content["texts"]["vi"].startswith(first.texts["vi"])
    assert broadcast.content["texts"]["en"].startswith(first.texts["en"])

    # The next day: the rotation moved on to the next message.
    second = await _fire(store, schedule_id, at("2025-01-07 08:00:01"))
    assert second.decision == "fired"
    content = (await store.broadcasts.get(second.broadcast_id)).content
    assert content["texts"]["vi"].startswith(campaign_messages()[1].texts["vi"])


async def test_a_post_missed_by_more_than_ten_minutes_is_skipped_not_sent_late(store):
    rule = Rule("weekly", 8, 0, weekdays=(0,))
    due = at("2025-01-06 08:00")  # a Monday
    schedule_id = await _schedule(store, rule, due)
    outcome = await _fire(store, schedule_id, due + GRACE_SECONDS + 5)
    assert outcome.decision == "skipped"
    assert await _broadcast_count(store) == 0
    schedule = await store.schedules.get(schedule_id)
    assert schedule.last_outcome == "skipped"
    assert local(schedule.next_run_at) == "Mon 2025-01-13 08:00"
    assert await store.campaigns.rotation_position() == 0  # nothing was used up


async def test_a_post_missed_by_a_few_minutes_is_still_sent(store):
    rule = Rule("daily", 8, 0)
    due = at("2025-01-06 08:00")
    schedule_id = await _schedule(store, rule, due)
    assert (await _fire(store, schedule_id, due + 5 * 60)).decision == "fired"
    assert local((await store.schedules.get(schedule_id)).next_run_at) == "Tue 2025-01-07 08:00"


async def test_a_paused_schedule_does_not_fire_and_resumes_from_the_next_occurrence(store):
    rule = Rule("daily", 8, 0)
    due = at("2025-01-06 08:00")
    schedule_id = await _schedule(store, rule, due)
    assert await store.schedules.pause(schedule_id)
    assert (await _fire(store, schedule_id, due + 1)).decision == "inactive"
    assert await _broadcast_count(store) == 0
    now = at("2025-01-09 12:00")
    assert await store.schedules.resume(schedule_id, rule.next_after(TZ, now), by=7001)
    assert local((await store.schedules.get(schedule_id)).next_run_at) == "Fri 2025-01-10 08:00"
    assert (await _fire(store, schedule_id, now)).decision == "wait"


async def test_own_content_is_posted_as_written(store):
    await store.subscribers.subscribe(21, 21, "en")
    rule = Rule("monthly", 9, 0, day=1)
    due = at("2025-02-01 09:00")
    content = {"kind": "photo", "file_id": "F1", "texts": {"*": "<b>Họp dân</b> tối nay"},
               "preview": "Họp dân tối nay"}
    schedule_id = await _schedule(store, rule, due, content)
    fired = await _fire(store, schedule_id, due)
    broadcast = await store.broadcasts.get(fired.broadcast_id)
    assert broadcast.content == content
    assert await store.campaigns.rotation_position() == 0


async def test_the_rotation_remembers_its_position_across_restarts(tmp_path):
    key = os.urandom(32)
    store = await open_store(tmp_path / "r.db", key)
    size = len(campaign_messages())
    try:
        async with store.db.transaction():
            assert [await store.campaigns.next_in_rotation(size) for _ in range(3)] == [0, 1, 2]
    finally:
        await store.close()
    store = await open_store(tmp_path / "r.db", key)
    try:
        async with store.db.transaction():
            assert await store.campaigns.next_in_rotation(size) == 3
        for _ in range(size - 4):
            async with store.db.transaction():
                await store.campaigns.next_in_rotation(size)
        async with store.db.transaction():
            assert await store.campaigns.next_in_rotation(size) == 0  # starts again
    finally:
        await store.close()


# --- a schedule posts only while its creator is an admin ------------------------------------


async def _promoted_admin(store, user_id: int) -> None:
    await store.staff.upsert_officer(user_id, areas=("hong-van",), all_areas=False,
                                     display_name="Cán bộ")
    await store.staff.set_admin(user_id, True)


async def _schedule_audit(store) -> list[str]:
    rows = await store.db.fetchall(
        "SELECT actor_id, detail FROM audit_log WHERE action = 'schedule' ORDER BY audit_id")
    return [f"{r['actor_id']} {r['detail']}" for r in rows]


async def test_a_due_post_of_a_creator_who_lost_the_right_is_paused_not_posted(store):
    """The rule of rules/access.py: out of TIPBOT_ADMIN_IDS (and never promoted), or a
    permanent admin deactivated, or a promoted admin demoted behind storage's back."""
    rule = Rule("daily", 8, 0)
    due = at("2025-01-06 08:00")
    await _promoted_admin(store, 7004)
    await store.staff.ensure_admin_row(7005, "Permanent")
    cases = {
        7001: frozenset(),  # taken out of the settings' list
        7004: ADMINS,  # promoted, then demoted by an edit of its row (storage does not pause)
        7005: frozenset({7005}),  # permanent, deactivated by an edit of its row
    }
    await store.db.execute("UPDATE staff SET is_admin = 0 WHERE user_id = 7004")
    await store.db.execute("UPDATE staff SET active = 0 WHERE user_id = 7005")
    for creator, admins in cases.items():
        schedule_id = await store.schedules.create(
            content={"kind": "rotation"}, frequency="daily", at_time=rule.at_time,
            next_run_at=due, created_by=creator)
        assert (await _fire(store, schedule_id, due - 60, admins)).decision == "wait"
        assert (await _fire(store, schedule_id, due + 1, admins)).decision == "paused"
        schedule = await store.schedules.get(schedule_id)
        assert not schedule.active and schedule.next_run_at == due
        assert (await _fire(store, schedule_id, due + 2, admins)).decision == "inactive"
    assert await _broadcast_count(store) == 0
    assert await store.campaigns.rotation_position() == 0
    audit = await _schedule_audit(store)
    assert len(audit) == 3 and all(a.startswith('0 {"change": "pause", "creator": ') for a in audit)
    assert '"on": "due", "reason": "creator_not_admin", "schedule": 1}' in audit[0]
    report = await store.audit.verify()
    assert report.first_broken is None


async def test_a_promoted_admin_and_a_permanent_one_post(store):
    rule = Rule("daily", 8, 0)
    due = at("2025-01-06 08:00")
    await _promoted_admin(store, 7004)
    for creator in (7001, 7004):
        schedule_id = await store.schedules.create(
            content={"kind": "rotation"}, frequency="daily", at_time=rule.at_time,
            next_run_at=due, created_by=creator)
        assert (await _fire(store, schedule_id, due + 1)).decision == "fired"


async def test_demoting_or_deactivating_pauses_the_creators_schedules_with_the_change(store):
    await _promoted_admin(store, 7004)
    await _promoted_admin(store, 7006)
    made = {}
    for creator in (7001, 7004, 7004, 7006):
        made.setdefault(creator, []).append(await store.schedules.create(
            content={"kind": "rotation"}, frequency="daily", at_time="08:00",
            next_run_at=at("2025-01-06 08:00"), created_by=creator))
    await store.schedules.pause(made[7004][1])  # paused already: counted once, not twice
    ended = await store.staff.set_admin(7004, False)
    assert ended.schedules == 1
    ended = await store.staff.set_active(7006, False)
    assert ended.schedules == 1
    assert [s.schedule_id for s in await store.schedules.active()] == made[7001]
    # Reactivating or promoting again resumes nothing (like invites, they stay ended).
    await store.staff.set_active(7006, True)
    await store.staff.set_admin(7004, True)
    assert [s.schedule_id for s in await store.schedules.active()] == made[7001]
    # At start, an admin taken out of TIPBOT_ADMIN_IDS: theirs are paused, once.
    assert await pause_orphans(store, frozenset()) == made[7001]
    assert await pause_orphans(store, frozenset()) == []
    assert await store.schedules.active() == []


async def test_resuming_makes_the_admin_who_resumes_the_creator(store):
    schedule_id = await _schedule(store, Rule("daily", 8, 0), at("2025-01-06 08:00"))
    await store.schedules.pause(schedule_id)
    assert await store.schedules.resume(schedule_id, at("2025-01-07 08:00"), by=7004)
    assert (await store.schedules.get(schedule_id)).created_by == 7004
    assert not await store.schedules.resume(schedule_id, at("2025-01-08 08:00"), by=7005)
    assert (await store.schedules.get(schedule_id)).created_by == 7004
