"""Intake under a crowd: 50 residents reporting at once, and 300 simultaneous /start, against
a bare python-telegram-bot echo bot handling the same number of updates on the same emulator.

The real bot (`python -m bot`, started as testing/harness.py does) runs against the emulator
with one officer; every emulator event is stamped as it happens (bench/common.EventClock).

    reports   `--residents` threads each go through /report with the buttons
              (testing.journeys.report) at once. Figures: the updates the residents sent per
              second of wall time (first update to last card), and send -> card (the click on
              "r:sum:send" to the officer's card) p50/p95. Baseline: as many threads each send
              as many texts, one after the other, each waiting for its echo (the same count of
              updates, the same wait-for-the-answer pattern) to bench/echo_bot.py.
    /start    `--starts` users send /start at the same moment; the figure is answers per
              second (first /start to the last answer). Baseline: as many users send a text at
              once to the echo bot.

Targets of issue 16: both rates at least 0.7x the echo bot's, send -> card p95 under 1 s.
The echo bot runs against an emulator of its own in this process, the same code as the bot's.

    python -m bench.intake [--residents 50] [--starts 300]
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import EventClock, Report, arguments, cpu_seconds, emulator_and_bot, ms, spread
from bench.intake_latency import EchoBot
from emulator import Emulator
from testing.journeys import report, staff_joins

OFFICER = 7002
RESIDENTS = 820_000
STARTERS = 830_000
ECHOERS = 840_000
TIMEOUT = 120.0
RECEIPT = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
#: send -> receipt of the last crowd (the part of send -> card before the outbox)
RECEIPT_LATENCIES: list[float] = []


def answers(clock: EventClock, users: range, after: float) -> list[float]:
    """Stamps of the first bot message to each of `users` after `after`."""
    with clock._cond:  # a snapshot of the events (the clock only appends)
        stamps, events = list(clock._stamps), list(clock._events)
    first: dict[int, float] = {}
    for stamp, event in zip(stamps, events, strict=True):
        if stamp >= after and event["type"] == "message" and event["chat_id"] in users \
                and event["chat_id"] not in first:
            first[event["chat_id"]] = stamp
    return sorted(first.values())


def wait_for(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the answers did not all come")
        time.sleep(0.01)


def burst(emulator: Emulator, clock: EventClock, base: int, count: int,
          send: Callable[[Any], None]) -> tuple[float, float]:
    """`count` users send at once; (wall seconds first send -> last answer, updates/s)."""
    users = [emulator.user(base + n, f"U{n}") for n in range(count)]
    span = range(base, base + count)
    started = time.perf_counter()
    for user in users:
        send(user)
    wait_for(lambda: len(answers(clock, span, started)) >= count)
    wall = answers(clock, span, started)[-1] - started
    return wall, count / wall


def echo_crowd(echo: EchoBot, threads: int, per_thread: int) -> tuple[float, float]:
    """`threads` users each send `per_thread` texts, each after the echo of the one before."""
    errors: list[str] = []

    def one(number: int) -> None:
        user = echo.emulator.user(ECHOERS + number, "E")
        try:
            for index in range(per_thread):
                body = f"crowd {number} {index}"
                before = time.perf_counter()
                user.send_text(body)
                echo.clock.wait_first(
                    lambda e, b=body: e["type"] == "message" and e.get("message", {}).get("text")
                    == b, before, timeout=TIMEOUT)
        except Exception as error:  # reported with the figures
            errors.append(f"echo thread {number}: {type(error).__name__}: {error}"[:200])

    started = time.perf_counter()
    workers = [threading.Thread(target=one, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError("; ".join(errors[:3]))
    return wall, threads * per_thread / wall


def crowd_of_reports(emulator: Emulator, clock: EventClock, residents: int
                     ) -> tuple[float, int, list[float], list[str]]:
    """`residents` reports at once: (wall s, updates sent, send->card latencies, errors)."""
    errors: list[str] = []
    lock = threading.Lock()
    latencies: list[float] = []
    receipts: list[float] = []

    def one(number: int) -> None:
        resident_id = RESIDENTS + number
        tag = f"[crowd-{number:03d}]"
        try:
            begun = time.perf_counter()
            report(emulator, emulator.user(resident_id, "Dân"),
                   texts=(f"Có người bán ma túy gần cầu {tag}",))
            found = clock.first_event(
                lambda e: e["type"] == "click" and e.get("user_id") == resident_id
                and e.get("data") == "r:sum:send", begun)
            assert found is not None
            card = clock.wait_first(
                lambda e: e["type"] == "message" and e["chat_id"] == OFFICER
                and tag in (e.get("message") or {}).get("text", ""), found[0], timeout=TIMEOUT)
            receipt = clock.first(
                lambda e: e["type"] == "message" and e["chat_id"] == resident_id
                and RECEIPT.search((e.get("message") or {}).get("text", "")) is not None,
                found[0])
            with lock:
                latencies.append(card - found[0])
                if receipt is not None:
                    receipts.append(receipt - found[0])
        except Exception as error:  # reported with the figures
            with lock:
                errors.append(f"resident {number}: {type(error).__name__}: {error}"[:200])

    started = time.perf_counter()
    workers = [threading.Thread(target=one, args=(n,)) for n in range(residents)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    with clock._cond:
        events = [e for s, e in zip(clock._stamps, clock._events, strict=True) if s >= started]
    updates = sum(1 for e in events if e["type"] in ("click", "user_message")
                  and RESIDENTS <= e.get("chat_id", 0) < RESIDENTS + residents)
    RECEIPT_LATENCIES[:] = receipts
    return wall, updates, latencies, errors


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--starts", type=int, default=300)
    args = parser.parse_args(argv)
    result = Report("intake", summary_path=args.summary_json)
    begun = time.perf_counter()

    echo = EchoBot()
    try:
        echo.round_trips(5)
        with emulator_and_bot() as (emulator, bot):
            bot.add_officer(OFFICER, "hong-van")
            bot.start()
            staff_joins(emulator, OFFICER)
            clock = EventClock(emulator)
            report(emulator, emulator.user(RESIDENTS - 1, "Dân"))  # warm: not counted
            assert bot.process is not None
            cpu = cpu_seconds(bot.process.pid)
            wall, updates, latencies, errors = crowd_of_reports(emulator, clock, args.residents)
            report_cpu = cpu_seconds(bot.process.pid) - cpu
            bot_rate = updates / wall
            per_thread = max(1, round(updates / args.residents))
            echo_cpu = cpu_seconds(echo.process.pid)
            echo_wall, echo_rate = echo_crowd(echo, args.residents, per_thread)
            echo_cpu = cpu_seconds(echo.process.pid) - echo_cpu
            calls = len([c for c in emulator.calls if c.method != "getUpdates"])

            cpu = cpu_seconds(bot.process.pid)
            start_wall, start_rate = burst(emulator, clock, STARTERS, args.starts,
                                           lambda user: user.send_command("/start"))
            start_cpu = cpu_seconds(bot.process.pid) - cpu
            clock.close()
        echo_start_cpu = cpu_seconds(echo.process.pid)
        echo_start_wall, echo_start_rate = burst(
            echo.emulator, echo.clock, ECHOERS + 10_000, args.starts,
            lambda user: user.send_text("hello"))
        echo_start_cpu = cpu_seconds(echo.process.pid) - echo_start_cpu
    finally:
        echo.stop()

    card = spread(latencies) if latencies else None
    result.section(f"{args.residents} residents report at once ({len(latencies)} completed)")
    result.row("updates sent by the residents", updates)
    result.row("wall time (first update -> last card)", wall, "s", 2)
    result.row("bot: updates per second", bot_rate, "/s")
    result.row(f"echo bot: {args.residents} × {per_thread} texts, each after its echo",
               f"{echo_wall:.2f} s, {echo_rate:.1f}", "/s")
    result.row("bot / echo bot CPU per update",
               f"{ms(report_cpu / max(1, updates)):.1f} / "
               f"{ms(echo_cpu / max(1, args.residents * per_thread)):.1f}", "ms")
    result.row("Bot API calls (but getUpdates) per update, whole run: bot / echo",
               f"{calls / max(1, updates):.1f} / 1.0")
    if card:
        result.row("send -> card p50 / p95 / max",
                   f"{ms(card['p50']):.0f} / {ms(card['p95']):.0f} / {ms(card['max']):.0f}", "ms")
    if RECEIPT_LATENCIES:
        receipt = spread(RECEIPT_LATENCIES)
        result.row("send -> receipt p50 / p95 / max", f"{ms(receipt['p50']):.0f} / "
                   f"{ms(receipt['p95']):.0f} / {ms(receipt['max']):.0f}", "ms")
    result.ratio("reports: bot updates/s / echo updates/s", bot_rate / echo_rate)
    result.section(f"{args.starts} users send /start at once")
    result.row("bot: first /start -> last answer", start_wall, "s", 2)
    result.row("bot: answers per second", start_rate, "/s")
    result.row("echo bot: first text -> last echo", echo_start_wall, "s", 2)
    result.row("echo bot: answers per second", echo_start_rate, "/s")
    result.row("bot / echo bot CPU per answer",
               f"{ms(start_cpu / args.starts):.1f} / {ms(echo_start_cpu / args.starts):.1f}",
               "ms")
    result.ratio("/start: bot answers/s / echo answers/s", start_rate / echo_start_rate)
    if card:
        result.key("send -> card p95 (target < 1 s)", f"{ms(card['p95']):.0f} ms")
    for error in errors[:5]:
        result.note(error)
    result.note(f"wall time {time.perf_counter() - begun:.1f} s; machine shared with other "
                f"developers")
    return result


if __name__ == "__main__":
    outcome = main()
    outcome.print()
    outcome.save()
