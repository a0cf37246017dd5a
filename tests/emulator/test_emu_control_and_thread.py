"""Control API, event hooks, the background-thread runner and a real PTB Application."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import urllib.request

import aiohttp
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from emulator import Emulator, EmulatorThread
from emulator.driver import PNG_1X1


async def test_control_api(emu: Emulator, bot: telegram.Bot) -> None:
    base = f"{emu.url}/_emulator"
    async with aiohttp.ClientSession() as http:

        async def call(verb: str, path: str, body: dict | None = None) -> dict:
            async with http.request(verb, f"{base}/{path}", json=body) as resp:
                return await resp.json()

        created = await call("POST", "users", {"user_id": 77, "first_name": "Lan"})
        assert created["ok"] and created["result"]["id"] == 77
        sent = await call("POST", "users/77/command", {"command": "/start", "args": "x"})
        assert sent["result"]["text"] == "/start x"
        await call("POST", "users/77/text", {"text": "Có trộm"})
        photo = base64.b64encode(PNG_1X1).decode()
        await call("POST", "users/77/photo", {"data_base64": photo, "caption": "ảnh"})
        await call("POST", "users/77/location", {"latitude": 21.0, "longitude": 105.8})
        assert len(await bot.get_updates()) == 4

        markup = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
        reply = await bot.send_message(77, "Nhận được", reply_markup=markup)
        listing = await call("GET", "chats/77/messages")
        assert [m["from_bot"] for m in listing["result"]] == [False, False, False, False, True]
        assert listing["result"][-1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "OK"
        click = await call("POST", "users/77/click", {"text": "OK"})
        query_id = click["result"]["callback_query_id"]
        forged = await call(
            "POST",
            "users/77/click",
            {"message_id": reply.message_id, "callback_data": "evil", "forge": True},
        )
        assert forged["ok"]
        missing = await call("POST", "users/77/click", {"text": "Nope"})
        assert missing["ok"] is False
        await bot.answer_callback_query(query_id, text="xong")
        answer = await call("GET", f"callbacks/{query_id}")
        assert answer["result"]["text"] == "xong"
        unknown = await call("POST", "users/5/text", {"text": "x"})
        assert unknown["ok"] is False

        await call("POST", "faults", {"kind": "5xx", "method": "sendMessage", "times": 1})
        with contextlib.suppress(telegram.error.NetworkError):
            await bot.send_message(77, "x")
        await call("DELETE", "faults")
        calls = await call("GET", "calls?method=sendMessage")
        assert [c["error_code"] for c in calls["result"]] == [None, 502]
        state = await call("GET", "state")
        assert state["result"]["bot"]["username"] == "tipline_test_bot"

        # Server-sent events: replay from the start, then a live event.
        async with http.get(f"{base}/events?since=0") as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            seen: list[dict] = []

            async def read_events() -> None:
                async for raw in stream.content:
                    line = raw.decode().strip()
                    if line.startswith("data: "):
                        seen.append(json.loads(line[6:]))
                        if seen[-1]["type"] == "edit":
                            return

            reader = asyncio.create_task(read_events())
            await bot.edit_message_text("Đã xử lý", 77, reply.message_id)
            await asyncio.wait_for(reader, 5)
        kinds = [e["type"] for e in seen]
        assert kinds[:1] == ["user_message"] and "message" in kinds and "callback_answer" in kinds
        assert seen[-1]["message"]["text"] == "Đã xử lý"


async def test_subscribe_and_queue(emu: Emulator, bot: telegram.Bot) -> None:
    user = emu.user(5, "A", started=True)
    events: list[dict] = []
    unsubscribe = emu.subscribe(events.append)
    queue, unsubscribe_queue = emu.event_queue()
    msg = await bot.send_message(user.id, "hi")
    await bot.delete_message(user.id, msg.message_id)
    assert [e["type"] for e in events] == ["message", "delete"]
    assert (await asyncio.wait_for(queue.get(), 1))["type"] == "message"
    unsubscribe()
    unsubscribe_queue()
    await bot.send_message(user.id, "again")
    assert len(events) == 2


def test_thread_runner_with_sync_driving() -> None:
    """The emulator in its own thread; a plain HTTP client plays the bot."""
    with EmulatorThread(bot_username="x_bot") as emu:
        user = emu.user(9, "Minh", started=True)

        def bot_side() -> None:
            data = json.dumps({"chat_id": 9, "text": "<b>Chào</b> Minh", "parse_mode": "HTML"})
            req = urllib.request.Request(
                f"{emu.base_url}{emu.token}/sendMessage",
                data=data.encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=5) as resp:
                assert json.load(resp)["ok"]

        threading.Timer(0.2, bot_side).start()
        msg = emu.wait_for_message(user, "Chào", timeout=5)
        assert msg.text == "Chào Minh" and msg.entities[0]["type"] == "bold"
        try:
            emu.wait_for_message(user, timeout=0.2)  # already consumed
        except TimeoutError as exc:
            assert "Chào Minh" in str(exc)
        else:
            raise AssertionError("expected a timeout")


async def test_real_application_end_to_end() -> None:
    """A PTB Application polling the emulator (running in a thread) like the real bot will."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = " ".join(context.args)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Gửi tin báo", callback_data="tip")]])
        await update.message.reply_html(f"Xin chào <b>{args}</b>", reply_markup=markup)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"Đã nhận: {update.message.text}")

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("OK")
        await update.callback_query.edit_message_text("Hãy mô tả sự việc")

    with EmulatorThread() as emu:
        user = emu.user(4242, "Hùng")
        app = (
            Application.builder()
            .token(emu.token)
            .base_url(emu.base_url)
            .base_file_url(emu.file_url)
            .build()
        )
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(button))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            user.send_command("/start", "ward7")
            greeting = await asyncio.to_thread(emu.wait_for_message, user, "Xin chào", 5)
            assert greeting.text == "Xin chào ward7"
            query_id = user.click_text("Gửi tin báo")
            await asyncio.to_thread(emu.wait_for_callback_answer, query_id, 5)
            await asyncio.to_thread(
                emu.wait_until, lambda: emu.message(user, greeting.message_id).edited, 5
            )
            assert emu.message(user, greeting.message_id).text == "Hãy mô tả sự việc"
            user.send_text("Có người lạ")
            echoed = await asyncio.to_thread(emu.wait_for_message, user, "Đã nhận", 5)
            assert echoed.text == "Đã nhận: Có người lạ"
            await app.updater.stop()
            await app.stop()
        assert emu.spec_violations == []
        assert emu.calls_to("forwardMessage") == []
        assert emu.check_recorded_calls() == []
