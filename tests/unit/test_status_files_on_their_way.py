"""The /status files on their way (storage/conversations.py `FilesOnTheirWay`,
handlers/resident/status.py): kept sealed beside the session, each naming the process that
cleans it; taken over only from a process that is dead (bot/fleet.py `Fleet.cut_off`); stored
once, by the process holding it when it is stored; and a file that cannot be stored after all is
told to the resident.

The end-to-end tests with real processes are tests/e2e/test_status_files_several_processes.py
and tests/e2e/test_status_additions_limits.py; these pin the rules one by one.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.fleet import Fleet
from evidence.clean import TOO_LARGE, CannotClean
from handlers.resident import evidence, status
from handlers.shared import flows
from handlers.shared.flows import StatusSession
from storage.store import Store, open_store
from storage.tips import Delivery, NewTip
from texts.catalog import text

USER = 4_343_001
ONE = "elsewhere-host:101:aaaa"  # processes of another host: their heartbeats say if they live
TWO = "elsewhere-host:102:bbbb"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "t.db", bytes(range(32)))
    try:
        yield opened
    finally:
        await opened.close()


class _Bot:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_message(self, chat: int, body: str, **_: Any) -> None:
        self.sent.append(str(body))


def _context(store: Store, holder: str, bot: _Bot, tasks: list[asyncio.Task[None]]) -> Any:
    """A handler's context in the process `holder` (several processes, webhook mode)."""
    services = SimpleNamespace(store=store, config=SimpleNamespace(admin_ids=frozenset()))

    def create_task(coroutine: Any, name: str | None = None) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        tasks.append(task)
        return task

    application = SimpleNamespace(
        bot_data={"services": services,
                  status.PROCESSES_KEY: Fleet(store, 1, several=True, holder=holder)},
        create_task=create_task)
    return SimpleNamespace(application=application, bot=bot)


async def _tip_and_file(store: Store, context: Any) -> tuple[int, status._Job]:
    async with store.db.transaction():
        tip, _ = await store.tips.insert(
            NewTip("drugs", None, False, {"text": "x"}), Delivery(1, ()))
    received = evidence.Received(kind="document", file_id="F-ORIGINAL",
                                 file_name="Nguyen_Van_A.pdf", mime_type="application/pdf")
    entry = {"received": received.to_json(), "n": 1, "text": ""}
    job = await status._keep_file(
        context, status._Job(b"", USER, USER, tip.tip_id, "tok1", entry, "en"),
        StatusSession(step="add", tip_id=tip.tip_id))
    return tip.tip_id, job


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    async def holders(*_: Any) -> list[int]:
        return [7002]

    monkeypatch.setattr(status, "entitled_holders", holders)
    monkeypatch.setattr(status, "wake_delivery", lambda _app: None)


def _cleaned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """prepare() succeeds at once; the list says who prepared (the bot object's id)."""
    prepared: list[str] = []

    async def prepare(bot: Any, *_: Any, **__: Any) -> dict[str, Any]:
        prepared.append(str(id(bot)))
        return {"kind": "document", "file_id": "CLEAN", "cleaned": "evidence-1.pdf"}

    monkeypatch.setattr(evidence, "prepare", prepare)
    return prepared


async def _stored(store: Store, tip_id: int) -> int:
    return sum(1 for m in await store.tips.thread(tip_id) if m.body.get("attachments"))


async def test_a_file_on_its_way_is_sealed_and_outlives_the_session(
    store: Store, tmp_path: Path
) -> None:
    context = _context(store, ONE, _Bot(), [])
    _tip_id, job = await _tip_and_file(store, context)
    await flows.end(context, USER)  # "done": the session is gone, the file is not
    (found,) = await store.conversations.files.all()
    assert found.holder == ONE and found.subject == job.subject
    assert found.fields["entry"]["received"]["file_name"] == "Nguyen_Van_A.pdf"
    assert await store.conversations.load(USER) is None  # no conversation is made of it
    with closing(sqlite3.connect(tmp_path / "t.db")) as db:
        # Blobs dumped as hex, where digits turn up by chance: everything but those.
        dump = re.sub(r"X'[0-9A-F]*'", "X''", "\n".join(db.iterdump()))
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("t.db"))
    for clear in ("Nguyen", "F-ORIGINAL", str(USER), ONE):
        assert clear not in dump and clear.encode() not in raw, clear


