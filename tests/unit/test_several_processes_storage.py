"""The storage of several processes on one database (issue 15, item 3): updates seen, chat
turns, the shared flood count and periodic runs, each exercised by two stores opened on one
file as two processes would (each with its own connection, locks and busy timeout).

Each runs on SQLite and on PostgreSQL (`db_target`, tests/unit/conftest.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.chat_turns import TurnBusy
from storage.floods import ADMIT, DROP, WARN
from storage.store import Store, open_store
from storage.updates_seen import Seen
from tests.unit.conftest import MASTER


@pytest.fixture
async def two(db_target: str | Path) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database, as two bot processes have (SQLite and PostgreSQL)."""
    first = await open_store(db_target, MASTER)
    second = await open_store(db_target, MASTER)
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


BOT = 123456
OTHER_BOT = 654321


async def test_an_update_is_claimed_once_and_a_done_one_is_dropped(
    two: tuple[Store, Store],
) -> None:
    a, b = two
    assert (await a.updates_seen.claim(BOT, 101, "A")).seen is Seen.CLAIMED
    busy = await b.updates_seen.claim(BOT, 101, "B")
    assert busy.seen is Seen.BUSY and busy.holder == "A"
    await a.updates_seen.done(BOT, 101, "A")
    assert (await b.updates_seen.claim(BOT, 101, "B")).seen is Seen.DONE
    assert (await a.updates_seen.claim(BOT, 101, "A")).seen is Seen.DONE


async def test_the_same_update_id_of_two_bots_does_not_collide(
    two: tuple[Store, Store],
) -> None:
    a, b = two
    assert (await a.updates_seen.claim(BOT, 1, "A")).seen is Seen.CLAIMED
    await a.updates_seen.done(BOT, 1, "A")
    # A new token (a new bot) on the same database starts its update ids at 1 again.
    assert (await b.updates_seen.claim(OTHER_BOT, 1, "B")).seen is Seen.CLAIMED
    assert await a.updates_seen.state(OTHER_BOT, 1) == "handling"
    assert await a.updates_seen.state(BOT, 1) == "done"
    await b.updates_seen.done(OTHER_BOT, 1, "B")
    assert await b.updates_seen.state(OTHER_BOT, 1) == "done"


async def test_a_claim_of_a_process_with_a_live_heartbeat_is_busy_then_taken_over(
    two: tuple[Store, Store],
) -> None:
    a, b = two
    assert await a.updates_seen.beat("A", seconds=0.3)
    assert (await a.updates_seen.claim(BOT, 102, "A", alive_at=time.time())).seen is (
        Seen.CLAIMED
    )
    busy = await b.updates_seen.claim(BOT, 102, "B", alive_at=time.time())
    assert busy.seen is Seen.BUSY and busy.holder == "A"  # A's process lives
    assert await a.updates_seen.beat("A", seconds=0.3)  # renewed: still busy
    assert (await b.updates_seen.claim(BOT, 102, "B", alive_at=time.time())).seen is Seen.BUSY
    await asyncio.sleep(0.4)  # A died: its heartbeat ran out
    assert (await b.updates_seen.claim(BOT, 102, "B", alive_at=time.time())).seen is (
        Seen.CLAIMED
    )
    await a.updates_seen.done(BOT, 102, "A")  # the old holder's late "done" does not count
    assert await b.updates_seen.state(BOT, 102) == "handling"
    await b.updates_seen.done(BOT, 102, "B")
    assert await a.updates_seen.state(BOT, 102) == "done"


async def test_a_claim_of_a_process_stopped_cleanly_is_taken_over_at_once(
    two: tuple[Store, Store],
) -> None:
    a, b = two
    assert await a.updates_seen.beat("A")
    await a.updates_seen.claim(BOT, 106, "A", alive_at=time.time())
    assert (await b.updates_seen.claim(BOT, 106, "B", alive_at=time.time())).seen is Seen.BUSY
    await a.updates_seen.stop_beating("A")
    assert (await b.updates_seen.claim(BOT, 106, "B", alive_at=time.time())).seen is (
        Seen.CLAIMED
    )


async def test_without_heartbeats_the_caller_decides(two: tuple[Store, Store]) -> None:
    """Long polling (one process, no heartbeat): a claim of another holder stays BUSY for the
    store; bot/fleet.py takes it over (pid gone, or not a process of this host)."""
    a, b = two
    await a.updates_seen.claim(BOT, 107, "A")
    assert (await b.updates_seen.claim(BOT, 107, "B")).seen is Seen.BUSY
    assert (await a.updates_seen.claim(BOT, 107, "A")).seen is Seen.CLAIMED  # its own
    assert await b.updates_seen.take_over(BOT, 107, "A", "B")
    assert (await a.updates_seen.claim(BOT, 107, "A")).holder == "B"


