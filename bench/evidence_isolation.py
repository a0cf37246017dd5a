"""The event loop while evidence is cleaned: in the bot's threads (the baseline, as before) and
in processes of their own (evidence/isolated.py, what the bot does).

Two residents' Office files of highly compressible text (testing.evidence_samples
`docx_with_much_text`: ~80 KB sent, 22 MB of XML to parse) are cleaned at once, the two slots
of handlers/resident/evidence.py full, while a ticker on the same event loop sleeps 5 ms at a
time and records how late it wakes: the lateness is what every other resident's answer waits
on top of its own work. Figures: the loop's lateness p50 / p99 / max, the ticks the loop
managed per second (an idle loop: ~190), and the wall time of the two cleanings.

    python -m bench.evidence_isolation [--rounds 3] [--paragraphs 300000]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Report, arguments, ms
from evidence.clean import clean
from evidence.isolated import clean_elsewhere
from testing.evidence_samples import docx_with_much_text

TICK = 0.005


async def _threads(data: bytes) -> None:
    await asyncio.gather(*(asyncio.to_thread(clean, data, f"{n}.docx", None) for n in range(2)))


async def _processes(data: bytes) -> None:
    await asyncio.gather(*(clean_elsewhere(data, f"{n}.docx", None) for n in range(2)))


async def _measured(work: Callable[[bytes], Awaitable[None]], data: bytes
                    ) -> tuple[list[float], float]:
    """(the ticker's lateness at each tick, wall seconds of `work`)."""
    late: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            late.append(time.perf_counter() - before - TICK)

    ticking = asyncio.create_task(ticker())
    begun = time.perf_counter()
    await work(data)
    wall = time.perf_counter() - begun
    done.set()
    await ticking
    return late, wall


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paragraphs", type=int, default=300_000)
    args = parser.parse_args(argv)
    result = Report("evidence_isolation", summary_path=args.summary_json)
    data = docx_with_much_text(args.paragraphs)
    figures: dict[str, tuple[list[float], list[float]]] = {"threads": ([], []),
                                                           "processes": ([], [])}

    async def run() -> None:
        for _ in range(args.rounds):  # taking turns, so a change of load touches both
            for name, work in (("threads", _threads), ("processes", _processes)):
                late, wall = await _measured(work, data)
                figures[name][0].extend(late)
                figures[name][1].append(wall)

    asyncio.run(run())
    result.section(f"two {len(data) // 1024} KB Office files cleaned at once, {args.rounds} rounds")
    worst: dict[str, float] = {}
    for name, (late, walls) in figures.items():
        ordered = sorted(late)
        p99 = ordered[int(len(ordered) * 0.99)]
        worst[name] = p99
        result.row(f"{name}: loop lateness p50 / p99 / max",
                   f"{ms(statistics.median(ordered)):.1f} / {ms(p99):.1f} / "
                   f"{ms(ordered[-1]):.1f}", "ms")
        result.row(f"{name}: loop ticks per second", len(late) / sum(walls), "/s", digits=0)
        result.row(f"{name}: wall time of the two cleanings, median",
                   statistics.median(walls), "s", digits=2)
    result.ratio("loop lateness p99: processes / threads", worst["processes"] / worst["threads"],
                 digits=4)
    return result


if __name__ == "__main__":
    outcome = main()
    outcome.print()
    outcome.save()
