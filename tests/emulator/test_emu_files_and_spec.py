"""Files (upload, file_id reuse, getFile, download, media groups) and the spec checker."""

from __future__ import annotations

import warnings

import aiohttp
import pytest
import telegram
from telegram import InputMediaDocument, InputMediaPhoto, InputMediaVideo
from telegram.error import BadRequest, EndPointNotFound, InvalidToken

from emulator import Emulator, UserHandle, check_call
from emulator.driver import PNG_1X1
from emulator.spec import check_object


async def test_upload_get_file_download(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    payload = b"%PDF-1.4 report " * 100
    doc = await bot.send_document(alice.id, payload, filename="bao-cao.pdf", caption="Báo cáo")
    assert doc.document.file_name == "bao-cao.pdf" and doc.document.file_size == len(payload)
    file = await bot.get_file(doc.document.file_id)
    assert file.file_path.startswith(emu.file_url)
    assert bytes(await file.download_as_bytearray()) == payload
    again = await bot.send_document(alice.id, doc.document.file_id)
    assert again.document.file_unique_id == doc.document.file_unique_id
    photo = await bot.send_photo(alice.id, PNG_1X1)
    assert photo.photo[-1].width == 1
    with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
        await bot.send_photo(alice.id, "AgACAgUAAxkBAAIBnonexistent")
    with pytest.raises(BadRequest, match="Type of file mismatch"):
        await bot.send_photo(alice.id, doc.document.file_id)
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.get_file("nope")
    for kind, sender in (
        ("video", bot.send_video),
        ("voice", bot.send_voice),
        ("audio", bot.send_audio),
        ("animation", bot.send_animation),
    ):
        msg = await sender(alice.id, b"media-bytes")
        assert getattr(msg, kind).file_id
    assert [m.media_kind for m in emu.messages(alice.id)][-4:] == [
        "video", "voice", "audio", "animation",
    ]  # fmt: skip


async def test_user_photo_download(bot: telegram.Bot, alice: UserHandle) -> None:
    sent = alice.send_photo(PNG_1X1, caption="hiện trường")
    file = await bot.get_file(sent["photo"][-1]["file_id"])
    assert bytes(await file.download_as_bytearray()) == PNG_1X1


async def test_media_group(emu: Emulator, bot: telegram.Bot, alice: UserHandle) -> None:
    first = await bot.send_photo(alice.id, PNG_1X1)
    msgs = await bot.send_media_group(
        alice.id,
        [
            InputMediaPhoto(PNG_1X1, caption="<b>1</b>", parse_mode="HTML"),
            InputMediaPhoto(first.photo[-1].file_id),
            InputMediaVideo(b"video-bytes"),
        ],
    )
    assert len(msgs) == 3 and len({m.media_group_id for m in msgs}) == 1
    assert msgs[0].caption == "1" and msgs[0].caption_entities[0].type == "bold"
    assert msgs[2].video is not None
    with pytest.raises(BadRequest, match="Media group must include 2-10 items"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(PNG_1X1)])
    with pytest.raises(BadRequest, match="can't be mixed"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(PNG_1X1), InputMediaDocument(b"d")])
    assert emu.spec_violations == []


async def _post(emu: Emulator, method: str, data: dict, token: str | None = None) -> tuple:
    url = f"{emu.base_url}{token or emu.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, data=data) as resp:
        return resp.status, await resp.json()


async def test_spec_violations(emu: Emulator, bot: telegram.Bot, alice: UserHandle) -> None:
    status, body = await _post(emu, "sendMessage", {"chat_id": alice.id, "text": "x", "colour": 1})
    assert status == 400 and body["ok"] is False and body["error_code"] == 400
    assert 'unknown parameter "colour"' in body["description"]
    status, body = await _post(emu, "sendPhoto", {"chat_id": alice.id})
    assert status == 400 and 'missing required parameter "photo"' in body["description"]
    status, body = await _post(emu, "sendMessage", {"chat_id": alice.id})
    assert body["description"] == "Bad Request: message text is empty"
    markup = '{"inline_keyboard": [[{"text": "a", "callback_data": "b", "colour": "red"}]]}'
    status, body = await _post(
        emu, "sendMessage", {"chat_id": alice.id, "text": "x", "reply_markup": markup}
    )
    assert 'unknown field "colour" in InlineKeyboardButton' in body["description"]
    problems = [v["problems"] for v in emu.spec_violations]
    assert len(problems) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(BadRequest, match="spec check"):
            await bot.do_api_request("send_message", api_kwargs={"chat_id": 1, "text": "x", "y": 2})
    assert len(emu.spec_violations) == 5
    # The recorded calls can be re-checked after the fact.
    assert len(emu.check_recorded_calls()) >= 5
    assert emu.messages(alice.id) == []