async def test_only_the_holder_may_drop_it_and_only_from_its_holder_may_it_be_taken(
    store: Store
) -> None:
    files = store.conversations.files
    subject = await files.put(ONE, {"user": USER})
    assert not await files.drop(subject, TWO)
    assert await files.take(subject, TWO, ONE) is None  # not TWO's to give
    taken = await files.take(subject, ONE, TWO)
    assert taken is not None and taken.holder == TWO
    assert await files.take(subject, ONE, TWO) is None  # taken already: a second taker loses
    assert not await files.drop(subject, ONE)  # the first holder can no longer store it
    assert await files.drop(subject, TWO)
    assert await files.all() == []


async def test_a_live_processs_file_is_left_to_it_and_a_dead_ones_is_taken_over_and_stored_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared = _cleaned(monkeypatch)
    one_bot, two_bot = _Bot(), _Bot()
    one_tasks: list[asyncio.Task[None]] = []
    two_tasks: list[asyncio.Task[None]] = []
    one = _context(store, ONE, one_bot, one_tasks)
    two = _context(store, TWO, two_bot, two_tasks)
    tip_id, job = await _tip_and_file(store, one)  # taken by ONE, whose task is slow
    assert await store.updates_seen.beat(ONE)
    assert await store.updates_seen.beat(TWO)

    # TWO handles the resident's next step and looks, twice: ONE lives, so nothing is started.
    assert await status.resume_files(two, user_id=USER) == 0
    assert await status.resume_files(two) == 0
    assert two_tasks == [] and prepared == []

    # ONE's heartbeat runs out (it died on its host): TWO takes the file over and stores it.
    await store.updates_seen.stop_beating(ONE)
    assert await status.resume_files(two) == 1
    await asyncio.gather(*two_tasks)
    assert prepared == [str(id(two_bot))]
    assert await _stored(store, tip_id) == 1
    assert two_bot.sent == [text("en", "status_addition_received")]
    # ONE was only slow after all: its cleaning ends, and it does not store the file again.
    assert await status._store_file(one, job, {"text": "", "attachments": [{}]}) == "elsewhere"
    assert await _stored(store, tip_id) == 1
    assert await store.conversations.files.all() == []


