"""The bot's HTTP transport (telegram_api/transport.py) against the emulator: what PTB's own
HTTPXRequest promises, it keeps (parameters, files, downloads, timeouts, failures)."""

from __future__ import annotations

import asyncio

import pytest
import telegram
from telegram.error import NetworkError, RetryAfter, TimedOut

from emulator import Emulator, UserHandle
from telegram_api.transport import AiohttpRequest, _described

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _bot(emu: Emulator, **timeouts: float) -> telegram.Bot:
    return telegram.Bot(
        emu.token, base_url=emu.base_url, base_file_url=emu.file_url,
        request=AiohttpRequest(4, **timeouts),
    )


async def test_text_markup_files_and_downloads_go_through(
    emu: Emulator, alice: UserHandle
) -> None:
    async with _bot(emu) as bot:
        keyboard = telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("Có <b>", callback_data="x:1")]]
        )
        sent = await bot.send_message(alice.id, "Xin chào & <tạm biệt>", reply_markup=keyboard)
        assert sent.text == "Xin chào & <tạm biệt>"
        photo = await bot.send_photo(alice.id, PNG, caption="ảnh")
        assert photo.caption == "ảnh"
        file = await bot.get_file(photo.photo[-1].file_id)
        data = await file.download_as_bytearray()
        assert bytes(data) == PNG
    assert [m.text or m.caption for m in emu.messages(alice.id)] == [
        "Xin chào & <tạm biệt>", "ảnh"
    ]
    # without files, one JSON body: the keyboard arrives as an object, not a JSON string
    text_call, photo_call = emu.calls_to("sendMessage")[-1], emu.calls_to("sendPhoto")[-1]
    assert text_call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Có <b>", "callback_data": "x:1"}]]
    }
    assert text_call.params["chat_id"] == alice.id
    assert photo_call.params["caption"] == "ảnh"  # multipart, with the file


async def test_a_timeout_is_timed_out_and_the_call_may_still_have_landed(
    emu: Emulator, alice: UserHandle
) -> None:
    async with _bot(emu, read_timeout=0.3) as bot:
        emu.inject("timeout", method="sendMessage", times=1, delay=1.0)
        with pytest.raises(TimedOut):
            await bot.send_message(alice.id, "có thể đã tới")
        assert [m.text for m in emu.messages(alice.id)] == ["có thể đã tới"]
        await asyncio.sleep(0.8)  # the held answer finishes before the server stops


async def test_a_reset_connection_is_a_network_error_and_the_next_call_works(
    emu: Emulator, alice: UserHandle
) -> None:
    async with _bot(emu) as bot:
        emu.inject("reset", method="sendMessage", times=1)
        with pytest.raises(NetworkError) as info:
            await bot.send_message(alice.id, "một")
        assert not isinstance(info.value, TimedOut)
        await bot.send_message(alice.id, "hai")
    assert [m.text for m in emu.messages(alice.id)][-1] == "hai"


async def test_telegram_errors_keep_their_meaning(emu: Emulator, alice: UserHandle) -> None:
    async with _bot(emu) as bot:
        emu.inject("429", method="sendMessage", times=1, retry_after=3)
        with pytest.raises(RetryAfter):
            await bot.send_message(alice.id, "chờ")
        with pytest.raises(telegram.error.BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(987654321, "không có ai")


async def test_a_full_pool_waits_its_turn_then_times_out(
    emu: Emulator, alice: UserHandle
) -> None:
    """One connection, a slow call holding it: the next call waits for the pool and gives up
    after pool + connect, as TimedOut (never sent)."""
    request = AiohttpRequest(1, pool_timeout=0.2, connect_timeout=0.2)
    async with telegram.Bot(emu.token, base_url=emu.base_url, request=request) as bot:
        emu.inject("latency", method="sendMessage", delay=1.5, times=1)
        slow = asyncio.ensure_future(bot.send_message(alice.id, "chậm"))
        await asyncio.sleep(0.2)
        with pytest.raises(TimedOut):
            await bot.send_message(alice.id, "không chen được")
        await slow
    assert [m.text for m in emu.messages(alice.id)] == ["chậm"]


def test_an_error_that_quotes_the_url_does_not_carry_the_token() -> None:
    quoted = _described(ValueError("http://127.0.0.1:8081/bot123456:AAE-secret_x/sendMessage"))
    assert "AAE-secret_x" not in quoted and "bot<token>/sendMessage" in quoted
