"""Updates per second for 1, 2 and 4 bot processes in webhook mode on one database, and one
process in long polling, in one run, with each figure's ratio to the single webhook process.

    python -m bench.processes [--updates N] [--db postgresql://…]

Each run: a fresh emulator, the processes sharing one database (SQLite: one file in a temporary
folder; `--db` a PostgreSQL URL instead, once the storage runs there), the emulator spreading its
webhook posts over them round-robin as a reverse proxy would. `--updates` residents (default
400) each send /help once at the same moment; the figure is updates handled and answered per
second, from the first send to the last answer. On the 2-core machine the processes share two
cores with the emulator, so more processes mostly show the cost of sharing the database
(claims, turns, flood counts: docs/SCALING.md "Several processes"), not a gain.
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

from bench.common import Report, arguments
from emulator import EmulatorThread
from testing.harness import BotProcess, new_key, wait

SECRET = "bench_processes_secret"
PATH = "/telegram/hook"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(processes: int, updates: int, db: str | None, *, webhook: bool = True) -> float:
    """Updates per second through `processes` bot processes."""
    runner = EmulatorThread(bot_username="tipline_bench_bot")
    emulator = runner.start()
    bots: list[BotProcess] = []
    with tempfile.TemporaryDirectory(prefix="tipline-bench-processes-") as folder:
        try:
            key = new_key()
            database = db or str(Path(folder) / "shared" / "tipline.db")
            ports = [_free_port() for _ in range(processes)]
            for index, port in enumerate(ports):
                workdir = Path(folder) / f"process{index + 1}"
                workdir.mkdir()
                settings = {"TIPBOT_DB": database, "TIPBOT_KEY": key, "TIPBOT_LOG_LEVEL": "INFO"}
                if webhook:
                    settings |= {
                        "TIPBOT_WEBHOOK_URL": f"http://127.0.0.1:{ports[0]}{PATH}",
                        "TIPBOT_WEBHOOK_SECRET": SECRET,
                        "TIPBOT_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
                    }
                bots.append(BotProcess(emulator, workdir, **settings))
            if webhook:
                emulator.webhook.spread_over([f"http://127.0.0.1:{p}{PATH}" for p in ports])
                for bot in bots:
                    bot.start(wait=False)
                for bot in bots:
                    wait(lambda b=bot: "webhook: handling updates" in b.logs(), timeout=60)
            else:
                bots[0].start()
            people = [emulator.user(930_000_000 + n, "Dân") for n in range(updates)]
            started = time.perf_counter()
            for person in people:
                person.send_command("/help")
            emulator.wait_until(
                lambda: all(emulator.messages(p.id) for p in people), timeout=600
            )
            return updates / (time.perf_counter() - started)
        finally:
            for bot in bots:
                bot.stop()
            runner.stop()


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--db", help="a postgresql://… URL (default: one SQLite file)")
    args = parser.parse_args(argv)
    report = Report("processes", summary_path=args.summary_json)
    kind = "PostgreSQL" if args.db else "SQLite"
    report.section(f"{args.updates} residents send /help at once, one {kind} database")
    single = measure(1, args.updates, args.db)
    report.row("1 process, webhook", single, "updates/s")
    for count in (2, 4):
        rate = measure(count, args.updates, args.db)
        report.row(f"{count} processes, webhook", rate, "updates/s")
        report.ratio(f"{count} processes / 1", rate / single)
    polling = measure(1, args.updates, args.db, webhook=False)
    report.row("1 process, long polling", polling, "updates/s")
    report.ratio("polling / webhook, 1 process", polling / single)
    report.print()
    report.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