async def test_unknown_method_and_token(emu: Emulator, bot: telegram.Bot) -> None:
    status, body = await _post(emu, "sendTelepathy", {})
    assert status == 404 and body == {"ok": False, "error_code": 404, "description": "Not Found"}
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("send_telepathy")
    status, body = await _post(emu, "getMe", {}, token="999:wrong")
    assert status == 401 and body["description"] == "Unauthorized"


async def test_invalid_token_on_initialize(emu: Emulator) -> None:
    with pytest.raises(InvalidToken):
        await telegram.Bot("999:wrong", base_url=emu.base_url).initialize()


async def test_json_body_and_method_case(emu: Emulator, alice: UserHandle) -> None:
    url = f"{emu.base_url}{emu.token}/SENDMESSAGE"
    payload = {"chat_id": alice.id, "text": "json"}
    async with aiohttp.ClientSession() as session, session.post(url, json=payload) as resp:
        body = await resp.json()
    assert body["ok"] and body["result"]["text"] == "json"


def test_check_call_standalone() -> None:
    assert check_call("sendMessage", {"chat_id": 1, "text": "x"}) == []
    assert check_call("sendMessage", {"chat_id": 1}) == ['missing required parameter "text"']
    assert check_call("sendMessage", {"chat_id": 1, "text": "x", "foo": 1}) == [
        'unknown parameter "foo"'
    ]
    assert check_call("sendMessage", {"chat_id": "1", "text": 5}) == ["text: expected String"]
    markup = {"inline_keyboard": [[{"text": "a"}]]}
    assert check_call("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup}) == []
    bad = {"inline_keyboard": [[{"txt": "a"}]]}
    problems = check_call("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": bad})
    assert any("InlineKeyboardButton" in p for p in problems)
    scope = {"type": "chat", "chat_id": 5}
    assert check_call("setMyCommands", {"commands": [], "scope": scope}) == []
    assert check_call("setMyCommands", {"commands": [], "scope": {"type": "chat"}}) == [
        'scope: missing required field "chat_id" in BotCommandScopeChat'
    ]
    assert check_call("fooBar", {}) == ["unknown method fooBar"]


async def test_produced_objects_match_spec(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    """Everything the emulator emits is a valid Bot API object (so PTB parses it)."""
    alice.send_command("/start")
    alice.send_photo()
    alice.send_document()
    alice.send_video()
    alice.send_voice()
    alice.send_sticker()
    alice.send_animation()
    alice.send_location(10.0, 106.0)
    alice.send_poll("Q", ["a", "b"])
    msg = await bot.send_message(alice.id, "<b>x</b> https://a.vn", parse_mode="HTML")
    await bot.send_photo(alice.id, PNG_1X1, caption="c")
    alice.click_data(msg.message_id, "forged")
    for update in emu.pending_updates:
        assert check_object(update, "Update") == []
    for call in emu.calls:
        if call.ok and isinstance(call.result, dict) and "message_id" in call.result:
            assert check_object(call.result, "Message") == []


async def test_user_files_and_the_bots_uploads_are_told_apart(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    sent = alice.send_document(b"%PDF-1.4 mine", "Nguyen_Van_A.pdf", "application/pdf")
    note = alice.send_video_note()
    assert "file_name" not in note["video_note"] and note["video_note"]["length"] == 240
    original = sent["document"]["file_id"]
    file = await bot.get_file(original)
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 mine"
    again = await bot.send_video_note(alice.id, note["video_note"]["file_id"])
    assert again.video_note.file_id == note["video_note"]["file_id"]
    copy = await bot.send_document(alice.id, b"%PDF-1.4 clean", filename="evidence-1.pdf")
    uploads = emu.uploads()
    assert [u.file_id for u in uploads] == [copy.document.file_id]
    assert uploads[0].file_name == "evidence-1.pdf" and uploads[0].data == b"%PDF-1.4 clean"
    assert emu.stored_file(original).origin == "user"


async def test_get_file_refuses_files_over_20_mb_and_uploads_over_50_mb(
    emu: Emulator, bot: telegram.Bot, alice: UserHandle
) -> None:
    big = alice.send_document(b"x" * (20 * 1024 * 1024 + 1), "big.bin")
    assert big["document"]["file_size"] == 20 * 1024 * 1024 + 1
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file(big["document"]["file_id"])
    with pytest.raises(telegram.error.TelegramError, match="Request Entity Too Large"):
        await bot.send_document(alice.id, b"y" * (50 * 1024 * 1024 + 1), filename="huge.bin",
                                write_timeout=60)
