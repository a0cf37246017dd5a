"""A resident flooding /status with files cannot get more than the hourly cap stored, nor hold
up other residents' evidence; an addition handled again after a crash is not taken twice.

Files added from /status are stored by a background task once their clean copy exists. The
hourly cap (ADDITIONS_PER_HOUR) counts the files still on their way with those stored, a person
has at most IN_FLIGHT_PER_PERSON files on their way, and each refused file gets a kind answer
(handlers/resident/status.py). A file's download, cleaning and upload hold one of two slots, and
a free slot goes to the person holding fewest (handlers/resident/evidence.py `Slots`). The
emulator holds the flooder's uploads (a latency fault on sendDocument to their chat) so that
their files are known to be in the slots or waiting when the others arrive.
"""

from __future__ import annotations

import asyncio
import base64

import pytest

from emulator import Emulator, UserHandle
from handlers.resident.evidence import IN_FLIGHT_PER_PERSON
from handlers.resident.status import ADDITIONS_PER_HOUR
from storage.store import open_store
from testing import evidence_samples as samples
from testing.harness import BotProcess, wait
from testing.journeys import (
    open_additions,
    press,
    report,
    staff_joins,
    to_evidence_step,
    wait_text,
)

OFFICER_ID = 7002
FLOODER_ID = 5_520_001
OTHER_ID = 5_520_002
CLEANING = "Đang làm sạch tệp"  # evidence_cleaning
BUSY = "xin gửi lại tệp này"  # evidence_busy
FLOOD = f"{ADDITIONS_PER_HOUR} tin bổ sung"  # status_addition_flood
RECEIVED = "Đã nhận, sẽ chuyển cho cán bộ"  # status_addition_received
CLOSED = "Đã đóng. Dùng /status"  # status_closed
VIEW = "Tin báo của bạn"  # status_view
FILE_KINDS = ("document", "audio", "video", "animation", "photo", "voice", "video_note")




def _saying(emulator: Emulator, resident: UserHandle, part: str) -> list:
    return [m for m in emulator.messages(resident.id) if part in (m.text or "")]


def _wait_saying(emulator: Emulator, resident: UserHandle, part: str, count: int,
                 timeout: float = 20) -> list:
    return emulator.wait_until(
        lambda: (found := _saying(emulator, resident, part)) and len(found) >= count and found,
        timeout=timeout, chat=resident.id,
    )


def _copies(emulator: Emulator, resident: UserHandle) -> list:
    return [m for m in emulator.messages(resident.id)
            if m.media_kind in FILE_KINDS and "evidence-" in (m.text or "")]


def _send_files(resident: UserHandle, count: int, tag: str) -> None:
    for number in range(count):
        resident.send_document(samples.pdf_with_author(), f"Nguyen_{tag}_{number}.pdf",
                               "application/pdf")


def _additions(bot: BotProcess, code: str) -> list[dict]:
    """The bodies of the resident's additions to the tip, read from the stopped bot's file."""
    async def read() -> list[dict]:
        store = await open_store(bot.env["TIPBOT_DB"], base64.b64decode(bot.env["TIPBOT_KEY"]))
        try:
            tip = await store.tips.by_receipt_code(code)
            assert tip is not None
            return [dict(m.body) for m in await store.tips.thread(tip.tip_id)
                    if m.author == "resident"]
        finally:
            await store.close()

    return asyncio.run(read())


def _pretend_recent_additions(bot: BotProcess, code: str, count: int) -> None:
    async def add() -> None:
        store = await open_store(bot.env["TIPBOT_DB"], base64.b64decode(bot.env["TIPBOT_KEY"]))
        try:
            tip = await store.tips.by_receipt_code(code)
            assert tip is not None
            for number in range(count):
                await store.tips.add_resident_message(tip, {"text": f"n{number}"}, ())
        finally:
            await store.close()

    asyncio.run(add())


def _started_with_a_tip(
    emulator: Emulator, bot: BotProcess
) -> tuple[UserHandle, UserHandle, str]:
    """`bot` started with its officer joined, and the resident FLOODER_ID ("Nga") with a tip
    sent: (officer, resident, the tip's receipt code)."""
    bot.add_officer(OFFICER_ID, "hong-van")
    bot.start()
    officer = staff_joins(emulator, OFFICER_ID)
    resident = emulator.user(FLOODER_ID, "Nga")
    return officer, resident, report(emulator, resident)


