"""Shared pieces of the benchmarks: the bot and the emulator as the end-to-end tests run them,
an event clock, percentiles, RSS, and the small tables every benchmark prints.

Benchmarks print figures and ratios to a baseline measured in the same run; they assert
nothing about speed (a timed assertion in the test suite would fail on a busy machine).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import math
import os
import platform
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator import Emulator, EmulatorThread
from testing.harness import BotProcess

ROOT = Path(__file__).resolve().parents[1]


# --- the bot and the emulator -------------------------------------------------------------------


@contextlib.contextmanager
def emulator_and_bot(**settings: str) -> Iterator[tuple[Emulator, BotProcess]]:
    """An emulator in a thread and a configured (not yet started) bot in a temporary folder.

    The bot logs at INFO (production's level) unless `TIPBOT_LOG_LEVEL` is given; it is
    stopped with SIGTERM and the folder removed on exit, whatever happens.
    """
    runner = EmulatorThread(bot_username="tipline_bench_bot")
    emulator = runner.start()
    with tempfile.TemporaryDirectory(prefix="tipline-bench-") as folder:
        bot = BotProcess(emulator, Path(folder), **{"TIPBOT_LOG_LEVEL": "INFO", **settings})
        try:
            yield emulator, bot
        finally:
            bot.stop()
            runner.stop()


class EventClock:
    """Stamps every emulator event with `time.perf_counter()` as it happens.

    The emulator calls subscribers in the thread making the change, with its lock held, so the
    stamps are in order and the callback only appends. Waiting uses a lock of our own and
    scans only the events after a given stamp: waiting through `emulator.wait_until` would
    hold the emulator's lock during the scan and slow down the very answers being timed
    (the scans grow with the run, and so did the latencies, before this). A waiter is woken
    only by the event it waits for: `_record` tries each waiter's match on the new event (a
    few dictionary lookups), where waking every waiter at every event had fifty threads
    re-scan at each change, which took more of the benchmark's process than the emulator.
    """

    def __init__(self, emulator: Emulator) -> None:
        self._stamps: list[float] = []
        self._events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._waiters: list[_Waiter] = []
        self._unsubscribe = emulator.subscribe(self._record)

    def _record(self, event: dict[str, Any]) -> None:
        stamp = time.perf_counter()
        with self._cond:
            self._stamps.append(stamp)
            self._events.append(event)
            for waiter in list(self._waiters):
                if stamp >= waiter.after and waiter.match(event):
                    waiter.stamp = stamp
                    waiter.found.set()
                    self._waiters.remove(waiter)

    def close(self) -> None:
        self._unsubscribe()

    def first_event(
        self, match: Callable[[dict[str, Any]], bool], after: float = 0.0
    ) -> tuple[float, dict[str, Any]] | None:
        """The first event after `after` that `match` accepts, with its stamp (None if none)."""
        with self._cond:
            start = bisect.bisect_left(self._stamps, after)
            stamps, events = self._stamps[start:], self._events[start:]
        for stamp, event in zip(stamps, events, strict=True):
            if match(event):
                return stamp, event
        return None

    def first(
        self, match: Callable[[dict[str, Any]], bool], after: float = 0.0
    ) -> float | None:
        """Stamp of the first event after `after` that `match` accepts (None if none yet)."""
        found = self.first_event(match, after)
        return found[0] if found else None

    def wait_first(
        self, match: Callable[[dict[str, Any]], bool], after: float = 0.0, timeout: float = 20.0
    ) -> float:
        """Block until such an event happened; its stamp."""
        waiter = _Waiter(match, after)
        with self._cond:  # the scan and the registration at once: no event falls between
            start = bisect.bisect_left(self._stamps, after)
            for stamp, event in zip(self._stamps[start:], self._events[start:], strict=True):
                if match(event):
                    return stamp
            self._waiters.append(waiter)
        if not waiter.found.wait(timeout):
            with self._cond:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            if waiter.stamp is None:
                raise TimeoutError("no matching emulator event")
        assert waiter.stamp is not None
        return waiter.stamp


@dataclass(eq=False)
class _Waiter:
    """One `EventClock.wait_first`: what it waits for, and once found, when."""

    match: Callable[[dict[str, Any]], bool]
    after: float
    found: threading.Event = field(default_factory=threading.Event)
    stamp: float | None = None


def event_text(event: dict[str, Any]) -> str:
    message = event.get("message") or {}
    return message.get("text") or ""


# --- figures ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (`fraction` in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "max": max(values) if values else math.nan,
        "min": min(values) if values else math.nan,
    }


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB, from /proc/<pid>/status."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(rest.split()[0])
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, load {load:.2f}"
    )


# --- output -------------------------------------------------------------------------------------


@dataclass
class Report:
    """What a benchmark found: rows for its table and headline ratios for the summary."""

    name: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    headline: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary_path: str | None = None

    def row(self, what: str, value: float | int | str, unit: str = "", digits: int = 1) -> None:
        if isinstance(value, float):
            shown = "nan" if math.isnan(value) else f"{value:,.{digits}f}"
        elif isinstance(value, int):
            shown = f"{value:,}"
        else:
            shown = value
        self.rows.append((what, shown, unit))

    def ratio(self, what: str, value: float, digits: int = 2, headline: bool = True) -> None:
        shown = "nan" if math.isnan(value) else f"{value:.{digits}f}"
        self.rows.append((what, shown, "×"))
        if headline:
            self.headline.append((what, f"{shown} ×"))

    def key(self, what: str, shown: str) -> None:
        """A figure for the run_all summary (besides the ratios)."""
        self.headline.append((what, shown))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def print(self) -> None:
        figures = [r for r in self.rows if r[1] or r[2]]  # section titles take their own line
        width = max([len(r[0]) for r in figures] + [10])
        value_width = max([len(r[1]) for r in figures] + [5])
        print(f"\n== {self.name} ({machine()})")
        for what, value, unit in self.rows:
            if not value and not unit:
                print(f"-- {what}")
                continue
            print(f"  {what:<{width}}  {value:>{value_width}} {unit}".rstrip())
        for text in self.notes:
            print(f"  note: {text}")

    def section(self, title: str) -> None:
        self.rows.append((title, "", ""))

    def save(self) -> None:
        """Write the headline for bench/run_all.py when it asked for it (--summary-json)."""
        if self.summary_path:
            Path(self.summary_path).write_text(
                json.dumps({"name": self.name, "headline": self.headline, "notes": self.notes},
                           ensure_ascii=False)
            )


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--summary-json", help=argparse.SUPPRESS)  # for bench/run_all.py
    return parser


def ms(seconds: float) -> float:
    return seconds * 1000.0
