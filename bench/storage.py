"""Storage at 10k, 100k and 1M tips: what an officer, an admin, /stats and the worker cost.

Databases of each size are built once through the storage functions (`testing.stats_seed.seed`:
`Tips.insert` in transactions of 5,000, every tip encrypted like a real one, then dated over two
years, 2024 and 2025; 18 areas and "not sure", 9 categories, six status histories, one tip in
2,000 handed to the officer from another area; a sample of receipt codes drawn anew through
`Tips.replace_receipt_code`, since codes are never stored) and cached under
`/tmp/tipline-bench/` (never in the checkout): a 1M database takes a long while to build. Each
run works on a copy migrated to this checkout's schema (made once per schema and kept).

At every size it times, in one process, p50/p95 over `--rounds` runs:

- `/tips` first page (`TipDesk.list_for`, 10 a page, and the count): an officer of two areas
  (open tips, then each status filter), an admin (likewise), and a deep page;
- the staff header's count of open tips, `/tip REF` (`Tips.by_ref`), the receipt lookup
  (`Tips.by_receipt_code`);
- `/stats` aggregations (`reports.stats.collect`) for a month and a year, every area and an
  officer's two areas; `/export` rows for a month;
- what the worker runs every few seconds: due reminders and escalations, undelivered tips.

Then item 4 of issue 16: submissions (a tip stored in its transaction, as the resident's "send"
does) timed alone, then while `/stats` for a year runs over and over; the tips added are removed
afterwards. Last, with `--rss`, the real bot (`python -m bot`) is started on the largest
database, an officer and an admin page `/tips` and ask for `/stats` for the year, and its peak
RSS (VmHWM) is read.

Per-tip cost (build time and bytes per tip) and every figure are printed side by side, one
column per size. The baseline (same run, same database) is `SELECT count(*) FROM tips`.

    python -m bench.storage                      # 10k, 100k and 1M (builds what is missing)
    python -m bench.storage --sizes 10000,100000 # a quick run
    python -m bench.storage --sizes 1000000 --rss
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import random
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Report, arguments, emulator_and_bot, percentile, rss_kib
from reports.stats import collect, typed_period
from rules.areas import load_areas
from storage.database import load_migrations
from storage.stats import StatsScope
from storage.store import Store, open_store
from storage.tips import OPEN_STATUSES, Delivery, NewTip, Scope
from testing.journeys import press, staff_joins, wait_text
from testing.stats_seed import SeedTip, seed
from texts.catalog import CATEGORIES, STATUSES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CACHE = Path("/tmp/tipline-bench")
MASTER = hashlib.sha256(b"tipline benchmark key, not a secret").digest()
OFFICER, ADMIN, GIVER = 7002, 7001, 7003
OFFICER_AREAS = ("a-luoi", "hong-van")
PAGE = 10
BATCH = 5000
CODES_KEPT = 200
HANDED_EVERY = 2000
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 731 * 86400
#: The status histories drawn from (status, which time, staff): "ack" is the acknowledgement (an
#: officer's first change), "close" the closing, "between" a moment between the two. The hours
#: are drawn per tip (`delays`).
HISTORIES: tuple[tuple[tuple[str, str, int], ...], ...] = (
    (),
    (("acknowledged", "ack", OFFICER),),
    (("acknowledged", "ack", OFFICER), ("verifying", "between", GIVER)),
    (("acknowledged", "ack", OFFICER), ("resolved", "close", OFFICER)),
    (("unfounded", "ack", GIVER),),
    (("acknowledged", "ack", OFFICER), ("transferred", "close", GIVER)),
)
#: Whole hours from arrival, log-normal as real delays spread: to the acknowledgement a median
#: of 6 h (up to 30 days), to the closing 3 days (up to 180 days).
ACK_MEDIAN_HOURS, ACK_SIGMA, ACK_MAX_HOURS = 6.0, 1.5, 30 * 24
CLOSE_MEDIAN_HOURS, CLOSE_SIGMA, CLOSE_MAX_HOURS = 72.0, 1.3, 180 * 24
#: The version of the seeded data, in the cache files' names: a change to `specs` or HISTORIES
#: makes new databases (v2: arrivals at whole hours and spread delays; v1 acknowledged every tip
#: 0.5 to 2 hours after an arrival at odd seconds).
DATA_VERSION = "v2"
TEXT = ("Có người lạ chở gỗ ban đêm qua cầu, đi hai xe máy không biển số, khoảng 10 giờ tối, "
        "hướng về phía bản trên; tôi thấy ba lần trong tuần này.")


def label(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k"


# --- building the databases ---------------------------------------------------------------------


def delays(rng: random.Random, history: tuple[tuple[str, str, int], ...]
           ) -> tuple[tuple[str, float, int], ...]:
    """A history's changes with hours drawn for this tip (whole hours: production rounds every
    clear time to the hour)."""
    ack = min(ACK_MAX_HOURS, round(rng.lognormvariate(math.log(ACK_MEDIAN_HOURS), ACK_SIGMA)))
    close = max(ack, min(CLOSE_MAX_HOURS, round(
        rng.lognormvariate(math.log(CLOSE_MEDIAN_HOURS), CLOSE_SIGMA))))
    hours = {"ack": ack, "close": close, "between": (ack + close) // 2}
    return tuple((status, float(hours[which]), staff) for status, which, staff in history)


def specs(count: int) -> list[SeedTip]:
    """`count` tips over two years, in order of arrival (ids grow with time, as in life), each
    arriving at a whole hour."""
    rng = random.Random(16)
    codes = [a.code for a in load_areas(None)]
    moments = sorted(rng.randrange(SPAN_SECONDS // 3600) * 3600 for _ in range(count))
    return [
        SeedTip(
            category=rng.choice(CATEGORIES),
            area=rng.choice([*codes, None]),
            created=START + timedelta(seconds=moment),
            changes=delays(rng, rng.choice(HISTORIES)),
            text=TEXT,
        )
        for moment in moments
    ]


def stem(size: int) -> str:
    """The cache files' name of `size` tips (with the data's version)."""
    return f"tips-{size}-{DATA_VERSION}"


def base_path(size: int) -> Path:
    return CACHE / f"{stem(size)}.db"


def meta_path(size: int) -> Path:
    return CACHE / f"{stem(size)}.json"


def cached_meta(size: int) -> dict[str, Any] | None:
    if meta_path(size).exists() and base_path(size).exists():
        return json.loads(meta_path(size).read_text())
    return None


def fresh_partial(size: int) -> Path:
    """Where a database is built (renamed once complete); what an interrupted build left is
    removed."""
    CACHE.mkdir(mode=0o700, exist_ok=True)
    for leftover in CACHE.glob(f"{stem(size)}.building.db*"):
        leftover.unlink()
    return CACHE / f"{stem(size)}.building.db"


async def build(size: int, say: Callable[[str], None]) -> dict[str, Any]:
    """Build the database of `size` tips unless it is cached; its metadata."""
    cached = cached_meta(size)
    if cached is not None:
        if not cached.get("settled"):
            cached = await settle(size, cached, say)
        return cached
    partial = fresh_partial(size)
    say(f"building {size:,} tips in {partial} (once; cached)")
    started = time.perf_counter()
    store = await open_store(partial, MASTER)
    try:
        await store.staff.upsert_officer(OFFICER, areas=OFFICER_AREAS, all_areas=False,
                                         display_name="Officer", reachable=True)
        await store.staff.upsert_officer(GIVER, areas=("a-ngo",), all_areas=False,
                                         display_name="Giver", reachable=True)
        await store.staff.ensure_admin_row(ADMIN, "Admin")
        tips = specs(size)
        ids: list[int] = []
        for first in range(0, size, BATCH * 10):
            ids += await seed(store, tips[first : first + BATCH * 10], batch=BATCH,
                              bulk_history=True)
            say(f"  {len(ids):,} / {size:,} stored ({time.perf_counter() - started:.0f} s)")
        stored = time.perf_counter() - started
        handed = [tip_id for tip_id, spec in zip(ids, tips, strict=True)
                  if spec.area not in OFFICER_AREAS][::HANDED_EVERY]
        async with store.db.transaction():
            for tip_id in handed:
                await store.desk.assign(tip_id, OFFICER, given_by=GIVER)
        rng = random.Random(17)
        sample = rng.sample(ids, min(CODES_KEPT, len(ids)))
        codes = []
        for tip_id in sample:
            tip = await store.tips.by_id(tip_id)
            assert tip is not None
            codes.append({"tip_id": tip_id, "ref": tip.ref,
                          "code": await store.tips.replace_receipt_code(tip_id)})
    finally:
        await store.close()
    meta = {"size": size, "seconds": stored, "handed": len(handed), "codes": codes,
            "bytes": partial.stat().st_size}
    partial.rename(base_path(size))
    meta_path(size).write_text(json.dumps(meta))
    return await settle(size, meta, say)


async def settle(size: int, meta: dict[str, Any], say: Callable[[str], None]) -> dict[str, Any]:
    """Do what the worker would have done over two years: every tip still new was reminded
    and then escalated (`due_reminders`, `mark_reminded`, and the same for
    escalations). Without it, each tick of the benchmark's worker would open the sealed times
    of every tip of two years still new (a sixth of them), which no running line has."""
    say(f"settling {size:,} tips (reminders and escalations of two years)")
    store = await open_store(base_path(size), MASTER)
    try:
        # The sealed arrival is when the tip was built (stats_seed moves only the clear hour):
        # a threshold after the build takes them all.
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
        marked = 0
        for due, mark in ((store.desk.due_reminders, store.desk.mark_reminded),
                          (store.desk.due_escalations, store.desk.mark_escalated)):
            tip_ids = await due(later, later)
            async with store.db.transaction():
                for tip_id in tip_ids:
                    marked += await mark(tip_id)
    finally:
        await store.close()
    meta = {**meta, "settled": marked}
    meta_path(size).write_text(json.dumps(meta))
    return meta


def schema_tag() -> str:
    names = "\n".join(f"{m.version}:{m.name}:{m.sql}" for m in load_migrations())
    return hashlib.sha256(names.encode()).hexdigest()[:10]


def copy_for_schema(size: int, path: Path) -> None:
    """Copy the cached database to `path`, removing the copies made for other schemas."""
    for stale in CACHE.glob(f"{stem(size)}.*.db"):
        if stale != base_path(size) and ".building." not in stale.name:
            for part in (stale, Path(f"{stale}-wal"), Path(f"{stale}-shm")):
                part.unlink(missing_ok=True)
    partial = path.with_suffix(".copy")
    shutil.copyfile(base_path(size), partial)
    partial.rename(path)


async def working_copy(size: int, say: Callable[[str], None]) -> tuple[Path, float | None]:
    """A copy of the cached database migrated to this checkout's schema (made once per schema);
    and how long the migration took when it was made now."""
    path = CACHE / f"{stem(size)}.{schema_tag()}.db"
    if path.exists():
        return path, None
    say(f"copying {base_path(size).name} for this schema")
    copy_for_schema(size, path)
    started = time.perf_counter()
    store = await open_store(path, MASTER)
    migrated = time.perf_counter() - started
    await store.close()
    return path, migrated


# --- timing -------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One column: the figures of one size."""

    size: int
    values: dict[str, str] = field(default_factory=dict)
    raw: dict[str, tuple[float, float]] = field(default_factory=dict)


