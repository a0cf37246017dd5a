"""An inline keyboard that many messages share, written out for Telegram once.

The report's steps and the welcome's menu are the same keyboard for every resident at that
step in that language, so they are built once and shared (handlers/resident/report.py,
handlers/resident/welcome.py). python-telegram-bot still writes a keyboard out to a dict for
every call that sends it (`to_dict`, one object per button, ~40 µs for a step of three rows,
~90 µs for the nine communes of a page); a shared keyboard keeps that dict. It can, because a
python-telegram-bot object is immutable once built, and the request only reads the dict
(telegram_api/transport.py turns the call into JSON at once).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup
from telegram._utils.types import JSONDict


class SharedKeyboard(InlineKeyboardMarkup):
    """InlineKeyboardMarkup whose written-out form is made once (see the module). Never
    change the dict it returns: every later message with this keyboard sends it."""

    __slots__ = ("_written",)

    def to_dict(self, recursive: bool = True) -> JSONDict:
        if not recursive:
            return super().to_dict(recursive=False)
        written: JSONDict | None = getattr(self, "_written", None)
        if written is None:
            written = super().to_dict(recursive=True)
            self._written = written
        return written
