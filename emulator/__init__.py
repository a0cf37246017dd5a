"""Local Telegram Bot API emulator for end-to-end tests and the offline sandbox.

Quick start::

    from emulator import EmulatorThread

    with EmulatorThread() as emu:          # serves http://127.0.0.1:<port>
        alice = emu.user(1001, "Alice")
        # run the bot with base_url=emu.base_url, base_file_url=emu.file_url
        alice.send_command("/start")
        reply = emu.wait_for_message(alice)
"""

from .core import Emulator
from .driver import ChatHandle, UserHandle
from .errors import ApiError
from .formatting import ParseError, parse_formatted
from .runner import EmulatorThread
from .spec import Upload, check_call, load_spec
from .state import CallRecord, ChatMessage

__all__ = [
    "ApiError",
    "CallRecord",
    "ChatHandle",
    "ChatMessage",
    "Emulator",
    "EmulatorThread",
    "ParseError",
    "Upload",
    "UserHandle",
    "check_call",
    "load_spec",
    "parse_formatted",
]
