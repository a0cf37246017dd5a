"""bot/fleet.py: whether a claim's holder lives is its process's (the pid on this host, else the
process's heartbeat with several processes; long polling, one process, keeps no heartbeat)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bot.fleet
from bot.fleet import Fleet
from storage.store import Store, open_store
from storage.updates_seen import Seen
from tests.unit.conftest import MASTER
from workers.jobs import PROCESS, alive_here, gone

BOT = 777
HOST = socket.gethostname()
DEAD_HERE = f"{HOST}:{2**22 + 12345}:x"  # no such pid on this host
ALIVE_HERE = f"{HOST}:{os.getppid()}:x"  # the test runner's parent
ELSEWHERE = "another-host-of-the-line:4242:x"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "tipline.db", MASTER)
    try:
        yield opened
    finally:
        await opened.close()


def test_a_holder_is_alive_here_gone_here_or_elsewhere() -> None:
    assert alive_here(PROCESS) and not gone(PROCESS)
    assert alive_here(ALIVE_HERE) and not gone(ALIVE_HERE)
    assert gone(DEAD_HERE) and not alive_here(DEAD_HERE)
    assert not gone(ELSEWHERE) and not alive_here(ELSEWHERE)  # cannot tell from here
    earlier_run = f"{HOST}:{os.getpid()}:{'0' * 8}"  # this pid, another nonce: a predecessor
    assert gone(earlier_run) or earlier_run == PROCESS


async def _held_by(store: Store, holder: str, update_id: int, *, beat: float | None) -> None:
    if beat is not None:
        assert await store.updates_seen.beat(holder, seconds=beat)
    claimed = await store.updates_seen.claim(BOT, update_id, holder)
    assert claimed.seen is Seen.CLAIMED


async def test_several_a_claim_of_a_live_heartbeat_is_busy_until_it_runs_out(
    store: Store,
) -> None:
    fleet = Fleet(store, BOT, several=True)
    await fleet.beat()
    await _held_by(store, ELSEWHERE, 1, beat=0.3)
    assert await fleet.claim(1) is Seen.BUSY
    await asyncio.sleep(0.4)  # the other host's process died: its heartbeat ran out
    assert await fleet.claim(1) is Seen.CLAIMED
    await fleet.done(1)
    assert await fleet.claim(1) is Seen.DONE


async def test_several_a_claim_of_a_dead_pid_here_is_taken_over_at_once(store: Store) -> None:
    fleet = Fleet(store, BOT, several=True)
    await _held_by(store, DEAD_HERE, 2, beat=30)  # heartbeat still live, but the pid is gone
    assert await fleet.claim(2) is Seen.CLAIMED


async def test_several_a_clean_stop_lets_the_others_take_over_at_once(store: Store) -> None:
    other = Fleet(store, BOT, several=True, holder=ELSEWHERE)
    await other.beat()
    assert await other.claim(3) is Seen.CLAIMED
    fleet = Fleet(store, BOT, several=True)
    assert await fleet.claim(3) is Seen.BUSY
    await other.stop()
    assert await fleet.claim(3) is Seen.CLAIMED


async def test_polling_keeps_no_heartbeat_and_takes_over_what_is_not_running_here(
    store: Store,
) -> None:
    fleet = Fleet(store, BOT, several=False)
    await fleet.beat()
    assert not await store.db.fetchall("SELECT name FROM leases")
    await _held_by(store, ELSEWHERE, 4, beat=None)  # one poller: that process is dead
    assert await fleet.claim(4) is Seen.CLAIMED
    await _held_by(store, DEAD_HERE, 5, beat=None)
    assert await fleet.claim(5) is Seen.CLAIMED
    await _held_by(store, ALIVE_HERE, 6, beat=None)  # a predecessor finishing: wait for it
    assert await fleet.claim(6) is Seen.BUSY


async def test_polling_waits_for_a_running_predecessor_only_so_long(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.fleet, "POLL_WAIT", 0.3)
    monkeypatch.setattr(bot.fleet, "BUSY_POLL", 0.05)
    fleet = Fleet(store, BOT, several=False)
    await _held_by(store, ALIVE_HERE, 7, beat=None)
    started = time.monotonic()
    assert await fleet.claim_waiting(7) is Seen.CLAIMED
    assert time.monotonic() - started >= 0.3
    stop = asyncio.Event()
    stop.set()
    await _held_by(store, ALIVE_HERE, 8, beat=None)
    assert await fleet.claim_waiting(8, stop) is Seen.BUSY  # stopping: left to its holder


async def test_a_handled_update_leaves_no_time_finer_than_the_hour(store: Store) -> None:
    fleet = Fleet(store, BOT, several=True)
    await fleet.beat()
    before = time.time()
    async with fleet.turn(4242):
        assert await fleet.claim(9) is Seen.CLAIMED
        turns = await store.db.fetchall("SELECT * FROM chat_turns")
        assert [sorted(dict(r)) for r in turns] == [["chat", "holder"]]
    await fleet.done(9)
    now = time.time()
    rows = [dict(r) for r in await store.db.fetchall("SELECT * FROM updates_seen")]
    assert len(rows) == 1 and rows[0]["at"] in {before - before % 3600, now - now % 3600}
    assert rows == [{"bot": BOT, "update_id": 9, "state": "done", "holder": PROCESS,
                     "at": rows[0]["at"], "payload": None}]
    assert not await store.db.fetchall("SELECT * FROM chat_turns")


async def test_a_batch_takes_over_a_dead_holders_claims_and_waits_for_a_live_one(
    store: Store,
) -> None:
    fleet = Fleet(store, BOT, several=False)
    await _held_by(store, DEAD_HERE, 20, beat=None)
    await _held_by(store, ALIVE_HERE, 21, beat=None)
    await _held_by(store, PROCESS, 22, beat=None)
    await fleet.done(22)
    assert await fleet.claim_batch([20, 21, 22, 23]) == {
        20: Seen.CLAIMED, 21: Seen.BUSY, 22: Seen.DONE, 23: Seen.CLAIMED
    }


async def test_updates_finished_together_are_marked_in_few_statements(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group commit: the marks of updates finished while one is written go in the next one;
    every caller returns only once its own mark is written."""
    fleet = Fleet(store, BOT, several=False)
    ids = list(range(100, 140))
    assert all(c is Seen.CLAIMED for c in (await fleet.claim_batch(ids)).values())
    statements: list[list[int]] = []
    done_many = store.updates_seen.done_many

    async def counted(bot: int, update_ids: list[int], holder: str) -> None:
        statements.append(list(update_ids))
        await done_many(bot, update_ids, holder)

    monkeypatch.setattr(store.updates_seen, "done_many", counted)

    async def finish(update_id: int) -> str | None:
        await fleet.done(update_id)
        return await store.updates_seen.state(BOT, update_id)

    assert await asyncio.gather(*(finish(u) for u in ids)) == ["done"] * len(ids)
    assert sorted(u for batch in statements for u in batch) == ids
    assert len(statements) <= 3, statements
    await fleet.done(140)  # alone later: a statement of its own
    assert statements[-1] == [140]