async def timed(rounds: int, action: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """(p50, p95) milliseconds of `await action()` over `rounds` runs, after one warm-up."""
    await action()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await action()
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 0.5), percentile(times, 0.95)


def officer_scope() -> Scope:
    return Scope(OFFICER, False, OFFICER_AREAS)


def admin_scope() -> Scope:
    return Scope(ADMIN, True, ())


QUERIES: list[str] = []


async def measure(store: Store, meta: dict[str, Any], rounds: int, column: Figures,
                  say: Callable[[str], None]) -> None:
    refs = [c["ref"] for c in meta["codes"]]
    codes = [c["code"] for c in meta["codes"]]
    pick = random.Random(18)
    month = typed_period(date(2025, 6, 1), date(2025, 6, 30))
    year = typed_period(date(2025, 1, 1), date(2025, 12, 31))
    officer_stats = StatsScope(everything=False, areas=OFFICER_AREAS)
    every = StatsScope(everything=True)
    now = datetime.now(UTC)

    def iso(moment: datetime) -> str:
        return moment.isoformat(timespec="seconds")

    cases: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("baseline: SELECT count(*) FROM tips",
         lambda: store.db.fetchone("SELECT count(*) AS n FROM tips")),
    ]
    for who, scope in (("officer", officer_scope()), ("admin", admin_scope())):
        cases.append((f"/tips {who}, open (first page + count)",
                      lambda scope=scope: store.desk.list_for(scope, status=None, limit=PAGE,
                                                              offset=0)))
        for status in STATUSES:
            cases.append((f"/tips {who}, {status}",
                          lambda scope=scope, status=status: store.desk.list_for(
                              scope, status=status, limit=PAGE, offset=0)))
        cases.append((f"/tips {who}, open, page 50",
                      lambda scope=scope: store.desk.list_for(scope, status=None, limit=PAGE,
                                                              offset=49 * PAGE)))
    cases += [
        ("staff header: count of open tips (officer)",
         lambda: store.desk.list_for(officer_scope(), status=None, limit=1, offset=0)),
        ("/tip REF (Tips.by_ref)", lambda: store.tips.by_ref(pick.choice(refs))),
        ("receipt lookup (Tips.by_receipt_code)",
         lambda: store.tips.by_receipt_code(pick.choice(codes))),
        ("/stats month, every area", lambda: collect(store, month, every, TZ)),
        ("/stats month, officer's 2 areas", lambda: collect(store, month, officer_stats, TZ)),
        ("/stats year, every area", lambda: collect(store, year, every, TZ)),
        ("/stats year, officer's 2 areas", lambda: collect(store, year, officer_stats, TZ)),
        ("/export rows, a month (every area)",
         lambda: store.stats.export_rows(month.window(TZ), every)),
        ("worker: due reminders",
         lambda: store.desk.due_reminders(iso(now - timedelta(hours=2)),
                                          iso(now - timedelta(minutes=30)))),
        ("worker: due escalations",
         lambda: store.desk.due_escalations(iso(now - timedelta(hours=4)),
                                            iso(now - timedelta(hours=1)))),
        ("worker: undelivered tips", lambda: store.tips.undelivered()),
    ]
    for name, action in cases:
        slow = name.startswith(("/stats year", "/export", "/stats month"))
        p50, p95 = await timed(max(3, rounds // 4) if slow else rounds, action)
        column.raw[name] = (p50, p95)
        column.values[name] = f"{p50:.1f} / {p95:.1f}"
        if name not in QUERIES:
            QUERIES.append(name)
    say(f"  {label(column.size)}: queries timed")
    await submissions(store, rounds, column, year, every)


async def submit(store: Store, number: int) -> None:
    """What the resident's "send" stores: the tip and its card for the officer, in one
    transaction."""
    async with store.db.transaction():
        await store.tips.insert(
            NewTip("drugs", "hong-van", False, {"text": f"{TEXT} ({number})", "place": "cầu",
                                               "when": "today", "attachments": []}),
            Delivery(1, (OFFICER,)),
        )


async def submissions(store: Store, rounds: int, column: Figures, year: Any,
                      every: StatsScope) -> None:
    """Submission latency alone, then while /stats for a year runs back to back."""
    first = await store.db.fetchone("SELECT max(tip_id) AS n FROM tips")
    count = max(20, rounds)

    async def series(until: Callable[[], bool] = lambda: True) -> list[float]:
        """`count` submissions 10 ms apart, and more until `until()` says enough."""
        times: list[float] = []
        while len(times) < count or not until():
            started = time.perf_counter()
            await submit(store, len(times))
            times.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.01)
        return times

    alone = await series()
    stop = asyncio.Event()
    stats_runs = 0

    async def hammer() -> None:
        nonlocal stats_runs
        while not stop.is_set():
            await collect(store, year, every, TZ)
            stats_runs += 1

    runner = asyncio.create_task(hammer())
    await asyncio.sleep(0.05)
    busy = await series(lambda: stats_runs >= 3)  # over three /stats for a year at least
    stop.set()
    await runner
    async with store.db.transaction():  # the benchmark's own tips go again
        await store.db.execute("DELETE FROM tips WHERE tip_id > ?", (first["n"],))
    for name, values in (("submission alone", alone),
                         ("submission while /stats year runs", busy)):
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        column.raw[name] = (p50, p95)
        column.values[name] = f"{p50:.1f} / {p95:.1f}"
        if name not in QUERIES:
            QUERIES.append(name)
    column.values["  (/stats year runs during it)"] = str(stats_runs)
    if "  (/stats year runs during it)" not in QUERIES:
        QUERIES.append("  (/stats year runs during it)")


# --- the bot's memory on the largest database ---------------------------------------------------


def turned(emulator: Any, user_id: int, message_id: int, number: int) -> Any:
    """The /tips message once it shows page `number` (0-based): it offers the page before."""

    def shown() -> Any:
        message = emulator.message(user_id, message_id)
        return message if f"ol:all:{number - 1}" in message.callback_data() else None

    return emulator.wait_until(shown, timeout=60)


def bot_rss(path: Path, say: Callable[[str], None]) -> dict[str, int]:
    """Start the real bot on `path`; an officer and an admin page /tips and ask for /stats for
    the year; the bot's VmRSS and VmHWM (KiB) at the end."""
    settings = {"TIPBOT_DB": str(path), "TIPBOT_KEY": base64.b64encode(MASTER).decode(),
                "TIPBOT_ADMIN_IDS": str(ADMIN)}
    with emulator_and_bot(**settings) as (emulator, bot):
        bot.start(timeout=120)
        assert bot.process is not None
        pid = bot.process.pid
        idle = rss_kib(pid)
        for user_id in (OFFICER, ADMIN):
            person = staff_joins(emulator, user_id)
            person.send_command("/tips")
            page = wait_text(emulator, person, "1/", timeout=60)
            for number in range(1, 6):
                if f"ol:all:{number}" not in page.callback_data():
                    break
                person.click(page.message_id, f"ol:all:{number}")
                page = turned(emulator, person.id, page.message_id, number)
            for status in OPEN_STATUSES:
                person.click(page.message_id, f"ol:{status}:0")
                time.sleep(0.3)
            photos = len(emulator.calls_to("sendPhoto", person.id))
            person.send_command("/stats")
            press(emulator, person, "ss:p:d")  # typed dates: the year 2025, and its chart
            wait_text(emulator, person, "dd/mm/yyyy", timeout=60)
            person.send_text("01/01/2025 - 31/12/2025")
            emulator.wait_until(lambda p=person, n=photos: len(emulator.calls_to(
                "sendPhoto", p.id)) > n, timeout=60)
        figures = rss_kib(pid)
        say(f"  bot idle {idle['VmRSS'] / 1024:.0f} MiB, peak {figures['VmHWM'] / 1024:.0f} MiB")
        return {"idle": idle["VmRSS"], **figures}


# --- the run ------------------------------------------------------------------------------------


async def run(args: Any, result: Report) -> None:
    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    columns: list[Figures] = []
    for size in args.sizes:
        meta = await build(size, say)
        if args.build_only:
            continue
        path, migrated = await working_copy(size, say)
        column = Figures(size)
        column.values["build: µs per tip (through Tips.insert)"] = (
            f"{meta['seconds'] / size * 1e6:.0f}")
        column.values["file: bytes per tip"] = f"{path.stat().st_size / size:,.0f}"
        if migrated is not None:
            column.values["migrating the cached copy (s)"] = f"{migrated:.1f}"
        store = await open_store(path, MASTER)
        try:
            await measure(store, meta, args.rounds, column, say)
        finally:
            await store.close()
        columns.append(column)
    if args.build_only or not columns:
        return
    if args.rss:
        try:
            figures = bot_rss((await working_copy(columns[-1].size, say))[0], say)
            columns[-1].values["bot RSS idle / peak after /tips and /stats (MiB)"] = (
                f"{figures['idle'] / 1024:.0f} / {figures['VmHWM'] / 1024:.0f}")
        except Exception as error:  # the figures above still get printed
            result.note(f"RSS stage failed: {type(error).__name__}: {error}"[:300])
    names = ["build: µs per tip (through Tips.insert)", "file: bytes per tip",
             "migrating the cached copy (s)", *QUERIES,
             "bot RSS idle / peak after /tips and /stats (MiB)"]
    header = " | ".join(label(c.size) for c in columns)
    result.section(f"p50 / p95 ms over {args.rounds} rounds (/stats and /export: "
                   f"{max(3, args.rounds // 4)}) | {header}")
    for name in names:
        if any(name in c.values for c in columns):
            result.row(name, " | ".join(c.values.get(name, "-") for c in columns))
    last = columns[-1]
    base = last.raw["baseline: SELECT count(*) FROM tips"][0]
    worst_list = max(v[1] for k, v in last.raw.items() if k.startswith("/tips") and
                     "page 50" not in k)
    result.ratio(f"worst /tips first page p95 / count(*) p50 at {label(last.size)}",
                 worst_list / base if base else float("nan"))
    result.key(f"worst /tips first page p95 at {label(last.size)}", f"{worst_list:.1f} ms")
    year_p95 = last.raw["/stats year, every area"][1]
    result.key(f"/stats year p95 at {label(last.size)}", f"{year_p95:.0f} ms")
    alone, busy = (last.raw["submission alone"][1],
                   last.raw["submission while /stats year runs"][1])
    result.ratio("submission p95 while /stats runs / alone", busy / alone if alone else 0.0)


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated tip counts (default 10000,100000,1000000)")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--rss", action="store_true",
                        help="also start the real bot on the largest database (peak RSS)")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    result = Report("storage", summary_path=args.summary_json)
    begun = time.perf_counter()
    asyncio.run(run(args, result))
    result.note(f"wall time {time.perf_counter() - begun:.1f} s; databases cached in {CACHE}; "
                f"machine shared with other developers")
    return result


if __name__ == "__main__":
    outcome = main()
    outcome.print()
    outcome.save()
