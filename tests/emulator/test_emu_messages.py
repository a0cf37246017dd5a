"""Sending, editing and deleting through a real python-telegram-bot Bot."""

from __future__ import annotations

import threading

import pytest
import telegram
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from emulator import Emulator, UserHandle


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def test_send_message_html_round_trip(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    msg = await bot.send_message(
        alice.id,
        "<b>Cảm ơn</b> bạn &amp; <a href='https://example.org/x'>link</a> 🚓 <i>ok</i>",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(("Gửi", "send:1")),
    )
    assert msg.text == "Cảm ơn bạn & link 🚓 ok"
    assert msg.from_user.id == emu.bot_id and msg.from_user.is_bot
    assert msg.chat.id == alice.id and msg.chat.type == "private"
    assert msg.parse_entities() == {
        msg.entities[0]: "Cảm ơn",
        msg.entities[1]: "link",
        msg.entities[2]: "ok",
    }
    assert msg.entities[1].url == "https://example.org/x"
    assert msg.reply_markup.inline_keyboard[0][0].callback_data == "send:1"
    second = await bot.send_message(alice.id, "again")
    assert second.message_id == msg.message_id + 1
    stored = emu.messages(alice.id)
    assert [m.text for m in stored] == ["Cảm ơn bạn & link 🚓 ok", "again"]
    assert stored[0].callback_data() == ["send:1"]


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        (
            "Hello world <script>x</script>",
            "HTML",
            'Unsupported start tag "script" at byte offset 12',
        ),
        ("<b>bold", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<i>x</b>", "HTML", 'Unmatched end tag at byte offset 4, expected "</i>", found "</b>"'),
        ("1 < 2", "HTML", 'Unsupported start tag "" at byte offset 2'),
        (
            "Cảm ơn.",
            "MarkdownV2",
            "Character '.' is reserved and must be escaped with the preceding '\\'",
        ),
        ("*x", "MarkdownV2", "Can't find end of Bold entity at byte offset 0"),
        ("_x", "Markdown", "Can't find end of the entity starting at byte offset 0"),
    ],
)
async def test_parse_errors(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle, text: str, mode: str, error: str
) -> None:
    with pytest.raises(BadRequest) as info:
        await bot.send_message(alice.id, text, parse_mode=mode)
    # PTB strips "Bad Request: " and re-capitalizes; the wire text is exactly Telegram's.
    assert info.value.message.startswith("Can't parse entities: ")
    assert emu.calls[-1].description == f"Bad Request: can't parse entities: {error}"
    assert emu.calls[-1].error_code == 400