async def test_a_file_whose_tip_is_gone_is_told_kindly(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cleaned(monkeypatch)
    bot, tasks = _Bot(), []
    context = _context(store, ONE, bot, tasks)
    tip_id, job = await _tip_and_file(store, context)
    await store.db.execute("DELETE FROM tips WHERE tip_id = ?", (tip_id,))
    person = evidence.person_of(store.keyring, USER)
    status._start(context, job)
    await asyncio.gather(*tasks)
    assert bot.sent == [text("en", "status_file_tip_gone", number=1)]
    assert await store.conversations.files.all() == []
    assert evidence.in_flight.count(person) == 0


@pytest.mark.parametrize("cleanable", [True, False])
async def test_a_file_whose_tip_the_purge_takes_with_it_is_told_kindly(
    store: Store, monkeypatch: pytest.MonkeyPatch, cleanable: bool
) -> None:
    """The purge deletes a tip's files on their way with it (storage/purge.py): the file's own
    row is gone too, which is not "taken over by another process" (review of 2026-12-03's
    merged change: the resident heard nothing)."""
    from storage.purge import _delete

    async def too_large(*_: Any, **__: Any) -> dict[str, Any]:
        raise CannotClean(TOO_LARGE)

    if cleanable:
        _cleaned(monkeypatch)
    else:
        monkeypatch.setattr(evidence, "prepare", too_large)
    bot, tasks = _Bot(), []
    context = _context(store, ONE, bot, tasks)
    tip_id, job = await _tip_and_file(store, context)
    async with store.db.transaction():
        await _delete(store.db, store.keyring, [tip_id])
    status._start(context, job)
    await asyncio.gather(*tasks)
    assert bot.sent == [text("en", "status_file_tip_gone", number=1)]
    assert await store.conversations.files.all() == []


async def test_a_file_that_cannot_be_cleaned_after_the_session_ended_is_told_not_added(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def too_large(*_: Any, **__: Any) -> dict[str, Any]:
        raise CannotClean(TOO_LARGE)

    monkeypatch.setattr(evidence, "prepare", too_large)
    bot, tasks = _Bot(), []
    context = _context(store, ONE, bot, tasks)
    tip_id, job = await _tip_and_file(store, context)
    await flows.end(context, USER)  # "done" while it was cleaned
    status._start(context, job)
    await asyncio.gather(*tasks)
    assert bot.sent == [text("en", "status_file_not_added", number=1,
                             reason=evidence.reason_text("en", TOO_LARGE))]
    assert await store.conversations.files.all() == []
    assert await flows.current(context, USER) is None  # no session made up for it
    assert await _stored(store, tip_id) == 0


async def test_a_session_of_the_previous_version_hands_its_files_over_at_the_next_step(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the files on their way were kept in the session's `cleaning`: at the resident's
    next step they become files on their way of this process, cleaned and stored once."""
    _cleaned(monkeypatch)
    bot, tasks = _Bot(), []
    context = _context(store, ONE, bot, tasks)
    async with store.db.transaction():
        tip, _ = await store.tips.insert(
            NewTip("drugs", None, False, {"text": "x"}), Delivery(1, ()))
    received = evidence.Received(kind="document", file_id="F", file_name="a.pdf")
    entry = {"received": received.to_json(), "n": 1, "text": "ghi chú"}
    old = StatusSession(step="add", tip_id=tip.tip_id, cleaning={"tok9": entry})
    await flows.save(context, USER, old)
    assert await status._resume(context, USER, old, "en")
    await asyncio.gather(*tasks)
    now = await flows.current_of(context, USER, StatusSession)
    assert now is not None and not now.cleaning and now.step == "add"
    thread = await store.tips.thread(tip.tip_id)
    assert [(m.body["text"], m.body["attachments"][0]["file_id"]) for m in thread] == [
        ("ghi chú", "CLEAN")]
    assert await store.conversations.files.all() == []
    assert not await status._resume(context, USER, now, "en")  # nothing more to hand over


@pytest.mark.parametrize("cleanable", [True, False])
async def test_forget_removes_the_persons_files_on_their_way_and_their_cleaning_stores_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch, cleanable: bool
) -> None:
    """SPEC `/forget`: "anything in progress" goes; a file being cleaned is neither stored nor
    told to the chat afterwards. Another person's file on its way stays."""
    release = asyncio.Event()

    async def slow(*_: Any, **__: Any) -> dict[str, Any]:
        await release.wait()
        if not cleanable:
            raise CannotClean(TOO_LARGE)
        return {"kind": "document", "file_id": "CLEAN", "cleaned": "evidence-1.pdf"}

    monkeypatch.setattr(evidence, "prepare", slow)
    bot, tasks = _Bot(), []
    context = _context(store, ONE, bot, tasks)
    tip_id, job = await _tip_and_file(store, context)
    other = await store.conversations.files.put(ONE, {"user": USER + 1})
    status._start(context, job)
    await asyncio.sleep(0)
    async with evidence.user_lock(USER):
        assert await status.forget_files(context, USER) == 1
    release.set()
    await asyncio.gather(*tasks)
    assert bot.sent == []
    assert await _stored(store, tip_id) == 0
    assert [f.subject for f in await store.conversations.files.all()] == [other]


async def test_a_file_whose_storing_failed_here_is_tried_again_by_the_sweep_after_a_while(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to wait for the resident's next /status step, which may never come."""
    _cleaned(monkeypatch)
    now = [1000.0]
    monkeypatch.setattr(status, "_clock", lambda: now[0])
    monkeypatch.setattr(status, "_stalled", {})
    failures = [RuntimeError("disk I/O error")]
    add = store.tips.add_resident_message

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await add(*args, **kwargs)

    monkeypatch.setattr(store.tips, "add_resident_message", failing_once)
    bot, tasks = _Bot(), []
    context = _context(store, ONE, bot, tasks)
    tip_id, job = await _tip_and_file(store, context)
    status._start(context, job)
    await asyncio.gather(*tasks, return_exceptions=True)
    assert await _stored(store, tip_id) == 0 and bot.sent == []
    tasks.clear()

    assert await status.resume_files(context) == 0  # first seen stalled: not at once
    now[0] += status.STALLED_FIRST - 1
    assert await status.resume_files(context) == 0
    now[0] += 2
    assert await status.resume_files(context) == 1
    await asyncio.gather(*tasks)
    assert await _stored(store, tip_id) == 1
    assert bot.sent == [text("en", "status_addition_received")]
    assert await status.resume_files(context) == 0
    assert status._stalled == {}  # stored: forgotten by the sweep
