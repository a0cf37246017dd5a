"""telegram_api/bot.py: what Telegram echoes back of the bot's own messages (their keyboard,
their formatting, the bot's name) is dropped before python-telegram-bot rebuilds it, and an
edit is not read back at all; everything the bot reads back stays, and a person's messages
(getUpdates) are never touched: only the bot's own message inside a button press is lighter."""

from __future__ import annotations

import json

import telegram

from emulator import Emulator, UserHandle
from telegram_api.bot import ECHOED, OWN_MESSAGES, TiplineBot, without_echo
from telegram_api.transport import AiohttpRequest

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
KEYBOARD = telegram.InlineKeyboardMarkup(
    [[telegram.InlineKeyboardButton("Có", callback_data="x:1")]]
)


def _bot(emu: Emulator) -> TiplineBot:
    return TiplineBot(emu.token, base_url=emu.base_url, base_file_url=emu.file_url,
                      request=AiohttpRequest(4))


async def test_a_sent_message_comes_back_without_what_the_bot_wrote(
    emu: Emulator, alice: UserHandle
) -> None:
    async with _bot(emu) as bot:
        sent = await bot.send_message(alice.id, "<b>Bước 1</b> chọn", parse_mode="HTML",
                                      reply_markup=KEYBOARD)
        assert (sent.message_id, sent.chat.id, sent.text) == (
            emu.messages(alice.id)[-1].message_id, alice.id, "Bước 1 chọn")
        assert sent.date is not None
        assert sent.reply_markup is None and sent.entities == () and sent.from_user is None
        edited = await bot.edit_message_text("<i>Bước 2</i>", alice.id, sent.message_id,
                                             parse_mode="HTML", reply_markup=KEYBOARD)
        assert edited is True
        assert emu.messages(alice.id)[-1].text == "Bước 2"  # the edit itself was made
        other = await bot.send_message(alice.id, "khác", reply_markup=KEYBOARD)
        marked = await bot.edit_message_reply_markup(alice.id, other.message_id)
        assert marked is True and emu.messages(alice.id)[-1].callback_data() == []
        photo = await bot.send_photo(alice.id, PNG, caption="<b>ảnh</b>", parse_mode="HTML")
        assert photo.photo and photo.caption == "ảnh" and photo.caption_entities == ()
        album = await bot.send_media_group(alice.id, [telegram.InputMediaPhoto(PNG),
                                                      telegram.InputMediaPhoto(PNG)])
        assert len(album) == 2 and all(m.photo for m in album)
    # what Telegram has is the whole message: only the bot's reading of it is lighter
    shown = emu.messages(alice.id)[0]
    assert "x:1" in shown.callback_data()


async def test_updates_keep_a_persons_entities(emu: Emulator, alice: UserHandle) -> None:
    alice.send_command("/start")
    alice.send_text("xem https://example.com")
    async with _bot(emu) as bot:
        updates = await bot.get_updates(timeout=0)
    entities = [u.message.entities for u in updates if u.message is not None]
    assert [e[0].type for e in entities] == ["bot_command", "url"]


async def test_a_press_comes_without_the_bots_keyboard(emu: Emulator, alice: UserHandle
                                                        ) -> None:
    async with _bot(emu) as bot:
        sent = await bot.send_message(alice.id, "<b>Chọn</b>", parse_mode="HTML",
                                      reply_markup=KEYBOARD)
        alice.click(sent.message_id, "x:1")
        updates = await bot.get_updates(timeout=0)
        (press,) = [u.callback_query for u in updates if u.callback_query is not None]
        assert press.data == "x:1" and press.from_user.id == alice.id
        assert press.message is not None and press.message.message_id == sent.message_id
        assert press.message.chat.id == alice.id and press.message.text == "Chọn"
        assert press.message.reply_markup is None
        # the copy kept for a crash is the lighter one, and reads back the same press
        copy = telegram.Update.de_json(json.loads(bot.copy_of(updates[-1])), bot)
        assert copy.callback_query is not None and copy.callback_query.data == "x:1"
        assert "inline_keyboard" not in bot.copy_of(updates[-1])


def test_without_echo_drops_only_the_echoed_fields() -> None:
    message = {"message_id": 1, "chat": {"id": 2}, "date": 3, "text": "t", "photo": [],
               **{field: ["x"] for field in ECHOED}}
    assert without_echo(message) == {"message_id": 1, "chat": {"id": 2}, "date": 3,
                                     "text": "t", "photo": []}
    assert without_echo([message]) == [without_echo(message)]
    assert without_echo(True) is True
    assert "getUpdates" not in OWN_MESSAGES
