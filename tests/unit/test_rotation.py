"""Key rotation (issue 14, point 2): a new content key re-encrypts every value in resumable
batches, with a running bot reading and writing throughout; a new master key re-wraps."""

from __future__ import annotations

import asyncio

import pytest

from storage.conversations import Flow
from storage.database import open_database
from storage.keyring import KeyPurpose, WrongMasterKeyError, load_keyring, rotate_master_key
from storage.receipt_codes import normalise_receipt_code
from storage.rotation import (
    NOT_SEALED,
    SEALED,
    KeyringWatch,
    RotationError,
    rotate_content,
    unreadable_values,
    values_outside,
)
from storage.store import Store, open_any_database, open_store
from storage.tips import Delivery, NewTip

MASTER = bytes(range(32))
NEW_MASTER = bytes(range(1, 33))


async def _fill(store: Store, tips: int = 12) -> list[str]:
    """A value in every encrypted column; returns the tips' receipt codes."""
    codes = []
    for number in range(tips):
        async with store.db.transaction():
            tip, code = await store.tips.insert(
                NewTip("drugs", "hong-van", False, {"text": f"tip {number}"}, notify_chat=4242),
                Delivery(1, (7002,)),
            )
        await store.tips.add_resident_message(tip, {"text": f"more {number}"}, (7002,))
        codes.append(code)
    await store.desk.set_status(1, "transferred", transferred_to="Đồn Biên phòng A Đớt")
    await store.outbox.retry_later(1, 60, "network")  # an encrypted timing
    await store.conversations.save(5401, Flow.REPORT, {"step": "text", "text": ["draft"]})
    await store.subscribers.subscribe(5402, 5402, "vi")
    async with store.db.transaction():
        await store.broadcasts.create(origin="admin", content={"text": {"vi": "tin"}},
                                      channels=(), created_by=7009)
    await store.schedules.create(content={"kind": "rotation"}, frequency="daily",
                                 at_time="08:00", next_run_at=0, created_by=7009)
    # Updates in hand (long polling keeps them with the claim): the same id under two bots.
    await store.updates_seen.claim_many(1, [31], "gone:1:x", {31: '{"update_id":31}'})
    await store.updates_seen.claim(2, 31, "gone:1:x", update='{"update_id":31,"bot":2}')
    # A person's counts for the rate limits (migration 0020).
    await store.ratelimits.note_tip(5403)
    await store.ratelimits.record_failure(5403, "receipt", 600)
    return codes


async def _read_everything(store: Store, codes: list[str]) -> None:
    for number, code in enumerate(codes):
        tip = await store.tips.by_receipt_code(normalise_receipt_code(code) or "")
        assert tip is not None and tip.content["text"] == f"tip {number}"
        assert tip.notify_chat == 4242
        assert [m.body["text"] for m in await store.tips.thread(tip.tip_id)] == [f"more {number}"]
    assert await store.desk.transferred_to(1) == "Đồn Biên phòng A Đớt"
    saved = await store.conversations.load(5401)
    assert saved is not None and saved.fields["text"] == ["draft"]
    assert (await store.subscribers.recipient(1)) is not None
    assert (await store.broadcasts.get(1)) is not None
    assert (await store.schedules.get(1)) is not None
    assert await store.outbox.next_due_in() is not None
    assert [o.update for o in await store.updates_seen.orphans(1, "here")] == ['{"update_id":31}']
    assert [o.update for o in await store.updates_seen.orphans(2, "here")] == [
        '{"update_id":31,"bot":2}']
    assert await store.ratelimits.tips_today(5403) == 1
    assert await store.ratelimits.recent_failures(5403, "receipt", 600) == 1


def test_every_blob_column_is_either_rotated_or_known_not_to_hold_a_sealed_value(tmp_path):
    import asyncio as aio

    async def columns() -> set[tuple[str, str]]:
        db = await open_database(tmp_path / "schema.db")
        try:
            tables = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
            found = set()
            for table in tables:
                for column in await db.fetchall(
                    "SELECT name, type FROM pragma_table_info(?)", (table["name"],)
                ):
                    if column["type"].upper() == "BLOB":
                        found.add((table["name"], column["name"]))
            return found
        finally:
            await db.close()

    blobs = aio.run(columns())
    rotated = {(c.table, c.field) for c in SEALED}
    assert blobs == rotated | NOT_SEALED, "a new encrypted column must join storage/rotation.SEALED"


async def test_content_rotation_reencrypts_everything_and_deletes_the_old_key(
    store: Store, db_target
):
    codes = await _fill(store)
    old_key = store.keyring.active_content_key_id
    done = await rotate_content(store.db, MASTER, batch=5)
    assert not done.resumed and done.failed == 0
    # tips x3, thread, one agency, the others, the updates in hand, the two rate limits
    assert done.rewritten == 12 * 3 + 12 + 1 + 1 + 1 + 1 + 1 + 1 + 2 + 2
    assert done.deleted_keys == (old_key,)
    assert await values_outside(store.db, done.new_key_id) == 0
    fresh = await open_store(db_target, MASTER)
    try:
        assert fresh.keyring.content_key_ids == (done.new_key_id,)
        await _read_everything(fresh, codes)
    finally:
        await fresh.close()
    # The store opened before it (a stale keyring) counts values it cannot open.
    assert await unreadable_values(store.db, store.keyring) == await values_outside(
        store.db, old_key)


