"""Webhooks in the emulator: setWebhook's settings, pushes with the secret header, 409 for
getUpdates, redelivery after a 5xx or a timeout, max_connections, per-chat order, spreading over
several addresses as a reverse proxy would."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram.error import BadRequest, Conflict

from emulator import Emulator, UserHandle
from emulator.spec import check_object
from emulator.webhook import SECRET_HEADER, queue_of

SECRET = "s3cret_token-1"


class Receiver:
    """A stand-in for a bot process: records what it is sent, answers as it is told."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, Any], str | None]] = []
        self.answers: deque[tuple[int, float]] = deque()  # (status, seconds to hold) each
        self.hold = 0.0
        self.active = 0
        self.peak = 0
        self._chats: set[int] = set()
        self.overlap = False  # two updates of one chat handled at once
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.requests.append((update, request.headers.get(SECRET_HEADER)))
        chat = queue_of(update)
        if chat is not None:
            self.overlap = self.overlap or chat in self._chats
            self._chats.add(chat)
        self.active += 1
        self.peak = max(self.peak, self.active)
        status, hold = self.answers.popleft() if self.answers else (200, self.hold)
        try:
            await asyncio.sleep(hold)
        finally:
            self.active -= 1
            self._chats.discard(chat)  # type: ignore[arg-type]
        return web.Response(status=status)

    @property
    def ids(self) -> list[int]:
        return [update["update_id"] for update, _ in self.requests]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    try:
        yield server
    finally:
        await server.stop()


