"""The Application type the bot's code passes around, named once.

python-telegram-bot's `Application` has six type parameters; `context.application` in a handler
or a job is typed with some of them left open, so the name the project uses leaves them all
open (what `bot/app.py` builds is the library's default Application with a JobQueue).
"""

from __future__ import annotations

from typing import Any, TypeAlias

from telegram.ext import Application

App: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
