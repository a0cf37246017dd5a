"""Steps of the users' journeys, shared by the end-to-end tests."""

from __future__ import annotations

import re
from typing import Any

from emulator import ChatMessage, Emulator, UserHandle

RECEIPT = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b")
#: The kinds of message a resident's file reaches an officer as.
FILE_KINDS = ("document", "audio", "video", "animation", "photo", "voice", "video_note")


def wait_button(
    emulator: Emulator, user: UserHandle, data: str, timeout: float = 10
) -> ChatMessage:
    """The newest live bot message in the user's chat that offers a button with `data`."""

    def find() -> ChatMessage | None:
        for message in reversed(emulator.messages(user.id)):
            if not message.deleted and data in message.callback_data():
                return message
        return None

    return emulator.wait_until(find, timeout=timeout, chat=user.id)


def wait_text(emulator: Emulator, user: UserHandle, part: str, timeout: float = 10) -> ChatMessage:
    """The newest live bot message in the user's chat whose text contains `part` (edits too)."""

    def find() -> ChatMessage | None:
        for message in reversed(emulator.messages(user.id)):
            if not message.deleted and part in (message.text or ""):
                return message
        return None

    return emulator.wait_until(find, timeout=timeout, chat=user.id)


def press(emulator: Emulator, user: UserHandle, data: str) -> None:
    message = wait_button(emulator, user, data)
    user.click(message.message_id, data)


def report(
    emulator: Emulator,
    resident: UserHandle,
    *,
    category: str = "drugs",
    area: str | None = "hong-van",
    place: str | None = "cầu treo thôn 2",
    location: tuple[float, float] | None = None,
    when: str = "today",
    texts: tuple[str, ...] = ("Có người bán ma túy gần cầu.",),
    photos: int = 0,
    notify: bool = False,
) -> str:
    """Go through /report with the buttons, send it, and return the receipt code."""
    resident.send_command("/report")
    press(emulator, resident, f"r:cat:{category}")
    if area is None:
        press(emulator, resident, "r:area:unsure")
    else:
        while True:
            message = wait_button(emulator, resident, "r:area:unsure")
            if f"r:area:{area}" in message.callback_data():
                resident.click(message.message_id, f"r:area:{area}")
                break
            next_page = [d for d in message.callback_data() if d.startswith("r:ap:")][-1]
            resident.click(message.message_id, next_page)
            emulator.wait_until(
                lambda m=message: emulator.message(resident.id, m.message_id).callback_data()
                != m.callback_data(), chat=resident.id
            )
    wait_button(emulator, resident, "r:place:skip")
    if location:
        resident.send_location(*location)
    elif place:
        resident.send_text(place)
    else:
        press(emulator, resident, "r:place:skip")
    press(emulator, resident, f"r:when:{when}")
    wait_text(emulator, resident, "5. ")
    for text in texts:
        resident.send_text(text)
        emulator.wait_for_message(resident, lambda m: "r:text:done" in m.callback_data())
    press(emulator, resident, "r:text:done")
    if photos:
        wait_button(emulator, resident, "r:ev:skip")
        for _ in range(photos):
            resident.send_photo()
            emulator.wait_for_message(resident, lambda m: "r:ev:done" in m.callback_data())
        press(emulator, resident, "r:ev:done")
    else:
        press(emulator, resident, "r:ev:skip")
    press(emulator, resident, "r:fu:notify" if notify else "r:fu:anon")
    press(emulator, resident, "r:sum:send")
    receipt = emulator.wait_for_message(resident, lambda m: bool(RECEIPT.search(m.text or "")))
    match = RECEIPT.search(receipt.text or "")
    assert match
    return match.group(1)


def staff_joins(emulator: Emulator, user_id: int, name: str = "Cán bộ") -> UserHandle:
    """A staff member opens the bot once, so Telegram lets the bot write to them."""
    staff = emulator.user(user_id, name)
    staff.send_command("/start")
    emulator.wait_for_message(staff, "113")
    return staff


def to_evidence_step(
    emulator: Emulator, resident: UserHandle, text: str = "Xe chở hàng lậu qua đèo lúc nửa đêm."
) -> None:
    """Go through /report with the buttons up to the evidence step (its "skip" button shown)."""
    resident.send_command("/report")
    press(emulator, resident, "r:cat:smuggling")
    press(emulator, resident, "r:area:unsure")
    press(emulator, resident, "r:place:skip")
    press(emulator, resident, "r:when:today")
    wait_text(emulator, resident, "5. ")
    resident.send_text(text)
    emulator.wait_for_message(resident, lambda m: "r:text:done" in m.callback_data())
    press(emulator, resident, "r:text:done")
    wait_button(emulator, resident, "r:ev:skip")


def at_evidence_step(
    emulator: Emulator, bot: Any, officer_id: int, resident_id: int
) -> tuple[UserHandle, UserHandle]:
    """`bot` (testing.harness, not yet started) started with one officer who has joined, and a
    resident at the evidence step of a report: (officer, resident)."""
    bot.add_officer(officer_id)
    bot.start()
    officer = staff_joins(emulator, officer_id)
    resident = emulator.user(resident_id, "Cư dân")
    to_evidence_step(emulator, resident)
    return officer, resident


def send_after_evidence(emulator: Emulator, resident: UserHandle) -> str:
    """From the evidence step: "done", anonymous, send, up to the receipt; the summary's text."""
    press(emulator, resident, "r:ev:done")
    press(emulator, resident, "r:fu:anon")
    summary = wait_button(emulator, resident, "r:sum:send")
    press(emulator, resident, "r:sum:send")
    assert emulator.wait_for_message(resident, lambda m: bool(RECEIPT.search(m.text or "")))
    return summary.text or ""


def officer_files(
    emulator: Emulator, officer: UserHandle, count: int, kinds: tuple[str, ...] = FILE_KINDS
) -> list[ChatMessage]:
    """The files the officer's chat holds, once there are at least `count` of them."""
    found: list[ChatMessage] = emulator.wait_until(
        lambda: (files := [m for m in emulator.messages(officer.id)
                           if m.media_kind in kinds]) and len(files) >= count and files,
        timeout=20,
    )
    return found


def open_additions(emulator: Emulator, resident: UserHandle, code: str) -> None:
    """`/status CODE`, then its "add information" button, up to the prompt for additions."""
    resident.send_command("/status", code)
    view = emulator.wait_until(lambda: next(
        (m for m in reversed(emulator.messages(resident.id))
         if any(d.startswith("st:add") for d in m.callback_data())), None))
    resident.click(view.message_id, next(d for d in view.callback_data() if d.startswith("st:add")))
    wait_text(emulator, resident, "Gửi thêm chữ")