async def test_a_released_claim_and_a_gone_holder(two: tuple[Store, Store]) -> None:
    a, b = two
    await a.updates_seen.claim(BOT, 103, "A")
    await a.updates_seen.release(BOT, 103, "A")
    assert (await b.updates_seen.claim(BOT, 103, "B")).seen is Seen.CLAIMED
    assert await a.updates_seen.take_over(BOT, 103, "B", "A")  # B is known gone
    assert (await b.updates_seen.claim(BOT, 103, "B")).holder == "A"


async def test_old_rows_are_purged(two: tuple[Store, Store]) -> None:
    a, _ = two
    assert await a.updates_seen.beat("A")
    await a.updates_seen.claim(BOT, 104, "A")
    await a.updates_seen.done(BOT, 104, "A")
    await a.updates_seen.claim(BOT, 105, "A")
    assert await a.updates_seen.purge() == 0
    # Kept by the hour: a row is old once its hour is more than `keep_seconds` ago.
    assert await a.updates_seen.purge(keep_seconds=-3600) == 1  # 105 is in hand, A lives
    assert await a.updates_seen.state(BOT, 104) is None
    assert await a.updates_seen.state(BOT, 105) == "handling"
    await a.updates_seen.stop_beating("A")
    assert await a.updates_seen.purge(keep_seconds=-3600) == 1  # A is gone: its claim too
    assert await a.updates_seen.beat("B", seconds=-7200)  # a heartbeat long run out
    await a.updates_seen.purge()
    assert not await a.db.fetchall("SELECT name FROM leases WHERE name LIKE 'process:%'")


async def test_claims_and_turns_hold_no_time_but_the_hour(two: tuple[Store, Store]) -> None:
    a, b = two
    assert await a.updates_seen.beat("A")
    now = time.time()
    await a.updates_seen.claim(BOT, 108, "A", alive_at=now)
    assert await a.chat_turns.try_take(55, "A") is None
    await b.updates_seen.claim(BOT, 108, "B", alive_at=now)
    await a.updates_seen.done(BOT, 108, "A")
    hour = now - now % 3600
    seen = [dict(r) for r in await a.db.fetchall("SELECT * FROM updates_seen")]
    assert seen == [{"bot": BOT, "update_id": 108, "state": "done", "holder": "A", "at": hour,
                     "payload": None}]
    turns = await a.db.fetchall("SELECT * FROM chat_turns")
    assert [sorted(dict(r)) for r in turns] == [["chat", "holder"]]


async def test_a_chat_turn_serialises_one_chat_and_not_two(two: tuple[Store, Store]) -> None:
    a, b = two
    inside: list[str] = []
    overlap = []

    async def work(store: Store, holder: str, chat: int) -> None:
        async with store.chat_turns.turn(chat, holder):
            if any(x.endswith(f":{chat}") for x in inside):
                overlap.append(chat)
            inside.append(f"{holder}:{chat}")
            await asyncio.sleep(0.05)
            inside.remove(f"{holder}:{chat}")

    for holder in ("A", "B", "A2"):  # live processes (a turn of a dead one is taken over)
        assert await a.updates_seen.beat(holder)
    started = time.monotonic()
    await asyncio.gather(*(work(s, h, 7) for s, h in ((a, "A"), (b, "B"))), work(a, "A2", 8))
    assert not overlap
    assert time.monotonic() - started >= 0.1  # chat 7 twice in a row
    # the other chat did not wait: both done in about two turns of chat 7, not three
    assert time.monotonic() - started < 0.5


async def test_a_turn_held_too_long_gives_up_and_a_dead_holder_is_passed(
    two: tuple[Store, Store],
) -> None:
    a, b = two
    assert await a.updates_seen.beat("A", seconds=0.3)
    assert await b.updates_seen.beat("B")
    assert await a.chat_turns.try_take(9, "A") is None
    with pytest.raises(TurnBusy):  # A's heartbeat is live
        async with b.chat_turns.turn(9, "B", wait=0.1):
            pass
    async with b.chat_turns.turn(9, "B", wait=0.1, gone=lambda holder: holder == "A"):
        assert await a.chat_turns.try_take(9, "A") == "B"  # A's pid is gone on this host
    assert await a.chat_turns.try_take(9, "A") is None  # released by B
    await asyncio.sleep(0.4)  # A died elsewhere: its heartbeat ran out
    async with b.chat_turns.turn(9, "B", wait=0.5):
        pass
    assert await a.chat_turns.try_take(10, "A") is None
    assert await b.chat_turns.purge() == 1  # A's turn, A being dead
    await b.chat_turns.release_all("B")


