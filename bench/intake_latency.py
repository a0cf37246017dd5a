"""Intake latency: from a resident pressing "send" to the receipt code, and to the officer's card.

The real bot (`python -m bot`, a subprocess, as in testing/harness.py) runs against the
emulator with one officer. Residents go through /report with the buttons
(tests/e2e/journeys.report); every emulator event is stamped as it happens, so for each report

    send -> receipt   the click on "r:sum:send" reaching the emulator, to the bot's message
                      with the receipt code in the resident's chat
    send -> card      the same click, to the first message of the card in the officer's chat

First K residents one after the other (each waits for its card), then K more split over
5 threads at once. Baseline, same run: a trivial PTB echo bot (bench/echo_bot.py, also a
subprocess, against its own emulator) answering a text message, measured before and after.

    python -m bench.intake_latency [--reports 20] [--threads 5] [--echoes 30]
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    ROOT,
    EventClock,
    Report,
    arguments,
    cpu_seconds,
    emulator_and_bot,
    event_text,
    ms,
    rss_kib,
    spread,
)
from emulator import Emulator, EmulatorThread
from testing.journeys import RECEIPT, report, staff_joins

OFFICER = 7002
RESIDENT_BASE = 810_000
DEADLINE_SECONDS = 50.0  # the report phases stop starting new reports after this


# --- baseline: the echo bot -------------------------------------------------------------------


class EchoBot:
    """bench/echo_bot.py against an emulator of its own; `round_trips(n)` in seconds."""

    def __init__(self) -> None:
        self.runner = EmulatorThread(token="654321:ECHO-token", bot_username="echo_bench_bot")
        self.emulator = self.runner.start()
        self.clock = EventClock(self.emulator)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "BENCH_TOKEN": self.emulator.token,
            "BENCH_BASE_URL": self.emulator.base_url,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.echo_bot"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.emulator.wait_until(lambda: self.emulator.calls_to("getUpdates"), timeout=20)
        self.user = self.emulator.user(900_001, "Echo")
        self.count = 0
        self.cpu = 0.0  # CPU seconds the echo bot used during the measured round trips
        self.measured = 0

    def round_trips(self, n: int, warmup: int = 3) -> list[float]:
        found: list[float] = []
        cpu = 0.0
        for index in range(warmup + n):
            if index == warmup:
                cpu = cpu_seconds(self.process.pid)
            self.count += 1
            body = f"ping {self.count:05d}"
            before = time.perf_counter()
            self.user.send_text(body)
            sent = self.clock.wait_first(
                lambda e, b=body: e["type"] == "user_message" and event_text(e) == b, before
            )
            answered = self.clock.wait_first(
                lambda e, b=body: e["type"] == "message" and event_text(e) == b, before
            )
            if index >= warmup:
                found.append(answered - sent)
        time.sleep(0.05)  # the echo's own bookkeeping after the answer
        self.cpu += cpu_seconds(self.process.pid) - cpu
        self.measured += n
        return found

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.runner.stop()


# --- the reports --------------------------------------------------------------------------------


METRICS = ("send -> button answered", "send -> receipt", "send -> card")


class Intake:
    """Runs reports and keeps, per metric, the latency of each one (seconds)."""

    def __init__(self, emulator: Emulator, clock: EventClock) -> None:
        self.emulator = emulator
        self.clock = clock
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.reset()

    def reset(self) -> None:
        self.figures: dict[str, list[float]] = {name: [] for name in METRICS}
        self.slowest: tuple[float, str] = (0.0, "")

    def one(self, resident_id: int, tag: str, record: bool = True) -> tuple[float, ...]:
        """One full report; returns its latencies in the order of METRICS."""
        resident = self.emulator.user(resident_id, "Dân")
        started = time.perf_counter()
        report(self.emulator, resident, texts=(f"Có người bán ma túy gần cầu {tag}",))
        found = self.clock.first_event(
            lambda e: e["type"] == "click" and e.get("user_id") == resident_id
            and e.get("data") == "r:sum:send",
            started,
        )
        assert found is not None
        clicked, click = found
        answered = self.clock.wait_first(
            lambda e: e["type"] == "callback_answer"
            and e.get("callback_query_id") == click["callback_query_id"],
            clicked,
        )
        receipt = self.clock.wait_first(
            lambda e: e["type"] == "message" and e["chat_id"] == resident_id
            and bool(RECEIPT.search(event_text(e))),
            clicked,
        )
        card = self.clock.wait_first(
            lambda e: e["type"] == "message" and e["chat_id"] == OFFICER and tag in event_text(e),
            clicked,
        )
        result = (answered - clicked, receipt - clicked, card - clicked)
        if record:
            with self.lock:
                for name, value in zip(METRICS, result, strict=True):
                    self.figures[name].append(value)
                if result[-1] > self.slowest[0]:
                    self.slowest = (result[-1], tag)
        return result

    def taken(self) -> tuple[dict[str, list[float]], tuple[float, str]]:
        with self.lock:
            return {k: list(v) for k, v in self.figures.items()}, self.slowest


class Usage:
    """CPU used by the bot process and by this one (emulator + drivers) over a phase."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.bot = cpu_seconds(pid)
        self.here = time.process_time()
        self.wall = time.perf_counter()

    def done(self) -> tuple[float, float, float]:
        """(bot CPU s, this process's CPU s, wall s) since the start."""
        return (cpu_seconds(self.pid) - self.bot, time.process_time() - self.here,
                time.perf_counter() - self.wall)


