"""Updates per second for 1, 2 and 4 bot processes in webhook mode on PostgreSQL, and one
process on SQLite (webhook and long polling), in one run, each with its ratio to one SQLite
webhook process.

    python -m bench.processes [--updates N] [--db postgresql://…]

PostgreSQL is a throw-away cluster of the benchmark's own (testing/postgres.py, Debian's
initdb and pg_ctl; with fsync and synchronous commits on, as a real server, and as SQLite's
synchronous=FULL), a new database for each run; `--db` uses a database of yours instead
(emptied tables are not assumed: give an empty one). Without PostgreSQL installed only the
SQLite rows are printed. Each run: a fresh emulator, the processes sharing one database, the
emulator spreading its webhook posts over them round-robin as a reverse proxy would.
`--updates` residents (default 400) each send /help once at the same moment; the figure is
updates handled and answered per second, from the first send to the last answer. On the
2-core machine the processes share two cores with the emulator and the database server, so
more processes mostly show the cost of sharing the database (claims, turns, flood counts:
docs/SCALING.md "Several processes"), not a gain.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Report, arguments
from emulator import EmulatorThread
from testing.harness import BotProcess, new_key, wait
from testing.ports import free_port
from testing.postgres import Cluster, find_bin

SECRET = "bench_processes_secret"
PATH = "/telegram/hook"


def measure(processes: int, updates: int, db: str | None, *, webhook: bool = True) -> float:
    """Updates per second through `processes` bot processes."""
    runner = EmulatorThread(bot_username="tipline_bench_bot")
    emulator = runner.start()
    bots: list[BotProcess] = []
    with tempfile.TemporaryDirectory(prefix="tipline-bench-processes-") as folder:
        try:
            key = new_key()
            database = db or str(Path(folder) / "shared" / "tipline.db")
            ports = [free_port() for _ in range(processes)]
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


def _postgres_rows(
    report: Report, updates: int, sqlite: float, database: Callable[[], str]
) -> None:
    """1, 2 and 4 webhook processes, each run on the database `database()` gives."""
    for count in (1, 2, 4):
        rate = measure(count, updates, database())
        report.row(f"PostgreSQL, {count} process{'es' if count > 1 else ''}, webhook",
                   rate, "updates/s")
        report.ratio(f"PostgreSQL {count} / SQLite 1", rate / sqlite)


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--db", help="an empty postgresql://… database (default: a cluster of "
                                     "the benchmark's own)")
    args = parser.parse_args(argv)
    report = Report("processes", summary_path=args.summary_json)
    report.section(f"{args.updates} residents send /help at once")
    sqlite = measure(1, args.updates, None)
    report.row("SQLite, 1 process, webhook", sqlite, "updates/s")
    polling = measure(1, args.updates, None, webhook=False)
    report.row("SQLite, 1 process, long polling", polling, "updates/s")
    report.ratio("SQLite polling / SQLite webhook", polling / sqlite)
    bin_dir = find_bin()
    if args.db is not None:
        _postgres_rows(report, args.updates, sqlite, lambda: args.db)
    elif bin_dir is None:
        report.note("PostgreSQL is not installed (apt-get install postgresql): its rows left out")
    else:
        cluster = Cluster(bin_dir, durable=True)
        try:
            cluster.start()
            _postgres_rows(report, args.updates, sqlite,
                           lambda: asyncio.run(cluster.new_database(migrated=False)))
        finally:
            cluster.stop()
    report.print()
    report.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
