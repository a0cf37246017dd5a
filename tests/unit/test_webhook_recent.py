"""bot/webhook.py's memory of recent update ids: a repeat is recognised, waits for the first
delivery's outcome, and the memory stays bounded without forgetting an update in hand."""

from __future__ import annotations

import asyncio

from bot.webhook import RecentUpdates


async def test_a_repeat_gets_the_first_deliverys_outcome() -> None:
    recent = RecentUpdates(size=10)
    assert recent.begin(1) is None  # new: the caller handles it
    repeat = recent.begin(1)
    assert repeat is not None and not repeat.done()  # in hand: wait for it
    recent.done(1, handled=True)
    assert await asyncio.wait_for(repeat, 1) is True
    later = recent.begin(1)  # handled long ago: still recognised
    assert later is not None and later.result() is True


async def test_a_failed_update_is_forgotten_so_the_next_delivery_handles_it() -> None:
    recent = RecentUpdates(size=10)
    assert recent.begin(7) is None
    waiting = recent.begin(7)
    recent.done(7, handled=False)
    assert waiting is not None and await waiting is False
    assert recent.begin(7) is None


async def test_bounded_but_never_forgets_what_is_in_hand() -> None:
    recent = RecentUpdates(size=3)
    assert recent.begin(1) is None  # stays in hand
    for update_id in range(2, 8):
        assert recent.begin(update_id) is None
        recent.done(update_id, handled=True)
    assert recent.begin(1) is not None  # in hand: kept, and it holds the older ones back
    recent.done(1, handled=True)
    assert recent.begin(8) is None
    assert len(recent) <= 3
    assert recent.begin(2) is None  # long forgotten
