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

Both crowds run `--rounds` times (default 3), each followed at once by the echo bot's same
pattern, so that a change of the machine's load between them touches both; the figures are the
median of the rounds' ratios, and each round's is printed (on a shared 2-core machine one round
alone moved by a factor of two).

    python -m bench.intake [--residents 50] [--starts 300] [--rounds 3]
"""

from __future__ import annotations

import bisect
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
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
    with clock._cond:  # a snapshot of the events since `after` (the clock only appends)
        start = bisect.bisect_left(clock._stamps, after)
        stamps, events = clock._stamps[start:], clock._events[start:]
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


def echo_crowd(echo: EchoBot, threads: int, per_thread: int, first: int = ECHOERS
               ) -> tuple[float, float]:
    """`threads` users each send `per_thread` texts, each after the echo of the one before."""
    errors: list[str] = []

    def one(number: int) -> None:
        user = echo.emulator.user(first + number, "E")
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


def crowd_of_reports(emulator: Emulator, clock: EventClock, residents: int, first: int = RESIDENTS
                     ) -> tuple[float, int, list[float], list[str]]:
    """`residents` reports at once (user ids from `first`): (wall s, updates sent, send->card
    latencies, errors)."""
    errors: list[str] = []
    lock = threading.Lock()
    latencies: list[float] = []
    receipts: list[float] = []

    def one(number: int) -> None:
        resident_id = first + number
        tag = f"[crowd-{resident_id}]"
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
                  and first <= e.get("chat_id", 0) < first + residents)
    RECEIPT_LATENCIES.extend(receipts)
    return wall, updates, latencies, errors


@dataclass
class Round:
    """One round: the bot's crowd of reports and burst of /start, each with the echo bot's same
    pattern right after it (interleaved, so a change of the machine's load hits both)."""

    updates: int
    wall: float
    report_cpu: float
    echo_wall: float
    echo_rate: float
    echo_cpu: float
    echo_updates: int
    calls: int
    start_wall: float
    start_rate: float
    start_cpu: float
    echo_start_wall: float
    echo_start_rate: float
    echo_start_cpu: float
    latencies: list[float]
    errors: list[str]
    #: CPU of this process (both emulators and the crowds' threads) per second of each crowd
    own_share: float = 0.0
    echo_own_share: float = 0.0

    @property
    def rate(self) -> float:
        return self.updates / self.wall

    @property
    def report_ratio(self) -> float:
        return self.rate / self.echo_rate

    @property
    def start_ratio(self) -> float:
        return self.start_rate / self.echo_start_rate


def one_round(number: int, emulator: Emulator, clock: EventClock, bot: Any, echo: EchoBot,
              residents: int, starts: int) -> Round:
    offset = number * 1000
    calls_before = len([c for c in emulator.calls if c.method != "getUpdates"])
    cpu = cpu_seconds(bot.process.pid)
    own = time.process_time()
    wall, updates, latencies, errors = crowd_of_reports(emulator, clock, residents,
                                                        RESIDENTS + offset)
    own_share = (time.process_time() - own) / wall
    report_cpu = cpu_seconds(bot.process.pid) - cpu
    calls = len([c for c in emulator.calls if c.method != "getUpdates"]) - calls_before
    per_thread = max(1, round(updates / residents))
    echo_cpu = cpu_seconds(echo.process.pid)
    own = time.process_time()
    echo_wall, echo_rate = echo_crowd(echo, residents, per_thread, ECHOERS + offset)
    echo_own_share = (time.process_time() - own) / echo_wall
    echo_cpu = cpu_seconds(echo.process.pid) - echo_cpu
    cpu = cpu_seconds(bot.process.pid)
    start_wall, start_rate = burst(emulator, clock, STARTERS + offset, starts,
                                   lambda user: user.send_command("/start"))
    start_cpu = cpu_seconds(bot.process.pid) - cpu
    echo_start_cpu = cpu_seconds(echo.process.pid)
    echo_start_wall, echo_start_rate = burst(
        echo.emulator, echo.clock, ECHOERS + 10_000 + offset, starts,
        lambda user: user.send_text("hello"))
    echo_start_cpu = cpu_seconds(echo.process.pid) - echo_start_cpu
    return Round(updates, wall, report_cpu, echo_wall, echo_rate, echo_cpu,
                 residents * per_thread, calls, start_wall, start_rate, start_cpu,
                 echo_start_wall, echo_start_rate, echo_start_cpu, latencies, errors,
                 own_share, echo_own_share)


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--starts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of both crowds (the ratios' median is the figure)")
    args = parser.parse_args(argv)
    result = Report("intake", summary_path=args.summary_json)
    begun = time.perf_counter()

    echo = EchoBot()
    rounds: list[Round] = []
    try:
        echo.round_trips(5)
        with emulator_and_bot() as (emulator, bot):
            bot.add_officer(OFFICER, "hong-van")
            bot.start()
            staff_joins(emulator, OFFICER)
            clock = EventClock(emulator)
            report(emulator, emulator.user(RESIDENTS - 1, "Dân"))  # warm: not counted
            assert bot.process is not None
            for number in range(args.rounds):
                rounds.append(one_round(number, emulator, clock, bot, echo, args.residents,
                                        args.starts))
            clock.close()
    finally:
        echo.stop()

    latencies = [x for r in rounds for x in r.latencies]
    errors = [x for r in rounds for x in r.errors]
    updates = sum(r.updates for r in rounds)
    card = spread(latencies) if latencies else None
    result.section(f"{args.residents} residents report at once, {args.rounds} rounds "
                   f"({len(latencies)} completed)")
    result.row("updates sent by the residents, a round", rounds[0].updates)
    result.row("bot: updates per second, each round",
               " / ".join(f"{r.rate:.0f}" for r in rounds), "/s")
    result.row("echo bot: updates per second, each round (same pattern)",
               " / ".join(f"{r.echo_rate:.0f}" for r in rounds), "/s")
    echo_updates = sum(r.echo_updates for r in rounds)
    result.row("bot / echo bot CPU per update",
               f"{ms(sum(r.report_cpu for r in rounds) / max(1, updates)):.1f} / "
               f"{ms(sum(r.echo_cpu for r in rounds) / max(1, echo_updates)):.1f}", "ms")
    result.row("bot / echo bot: share of a core used, each round",
               " / ".join(f"{r.report_cpu / r.wall:.0%}:{r.echo_cpu / r.echo_wall:.0%}"
                          for r in rounds))
    result.row("this process (emulator, crowd): share of a core, bot's / echo's rounds",
               " / ".join(f"{r.own_share:.0%}:{r.echo_own_share:.0%}" for r in rounds))
    result.row("Bot API calls (but getUpdates) per update: bot / echo",
               f"{sum(r.calls for r in rounds) / max(1, updates):.1f} / 1.0")
    if card:
        result.row("send -> card p50 / p95 / max",
                   f"{ms(card['p50']):.0f} / {ms(card['p95']):.0f} / {ms(card['max']):.0f}", "ms")
    if RECEIPT_LATENCIES:
        receipt = spread(RECEIPT_LATENCIES)
        result.row("send -> receipt p50 / p95 / max", f"{ms(receipt['p50']):.0f} / "
                   f"{ms(receipt['p95']):.0f} / {ms(receipt['max']):.0f}", "ms")
    result.row("reports: bot / echo, each round",
               " / ".join(f"{r.report_ratio:.2f}" for r in rounds), "×")
    result.ratio("reports: bot updates/s / echo updates/s (median of the rounds)",
                 statistics.median(r.report_ratio for r in rounds))
    result.section(f"{args.starts} users send /start at once, {args.rounds} rounds")
    result.row("bot: answers per second, each round",
               " / ".join(f"{r.start_rate:.0f}" for r in rounds), "/s")
    result.row("echo bot: answers per second, each round",
               " / ".join(f"{r.echo_start_rate:.0f}" for r in rounds), "/s")
    result.row("bot / echo bot CPU per answer",
               f"{ms(sum(r.start_cpu for r in rounds) / (args.starts * len(rounds))):.1f} / "
               f"{ms(sum(r.echo_start_cpu for r in rounds) / (args.starts * len(rounds))):.1f}",
               "ms")
    result.row("/start: bot / echo, each round",
               " / ".join(f"{r.start_ratio:.2f}" for r in rounds), "×")
    result.ratio("/start: bot answers/s / echo answers/s (median of the rounds)",
                 statistics.median(r.start_ratio for r in rounds))
    if card:
        result.key("send -> card p95 (target < 1 s)", f"{ms(card['p95']):.0f} ms")
    for error in errors[:5]:
        result.note(error)
    result.note(f"wall time {time.perf_counter() - begun:.1f} s; load at the end "
                f"{os.getloadavg()[0]:.2f}; machine shared with other developers")
    return result


if __name__ == "__main__":
    outcome = main()
    outcome.print()
    outcome.save()
