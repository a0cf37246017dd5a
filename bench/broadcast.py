"""A broadcast to 10,000 subscribers under Telegram's flood limits, with a report in the middle.

The real bot runs against the emulator with Telegram's limits on (`emulator.set_rate_limits`:
30 messages/s overall, 1 per second per chat) and the shipped budget (TIPBOT_BROADCAST_RATE,
25/s). The subscribers are seeded through storage (testing/campaign.seed_subscribers, as
residents typing /subscribe leave the database); the admin sends /broadcast at a person's pace
(bench/broadcast_rate.start_broadcast). A third of the way through, a resident sends a report
(testing/journeys.report) and the time from "send" to the officer's card is taken.

    achieved rate      messages to subscribers / (last - first), against the budget (>= 0.95x)
    flood 429s         calls the emulator answered 429 for a flood limit (target 0), by whom
                       they were for: the resident's journey (testing/journeys.report) presses
                       each button the moment it appears, faster than the 1 message/s of a
                       chat, which a person never does; those are shown apart
    duplicates         subscribers who got the broadcast more than once (target 0)
    missing            subscribers who never got it (target 0)
    report -> card     the report sent during the broadcast, "send" to the card (target < 1 s)

`--scale` multiplies the number of subscribers (0.1: 1,000 subscribers, ~40 s instead of
~400 s); the limits and the budget stay Telegram's and the shipped ones (the budget cannot be
raised to 30/s or more: bot/config.py refuses it).

    python -m bench.broadcast [--scale 1] [--rate 25]
"""

from __future__ import annotations

import collections
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.broadcast_rate import BODY, max_in_window, start_broadcast
from bench.common import EventClock, Report, arguments, emulator_and_bot, event_text, ms
from testing.campaign import ADMIN, seed_subscribers
from testing.journeys import report, staff_joins, wait_text

FIRST_SUBSCRIBER = 1_000_001
SUBSCRIBERS = 10_000
OFFICER = 7002
RESIDENT = 990_001
TAG = "[giữa-bản-tin]"


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the 10,000 subscribers (default 1)")
    parser.add_argument("--rate", type=float, default=25.0)
    args = parser.parse_args(argv)
    count = max(10, round(SUBSCRIBERS * args.scale))
    rate = args.rate
    result = Report("broadcast", summary_path=args.summary_json)
    begun = time.perf_counter()
    budget = count / rate * 1.5 + 30
    card_latency: list[float] = []
    errors: list[str] = []

    with emulator_and_bot(TIPBOT_ADMIN_IDS=str(ADMIN), TIPBOT_BROADCAST_RATE=f"{rate:g}") as (
        emulator, bot,
    ):
        ids = seed_subscribers(emulator, bot, range(FIRST_SUBSCRIBER, FIRST_SUBSCRIBER + count))
        bot.add_officer(OFFICER, "hong-van")
        emulator.set_rate_limits(global_per_second=30, per_chat_per_second=1)
        bot.start()
        staff_joins(emulator, OFFICER)
        admin = emulator.user(ADMIN, "Quản trị", started=True)
        clock = EventClock(emulator)
        subscribers = set(ids)

        def mid_report() -> None:
            try:
                clock.wait_first(lambda e: e["type"] == "message"
                                 and e["chat_id"] in subscribers, timeout=budget)
                time.sleep(count / rate / 3)
                resident = emulator.user(RESIDENT, "Dân")
                started = time.perf_counter()
                report(emulator, resident, texts=(f"Có người bán ma túy gần cầu {TAG}",))
                found = clock.first_event(
                    lambda e: e["type"] == "click" and e.get("user_id") == RESIDENT
                    and e.get("data") == "r:sum:send", started)
                assert found is not None
                card = clock.wait_first(
                    lambda e: e["type"] == "message" and e["chat_id"] == OFFICER
                    and TAG in event_text(e), found[0], timeout=60)
                card_latency.append(card - found[0])
            except Exception as error:  # reported with the figures
                errors.append(f"report during the broadcast: {type(error).__name__}: {error}"
                              [:300])

        reporter = threading.Thread(target=mid_report)
        reporter.start()
        start_broadcast(emulator, admin, BODY, count)
        confirmed = clock.first(
            lambda e: e["type"] == "click" and str(e.get("data", "")).startswith("bc:go:"))
        wait_text(emulator, admin, "đã gửi xong.", timeout=budget)
        reporter.join(timeout=90)
        clock.close()
        calls = emulator.calls
        hits = emulator.rate_limit_hits

    sends = [c for c in calls if c.method == "sendMessage" and c.chat_id in subscribers]
    delivered = sorted(c.clock for c in sends if c.ok)
    received = collections.Counter(c.chat_id for c in sends if c.ok)
    duplicates = sum(1 for n in received.values() if n > 1)
    missing = len(subscribers - set(received))
    assert confirmed is not None
    span = delivered[-1] - delivered[0] if len(delivered) > 1 else float("nan")
    achieved = (len(delivered) - 1) / span

    result.section(f"{count:,} subscribers, budget {rate:g}/s, emulator limits 30/s overall "
                   "and 1/s per chat")
    result.row("messages delivered to subscribers", len(delivered))
    result.row("first -> last message", span, "s")
    result.row("achieved rate", achieved, "msg/s")
    result.row("max messages to subscribers in any 1 s", max_in_window(delivered))
    result.row("flood 429s (emulator)", hits)
    limited = collections.Counter(
        "subscribers" if c.chat_id in subscribers else "resident" if c.chat_id == RESIDENT
        else "officer" if c.chat_id == OFFICER else "admin" if c.chat_id == ADMIN else "other"
        for c in calls if c.rate_limited)
    result.row("  429s by whom they were for", ", ".join(f"{k} {v}" for k, v in
                                                          sorted(limited.items())) or "none")
    result.row("duplicates / missing", f"{duplicates} / {missing}")
    if card_latency:
        result.row("report during the broadcast: send -> card", ms(card_latency[0]), "ms")
    result.ratio("achieved / budget", achieved / rate)
    ours = hits - limited.get("resident", 0)
    result.row("flood 429s but the resident's", ours)
    result.key("flood 429s (but the resident's) / duplicates / missing",
               f"{ours} / {duplicates} / {missing}")
    if card_latency:
        result.key("report during it: send -> card (target < 1 s)",
                   f"{ms(card_latency[0]):.0f} ms")
    for error in errors:
        result.note(error)
    result.note(f"wall time {time.perf_counter() - begun:.1f} s; machine shared with other "
                f"developers")
    return result


if __name__ == "__main__":
    outcome = main()
    outcome.print()
    outcome.save()
