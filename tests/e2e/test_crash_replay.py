"""An update in hand when the bot is killed is handled at the next start (long polling).

getUpdates confirms a batch to Telegram at the next call, while its updates are still queued or
in hand, and Telegram never sends a confirmed update again: before migration 0019 a bot killed
then lost them for good (its claim in updates_seen said 'handling', with nothing to handle).
Here a resident's /start is held in its handler (the emulator holds the answer to its
sendMessage), the emulator sees the update confirmed, the bot is killed with SIGKILL; started
again while the answer is still held, it takes the update up again and is killed a second time
in the middle of it; the third start answers the resident, once. While the update is in hand the
database holds it sealed: neither the resident's id, name nor username is in the files. Both
databases: SQLite, and PostgreSQL (a database of the tests' own cluster, testing/postgres.py).
"""

from __future__ import annotations

from emulator import Emulator
from testing.harness import BotProcess, wait

RESIDENT = 7_310_042_917
NAME = "Bích Liên"
USERNAME = "bichlien_thon7"
WELCOME = "113"  # in the welcome's text (tests/e2e/test_welcome.py)




def _held(emulator: Emulator) -> int:
    """sendMessage calls to the resident that the emulator is holding (or held)."""
    return sum(1 for call in emulator.calls_to("sendMessage", chat_id=RESIDENT)
               if call.fault == "latency")


def _files_hold(bot: BotProcess, needle: bytes) -> bool:
    return any(needle in path.read_bytes() for path in bot.data.glob("tipline.db*"))


def test_an_update_in_hand_at_a_kill_is_handled_at_the_next_start(
    emulator: Emulator, make_bot, database: dict[str, str]  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot(**database)
    bot.start()
    resident = emulator.user(RESIDENT, NAME, username=USERNAME)
    emulator.inject("latency", "sendMessage", chat_id=RESIDENT, delay=600)

    resident.send_command("/start")
    wait(lambda: _held(emulator) == 1, timeout=20)
    wait(lambda: not emulator.pending_updates)  # confirmed: Telegram will not send it again
    bot.kill9()
    if not database:  # the update waits in the database, sealed
        for needle in (str(RESIDENT).encode(), NAME.encode(), USERNAME.encode()):
            assert not _files_hold(bot, needle), needle

    bot.start()  # the answer is still held: killed again while handling the update again
    wait(lambda: _held(emulator) == 2, timeout=20)
    bot.kill9()

    emulator.clear_faults()
    bot.start()
    emulator.wait_for_message(resident, WELCOME, timeout=20)
    assert "its process stopped before handling it; handled now" in bot.logs()
    bot.stop()
    answered = [m for m in emulator.messages(RESIDENT) if WELCOME in (m.text or "")]
    assert len(answered) == 1  # the held ones were never answered (the emulator holds 600 s)
