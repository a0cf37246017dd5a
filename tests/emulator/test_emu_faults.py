"""Fault injection (429, 5xx, latency, timeout) and Telegram's flood limits."""

from __future__ import annotations

import asyncio
import time

import pytest
import telegram
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from emulator import Emulator, UserHandle

# PTB 22 warns about RetryAfter.retry_after becoming a timedelta whenever it builds one.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_429_surfaces_as_retry_after(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    emu.inject("429", method="sendMessage", times=1, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(alice.id, "hi")
    assert "Retry in 7 seconds" in str(info.value)
    assert emu.calls[-1].fault == "429" and emu.calls[-1].retry_after == 7
    assert emu.unretried_429s()  # not retried yet
    await bot.send_message(alice.id, "hi")  # rule used up; the retry succeeds
    assert emu.unretried_429s() == []
    assert len(emu.messages(alice.id)) == 1  # the 429'd call did not deliver


async def test_5xx_is_network_error(emu: Emulator, bot: telegram.Bot, alice: UserHandle) -> None:
    emu.inject("5xx", chat_id=alice.id, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(alice.id, "hi")
    await bot.send_message(alice.id, "hi")
    emu.inject("5xx", method=["sendPhoto"])
    await bot.send_message(alice.id, "other methods unaffected")
    emu.clear_faults()
    assert [c.error_code for c in emu.calls_to("sendMessage")] == [502, 502, None, None]


async def test_latency_and_probability_are_reproducible(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    emu.inject("latency", method="sendMessage", delay=0.3, times=1)
    started = time.monotonic()
    await bot.send_message(alice.id, "slow")
    assert time.monotonic() - started >= 0.3

    def outcomes(seed: int) -> list[bool]:
        other = Emulator(seed=seed)
        other.inject("5xx", probability=0.5)
        return [other.faults.pick("sendMessage", 1) is not None for _ in range(20)]

    assert outcomes(3) == outcomes(3)
    assert any(outcomes(3)) and not all(outcomes(3))


async def test_timeout_applies_the_call(emu: Emulator, alice: UserHandle) -> None:
    """Telegram may deliver although the client timed out: the message exists anyway."""
    request = HTTPXRequest(read_timeout=0.3)
    async with telegram.Bot(emu.token, base_url=emu.base_url, request=request) as bot:
        emu.inject("timeout", method="sendMessage", times=1, delay=1.0)
        with pytest.raises(TimedOut):
            await bot.send_message(alice.id, "maybe delivered")
        assert [m.text for m in emu.messages(alice.id)] == ["maybe delivered"]
        await asyncio.sleep(0.8)  # let the held answer finish before the server stops


async def test_rate_limits(emu: Emulator, bot: telegram.Bot, alice: UserHandle) -> None:
    emu.set_rate_limits(global_per_second=4, per_chat_per_second=1)
    await bot.send_message(alice.id, "1")
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "2")
    assert emu.rate_limit_hits == 1 and emu.calls[-1].rate_limited
    assert [c.method for c in emu.unretried_429s()] == ["sendMessage"]
    emu.advance_time(1.1)
    await bot.send_message(alice.id, "2")  # the retry after waiting
    assert emu.unretried_429s() == []
    users = [emu.user(3000 + i, f"U{i}", started=True) for i in range(4)]
    for user in users[:3]:
        await bot.send_message(user.id, "broadcast")
    with pytest.raises(RetryAfter):  # 5th message within the same second: global limit
        await bot.send_message(users[3].id, "broadcast")
    emu.set_rate_limits(enabled=False)
    await bot.send_message(users[3].id, "broadcast")


async def test_403_is_forbidden_and_reset_is_a_network_error_not_applied(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    emu.inject("403", method="sendMessage", times=1)
    with pytest.raises(telegram.error.Forbidden, match="blocked by the user"):
        await bot.send_message(alice.id, "hi")
    emu.inject("reset", method="sendMessage", times=1)
    with pytest.raises(NetworkError) as info:
        await bot.send_message(alice.id, "hi")
    assert not isinstance(info.value, telegram.error.BadRequest)
    assert emu.calls[-1].fault == "reset" and not emu.calls[-1].ok
    assert emu.messages(alice.id) == []  # neither call delivered
    await bot.send_message(alice.id, "hi")
    assert len(emu.messages(alice.id)) == 1