async def until(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise TimeoutError("condition not met")


async def test_updates_are_pushed_with_the_secret_header(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle, receiver: Receiver
) -> None:
    assert await bot.set_webhook(receiver.url, secret_token=SECRET, max_connections=5)
    alice.send_text("xin chào")
    await until(lambda: receiver.requests)
    update, secret = receiver.requests[0]
    assert secret == SECRET
    assert update["message"]["text"] == "xin chào"
    assert check_object(update, "Update") == []
    await until(lambda: emu.pending_updates == [])
    info = await bot.get_webhook_info()
    assert (info.url, info.max_connections, info.pending_update_count) == (receiver.url, 5, 0)
    assert check_object(emu.webhook.info(), "WebhookInfo") == []
    assert emu.check_recorded_calls() == []


async def test_get_updates_answers_409_while_a_webhook_is_set(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle, receiver: Receiver
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.2)
    await bot.set_webhook(receiver.url)
    with pytest.raises(Conflict, match="webhook is active"):
        await poll  # a long poll running when the webhook is set ends with 409, too
    with pytest.raises(Conflict, match="use deleteWebhook"):
        await bot.get_updates()
    receiver.answers.append((503, 0))
    alice.send_text("một")
    await until(lambda: emu.webhook.deliveries)
    await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    updates = await bot.get_updates()  # what the webhook did not deliver is still there
    assert [u.message.text for u in updates] == ["một"]


async def test_a_500_is_delivered_again_and_shows_in_the_info(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle, receiver: Receiver
) -> None:
    emu.webhook.retry_first = 0.2
    receiver.answers.extend([(500, 0), (500, 0)])
    await bot.set_webhook(receiver.url, secret_token=SECRET)
    alice.send_text("tố giác")
    await until(lambda: len(receiver.requests) == 2)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert "500" in info.last_error_message
    assert info.last_error_date is not None
    await until(lambda: len(receiver.requests) == 3)
    await until(lambda: emu.pending_updates == [])
    assert len(set(receiver.ids)) == 1
    attempts = emu.webhook.deliveries
    assert [d.attempt for d in attempts] == [1, 2, 3]
    assert [d.status for d in attempts] == [500, 500, 200]
    first_gap = attempts[1].started - attempts[0].finished  # type: ignore[operator]
    second_gap = attempts[2].started - attempts[1].finished  # type: ignore[operator]
    assert 0.15 < first_gap < second_gap  # the delay grows


async def test_no_answer_in_time_is_delivered_again(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle, receiver: Receiver
) -> None:
    emu.webhook.timeout = 0.3
    emu.webhook.retry_first = 0.1
    receiver.answers.append((200, 1.5))  # answers, but too late
    await bot.set_webhook(receiver.url)
    alice.send_text("chậm")
    await until(lambda: len(receiver.requests) == 2)
    await until(lambda: emu.pending_updates == [])
    first, second = emu.webhook.deliveries
    assert first.error == "Read timeout expired" and first.status is None
    assert second.ok and second.update_id == first.update_id
    assert (await bot.get_webhook_info()).last_error_message == "Read timeout expired"


async def test_a_lost_answer_means_the_same_update_again(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle, receiver: Receiver
) -> None:
    emu.webhook.retry_first = 0.05
    emu.webhook.lose_answers(1)
    await bot.set_webhook(receiver.url)
    alice.send_text("hai lần")
    await until(lambda: len(receiver.requests) == 2)
    await until(lambda: emu.pending_updates == [])
    assert receiver.ids[0] == receiver.ids[1]
    assert [d.error for d in emu.webhook.deliveries] == ["answer lost", None]


async def test_at_most_max_connections_at_once_one_per_chat(
    emu: Emulator, bot: telegram.Bot, receiver: Receiver
) -> None:
    receiver.hold = 0.2
    await bot.set_webhook(receiver.url, max_connections=3)
    people = [emu.user(2000 + i, f"P{i}", started=True) for i in range(8)]
    for person in people:
        person.send_text("a")
        person.send_text("b")
    await until(lambda: len(receiver.requests) == 16, timeout=10)
    await until(lambda: emu.pending_updates == [])
    assert receiver.peak == 3
    assert emu.webhook.peak_in_flight == 3
    assert not receiver.overlap  # one chat's updates never at once
    for person in people:  # and in order
        texts = [u["message"]["text"] for u, _ in receiver.requests if queue_of(u) == person.id]
        assert texts == ["a", "b"]


async def test_a_failing_update_holds_back_its_chat_only(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle, receiver: Receiver
) -> None:
    emu.webhook.retry_first = 0.5
    receiver.answers.append((500, 0))
    await bot.set_webhook(receiver.url)
    alice.send_text("1")
    await until(lambda: receiver.requests)
    alice.send_text("2")
    bob = emu.user(1002, "Bob", started=True)
    bob.send_text("bob")
    await until(lambda: len(receiver.requests) == 2)
    assert receiver.requests[1][0]["message"]["text"] == "bob"  # alice's "2" waits for "1"
    await until(lambda: len(receiver.requests) == 4)
    assert [u["message"]["text"] for u, _ in receiver.requests[2:]] == ["1", "2"]


async def test_spread_over_two_addresses_round_robin_and_by_chat(
    emu: Emulator, bot: telegram.Bot, receiver: Receiver
) -> None:
    other = await Receiver().start()
    try:
        await bot.set_webhook("https://tipline.example.org/hook", secret_token=SECRET)
        emu.webhook.spread_over([receiver.url, other.url])
        people = [emu.user(3000 + i, f"P{i}", started=True) for i in range(6)]
        for person in people:
            person.send_text("x")
        await until(lambda: len(receiver.requests) + len(other.requests) == 6)
        assert len(receiver.requests) == len(other.requests) == 3
        assert all(secret == SECRET for _, secret in receiver.requests + other.requests)

        emu.webhook.spread_over([receiver.url, other.url], spread="hash")
        for _ in range(3):
            for person in people:
                person.send_text("y")
        await until(lambda: len(receiver.requests) + len(other.requests) == 24)
        for person in people:
            here = sum(1 for u, _ in receiver.requests[3:] if queue_of(u) == person.id)
            there = sum(1 for u, _ in other.requests[3:] if queue_of(u) == person.id)
            assert sorted((here, there)) == [0, 3]  # a chat sticks to one address
    finally:
        await other.stop()


async def test_an_address_off_this_machine_is_never_called(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    await bot.set_webhook("https://tipline.example.org/hook")
    alice.send_text("x")
    await until(lambda: emu.webhook.deliveries)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert "only to this machine" in info.last_error_message
    with pytest.raises(ValueError, match="on this machine"):
        emu.webhook.spread_over(["http://192.0.2.1/hook"])


async def test_set_webhook_checks_like_telegram(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle, receiver: Receiver
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://tipline.example.org/hook")
    with pytest.raises(BadRequest, match=r"(?i)ports 80, 88, 443 or 8443"):
        await bot.set_webhook("https://tipline.example.org:9999/hook")
    with pytest.raises(BadRequest, match=r"(?i)secret token"):
        await bot.set_webhook(receiver.url, secret_token="no spaces!")
    await bot.set_webhook(receiver.url, max_connections=500, allowed_updates=["message"])
    info = await bot.get_webhook_info()
    assert info.max_connections == 100  # clamped, as Telegram does
    assert info.allowed_updates == ("message",)
    await bot.delete_webhook()
    alice.send_text("kept")
    await bot.set_webhook(receiver.url, drop_pending_updates=True)
    await asyncio.sleep(0.2)
    assert receiver.requests == [] and emu.pending_updates == []
    assert await bot.set_webhook("")  # an empty URL removes the webhook
    assert (await bot.get_webhook_info()).url == ""
    assert emu.spec_violations == []


async def test_control_api_sets_targets_and_timeouts(emu: Emulator, receiver: Receiver) -> None:
    async with aiohttp.ClientSession() as http:
        answer = await http.post(
            f"{emu.url}/_emulator/webhook",
            json={"targets": [receiver.url], "spread": "hash", "timeout": 2, "retry_first": 0.1},
        )
        body = await answer.json()
        assert body["ok"] and body["result"]["targets"] == [receiver.url]
        assert (emu.webhook.timeout, emu.webhook.retry_first) == (2.0, 0.1)
        bad = await http.post(f"{emu.url}/_emulator/webhook", json={"spread": "random",
                                                                    "targets": []})
        assert bad.status == 400