async def test_the_chat_is_never_stored_in_clear(two: tuple[Store, Store]) -> None:
    a, _ = two
    await a.chat_turns.try_take(918273645, "A")
    rows = await a.db.fetchall("SELECT chat, holder FROM chat_turns")
    assert len(rows) == 1 and b"918273645" not in bytes(rows[0]["chat"])
    assert len(bytes(rows[0]["chat"])) == 32


async def test_the_flood_count_is_shared_by_the_processes(two: tuple[Store, Store]) -> None:
    a, b = two
    a.floods.limit = b.floods.limit = 5
    verdicts = [await (a if i % 2 else b).floods.note(42, pressed=False) for i in range(5)]
    assert verdicts == [ADMIT] * 5
    sixth = await asyncio.gather(
        a.floods.note(42, pressed=False), b.floods.note(42, pressed=False)
    )
    assert sorted(sixth) == [DROP, WARN]  # one "slow down", whichever process
    assert await a.floods.note(42, pressed=False) == DROP
    assert await b.floods.note(43, pressed=False) == ADMIT  # somebody else
    assert await a.floods.note(42, pressed=True) == DROP  # silenced for presses too


async def test_a_flood_window_starts_again(two: tuple[Store, Store]) -> None:
    a, b = two
    a.floods.limit = 3
    a.floods.window = 0.1
    for _ in range(3):
        assert await a.floods.note(44, pressed=False) == ADMIT
    await asyncio.sleep(0.15)
    for _ in range(3):
        assert await a.floods.note(44, pressed=False) == ADMIT
    presses = [await b.floods.note(44, pressed=True) for _ in range(60)]
    assert presses == [ADMIT] * 60  # presses count apart
    rows = await a.db.fetchall("SELECT subject FROM flood_counts")
    assert all(len(bytes(r["subject"])) == 32 for r in rows)  # a pseudonym, not the id
    a.floods.window = a.floods.silence = 0.0
    await asyncio.sleep(0.01)
    b.floods.window = b.floods.silence = -61.0  # everything is old now
    assert await b.floods.expire() == 2


async def test_a_periodic_run_is_taken_once_per_period(two: tuple[Store, Store]) -> None:
    a, b = two
    results = await asyncio.gather(
        a.job_runs.due("purge", "A", 3600), b.job_runs.due("purge", "B", 3600)
    )
    assert sorted(results) == [False, True]
    assert not await a.job_runs.due("purge", "A", 3600)
    assert await a.job_runs.due("sweep", "A", 0.05)
    await asyncio.sleep(0.1)
    assert await b.job_runs.due("sweep", "B", 0.05)


async def test_a_held_run_is_taken_over_when_its_holder_dies(two: tuple[Store, Store]) -> None:
    a, b = two
    assert await a.job_runs.due("menus", "A", 3600, hold=0.05)
    assert not await b.job_runs.due("menus", "B", 3600, hold=0.05)
    await asyncio.sleep(0.1)  # A died before it was done
    assert await b.job_runs.due("menus", "B", 3600, hold=0.05)
    await b.job_runs.ran("menus", "B")
    await asyncio.sleep(0.1)
    assert not await a.job_runs.due("menus", "A", 3600, hold=0.05)
    last = await a.job_runs.last("menus")
    assert last is not None and last[0] == "B"


async def test_a_batch_is_claimed_as_each_of_its_updates_would_be(
    two: tuple[Store, Store],
) -> None:
    """`claim_many` (long polling's getUpdates batch) says for each update what `claim` says."""
    a, b = two
    assert (await a.updates_seen.claim(BOT, 201, "A")).seen is Seen.CLAIMED
    await a.updates_seen.done(BOT, 201, "A")
    assert (await b.updates_seen.claim(BOT, 202, "B")).seen is Seen.CLAIMED
    assert (await a.updates_seen.claim(BOT, 203, "A")).seen is Seen.CLAIMED  # A's own again
    claims = await a.updates_seen.claim_many(BOT, [201, 202, 203, 204, 205], "A")
    assert {u: c.seen for u, c in claims.items()} == {
        201: Seen.DONE, 202: Seen.BUSY, 203: Seen.CLAIMED, 204: Seen.CLAIMED, 205: Seen.CLAIMED
    }
    assert claims[202].holder == "B"
    assert await a.updates_seen.claim_many(BOT, [], "A") == {}
    assert (await b.updates_seen.claim(BOT, 204, "B")).seen is Seen.BUSY  # claimed for A
    await a.updates_seen.done_many(BOT, [203, 204, 202], "A")  # 202 is B's: left alone
    assert [await a.updates_seen.state(BOT, u) for u in (202, 203, 204, 205)] == [
        "handling", "done", "done", "handling"
    ]
    other = await b.updates_seen.claim_many(OTHER_BOT, [203], "B")  # another bot's 203
    assert other[203].seen is Seen.CLAIMED