def test_files_on_their_way_count_in_the_hourly_cap_and_the_rest_are_refused_kindly(
    emulator: Emulator, make_bot  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot()
    _officer, flooder, code = _started_with_a_tip(emulator, bot)
    room = 2  # additions left in this hour: fewer than the files one may have on their way
    assert room < IN_FLIGHT_PER_PERSON
    _pretend_recent_additions(bot, code, ADDITIONS_PER_HOUR - room)
    open_additions(emulator, flooder, code)
    # The clean copies' uploads are slow: the files taken are still on their way meanwhile.
    emulator.inject("latency", "sendDocument", chat_id=FLOODER_ID, delay=1.5)

    _send_files(flooder, 6, "flood")
    _wait_saying(emulator, flooder, CLEANING, room)
    _wait_saying(emulator, flooder, FLOOD, 6 - room)
    emulator.wait_until(lambda: len(_copies(emulator, flooder)) >= room, timeout=20)
    _wait_saying(emulator, flooder, RECEIVED, room)
    bot.stop()

    assert len(_saying(emulator, flooder, CLEANING)) == room
    assert len(_saying(emulator, flooder, FLOOD)) == 6 - room, "every file refused was told"
    additions = _additions(bot, code)
    assert len(additions) == ADDITIONS_PER_HOUR, "stored and on their way never pass the cap"
    assert sum(1 for body in additions if body.get("attachments")) == room




def test_a_flooder_has_three_files_on_their_way_and_another_residents_file_goes_first(
    emulator: Emulator, make_bot  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot()
    officer, flooder, code = _started_with_a_tip(emulator, bot)
    other = emulator.user(OTHER_ID, "Bình")
    to_evidence_step(emulator, other)  # the other resident's evidence is a report's
    open_additions(emulator, flooder, code)
    # The flooder's first two files fill both slots: one upload takes 5 s, the other 10 s.
    emulator.inject("latency", "sendDocument", chat_id=FLOODER_ID, delay=5, times=1)
    emulator.inject("latency", "sendDocument", chat_id=FLOODER_ID, delay=10, times=1)

    sent = 5
    _send_files(flooder, sent, "flood")
    _wait_saying(emulator, flooder, CLEANING, IN_FLIGHT_PER_PERSON)
    _wait_saying(emulator, flooder, BUSY, sent - IN_FLIGHT_PER_PERSON)
    other.send_document(samples.pdf_with_author(), "Tran_Thi_B.pdf", "application/pdf")
    wait_text(emulator, other, CLEANING)
    assert not any(c.ok for c in emulator.calls_to("sendDocument", chat_id=FLOODER_ID)), \
        "the test's premise: the flooder's files still hold both slots"

    copy = wait_text(emulator, other, "evidence-1.pdf", timeout=30)
    samples.assert_clean(emulator.stored_file(copy.file_id).data)
    # The slot the flooder's first file set free went to the other resident, not to the
    # flooder's third file that had waited longer.
    uploads = [c.chat_id for c in emulator.calls_to("sendDocument")
               if str(c.chat_id) in (str(FLOODER_ID), str(OTHER_ID))]
    assert [str(c) for c in uploads[:3]] == [str(FLOODER_ID), str(FLOODER_ID), str(OTHER_ID)]

    emulator.wait_until(lambda: len(_copies(emulator, flooder)) >= IN_FLIGHT_PER_PERSON,
                        timeout=30)
    _wait_saying(emulator, flooder, RECEIVED, IN_FLIGHT_PER_PERSON)
    # Once theirs are done, a refused file sent again is taken.
    flooder.send_document(samples.pdf_with_author(), "Nguyen_again.pdf", "application/pdf")
    _wait_saying(emulator, flooder, CLEANING, IN_FLIGHT_PER_PERSON + 1)
    _wait_saying(emulator, flooder, RECEIVED, IN_FLIGHT_PER_PERSON + 1)
    emulator.wait_until(
        lambda: len([m for m in emulator.messages(officer.id) if m.media_kind == "document"])
        >= IN_FLIGHT_PER_PERSON + 1, timeout=20)
    bot.stop()
    files = [b for b in _additions(bot, code) if b.get("attachments")]
    assert len(files) == IN_FLIGHT_PER_PERSON + 1
    assert "Nguyen" not in bot.logs() and str(FLOODER_ID) not in bot.logs()


def _held(emulator: Emulator) -> int:
    """sendMessage calls to the flooder's chat that the emulator holds (or held)."""
    return sum(1 for call in emulator.calls_to("sendMessage", chat_id=FLOODER_ID)
               if call.fault == "latency")



def test_an_addition_handled_again_after_a_kill_is_taken_once(
    emulator: Emulator, make_bot, database: dict[str, str]  # type: ignore[no-untyped-def]
) -> None:
    """Both databases: the addition and the session that took it are one transaction."""
    bot = make_bot(**database)
    officer, resident, code = _started_with_a_tip(emulator, bot)
    open_additions(emulator, resident, code)

    # A text: stored, then the answer is held; killed while the update is still in hand.
    emulator.inject("latency", "sendMessage", chat_id=FLOODER_ID, delay=600)
    resident.send_text("Xe tải biển 75C chở hàng lúc 2 giờ sáng")
    wait(lambda: _held(emulator) == 1, timeout=20)
    wait(lambda: not emulator.pending_updates)  # confirmed: Telegram will not send it again
    wait_text(emulator, officer, "Xe tải biển 75C", timeout=20)
    bot.kill9()
    emulator.clear_faults()
    bot.start()
    # Handled again: not stored twice, but the resident is told it was received (the first
    # answer is still held).
    _wait_saying(emulator, resident, RECEIVED, 1)
    assert "its process stopped before handling it; handled now" in bot.logs()
    assert "a /status addition taken before" in bot.logs()

    # A file: its clean copy stored and delivered while the "being cleaned" answer is held.
    emulator.inject("latency", "sendMessage", chat_id=FLOODER_ID, delay=600)
    resident.send_document(samples.pdf_with_author(), "Nguyen_Van_A.pdf", "application/pdf")
    emulator.wait_until(lambda: any(m.media_kind == "document"
                                    for m in emulator.messages(officer.id)), timeout=20)
    wait(lambda: not emulator.pending_updates)
    bot.kill9()
    emulator.clear_faults()
    bot.start()
    resident.send_text("Thêm: có hai người")
    wait_text(emulator, officer, "có hai người", timeout=20)
    bot.stop()  # waits for any cleaning in the background

    assert bot.logs().count("a /status addition taken before") == 2
    additions = _additions(bot, code)
    texts = [b.get("text") for b in additions if not b.get("attachments")]
    assert texts == ["Xe tải biển 75C chở hàng lúc 2 giờ sáng", "Thêm: có hai người"]
    assert len([b for b in additions if b.get("attachments")]) == 1
    assert len([m for m in emulator.messages(officer.id) if m.media_kind == "document"]) == 1
    assert len([m for m in emulator.messages(officer.id)
                if "Xe tải biển 75C" in (m.text or "")]) == 1


def test_a_reports_file_waiting_behind_the_persons_status_files_starts_when_they_are_done(
    emulator: Emulator, make_bot  # type: ignore[no-untyped-def]
) -> None:
    """The person's files on their way count across /status and /report: a report's file past
    the cap waits in the draft, and starts as soon as one of their /status files is done; it
    used to wait until the resident pressed something at the evidence step."""
    bot = make_bot()
    _officer, flooder, code = _started_with_a_tip(emulator, bot)
    open_additions(emulator, flooder, code)
    emulator.inject("latency", "sendDocument", chat_id=FLOODER_ID, delay=6,
                    times=IN_FLIGHT_PER_PERSON)
    _send_files(flooder, IN_FLIGHT_PER_PERSON, "status")
    _wait_saying(emulator, flooder, CLEANING, IN_FLIGHT_PER_PERSON)
    to_evidence_step(emulator, flooder)  # a new report while those are on their way
    assert not any(c.ok for c in emulator.calls_to("sendDocument", chat_id=FLOODER_ID)), \
        "the test's premise: the /status files are still on their way"
    flooder.send_document(samples.pdf_with_author(), "Nguyen_report.pdf", "application/pdf")
    # Nothing more is pressed: the report's file is cleaned once a /status one is done.
    emulator.wait_until(lambda: len(_copies(emulator, flooder)) >= IN_FLIGHT_PER_PERSON + 1,
                        timeout=40)
    _wait_saying(emulator, flooder, RECEIVED, IN_FLIGHT_PER_PERSON)
    bot.stop()


@pytest.mark.parametrize("meanwhile", ["done", "lookup"])
def test_a_file_cut_off_by_a_restart_after_done_or_a_new_lookup_is_stored_when_the_bot_is_back(
    emulator: Emulator, make_bot, database: dict[str, str], meanwhile: str  # type: ignore[no-untyped-def]
) -> None:
    """Both databases. The resident was told their file is being cleaned, then pressed "done"
    (or opened their tip again with its code): the session that listed the file is gone. The
    bot is killed while the file's clean copy is being uploaded; once it is back, the file is
    stored and reaches the officer without the resident doing anything (it used to be lost:
    only the next /status step of the same session started it again)."""
    bot = make_bot(**database)
    officer, resident, code = _started_with_a_tip(emulator, bot)
    open_additions(emulator, resident, code)
    emulator.inject("latency", "sendDocument", chat_id=FLOODER_ID, delay=600)
    resident.send_document(samples.pdf_with_author(), "Nguyen_Van_A.pdf", "application/pdf")
    _wait_saying(emulator, resident, CLEANING, 1)
    wait(lambda: emulator.calls_to("sendDocument", chat_id=FLOODER_ID), timeout=20)  # held
    if meanwhile == "done":
        press(emulator, resident, "st:close")
        wait_text(emulator, resident, CLOSED)
    else:
        views = len(_saying(emulator, resident, VIEW))
        resident.send_command("/status", code)
        _wait_saying(emulator, resident, VIEW, views + 1)
    bot.kill9()
    emulator.clear_faults()
    bot.start()

    emulator.wait_until(lambda: any(m.media_kind == "document"
                                    for m in emulator.messages(officer.id)), timeout=40)
    _wait_saying(emulator, resident, RECEIVED, 1)
    bot.stop()
    files = [b for b in _additions(bot, code) if b.get("attachments")]
    assert len(files) == 1
    copy = next(m for m in emulator.messages(officer.id) if m.media_kind == "document")
    samples.assert_clean(emulator.stored_file(copy.file_id).data)
    assert len([m for m in emulator.messages(officer.id) if m.media_kind == "document"]) == 1
    assert "a /status file cut off by a stopped process; cleaned here" in bot.logs()
    assert "Nguyen" not in bot.logs()