def updates_by_phase(clock: EventClock) -> dict[str, int]:
    """How many updates the residents produced (messages and presses), per phase."""
    counts = {"sequential": 0, "concurrent": 0}
    for stamp, event in zip(clock._stamps, clock._events, strict=True):
        del stamp
        if event["type"] not in ("click", "user_message", "user_edit"):
            continue
        chat = event["chat_id"]
        if RESIDENT_BASE + 100 <= chat < RESIDENT_BASE + 500:
            counts["sequential"] += 1
        elif RESIDENT_BASE + 500 <= chat < RESIDENT_BASE + 1000:
            counts["concurrent"] += 1
    return counts


def sequential(intake: Intake, count: int, deadline: float) -> float:
    started = time.perf_counter()
    for index in range(count):
        if time.perf_counter() > deadline:
            intake.errors.append(f"sequential phase cut at {index}/{count} (time budget)")
            break
        try:
            intake.one(RESIDENT_BASE + 100 + index, f"[seq-{index:03d}]")
        except Exception as error:  # reported with the figures, like the threads' below
            intake.errors.append(f"sequential report {index}: {type(error).__name__}: {error}"
                                 [:300])
            break
    return time.perf_counter() - started


def concurrent(intake: Intake, count: int, threads: int, deadline: float) -> float:
    def worker(number: int) -> None:
        try:
            for index in range(number, count, threads):
                if time.perf_counter() > deadline:
                    with intake.lock:
                        intake.errors.append(f"thread {number} cut (time budget)")
                    return
                intake.one(RESIDENT_BASE + 500 + index, f"[con-{index:03d}]")
        except Exception as error:  # reported, not raised: the other threads go on
            with intake.lock:
                intake.errors.append(f"thread {number}: {type(error).__name__}: {error}"[:300])

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=max(5.0, deadline - time.perf_counter() + 30.0))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=20, help="reports per phase (default 20)")
    parser.add_argument("--threads", type=int, default=5, help="residents at once (default 5)")
    parser.add_argument("--echoes", type=int, default=30, help="echo round trips per sample")
    args = parser.parse_args(argv)
    result = Report("intake_latency", summary_path=args.summary_json)
    begun = time.perf_counter()
    deadline = begun + DEADLINE_SECONDS

    echo = EchoBot()
    try:
        echo_before = echo.round_trips(args.echoes)
        with emulator_and_bot() as (emulator, bot):
            bot.add_officer(OFFICER, "hong-van")
            bot.start()
            staff_joins(emulator, OFFICER)
            clock = EventClock(emulator)
            intake = Intake(emulator, clock)
            cold = intake.one(RESIDENT_BASE, "[cold-000]", record=False)
            assert bot.process is not None
            rss_before = rss_kib(bot.process.pid)["VmRSS"]
            usage = Usage(bot.process.pid)
            seq_wall = sequential(intake, args.reports, deadline)
            seq = intake.taken()
            seq_cpu = usage.done()
            intake.reset()
            usage = Usage(bot.process.pid)
            con_wall = concurrent(intake, args.reports, args.threads, deadline)
            con = intake.taken()
            con_cpu = usage.done()
            rss_after = rss_kib(bot.process.pid)["VmRSS"]
            errors = list(intake.errors)
            updates = updates_by_phase(clock)
            clock.close()
            calls, violations = len(emulator.calls), len(emulator.check_recorded_calls())
        echo_after = echo.round_trips(args.echoes)
    finally:
        echo.stop()

    echo_all = echo_before + echo_after
    base = spread(echo_all)
    result.section(f"baseline: PTB echo bot round trip ({len(echo_all)} messages)")
    result.row("echo p50 (before / after the reports)",
               f"{ms(spread(echo_before)['p50']):.1f} / {ms(spread(echo_after)['p50']):.1f}",
               "ms")
    result.row("echo p50", ms(base["p50"]), "ms")
    result.row("echo p95", ms(base["p95"]), "ms")
    result.row("echo max", ms(base["max"]), "ms")
    echo_cpu = echo.cpu / max(1, echo.measured)
    result.row("echo bot CPU per update", ms(echo_cpu), "ms")
    result.section("the first report after the bot started (not counted below)")
    for name, value in zip(METRICS, cold, strict=True):
        result.row(name, ms(value), "ms")

    for short, title, (figures, slowest), wall, cpu in (
        ("sequential", f"{len(seq[0][METRICS[-1]])} reports one after the other", seq, seq_wall,
         seq_cpu),
        ("concurrent", f"{len(con[0][METRICS[-1]])} reports, {args.threads} residents at once",
         con, con_wall, con_cpu),
    ):
        if not figures[METRICS[-1]]:
            continue
        result.section(title)
        summary = {name: spread(values) for name, values in figures.items()}
        for name, values in summary.items():
            result.row(f"{name} p50 / p95 / max",
                       f"{ms(values['p50']):.1f} / {ms(values['p95']):.1f} / "
                       f"{ms(values['max']):.1f}", "ms")
        result.row("slowest card (report tag)", slowest[1])
        count = len(figures[METRICS[-1]])
        result.row("whole journeys completed", 60.0 * count / wall, "reports/min")
        result.row("bot CPU per whole journey", ms(cpu[0] / count), "ms")
        per_update = cpu[0] / max(1, updates[short])
        result.row(f"bot CPU per update ({updates[short] / count:.1f} updates a journey)",
                   ms(per_update), "ms")
        result.row("bot process busy / bench process (emulator + drivers) busy",
                   f"{100 * cpu[0] / cpu[2]:.0f} / {100 * cpu[1] / cpu[2]:.0f}", "% of a core")
        card, receipt = summary["send -> card"], summary["send -> receipt"]
        result.ratio(f"{short}: send->card p50 / echo p50", card["p50"] / base["p50"])
        result.ratio(f"{short}: send->card p95 / echo p50", card["p95"] / base["p50"])
        result.ratio(f"{short}: send->receipt p50 / echo p50", receipt["p50"] / base["p50"],
                     headline=False)
        result.ratio(f"{short}: bot CPU per update / echo CPU per update",
                     per_update / echo_cpu, headline=short == "sequential")
        result.key(f"{short}: send->card p50 / p95 / max",
                   f"{ms(card['p50']):.0f} / {ms(card['p95']):.0f} / {ms(card['max']):.0f} ms")
    result.section("bot process")
    result.row("bot RSS before / after the reports",
               f"{rss_before / 1024:.1f} / {rss_after / 1024:.1f}", "MiB")
    result.row("Bot API calls made / failing the spec check", f"{calls} / {violations}")
    result.key("echo round trip p50", f"{ms(base['p50']):.1f} ms")
    for error in errors:
        result.note(error)
    result.note(f"wall time {time.perf_counter() - begun:.1f} s")
    return result


if __name__ == "__main__":
    outcome = main()
    outcome.print()
    outcome.save()