async def test_length_limits(emu: Emulator, bot: telegram.Bot, alice: UserHandle) -> None:
    await bot.send_message(alice.id, "x" * 4096)
    # Markup does not count: 4096 visible characters inside tags are fine.
    await bot.send_message(alice.id, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(alice.id, b"data", caption="c" * 1025)
    await bot.send_document(alice.id, b"data", caption="c" * 1024)


async def test_callback_data_limit(bot: telegram.Bot, alice: UserHandle) -> None:
    await bot.send_message(alice.id, "ok", reply_markup=keyboard(("a", "x" * 64)))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(alice.id, "no", reply_markup=keyboard(("a", "x" * 65)))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        # 22 Vietnamese letters of 3 UTF-8 bytes = 66 bytes
        await bot.send_message(alice.id, "no", reply_markup=keyboard(("a", "ệ" * 22)))


async def test_unreachable_chats(emu: Emulator, bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hi")
    bob = emu.user(2002, "Bob")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(bob.id, "hi")
    bob.send_text("xin chào")
    await bot.send_message(bob.id, "hi")
    emu.block(bob.id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(bob.id, "hi")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_chat_action(bob.id, "typing")
    bob.unblock()
    assert await bot.send_chat_action(bob.id, "typing")


async def test_edits(emu: Emulator, bot: telegram.Bot, alice: UserHandle) -> None:
    msg = await bot.send_message(alice.id, "one", reply_markup=keyboard(("A", "a")))
    with pytest.raises(BadRequest, match="Message is not modified: specified new message content"):
        await bot.edit_message_text(
            "one", alice.id, msg.message_id, reply_markup=keyboard(("A", "a"))
        )
    edited = await bot.edit_message_text("<b>two</b>", alice.id, msg.message_id, parse_mode="HTML")
    assert edited.text == "two" and edited.reply_markup is None  # markup dropped like Telegram
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(alice.id, msg.message_id)
    await bot.edit_message_reply_markup(alice.id, msg.message_id, reply_markup=keyboard(("B", "b")))
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", alice.id, 9999)
    user_msg = alice.send_text("mine")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", alice.id, user_msg["message_id"])
    photo = await bot.send_photo(alice.id, b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, caption="c1")
    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        await bot.edit_message_text("x", alice.id, photo.message_id)
    photo2 = await bot.edit_message_caption(alice.id, photo.message_id, caption="<i>c2</i>",
                                            parse_mode="HTML")  # fmt: skip
    assert photo2.caption == "c2" and photo2.caption_entities[0].type == "italic"
    state = emu.message(alice.id, msg.message_id)
    assert state.edited and state.text == "two" and state.callback_data() == ["b"]


async def test_delete_copy_forward(emu: Emulator, bot: telegram.Bot, alice: UserHandle) -> None:
    msg = await bot.send_message(alice.id, "bye")
    assert await bot.delete_message(alice.id, msg.message_id)
    assert emu.message(alice.id, msg.message_id).deleted
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alice.id, msg.message_id)
    group = emu.group("Officers")
    tip = alice.send_text("a tip")
    copied = await bot.copy_message(group.id, alice.id, tip["message_id"])
    assert emu.message(group.id, copied.message_id).text == "a tip"
    forwarded = await bot.forward_message(group.id, alice.id, tip["message_id"])
    assert forwarded.forward_origin.sender_user.id == alice.id
    assert len(emu.calls_to("forwardMessage")) == 1
    with pytest.raises(BadRequest, match="Message to copy not found"):
        await bot.copy_message(group.id, alice.id, 12345)


async def test_commands_descriptions_and_chat(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    await bot.set_my_commands([("start", "Bắt đầu"), ("help", "Trợ giúp")], language_code="vi")
    await bot.set_my_commands([("start", "Start")])
    assert [c.command for c in await bot.get_my_commands(language_code="vi")] == ["start", "help"]
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert emu.commands(language_code="vi")[1]["command"] == "help"
    await bot.delete_my_commands(language_code="vi")
    assert await bot.get_my_commands(language_code="vi") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Bad-Command", "x")])
    await bot.set_my_description("Đường dây nóng", language_code="vi")
    await bot.set_my_short_description("Tips")
    assert emu.bot_text("description", "vi") == "Đường dây nóng"
    assert (await bot.get_my_short_description()).short_description == "Tips"
    chat = await bot.get_chat(alice.id)
    assert chat.first_name == "Alice" and chat.username == "alice"
    info = await bot.get_webhook_info()
    assert info.url == ""
    assert await bot.delete_webhook(drop_pending_updates=True)


async def test_groups_channels_and_reply_keyboard(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    channel = emu.channel("Tin an ninh", username="antt_test")
    post = await bot.send_message("@antt_test", "Thông báo")
    assert post.chat.id == channel.id and post.sender_chat.id == channel.id
    group = emu.group("Tổ công tác", members=[alice])
    await bot.send_message(group.id, "Họp", reply_markup=ReplyKeyboardMarkup([["Có", "Không"]]))
    assert emu.reply_keyboard(group)["keyboard"][0][0] == {"text": "Có"}
    await bot.send_message(group.id, "Xong", reply_markup=ReplyKeyboardRemove())
    assert emu.reply_keyboard(group) is None
    group.remove_bot()
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.send_message(group.id, "x")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message("@nobody_here", "x")


def test_concurrent_driving_from_threads(emu: Emulator) -> None:
    users = [emu.user(6000 + i, f"U{i}") for i in range(5)]

    def spam(user: UserHandle) -> None:
        for n in range(20):
            user.send_text(f"{user.id}:{n}")

    threads = [threading.Thread(target=spam, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    updates = emu.pending_updates
    assert [u["update_id"] for u in updates] == sorted({u["update_id"] for u in updates})
    assert len(updates) == 100
    for user in users:
        ids = [m.message_id for m in emu.messages(user.id, include_user=True)]
        assert ids == list(range(1, 21))