async def test_a_failed_mark_only_logs(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fleet = Fleet(store, BOT, several=False)

    async def broken(bot: int, update_ids: list[int], holder: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(store.updates_seen, "done_many", broken)
    await asyncio.gather(fleet.done(150), fleet.done(151))
    assert "could not record them handled (OSError)" in caplog.text


async def test_polling_takes_over_a_dead_processs_updates_in_hand_oldest_first(
    store: Store,
) -> None:
    copies = {5: '{"update_id":5,"message":{"text":"Bích Liên thôn 7"}}',
              3: '{"update_id":3}', 4: '{"update_id":4}', 6: '{"update_id":6}'}
    seen = store.updates_seen
    await seen.claim_many(BOT, [5, 3, 6], DEAD_HERE, copies)
    await seen.claim_many(BOT, [4], ALIVE_HERE, copies)
    await seen.done(BOT, 6, DEAD_HERE)  # handled: its copy is gone
    await seen.claim(BOT, 9, DEAD_HERE)  # claimed without a copy (webhook mode): not ours
    rows = {r["update_id"]: r["payload"] for r in await store.db.fetchall(
        "SELECT update_id, payload FROM updates_seen")}
    assert rows[6] is None and rows[9] is None
    assert "Bích Liên".encode() not in bytes(rows[5])  # sealed
    fleet = Fleet(store, BOT, several=False)
    assert await fleet.orphans() == [(3, copies[3]), (5, copies[5])]
    assert await fleet.orphans() == []  # this process's now: handed back once
    assert (await seen.claim(BOT, 4, ALIVE_HERE)).seen is Seen.CLAIMED  # left to its holder
    await fleet.done(3)  # handled: nothing left to hand back
    assert [o.update_id for o in await seen.orphans(BOT, "someone else")] == [4, 5]


async def test_a_copy_that_does_not_open_is_given_up_and_said(
    store: Store, caplog: pytest.LogCaptureFixture,
) -> None:
    seen = store.updates_seen
    await seen.claim_many(BOT, [7, 8], DEAD_HERE, {7: '{"update_id":7}', 8: '{"update_id":8}'})
    await store.db.execute(  # update 8's sealed copy moved onto 7: bound to its row, it fails
        "UPDATE updates_seen SET payload = (SELECT payload FROM updates_seen WHERE"
        " update_id = 8) WHERE update_id = 7")
    assert await Fleet(store, BOT, several=False).orphans() == [(8, '{"update_id":8}')]
    assert await seen.state(BOT, 7) is None
    assert "update 7: its process stopped before handling it" in caplog.text


async def test_a_claim_taken_over_from_the_dead_gets_its_copy_and_keeps_it(store: Store) -> None:
    seen = store.updates_seen
    await seen.claim(BOT, 11, DEAD_HERE)  # claimed with no copy (before migration 0019)
    second = Fleet(store, BOT, several=False, holder=f"{HOST}:{2**22 + 54321}:y")  # dies too
    assert await second.claim_batch([11], {11: '{"update_id":11}'}) == {11: Seen.CLAIMED}
    assert await Fleet(store, BOT, several=False).orphans() == [(11, '{"update_id":11}')]
