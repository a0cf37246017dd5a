"""telegram_api/keyboards.py: a shared keyboard is written out once, and the same as the plain
keyboard python-telegram-bot would have written."""

from __future__ import annotations

import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.resident.welcome import main_menu
from telegram_api.keyboards import SharedKeyboard

ROWS = [[InlineKeyboardButton("Xã Hồng Vân", callback_data="r:area:hong-van"),
         InlineKeyboardButton("Hủy", callback_data="r:x:cancel")],
        [InlineKeyboardButton("Trang", url="https://example.org")]]


def test_written_once_and_the_same_as_plain() -> None:
    shared, plain = SharedKeyboard(ROWS), InlineKeyboardMarkup(ROWS)
    assert json.dumps(shared.to_dict()) == json.dumps(plain.to_dict())
    assert shared.to_dict() is shared.to_dict()  # kept, not written again
    assert shared == plain and shared.to_dict(recursive=False).keys() == {"inline_keyboard"}


def test_the_welcome_menu_is_shared() -> None:
    menu = main_menu("vi")
    assert isinstance(menu, SharedKeyboard) and menu is main_menu("vi")
    assert [b["callback_data"] for row in menu.to_dict()["inline_keyboard"] for b in row] == [
        "m:report", "m:status", "m:sub", "m:lang"]
