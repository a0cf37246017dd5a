"""The campaign's pieces without Telegram: the bundled messages, subscribers, the broadcast queue
(claims, outcomes, crashes), leases, campaign counters, and the broadcaster's small helpers."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from emulator.formatting import char_len, parse_formatted
from storage.broadcasts import Broadcasts
from storage.database import open_database
from storage.keyring import load_keyring
from storage.store import open_store
from storage.tips import Delivery, NewTip
from telegram_api.answers import certainly_not_delivered as _certainly_not_delivered
from testing.postgres import columns_of
from texts.catalog import CATEGORIES
from workers.broadcaster import _dead_here, duration, progress_text
from workers.scheduler import (
    CampaignFileError,
    campaign_link,
    campaign_messages,
    parse_campaign,
    render_campaign,
)

# --- the bundled messages ------------------------------------------------------------------

TOPICS = {
    "anonymous", "receipt", "emergency", "drugs", "rehab", "scams", "forest", "wildlife",
    "domestic", "elders", "selfmanaged", "reviews",
}  # fmt: skip


def test_at_least_twelve_bundled_messages_cover_the_issues_topics():
    messages = campaign_messages()
    assert len(messages) >= 12
    assert {m.key for m in messages} >= TOPICS
    assert len({m.key for m in messages}) == len(messages)


@pytest.mark.parametrize("message", campaign_messages(), ids=lambda m: m.key)
def test_each_message_is_valid_telegram_html_in_both_languages(message):
    rendered = render_campaign(message, "tipline_bot")
    assert set(rendered) == {"vi", "en"}
    for language, body in rendered.items():
        shown, _entities = parse_formatted(body, "HTML")
        assert 100 < char_len(shown) <= 4096, (message.key, language)
        if message.link:
            assert campaign_link("tipline_bot", message.key, message.category) in shown
        else:
            assert "t.me/" not in shown
    assert rendered["vi"] != rendered["en"]
    assert message.category is None or message.category in CATEGORIES


def test_vietnamese_texts_are_vietnamese_and_the_district_is_named():
    vietnamese = " ".join(m.texts["vi"] for m in campaign_messages())
    for word in ("báo tin", "ẩn danh", "113", "A Lưới", "già làng",
                 "tổ tự quản", "mã biên nhận", "sơ kết"):
        assert word.lower() in vietnamese.lower(), word


def test_campaign_links_follow_the_deep_link_format():
    assert campaign_link("b", "drugs", "drugs") == "https://t.me/b?start=c-drugs-drugs"
    assert campaign_link("b", "anonymous", None) == "https://t.me/b?start=report"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"message": [{"key": "Bad Key", "vi": "x", "en": "y"}]},
        {"message": [{"key": "a", "vi": "x"}]},
        {"message": [{"key": "a", "vi": "x", "en": "y", "category": "weather"}]},
        {"message": [{"key": "a", "vi": "x", "en": "y"}, {"key": "a", "vi": "x", "en": "y"}]},
    ],
)
def test_a_malformed_campaign_file_is_refused(data):
    with pytest.raises(CampaignFileError):
        parse_campaign(data)


# --- storage -------------------------------------------------------------------------------


async def test_subscribing_is_once_per_user_and_the_chat_id_is_not_kept_in_clear(store, tmp_path):
    user = 918273645
    assert await store.subscribers.subscribe(user, user, "vi")
    assert not await store.subscribers.subscribe(user, user, "en")  # already: unchanged
    assert await store.subscribers.count() == 1
    assert await store.subscribers.language(user) == "vi"
    await store.subscribers.set_language(user, "en")
    assert await store.subscribers.language(user) == "en"
    row = await store.db.fetchone("SELECT subscriber_id FROM subscribers")
    recipient = await store.subscribers.recipient(row["subscriber_id"])
    assert (recipient.chat_id, recipient.language) == (user, "en")
    assert str(user) not in repr(recipient)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("t.db*"))
    assert str(user).encode() not in raw
    assert user.to_bytes(8, "big") not in raw
    assert await store.subscribers.unsubscribe(user)
    assert not await store.subscribers.unsubscribe(user)
    assert await store.subscribers.language(user) is None


async def _broadcast(store, subscribers=3, channels=("@alnews",)) -> int:
    for user in range(1, subscribers + 1):
        await store.subscribers.subscribe(user, 1000 + user, "vi")
    async with store.db.transaction():
        broadcast_id, total = await store.broadcasts.create(
            origin="admin", content={"kind": "text", "texts": {"*": "Xin chào"}},
            channels=channels, created_by=7001, progress_chat=7001,
        )
    assert total == subscribers + len(channels)
    return broadcast_id


async def test_the_queue_gives_each_row_once_and_records_every_outcome(store):
    broadcast_id = await _broadcast(store, subscribers=4)
    rows = [await store.broadcasts.claim_next("w1") for _ in range(5)]
    assert all(rows)
    assert await store.broadcasts.claim_next("w1") is None
    assert len({r.recipient_id for r in rows}) == 5
    assert rows[-1].channel == "@alnews" and rows[-1].subscriber_id is None
    await store.broadcasts.finish(rows[0], "w1", "sent")
    await store.broadcasts.remove_subscriber(rows[1], "w1", "Forbidden: bot was blocked")
    await store.broadcasts.finish(rows[2], "w1", "uncertain", "timeout")
    await store.broadcasts.retry_later(rows[3], "w1", 0, "retry_after", count_attempt=False)
    await store.broadcasts.finish(rows[4], "w1", "failed", "Bad Request")
    counts = await store.broadcasts.counts(broadcast_id)
    assert (counts.sent, counts.removed, counts.uncertain, counts.failed, counts.pending) == (
        1, 1, 1, 1, 1,
    )
    assert await store.subscribers.count() == 3  # the blocked one is gone
    again = await store.broadcasts.claim_next("w1")
    assert again.recipient_id == rows[3].recipient_id and again.attempts == 0
    await store.broadcasts.finish(again, "w1", "sent")
    await store.broadcasts.complete_finished()
    broadcast = await store.broadcasts.get(broadcast_id)
    assert broadcast.state == "done"
    assert [b.broadcast_id for b in await store.broadcasts.unreported()] == [broadcast_id]
    await store.broadcasts.mark_reported(broadcast_id)
    assert not await store.broadcasts.has_work()


async def test_rows_left_sending_by_a_dead_worker_become_uncertain_and_are_never_resent(store):
    broadcast_id = await _broadcast(store, subscribers=3, channels=())
    in_flight = await store.broadcasts.claim_next("dead-worker")
    assert await store.broadcasts.orphans_uncertain("new-worker") == 1
    counts = await store.broadcasts.counts(broadcast_id)
    assert counts.uncertain == 1 and counts.pending == 2
    claimed = [await store.broadcasts.claim_next("new-worker") for _ in range(3)]
    assert in_flight.recipient_id not in {r.recipient_id for r in claimed if r}
    assert claimed[-1] is None
    # The dead worker's late answer still wins over the guess.
    await store.broadcasts.finish(in_flight, "dead-worker", "sent")
    assert (await store.broadcasts.counts(broadcast_id)).sent == 1


async def test_a_subscriber_who_leaves_mid_broadcast_is_skipped(store):
    await _broadcast(store, subscribers=2, channels=())
    await store.subscribers.unsubscribe(1)
    row = await store.broadcasts.claim_next("w")
    assert row.subscriber_id is None
    assert await store.subscribers.recipient(2) is not None


async def test_stopping_cancels_what_is_not_sent_yet(store):
    broadcast_id = await _broadcast(store, subscribers=3, channels=())
    first = await store.broadcasts.claim_next("w")
    assert await store.broadcasts.stop(broadcast_id)
    assert not await store.broadcasts.stop(broadcast_id)
    assert await store.broadcasts.claim_next("w") is None
    assert await store.broadcasts.unreported() == []  # one is still in flight
    await store.broadcasts.finish(first, "w", "sent")
    counts = await store.broadcasts.counts(broadcast_id)
    assert (counts.sent, counts.cancelled) == (1, 2)
    assert [b.state for b in await store.broadcasts.unreported()] == ["stopped"]


async def test_two_processes_never_claim_the_same_row(tmp_path):
    key = os.urandom(32)
    store = await open_store(tmp_path / "p.db", key)
    other_db = await open_database(tmp_path / "p.db")
    other = Broadcasts(other_db, await load_keyring(other_db, key))
    try:
        await _broadcast(store, subscribers=60, channels=())

        async def drain(broadcasts, worker):
            got = []
            while row := await broadcasts.claim_next(worker):
                got.append(row.recipient_id)
                await asyncio.sleep(0)
            return got

        first, second = await asyncio.gather(drain(store.broadcasts, "a"), drain(other, "b"))
        assert len(first) + len(second) == 60
        assert not set(first) & set(second)
    finally:
        await other_db.close()
        await store.close()


async def test_a_lease_has_one_holder_until_it_expires_or_is_released(store):
    leases = store.leases
    assert await leases.acquire("broadcaster", "a", 30)
    assert await leases.acquire("broadcaster", "a", 30)  # renewal
    assert not await leases.acquire("broadcaster", "b", 30)
    assert await leases.holder("broadcaster") == "a"
    assert await leases.take_over("broadcaster", "a", "b", 30)
    assert not await leases.acquire("broadcaster", "a", 30)
    await leases.release("broadcaster", "b")
    assert await leases.acquire("broadcaster", "a", 0.01)
    await asyncio.sleep(0.05)
    assert await leases.acquire("broadcaster", "b", 30)  # expired


async def test_campaign_counts_are_counts_only(store):
    for _ in range(3):
        await store.campaigns.count_start("tet2025", "drugs")
    await store.campaigns.count_start("tet2025", "forest")
    await store.campaigns.count_start("other1", "theft")
    async with store.db.transaction():
        await store.tips.insert(
            NewTip("drugs", None, False, {"text": "x"}, campaign="tet2025"), Delivery(1, ())
        )
    counts = {c.category: (c.starts, c.tips) for c in await store.campaigns.counts("tet2025")}
    assert counts == {"drugs": (3, 1), "forest": (1, 0)}
    # The campaigns a list may name: one counter of at least the threshold, every category of
    # them (the small ones too, as parts of the totals); other1 (all small) is not there.
    listed = [(c.campaign, c.category, c.starts, c.tips)
              for c in await store.campaigns.listed_counts(3)]
    assert listed == [("tet2025", "drugs", 3, 1), ("tet2025", "forest", 1, 0)]
    assert await store.campaigns.listed_counts(5) == []
    assert [c.campaign for c in await store.campaigns.listed_counts(1)] == [
        "other1", "tet2025", "tet2025"]
    columns = await columns_of(store.db, "campaign_starts")
    assert columns == ["campaign", "category", "starts", "tips"]
    # The tip itself does not record the campaign link it came from.
    tip_columns = await columns_of(store.db, "tips")
    assert not [c for c in tip_columns if "campaign" in c]
    assert b"tet2025" not in b"".join(
        bytes(v) if isinstance(v, bytes) else str(v).encode()
        for row in await store.db.fetchall("SELECT * FROM tips") for v in tuple(row)
    )


# --- broadcaster helpers -------------------------------------------------------------------


def test_errors_that_certainly_did_not_deliver_are_told_apart_from_unknown_outcomes():
    from telegram.error import NetworkError

    # A 5xx may come after Telegram sent the message: unknown, so never repeated.
    assert not _certainly_not_delivered(NetworkError("Bad Gateway"))
    assert not _certainly_not_delivered(NetworkError("Internal Server Error"))
    assert _certainly_not_delivered(NetworkError("httpx.ConnectError: refused"))
    assert not _certainly_not_delivered(NetworkError("httpx.ReadError: reset"))
    assert not _certainly_not_delivered(NetworkError("httpx.RemoteProtocolError: gone"))


def test_a_lease_holder_is_dead_only_when_its_process_of_this_host_is_gone():
    import socket

    host = socket.gethostname()
    assert not _dead_here(f"{host}:{os.getppid()}:x")  # alive
    assert _dead_here(f"{host}:{2**22 + 12345}:x")  # no such pid
    assert not _dead_here(f"elsewhere-{host}:{2**22 + 12345}:x")  # cannot tell: wait
    assert not _dead_here("garbage")


def test_durations_and_progress_read_well():
    from storage.broadcasts import Broadcast, Counts

    assert duration("vi", 42) == "42 giây"
    assert duration("en", 125) == "2 min 5 s"
    assert duration("en", 3700) == "1 h 1 min"
    broadcast = Broadcast(5, "admin", None, 1, "sending", 200, 1, 2, False, time.time(), None, {})
    counts = Counts(200, 98, 2, 95, 1, 3, 1, 0, 0)
    body = progress_text("en", broadcast, counts, seconds_left=4.0, final=False)
    shown, _ = parse_formatted(body, "HTML")
    assert "Broadcast #5" in shown and "50%" in shown
    assert "Sent: 95 · Failed: 1 · Removed: 3 · Uncertain: 1 · Left: 100" in shown
    assert "About 4 s left" in shown
    assert "▓▓▓▓▓░░░░░" in shown
