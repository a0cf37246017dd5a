"""Broadcast rate: messages per second achieved by an admin's /broadcast against the budget.

The real bot runs against the emulator with Telegram's flood limits switched on
(`emulator.set_rate_limits`: 30 messages/s overall, 1 per second per chat). N subscribers are
seeded through storage exactly as tests/e2e/test_campaign_broadcast.py does (as N residents
typing /subscribe would leave the database); the admin sends /broadcast, the text, and
confirms. From the emulator's record of the calls:

    achieved rate      successful sends to subscribers / (last send - first send)
    end to end         sends / (confirm press -> final report in the admin's chat)
    max in any 1 s     the most sends (to anyone) that fall in one sliding 1-second window
    rate-limit hits    calls the emulator answered 429 because a flood limit was exceeded

Baseline: the configured TIPBOT_BROADCAST_RATE (ratio achieved / configured).

    python -m bench.broadcast_rate [--subscribers 500] [--rate 25]
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import EventClock, Report, arguments, emulator_and_bot, event_text, ms, spread
from emulator import Emulator, UserHandle
from testing.campaign import ADMIN, press_prefix, seed_subscribers
from testing.journeys import wait_text

FIRST_SUBSCRIBER = 700_001
READING_SECONDS = 1.2
BODY = "Thông báo: họp dân tối nay 19:00 tại nhà văn hóa thôn 2, bàn việc giữ rừng"


def start_broadcast(emulator: Emulator, admin: UserHandle, body: str, count: int) -> None:
    """/broadcast, the text, confirm: tests/e2e/test_campaign_broadcast.start_broadcast at a
    person's pace. Answering a bot message within the same second makes the bot's next message
    to the admin exceed Telegram's 1 message/s per chat: a 429 and a 1 s retry that a person,
    who reads the preview first, never causes (and that would be counted here as the
    broadcaster's)."""
    admin.send_command("/broadcast")
    wait_text(emulator, admin, f"tới {count} người đăng ký")
    time.sleep(READING_SECONDS)
    admin.send_text(body)
    emulator.wait_until(
        lambda: any(d.startswith("bc:go:") for m in emulator.messages(admin.id)
                    for d in m.callback_data())
    )
    time.sleep(READING_SECONDS)
    press_prefix(emulator, admin, "bc:go:")


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most stamps that fit in any half-open window [t, t + window)."""
    ordered = sorted(times)
    best, low = 0, 0
    for high, stamp in enumerate(ordered):
        while ordered[low] <= stamp - window:
            low += 1
        best = max(best, high - low + 1)
    return best


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--rate", type=float, default=25.0,
                        help="TIPBOT_BROADCAST_RATE for the bot (default 25, the shipped one)")
    args = parser.parse_args(argv)
    count, rate = args.subscribers, args.rate
    result = Report("broadcast_rate", summary_path=args.summary_json)
    begun = time.perf_counter()
    budget = count / rate * 1.5 + 20  # well past the expected time, still bounded

    with emulator_and_bot(TIPBOT_ADMIN_IDS=str(ADMIN), TIPBOT_BROADCAST_RATE=f"{rate:g}") as (
        emulator,
        bot,
    ):
        seeded_at = time.perf_counter()
        ids = seed_subscribers(emulator, bot, range(FIRST_SUBSCRIBER, FIRST_SUBSCRIBER + count))
        seeding = time.perf_counter() - seeded_at
        emulator.set_rate_limits(global_per_second=30, per_chat_per_second=1)
        bot.start()
        admin = emulator.user(ADMIN, "Quản trị", started=True)
        clock = EventClock(emulator)
        start_broadcast(emulator, admin, BODY, count)
        confirmed = clock.first(
            lambda e: e["type"] == "click" and str(e.get("data", "")).startswith("bc:go:")
        )
        wait_text(emulator, admin, "đã gửi xong.", timeout=budget)
        finished = clock.wait_first(
            lambda e: e["type"] == "message" and e["chat_id"] == ADMIN
            and "đã gửi xong." in event_text(e)
        )
        subscribers = set(ids)
        first_message = clock.wait_first(
            lambda e: e["type"] == "message" and e["chat_id"] in subscribers
        )
        clock.close()
        calls = emulator.calls
        hits = emulator.rate_limit_hits
        violations = len(emulator.check_recorded_calls())

    sends = [c for c in calls if c.method == "sendMessage" and c.chat_id in subscribers]
    delivered = sorted(c.clock for c in sends if c.ok)
    every_send = [c.clock for c in calls if c.method in ("sendMessage", "sendPhoto") and c.ok]
    limited_subscribers = sum(1 for c in sends if c.rate_limited)
    limited_others = sum(1 for c in calls if c.rate_limited) - limited_subscribers
    other_errors = sum(1 for c in sends if not c.ok and not c.rate_limited)
    progress_edits = sum(
        1 for c in calls if c.method == "editMessageText" and c.chat_id == ADMIN and c.ok
    )
    assert confirmed is not None
    span = delivered[-1] - delivered[0] if len(delivered) > 1 else float("nan")
    achieved = (len(delivered) - 1) / span
    end_to_end = len(delivered) / (finished - confirmed)
    gaps = [b - a for a, b in itertools.pairwise(delivered)]
    gap = spread(gaps)

    result.section(f"{count} subscribers, TIPBOT_BROADCAST_RATE={rate:g}, "
                   "emulator limits 30/s overall, 1/s per chat")
    result.row("subscribers seeded through storage", seeding, "s")
    result.row("messages delivered", len(delivered))
    result.row("delivery failures other than 429", other_errors)
    result.row("confirm -> first message", ms(first_message - confirmed), "ms")
    result.row("first -> last message", span, "s")
    result.row("confirm -> final report to the admin", finished - confirmed, "s")
    result.row("achieved rate (first -> last message)", achieved, "msg/s")
    result.row("end-to-end rate (confirm -> report)", end_to_end, "msg/s")
    result.row("gap between messages p50 / p95 / max",
               f"{ms(gap['p50']):.1f} / {ms(gap['p95']):.1f} / {ms(gap['max']):.1f}", "ms")
    result.row("max messages to subscribers in any 1 s", max_in_window(delivered))
    result.row("max messages to anyone in any 1 s", max_in_window(every_send))
    result.row("emulator rate-limit hits (429 for a flood limit)", hits)
    result.row("  of which to subscribers / to the admin or others",
               f"{limited_subscribers} / {limited_others}")
    result.row("progress edits of the admin's message", progress_edits)
    result.row("Bot API calls made / failing the spec check", f"{len(calls)} / {violations}")
    result.ratio("achieved / configured rate", achieved / rate)
    result.ratio("end-to-end / configured rate", end_to_end / rate)
    result.ratio("max in 1 s / configured rate", max_in_window(delivered) / rate, headline=False)
    result.key("achieved rate", f"{achieved:.2f} msg/s (budget {rate:g})")
    result.key("max in any 1 s / rate-limit hits", f"{max_in_window(every_send)} / {hits}")
    result.note(f"wall time {time.perf_counter() - begun:.1f} s")
    return result


if __name__ == "__main__":
    outcome = main()
    outcome.print()
    outcome.save()