async def test_an_interrupted_content_rotation_resumes_and_finishes(store: Store, db_target):
    codes = await _fill(store, tips=30)
    old_key = store.keyring.active_content_key_id
    seen: list[int] = []

    def crash(done: int) -> None:
        seen.append(done)
        if len(seen) == 3:
            raise KeyboardInterrupt  # as if killed between two batches

    with pytest.raises(KeyboardInterrupt):
        await rotate_content(store.db, MASTER, progress=crash, batch=10)
    assert 0 < await values_outside(store.db, old_key) < 30 * 4
    # The retired key is still there: the database opens and reads as before.
    half = await open_store(db_target, MASTER)
    try:
        assert len(half.keyring.content_key_ids) == 2
        await _read_everything(half, codes)
        assert await unreadable_values(half.db, half.keyring) == 0
    finally:
        await half.close()
    done = await rotate_content(store.db, MASTER, batch=10)
    assert done.resumed and done.rewritten == 30 * 4 + 6 + 2 + 2 - seen[-1]  # the rest, once
    assert done.deleted_keys == (old_key,)
    assert await values_outside(store.db, done.new_key_id) == 0


async def test_a_running_bot_reads_and_writes_throughout_a_content_rotation(db_target):
    """The bot's store and the command's database are two connections, as two processes."""
    bot = await open_store(db_target, MASTER)
    codes = await _fill(bot, tips=40)
    watch = KeyringWatch(bot.db, bot.keyring, MASTER)
    await watch.tick()
    stop = asyncio.Event()

    async def bot_works() -> None:
        number = 0
        while not stop.is_set():
            await watch.tick()
            await _read_everything(bot, codes[:5])
            await bot.conversations.save(5401, Flow.REPORT, {"step": "text", "text": ["draft"]})
            async with bot.db.transaction():
                await bot.tips.insert(NewTip("theft", None, False, {"text": f"new {number}"}),
                                      Delivery(1, ()))
            number += 1
            await asyncio.sleep(0.05)

    worker = asyncio.create_task(bot_works())
    command = await open_any_database(db_target)
    try:
        done = await rotate_content(command, MASTER, batch=20)
    finally:
        stop.set()
        await worker
        await command.close()
    assert bot.keyring.active_content_key_id == done.new_key_id
    assert await values_outside(bot.db, done.new_key_id) == 0
    await _read_everything(bot, codes)
    await bot.close()


async def test_a_bot_that_cannot_load_the_new_key_stops_the_rotation_before_any_change(
    store: Store,
):
    await _fill(store, tips=3)
    old_key = store.keyring.active_content_key_id
    stale = KeyringWatch(store.db, store.keyring, NEW_MASTER)  # a master rotated away
    await stale.tick()
    ticking = asyncio.create_task(_tick_forever(stale))
    try:
        with pytest.raises(RotationError, match="restart it"):
            await rotate_content(store.db, MASTER, holder_wait=1.0)
    finally:
        ticking.cancel()
    assert await values_outside(store.db, old_key) == 0  # nothing moved to the new key
    await stale.leave()
    done = await rotate_content(store.db, MASTER)  # resumes once the bot is gone
    assert done.resumed and done.deleted_keys == (old_key,)


async def _tick_forever(watch: KeyringWatch) -> None:
    while True:
        await watch.tick()
        await asyncio.sleep(0.1)


async def test_master_rotation_rewraps_and_only_the_new_master_opens(store: Store, db_target):
    codes = await _fill(store, tips=2)
    assert await rotate_master_key(store.db, MASTER, NEW_MASTER) == len(KeyPurpose)  # one each
    await _read_everything(store, codes)  # the running keyring goes on
    with pytest.raises(WrongMasterKeyError):
        await load_keyring(store.db, MASTER)
    reopened = await open_store(db_target, NEW_MASTER)
    try:
        await _read_everything(reopened, codes)
    finally:
        await reopened.close()


async def test_values_under_a_key_that_is_gone_are_counted(store: Store, db_target):
    await _fill(store, tips=2)
    await rotate_content(store.db, MASTER)
    await store.db.execute(
        "UPDATE tips SET content = ? WHERE tip_id = 1",
        (bytes.fromhex("01000000630000000000000000000000000000000000" "000000000000000000"),),
    )
    reopened = await open_store(db_target, MASTER)
    try:
        assert await unreadable_values(reopened.db, reopened.keyring) == 1
    finally:
        await reopened.close()
