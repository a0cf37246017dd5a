"""An officer's reply carries no link, @name or /command to the resident (review 3, finding 8).

Telegram's clients make URLs, bare domains, @usernames and /commands tappable by themselves; a
tap on `t.me/<other bot>?start=…` hands the resident's Telegram account to whoever runs that
bot, and any web link their internet address. The reviewer's probe saw the pushed reply with
`url` and `mention` entities. Here the reply is refused with a short answer saying why (the
officer's words come back to copy, the reply stays open), nothing reaches the resident, a
clean reply then goes out with no entity but the bot's own formatting and no link preview,
and a reply stored before the check is sent without its links.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from testing.journeys import report, staff_joins

PROBE = ("Gửi ảnh an toàn hơn qua https://t.me/district_evidence_bot?start=tip42 "
         "hoặc @district_evidence_bot, hoặc https://x.example/u?t=42")
#: The entity types the bot's own formatting of a pushed reply uses (resident_reply).
OWN_FORMATTING = {"bold", "italic"}


def _setup(emulator: Any, make_bot: Any, resident_id: int) -> tuple[Any, Any, Any, str]:
    bot, officer, resident, tip_id, _code = _setup_with_code(emulator, make_bot, resident_id)
    return bot, officer, resident, tip_id


def _setup_with_code(emulator: Any, make_bot: Any, resident_id: int) -> tuple[Any, ...]:
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Vân")
    bot.start()
    officer = staff_joins(emulator, 7002, "Vân")
    resident = emulator.user(resident_id, "Ngọc")
    code = report(emulator, resident, texts=("Trộm bò ở bản Pa Ring",), notify=True)
    card = emulator.wait_for_message(7002, lambda m: "Trộm bò" in (m.text or "") and m.buttons)
    tip_id = card.callback_data()[0].split(":")[2]
    officer.click(card.message_id, f"o:rep:{tip_id}")
    emulator.wait_for_message(officer, "người báo")
    return bot, officer, resident, tip_id, code


def _to_resident(emulator: Any, resident: Any) -> list[Any]:
    return [m for m in emulator.messages(resident.id) if "Cán bộ trả lời" in (m.text or "")]


def test_a_reply_with_a_link_is_refused_and_a_clean_one_then_goes_out(emulator, make_bot):
    bot, officer, resident, _tip_id = _setup(emulator, make_bot, 5302)
    officer.send_text(PROBE)
    refusal = emulator.wait_for_message(officer, "Chưa gửi")
    assert "https://t.me/district_evidence_bot?start=tip42" in refusal.text  # named, and
    assert "@district_evidence_bot, hoặc https://x.example/u?t=42" in refusal.text  # the draft
    assert "lộ người báo" in refusal.text and "Số điện thoại thì được" in refusal.text
    # The officer sees their words in a code block: not a link they could tap either.
    assert not {e["type"] for e in refusal.entities} & {"url", "mention", "text_link"}

    # Each way of hiding the link is refused too, and the reply stays open all along.
    for disguised in ("vào t.\u200bme/district_evidence_bot nhé",
                      "nhắn \uff20district_evidence_bot",
                      "xem congan-hue\u3002com",
                      "hỏi anh.Ba",
                      "gõ /start@district_evidence_bot"):
        before = len(emulator.messages(officer.id))
        officer.send_text(disguised)
        emulator.wait_for_message(
            officer, lambda m, n=before: "Chưa gửi" in (m.text or "")
            and emulator.messages(officer.id).index(m) >= n,
        )
    # A link hidden behind words (a text_link entity) is refused: dropped silently, the officer
    # would believe it went.
    before = len(emulator.messages(officer.id))
    emulator.user_send(officer.id, {"text": "bấm vào đây", "entities": [
        {"type": "text_link", "offset": 0, "length": 11, "url": "https://x.example/u"}]})
    emulator.wait_for_message(
        officer, lambda m: "Chưa gửi" in (m.text or "") and "bấm vào đây" in (m.text or "")
        and emulator.messages(officer.id).index(m) >= before,
    )
    assert not _to_resident(emulator, resident)

    clean = "Cảm ơn bạn. Gọi 0912 345 678 hoặc 113 nếu cần; mã K7QM-2XPR-9HDA, 1.500.000đ, Tp.HCM"
    officer.send_text(clean)
    emulator.wait_for_message(officer, "✅")
    pushed = emulator.wait_for_message(resident, lambda m: "Cảm ơn bạn. Gọi" in (m.text or ""))
    assert clean in pushed.text
    assert "không bao giờ nhờ bạn mở liên kết hay bot khác" in pushed.text
    assert {e["type"] for e in pushed.entities} <= OWN_FORMATTING, pushed.entities
    sent = [c for c in emulator.calls_to("sendMessage", chat_id=resident.id)
            if "Cảm ơn bạn. Gọi" in str(c.params.get("text"))]
    assert len(sent) == 1
    preview = sent[0].params["link_preview_options"]
    assert preview in ({"is_disabled": True}, '{"is_disabled": true}'), preview
    assert len(_to_resident(emulator, resident)) == 1
    assert not [m for m in emulator.messages(resident.id)
                if "district_evidence_bot" in (m.text or "")]
    bot.stop()
    assert "Traceback" not in bot.logs()
    assert "district_evidence_bot" not in bot.logs()


def test_a_photo_whose_caption_has_a_link_is_refused(emulator, make_bot):
    bot, officer, resident, _tip_id = _setup(emulator, make_bot, 5304)
    officer.send_photo(caption="Ảnh ở t.me/district_evidence_bot")
    emulator.wait_for_message(officer, "Chưa gửi")
    officer.send_photo(caption="Ảnh hiện trường")
    emulator.wait_for_message(officer, "✅")
    emulator.wait_for_message(resident, lambda m: "Ảnh hiện trường" in (m.text or ""))
    assert not [m for m in emulator.messages(resident.id)
                if "district_evidence_bot" in (m.text or "")]
    bot.stop()


async def _store_old_reply(bot: Any, tip_id: int, body: str) -> None:
    """A reply stored as the code before this check would have (setup only)."""
    from storage.store import open_store

    store = await open_store(bot.data / "tipline.db", base64.b64decode(bot.env["TIPBOT_KEY"]))
    try:
        async with store.db.transaction():
            message_id = await store.desk.add_officer_message(tip_id, 7002, {"text": body})
            await store.outbox.enqueue_for_resident(tip_id, "resident_reply",
                                                    tip_message_id=message_id)
    finally:
        await store.close()


def test_a_reply_stored_before_the_check_goes_out_without_its_links(emulator, make_bot):
    bot, officer, resident, tip_id, code = _setup_with_code(emulator, make_bot, 5306)
    officer.send_command("/cancel")
    bot.stop()
    asyncio.run(_store_old_reply(bot, int(tip_id), "Cũ: " + PROBE))
    bot.start()
    pushed = emulator.wait_for_message(resident, lambda m: "Cũ:" in (m.text or ""))
    assert "Gửi ảnh an toàn hơn qua [đã bỏ liên kết]" in pushed.text
    assert "district_evidence_bot" not in pushed.text and "x.example" not in pushed.text
    assert {e["type"] for e in pushed.entities} <= OWN_FORMATTING, pushed.entities
    # Nor does /status show it with them.
    resident.send_command("/status", code)
    view = emulator.wait_for_message(resident, lambda m: "Cũ:" in (m.text or "")
                                     and m is not pushed and m.message_id != pushed.message_id)
    assert "[đã bỏ liên kết]" in view.text
    assert "district_evidence_bot" not in view.text and "x.example" not in view.text
    assert not {e["type"] for e in view.entities} & {"url", "mention", "text_link"}
    bot.stop()
    assert "Traceback" not in bot.logs()
