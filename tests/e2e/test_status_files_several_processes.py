"""Two bot processes in webhook mode on one database: a /status file on its way is cleaned and
stored by the process that took it, once, even when the chat's next updates reach the other
process; and taken over by the other only when its process is dead (docs/SCALING.md "Several
processes", handlers/resident/status.py).

Each file on its way names its process (bot/fleet.py's holder). Before, the files on their way
were known per process only (`evidence.running`): the other process, handling the chat's next
message, took the file for one a restart had cut off and cleaned it again, and officers got it
twice (the review of the day's change, 2026-12-03). Both databases: one SQLite file for both
processes, and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import Emulator, UserHandle
from storage.store import open_store
from testing import evidence_samples as samples
from testing.campaign import OFFICER
from testing.harness import BotProcess, wait
from testing.journeys import open_additions, report, staff_joins
from tests.e2e.test_several_processes import PATH, Line, database  # noqa: F401 (its fixture)

RESIDENT = 5_530_001
CLEANING = "Đang làm sạch tệp"  # evidence_cleaning
RECEIVED = "Đã nhận, sẽ chuyển cho cán bộ"  # status_addition_received
CLEANED = "file cleaned ("  # the log line of handlers/resident/evidence.py cleaned_copy


@pytest.fixture
def line(emulator: Emulator, tmp_path: Path, database: str) -> Iterator[Line]:  # noqa: F811
    made = Line(emulator, tmp_path / "line", database, 2)
    made.bots[0].add_officer(OFFICER, "hong-van")
    made.start()
    yield made
    for bot in made.bots:
        bot.stop()
    violations = emulator.check_recorded_calls()
    assert not violations, f"calls that the Bot API would reject: {violations}"


def _saying(emulator: Emulator, resident: UserHandle, part: str) -> list:
    return [m for m in emulator.messages(resident.id) if part in (m.text or "")]


def _wait_saying(emulator: Emulator, resident: UserHandle, part: str, count: int,
                 timeout: float = 30) -> None:
    emulator.wait_until(lambda: len(_saying(emulator, resident, part)) >= count,
                        timeout=timeout, chat=resident.id)


def _documents(emulator: Emulator, user_id: int) -> list:
    return [m for m in emulator.messages(user_id) if m.media_kind == "document"]


def _stored_files(bot: BotProcess, code: str) -> int:
    """The resident's additions to the tip that hold a file, read from the stopped line's
    database."""
    async def read() -> int:
        store = await open_store(bot.env["TIPBOT_DB"], base64.b64decode(bot.env["TIPBOT_KEY"]))
        try:
            tip = await store.tips.by_receipt_code(code)
            assert tip is not None
            return sum(1 for m in await store.tips.thread(tip.tip_id)
                       if m.author == "resident" and m.body.get("attachments"))
        finally:
            await store.close()

    return asyncio.run(read())


def _opened(emulator: Emulator) -> tuple[UserHandle, str]:
    staff_joins(emulator, OFFICER)
    resident = emulator.user(RESIDENT, "Nga")
    code = report(emulator, resident)
    open_additions(emulator, resident, code)
    return resident, code


def test_a_file_on_its_way_is_not_cleaned_again_by_the_process_of_the_next_message(
    emulator: Emulator, line: Line
) -> None:
    resident, code = _opened(emulator)
    # The clean copy's upload is slow in the process that took the file.
    emulator.inject("latency", "sendDocument", chat_id=RESIDENT, delay=8, times=1)
    resident.send_document(samples.pdf_with_author(), "Nguyen_Van_A.pdf", "application/pdf")
    _wait_saying(emulator, resident, CLEANING, 1)
    wait(lambda: emulator.calls_to("sendDocument", chat_id=RESIDENT), timeout=20)
    (taker,) = [b for b in line.bots if CLEANED in b.logs()]
    # The resident goes on writing meanwhile: Telegram's next updates of the chat reach the
    # other process too (round-robin).
    since = time.monotonic()
    for number in range(3):
        resident.send_text(f"Thêm chi tiết số {number}")
        _wait_saying(emulator, resident, RECEIVED, number + 1)
    assert [c for c in emulator.calls_to("sendDocument", chat_id=RESIDENT) if not c.ok], \
        "the test's premise: the file is still on its way in the process that took it"
    taker_target = f"http://{taker.env['TIPBOT_WEBHOOK_LISTEN']}{PATH}"
    assert any(d.ok and d.queue == RESIDENT and d.started >= since and d.target != taker_target
               for d in emulator.webhook.deliveries), \
        "the test's premise: a message sent meanwhile was handled by the other process"

    # The slow upload ends; the file is stored by the process that took it, and only by it.
    wait(lambda: all(c.ok for c in emulator.calls_to("sendDocument", chat_id=RESIDENT)),
         timeout=30)
    _wait_saying(emulator, resident, RECEIVED, 4)
    emulator.wait_until(lambda: _documents(emulator, OFFICER), timeout=30)
    emulator.wait_until(lambda: any("Thêm chi tiết số 2" in (m.text or "")
                                    for m in emulator.messages(OFFICER)), timeout=30)
    assert len(emulator.calls_to("sendDocument", chat_id=RESIDENT)) == 1, \
        "the file was cleaned and uploaded once"
    for bot in line.bots:
        bot.stop()
    assert _stored_files(line.bots[0], code) == 1
    assert len(_documents(emulator, OFFICER)) == 1
    assert len(_saying(emulator, resident, RECEIVED)) == 4
    assert "cut off by a stopped process" not in line.logs()
    assert "Nguyen" not in line.logs() and str(RESIDENT) not in line.logs()


def test_a_file_on_its_way_in_a_killed_process_is_taken_over_and_stored_once(
    emulator: Emulator, line: Line
) -> None:
    resident, code = _opened(emulator)
    emulator.inject("latency", "sendDocument", chat_id=RESIDENT, delay=600)
    resident.send_document(samples.pdf_with_author(), "Nguyen_Van_A.pdf", "application/pdf")
    _wait_saying(emulator, resident, CLEANING, 1)
    wait(lambda: emulator.calls_to("sendDocument", chat_id=RESIDENT), timeout=20)
    (taker,) = [b for b in line.bots if CLEANED in b.logs()]
    other = next(b for b in line.bots if b is not taker)
    taker.kill9()
    emulator.clear_faults()

    # Nobody writes: the living process finds the dead one's file and stores it.
    emulator.wait_until(lambda: _documents(emulator, OFFICER), timeout=40)
    _wait_saying(emulator, resident, RECEIVED, 1)
    assert "a /status file cut off by a stopped process; cleaned here" in other.logs()
    copy = _documents(emulator, OFFICER)[0]
    samples.assert_clean(emulator.stored_file(copy.file_id).data)
    other.stop()
    assert _stored_files(other, code) == 1
    assert len(_documents(emulator, OFFICER)) == 1
    assert "Nguyen" not in line.logs()
