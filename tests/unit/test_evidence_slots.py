"""The slots a file's download, cleaning and upload hold: a free one goes to the waiting person
holding fewest, a cancelled waiter neither keeps nor loses one; the count of files in flight."""

from __future__ import annotations

import asyncio

import pytest

from handlers.resident.evidence import InFlight, Slots

FLOODER, OTHER, THIRD = b"f" * 32, b"o" * 32, b"t" * 32


async def _holding(slots: Slots, person: bytes, name: str, order: list[str],
                   release: asyncio.Event) -> None:
    async with slots.slot(person):
        order.append(name)
        await release.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_free_slot_goes_to_the_person_holding_fewest_then_to_the_longest_waiting():
    slots = Slots(2)
    order: list[str] = []
    releases = {name: asyncio.Event() for name in ("f1", "f2", "f3", "f4", "o1", "t1")}
    tasks = [asyncio.create_task(_holding(slots, FLOODER, name, order, releases[name]))
             for name in ("f1", "f2", "f3", "f4")]
    await _settle()
    tasks.append(asyncio.create_task(_holding(slots, OTHER, "o1", order, releases["o1"])))
    await _settle()
    tasks.append(asyncio.create_task(_holding(slots, THIRD, "t1", order, releases["t1"])))
    await _settle()
    assert order == ["f1", "f2"] and slots.waiting == 4

    releases["f1"].set()
    await _settle()
    assert order[-1] == "o1", "not the flooder's third file, which waited longer"
    releases["f2"].set()  # the flooder holds none now, as the third: the longest waiting
    await _settle()
    assert order[-1] == "f3"
    releases["o1"].set()
    await _settle()
    assert order[-1] == "t1", "not the flooder's fourth, which waited longer"
    for event in releases.values():
        event.set()
    await asyncio.gather(*tasks)
    assert order == ["f1", "f2", "o1", "f3", "t1", "f4"]
    assert slots.held(FLOODER) == slots.held(OTHER) == slots.waiting == 0


async def test_a_waiter_cancelled_before_or_as_it_gets_a_slot_gives_it_on():
    slots = Slots(1)
    order: list[str] = []
    first, second, third = asyncio.Event(), asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_holding(slots, FLOODER, "f1", order, first))
    await _settle()
    waiting = asyncio.create_task(_holding(slots, OTHER, "o1", order, second))
    await _settle()
    waiting.cancel()  # cancelled while it waits: it leaves the queue
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert slots.waiting == 0

    handed = asyncio.create_task(_holding(slots, OTHER, "o2", order, second))
    last = asyncio.create_task(_holding(slots, THIRD, "t1", order, third))
    await _settle()
    first.set()
    await asyncio.sleep(0)  # the holder gives its slot to o2 ...
    handed.cancel()  # ... which is cancelled before it runs: the slot goes on to t1
    with pytest.raises(asyncio.CancelledError):
        await handed
    await _settle()
    assert order == ["f1", "t1"]
    third.set()
    await asyncio.gather(holder, last)
    assert slots.held(THIRD) == slots.held(OTHER) == slots.waiting == 0


async def test_no_waiting_when_a_slot_is_free():
    slots = Slots(2)
    async with slots.slot(FLOODER), slots.slot(FLOODER):
        assert slots.held(FLOODER) == 2
    assert slots.held(FLOODER) == 0


def test_files_in_flight_are_counted_per_person_and_given_back():
    counts = InFlight()
    counts.take(FLOODER)
    counts.take(FLOODER)
    counts.take(OTHER)
    assert (counts.count(FLOODER), counts.count(OTHER), counts.count(THIRD)) == (2, 1, 0)
    counts.give_back(FLOODER)
    counts.give_back(FLOODER)
    counts.give_back(OTHER)
    assert counts.count(FLOODER) == counts.count(OTHER) == 0
    assert not counts._counts  # nobody is remembered once their files are done
