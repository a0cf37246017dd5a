"""How the broadcaster counts Telegram's answers (issue 17, item 6): the heart of "at most once".

One subscriber each meets a timeout (Telegram applied the call but the answer came too late), a
reset connection, a 502 and a Bad Request; two get the message. A timeout, a reset and a 5xx
leave the outcome unknown: counted uncertain and never sent again; a Bad Request is a failure.
"""

from __future__ import annotations

from testing.campaign import ADMIN, received, seed_subscribers, start_broadcast
from testing.journeys import wait_text

SUBSCRIBERS = range(630_001, 630_007)
BODY = "Thông báo: tiêm phòng cho trâu bò sáng thứ bảy"


def _count(text: str, label: str) -> int:
    return int(text.split(label)[1].split("\n")[0].split(" ")[0])


def test_timeouts_resets_and_5xx_are_uncertain_never_resent_and_a_bad_request_failed(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN), TIPBOT_BROADCAST_RATE="25")
    ids = seed_subscribers(emulator, bot, SUBSCRIBERS)
    timed_out, reset, bad_gateway, rejected = ids[:4]
    emulator.inject("timeout", method="sendMessage", chat_id=timed_out, times=1, delay=6.0)
    emulator.inject("reset", method="sendMessage", chat_id=reset, times=1)
    emulator.inject("5xx", method="sendMessage", chat_id=bad_gateway, times=1, status=502)
    emulator.inject("400", method="sendMessage", chat_id=rejected, times=1,
                    description="Bad Request: message is too long")
    bot.start()
    admin = emulator.user(ADMIN, "Quản trị", started=True)
    start_broadcast(emulator, admin, BODY, len(ids))

    text = wait_text(emulator, admin, "đã gửi xong.", timeout=30).text or ""
    assert _count(text, "Đã gửi: ") == 2, text
    assert _count(text, "Không gửi được: ") == 1, text
    assert _count(text, "Không rõ kết quả (không gửi lại): ") == 3, text
    for user_id in (timed_out, reset, bad_gateway, rejected):
        calls = [c for c in emulator.calls_to("sendMessage", chat_id=user_id)
                 if BODY in str(c.params.get("text"))]
        assert len(calls) == 1, (user_id, [c.fault for c in calls])  # never sent again
    assert received(emulator, timed_out, BODY) == 1  # Telegram did deliver it: not twice
    assert received(emulator, reset, BODY) == 0 and received(emulator, rejected, BODY) == 0
    for user_id in ids[4:]:
        assert received(emulator, user_id, BODY) == 1
