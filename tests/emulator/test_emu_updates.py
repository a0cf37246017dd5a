"""getUpdates long polling, offsets, user actions and callback queries."""

from __future__ import annotations

import asyncio
import time

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict

from emulator import Emulator, UserHandle


async def test_long_polling_wakes_on_new_update(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    alice.send_text("xin chào")
    updates = await poll
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates] == ["xin chào"]
    assert updates[0].message.from_user.language_code == "vi"


async def test_long_poll_times_out_empty(bot: telegram.Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 2


async def test_offset_confirmation_and_limit(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    for i in range(3):
        alice.send_text(f"m{i}")
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["m0", "m1"]
    again = await bot.get_updates()  # nothing confirmed yet
    assert len(again) == 3
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["m2"]
    assert len(emu.pending_updates) == 1
    await bot.get_updates(offset=rest[-1].update_id + 1)
    assert emu.pending_updates == []


async def test_allowed_updates_filter(emu: Emulator, bot: telegram.Bot, alice: UserHandle) -> None:
    alice.send_text("text")
    msg = await bot.send_message(
        alice.id,
        "q",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]),
    )
    alice.click(msg.message_id, "a")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["a"]


async def test_concurrent_get_updates_conflict(emu: Emulator, bot: telegram.Bot) -> None:
    """A second bot instance polling terminates the first one's long poll, as on Telegram."""
    first = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.2)
    async with telegram.Bot(emu.token, base_url=emu.base_url) as other:
        await other.get_updates(timeout=0)
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_user_actions_produce_updates(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    alice.send_command("/start", "ref42")
    photo = alice.send_photo(caption="ảnh")
    alice.send_document(file_name="tip.pdf")
    alice.send_video()
    alice.send_voice()
    alice.send_sticker()
    alice.send_location(21.03, 105.85)
    alice.send_contact("+84900000000", "Alice", user_id=alice.id)
    alice.send_poll("Q?", ["a", "b"])
    alice.send_animation()
    alice.edit_text(photo["message_id"], "ảnh mới")
    group = emu.group("Group", members=[alice])
    alice.send_command("/report", chat=group)
    updates = await bot.get_updates()
    msgs = [u.message or u.edited_message for u in updates]
    assert msgs[0].text == "/start ref42" and msgs[0].entities[0].type == "bot_command"
    assert msgs[1].photo[-1].file_id and msgs[1].caption == "ảnh"
    assert msgs[2].document.file_name == "tip.pdf"
    assert msgs[3].video.file_id.startswith("EMU")
    assert msgs[4].voice is not None
    assert msgs[5].sticker.emoji == "👍"
    assert msgs[6].location.latitude == pytest.approx(21.03)
    assert msgs[7].contact.phone_number == "+84900000000"
    assert msgs[8].poll.options[1].text == "b"
    assert msgs[9].animation is not None
    assert updates[10].edited_message.caption == "ảnh mới"
    assert msgs[11].chat.type == "supergroup"
    assert msgs[11].text == "/report@tipline_test_bot"
    downloaded = await (await bot.get_file(msgs[2].document.file_id)).download_as_bytearray()
    assert downloaded.startswith(b"%PDF")


async def test_click_and_callback_answers(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Có", callback_data="yes"),
                InlineKeyboardButton("Không", callback_data="no"),
            ]
        ]
    )
    msg = await bot.send_message(alice.id, "Gửi tin?", reply_markup=markup)
    query_id = alice.click_text("Không")
    forged = alice.click_data(msg.message_id, "admin:delete_all")
    with pytest.raises(LookupError):
        alice.click(msg.message_id, "not-there")
    updates = await bot.get_updates()
    queries = [u.callback_query for u in updates]
    assert [q.data for q in queries] == ["no", "admin:delete_all"]
    assert queries[0].id == query_id and queries[1].id == forged
    assert queries[0].message.message_id == msg.message_id
    assert await queries[0].answer("Đã hủy")
    assert emu.callback_answer(query_id)["text"] == "Đã hủy"
    with pytest.raises(BadRequest, match="Query is too old"):
        await queries[0].answer()  # answered twice
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123")
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(forged, text="x" * 201)
    emu.advance_time(16)  # past the 15 s answer window
    with pytest.raises(BadRequest) as info:
        await bot.answer_callback_query(forged)
    assert emu.calls[-1].description == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    assert "Query is too old" in info.value.message
