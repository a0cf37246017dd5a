"""Memory: resident set size of the bot process, idle after start, then with 200 tips stored.

The real bot (`python -m bot`) runs against the emulator with one officer; VmRSS and VmHWM
(the peak) are read from /proc/<pid>/status:

    idle            after start, the officer has opened the bot, 2 s of quiet (the baseline)
    stored          200 tips of ~1 KiB stored through storage (as tests/e2e/test_officer_desk.py
                    seeds them; fast, and it is the bot's memory that is measured, not seeding's)
    paged           the officer's /tips paged through all of them (10 a page)
    opened          the officer opened each of them with /tip REF (decrypted, audited, sent)

The ratio is each stage's RSS over the idle RSS. For scale, the idle RSS of a trivial PTB
echo bot (bench/echo_bot.py) is printed too.

    python -m bench.memory [--tips 200] [--no-open]
"""

from __future__ import annotations

import asyncio
import base64
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Report, arguments, emulator_and_bot, rss_kib
from bench.crypto_throughput import tip_content
from bench.intake_latency import EchoBot
from storage.store import open_store
from storage.tips import Delivery, NewTip
from testing.harness import BotProcess
from testing.journeys import staff_joins, wait_text

OFFICER = 7002
SETTLE_SECONDS = 2.0
DEADLINE_SECONDS = 50.0
#: Between two /tip of the officer: the flood limit (20 messages in 10 s, bot/chat_lanes.py)
#: holds for staff too, and the bot now answers fast enough for a script to reach it.
PACE_SECONDS = 0.55


def seed_tips(bot: BotProcess, count: int) -> list[str]:
    """Store `count` tips of hong-van straight into the bot's database; their references."""

    async def go() -> list[str]:
        store = await open_store(Path(bot.env["TIPBOT_DB"]),
                                 base64.b64decode(bot.env["TIPBOT_KEY"]))
        refs = []
        try:
            async with store.db.transaction():
                for number in range(count):
                    tip, _code = await store.tips.insert(
                        NewTip("drugs", "hong-van", False, tip_content(1024, f"[m-{number:03d}] ")),
                        Delivery(1, ()),
                    )
                    refs.append(tip.ref)
        finally:
            await store.close()
        return refs

    return asyncio.run(go())


def settle_rss(pid: int, seconds: float = SETTLE_SECONDS) -> dict[str, int]:
    time.sleep(seconds)
    return rss_kib(pid)


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=200)
    parser.add_argument("--no-open", action="store_true", help="skip the /tip REF stage")
    args = parser.parse_args(argv)
    result = Report("memory", summary_path=args.summary_json)
    begun = time.perf_counter()
    deadline = begun + DEADLINE_SECONDS
    stages: list[tuple[str, dict[str, int]]] = []
    opened = 0

    echo = EchoBot()
    try:
        echo.round_trips(3, warmup=0)
        echo_rss = settle_rss(echo.process.pid)
    finally:
        echo.stop()

    with emulator_and_bot() as (emulator, bot):
        bot.add_officer(OFFICER, "hong-van")
        bot.start()
        assert bot.process is not None
        pid = bot.process.pid
        stages.append(("just started (first getUpdates)", rss_kib(pid)))
        officer = staff_joins(emulator, OFFICER)
        stages.append(("idle after start (baseline)", settle_rss(pid)))

        refs = seed_tips(bot, args.tips)
        stages.append((f"{len(refs)} tips stored, not yet read", settle_rss(pid, 0.5)))

        pages = max(1, -(-len(refs) // 10))
        officer.send_command("/tips")
        # "trang 2/20)": the page's number, not a date of the list ("02/12/2026" holds "2/20")
        page = wait_text(emulator, officer, f"trang 1/{pages})")
        for number in range(1, pages):
            officer.click(page.message_id, f"ol:all:{number}")
            page = wait_text(emulator, officer, f"trang {number + 1}/{pages})")
        stages.append((f"/tips paged through {pages} pages", settle_rss(pid, 0.5)))

        if not args.no_open:
            for ref in refs:
                if time.perf_counter() > deadline:
                    result.note(f"/tip stage cut at {opened}/{len(refs)} (time budget)")
                    break
                officer.send_command("/tip", ref)
                emulator.wait_for_message(officer, ref)
                opened += 1
                time.sleep(PACE_SECONDS)  # under the flood limit every person has
            stages.append((f"each opened with /tip REF ({opened})", settle_rss(pid, 0.5)))

    baseline = dict(stages)["idle after start (baseline)"]["VmRSS"]
    result.section("bot process (python -m bot), VmRSS / VmHWM from /proc")
    for name, figures in stages:
        result.row(name, f"{figures['VmRSS'] / 1024:.1f} MiB",
                   f"(peak {figures['VmHWM'] / 1024:.1f} MiB)")
    result.row("for scale: PTB echo bot idle", f"{echo_rss['VmRSS'] / 1024:.1f} MiB")
    for name, figures in stages[2:]:
        result.ratio(f"{name} / idle", figures["VmRSS"] / baseline,
                     headline=name.startswith("/tips"))
    last = stages[-1][1]["VmRSS"]
    result.row(f"growth per stored tip (idle -> {stages[-1][0].split(' (')[0]})",
               (last - baseline) / max(1, args.tips), "KiB")
    result.key("idle RSS", f"{baseline / 1024:.1f} MiB")
    result.note(f"wall time {time.perf_counter() - begun:.1f} s")
    return result


if __name__ == "__main__":
    outcome = main()
    outcome.print()
    outcome.save()
