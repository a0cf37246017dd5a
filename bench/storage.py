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

On PostgreSQL as well (a column beside each SQLite one, the same cases and baseline): with
`--postgresql` the benchmark starts a durable cluster of its own (testing/postgres.py; fsync
and synchronous commits on, otherwise the server's defaults), its data folder kept in
/tmp/tipline-bench/pg/ so that the next run finds its databases; with TIPBOT_DB=postgresql://…
it makes its databases on that server instead (the user needs CREATEDB). Each size's database
is filled once from the SQLite working copy by `migrate-db`'s copy (storage/migrate.py), then
VACUUM ANALYZE, and kept under a name of the SQLite copy and the PostgreSQL schema. The plans of
what an officer and the worker run (EXPLAIN) are printed after the table.

    python -m bench.storage --sizes 10000,100000 --postgresql
    TIPBOT_DB=postgresql://me@/postgres?host=/run/postgresql python -m bench.storage
    python -m bench.storage --sizes 1000000 --postgresql --only-postgresql --rss
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import os
import random
import re
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from bench.common import Report, arguments, emulator_and_bot, percentile, rss_kib
from reports.stats import collect, typed_period
from rules.areas import load_areas
from storage.database import load_migrations
from storage.migrate import copy_line
from storage.postgres import MIGRATIONS_PACKAGE as PG_MIGRATIONS
from storage.postgres import is_postgres_url, open_postgres
from storage.stats import StatsScope
from storage.store import Store, open_store
from storage.tips import OPEN_STATUSES, Delivery, NewTip, Scope
from testing.journeys import press, wait_text
from testing.postgres import Cluster, find_bin
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
    """Copy the cached database to `path` (the copies made for other schemas are kept: another
    checkout may still run on them)."""
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


# --- PostgreSQL: the same databases, copied by migrate-db ----------------------------------------


PG_FOLDER = CACHE / "pg"


def pg_tag() -> str:
    """The PostgreSQL schema (storage/migrations_postgresql), as schema_tag is SQLite's."""
    names = "\n".join(f"{m.version}:{m.name}:{m.sql}"
                      for m in load_migrations(PG_MIGRATIONS))
    return hashlib.sha256(names.encode()).hexdigest()[:6]


def pg_name(copy: Path) -> str:
    """The PostgreSQL database filled from the SQLite working copy `copy`: named after it (its
    size, the SQLite cache's name and schema) and the PostgreSQL schema."""
    stem = re.sub(r"[^a-z0-9]+", "_", copy.stem.lower())
    return f"bench_{stem}_{pg_tag()}"[:63]


def with_database(url: str, name: str) -> str:
    """`url` naming the database `name` of the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def kept_cluster(bin_dir: Path) -> Cluster:
    """The benchmark's own PostgreSQL (durable: fsync and synchronous commits on), its folder
    kept in /tmp/tipline-bench/pg/ so that a later run finds the databases it filled. The
    server runs as the `postgres` user when we are root: it must reach its folder."""
    CACHE.mkdir(mode=0o700, exist_ok=True)
    CACHE.chmod(0o711)
    return Cluster(bin_dir, durable=True, kept=PG_FOLDER)


async def pg_database(server: str, copy: Path, say: Callable[[str], None]
                      ) -> tuple[str, dict[str, float] | None]:
    """The URL of the PostgreSQL database filled from the SQLite working copy `copy` (filled
    now unless it exists), and the fill's figures when it was made now. `server` is a URL of
    any database of the server (the one given in TIPBOT_DB, or the cluster's `postgres`).

    It is filled under a temporary name and renamed once complete: a database of the final
    name is whole. The copy is `migrate-db`'s (storage/migrate.copy_line), then VACUUM ANALYZE,
    as autovacuum would have done on a running line (the visibility map makes index-only
    scans possible; the statistics are the planner's)."""
    name = pg_name(copy)
    admin = await asyncpg.connect(server)
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return with_database(server, name), None
        building = f"{name[:54]}_building"
        await admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{building}"')
    finally:
        await admin.close()
    say(f"filling PostgreSQL {name} from {copy.name} (once; kept)")
    started = time.perf_counter()
    db = await open_postgres(with_database(server, building))
    try:
        copied = await copy_line(copy, db)
        filled = time.perf_counter() - started
    finally:
        await db.close()
    own = await asyncpg.connect(with_database(server, building))
    try:
        await own.execute("VACUUM (ANALYZE)")
        vacuumed = time.perf_counter() - started - filled
        size = await own.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await own.close()
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    finally:
        await admin.close()
    rows = sum(c.rows for c in copied)
    say(f"  {rows:,} rows copied in {filled:.0f} s, vacuumed in {vacuumed:.0f} s")
    return with_database(server, name), {"seconds": filled, "vacuum": vacuumed,
                                         "bytes": float(size or 0)}


def plan_summary(plan: str) -> str:
    """What a plan reads: its indexes, and any sequential scan of a table."""
    seen: list[str] = []
    for found in re.finditer(r"(Seq Scan) on (\w+)|Index (?:Only )?Scan(?: Backward)? using"
                             r" (\w+)|Bitmap Index Scan on (\w+)", plan):
        what = (f"SEQ SCAN {found.group(2)}" if found.group(1)
                else found.group(3) or found.group(4))
        if what not in seen:
            seen.append(what)
    return ", ".join(seen) or "no table read"


async def explained(store: Store, cases: list[tuple[str, Callable[[], Awaitable[object]]]]
                    ) -> dict[str, str]:
    """For each case: every statement it runs, through PostgreSQL's EXPLAIN (not ANALYZE),
    reduced to the indexes read and the tables scanned whole."""
    db = store.db
    recorded: list[tuple[str, Any]] = []
    plain = db.fetchall

    async def recording(sql: str, params: Any = ()) -> Any:
        recorded.append((sql, params))
        return await plain(sql, params)

    summaries: dict[str, str] = {}
    for name, action in cases:
        recorded.clear()
        vars(db)["fetchall"] = recording  # fetchone and read_* go through fetchall
        try:
            await action()
        finally:
            del vars(db)["fetchall"]
        parts: list[str] = []
        distinct = {(sql, repr(params)): (sql, params) for sql, params in recorded}
        for sql, params in distinct.values():
            rows = await db.fetchall("EXPLAIN " + sql, params)
            summary = plan_summary("\n".join(r[0] for r in rows))
            if summary not in parts:
                parts.append(summary)
        summaries[name] = "; ".join(parts)
    return summaries


# --- timing -------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One column: the figures of one size on one database."""

    size: int
    backend: str = "SQLite"
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


def cases_for(store: Store, meta: dict[str, Any]
              ) -> list[tuple[str, Callable[[], Awaitable[object]]]]:
    """What is timed, by name, in order (the rows of the table)."""
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
    return cases


#: The cases whose PostgreSQL plans are printed: what an officer and the worker run.
PLANNED = ("/tips officer", "/tips admin", "staff header", "/tip REF", "receipt lookup",
           "worker:")


async def measure(store: Store, meta: dict[str, Any], rounds: int, column: Figures,
                  say: Callable[[str], None]) -> None:
    year = typed_period(date(2025, 1, 1), date(2025, 12, 31))
    every = StatsScope(everything=True)
    for name, action in cases_for(store, meta):
        slow = name.startswith(("/stats year", "/export", "/stats month"))
        p50, p95 = await timed(max(3, rounds // 4) if slow else rounds, action)
        column.raw[name] = (p50, p95)
        column.values[name] = f"{p50:.1f} / {p95:.1f}"
        if name not in QUERIES:
            QUERIES.append(name)
    say(f"  {label(column.size)} {column.backend}: queries timed")
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


#: How long the --rss stage waits for an answer (a year's /stats on PostgreSQL at 1M took over
#: a minute, docs/PERFORMANCE.md "PostgreSQL").
BOT_WAIT = 300


def turned(emulator: Any, user_id: int, message_id: int, number: int) -> Any:
    """The /tips message once it shows page `number` (0-based): it offers the page before."""

    def shown() -> Any:
        message = emulator.message(user_id, message_id)
        return message if f"ol:all:{number - 1}" in message.callback_data() else None

    return emulator.wait_until(shown, timeout=BOT_WAIT)


async def forget_updates(path: Path | str) -> int:
    """Forget the updates an earlier bot run on this database handled (`updates_seen`, kept a
    day). Each run's emulator numbers its updates from 1 again under the same bot id, where
    Telegram never repeats one: without this, a second `--rss` run within a day found its
    /start "delivered again; handled before this start" and dropped, and no answer came
    within BOT_WAIT (the "300 s hang" at 1M, whatever the retention). How many were forgotten."""
    store = await open_store(path, MASTER)
    try:
        return await store.updates_seen.purge(keep_seconds=-2 * 86400)
    finally:
        await store.close()


def bot_rss(path: Path | str, say: Callable[[str], None]) -> dict[str, int]:
    """Start the real bot on `path` (a SQLite file or a postgresql:// URL); an officer and an
    admin page /tips and ask for /stats for the year; the bot's VmRSS and VmHWM (KiB) at the end."""
    settings = {"TIPBOT_DB": str(path), "TIPBOT_KEY": base64.b64encode(MASTER).decode(),
                "TIPBOT_ADMIN_IDS": str(ADMIN),
                # The cached tips are of 2024-2025: the shipped retention (365 days) would have
                # the bot's purge delete the closed ones from the cached database as it runs.
                "TIPBOT_RETENTION_DAYS": "36500"}
    with emulator_and_bot(**settings) as (emulator, bot):
        launched = time.perf_counter()
        bot.start(timeout=120)
        polling = time.perf_counter() - launched
        assert bot.process is not None
        pid = bot.process.pid
        idle = rss_kib(pid)
        answered = 0.0
        for user_id in (OFFICER, ADMIN):
            person = emulator.user(user_id, "Cán bộ")  # testing.journeys.staff_joins, but
            person.send_command("/start")  # waiting longer: the bot starts slower at 1M
            emulator.wait_for_message(person, "113", timeout=BOT_WAIT)
            answered = answered or time.perf_counter() - launched
            person.send_command("/tips")
            page = wait_text(emulator, person, "1/", timeout=BOT_WAIT)
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
            wait_text(emulator, person, "dd/mm/yyyy", timeout=BOT_WAIT)
            person.send_text("01/01/2025 - 31/12/2025")
            emulator.wait_until(lambda p=person, n=photos: len(emulator.calls_to(
                "sendPhoto", p.id)) > n, timeout=BOT_WAIT)
        figures = rss_kib(pid)
        say(f"  bot idle {idle['VmRSS'] / 1024:.0f} MiB, peak {figures['VmHWM'] / 1024:.0f} MiB;"
            f" polling {polling:.1f} s and the first /start answered {answered:.1f} s after"
            " its launch")
        return {"idle": idle["VmRSS"], **figures, "polling_ms": round(polling * 1000),
                "answered_ms": round(answered * 1000)}


# --- the run ------------------------------------------------------------------------------------


def postgres_server(args: Any) -> str | None:
    """The PostgreSQL server to measure on: TIPBOT_DB when it is a postgresql:// URL (a
    database of it; the benchmark's databases are made beside it), else None (`--postgresql`
    starts a cluster of its own)."""
    given = os.environ.get("TIPBOT_DB", "")
    return given if is_postgres_url(given) else None


async def sqlite_column(size: int, meta: dict[str, Any], args: Any,
                        say: Callable[[str], None]) -> tuple[Figures, Path]:
    path, migrated = await working_copy(size, say)
    column = Figures(size)
    column.values["build: µs per tip (through Tips.insert)"] = (
        f"{meta['seconds'] / size * 1e6:.0f}")
    column.values["file: bytes per tip"] = f"{path.stat().st_size / size:,.0f}"
    if migrated is not None:
        column.values["migrating the cached copy (s)"] = f"{migrated:.1f}"
    if not (args.only_postgresql or args.build_only or args.rss_only):
        store = await open_store(path, MASTER)
        try:
            await measure(store, meta, args.rounds, column, say)
        finally:
            await store.close()
    return column, path


async def postgres_column(size: int, meta: dict[str, Any], copy: Path, server: str, args: Any,
                          plans: dict[str, dict[str, str]], say: Callable[[str], None]
                          ) -> tuple[Figures, str]:
    url, filled = await pg_database(server, copy, say)
    column = Figures(size, "PostgreSQL")
    store = await open_store(url, MASTER)
    try:
        size_row = await store.db.fetchone(
            "SELECT pg_database_size(current_database()) AS n")
        column.values["file: bytes per tip"] = f"{(size_row['n'] if size_row else 0) / size:,.0f}"
        if filled is not None:
            column.values["migrate-db copy of the SQLite line (s)"] = f"{filled['seconds']:.1f}"
            column.values["  VACUUM ANALYZE after it (s)"] = f"{filled['vacuum']:.1f}"
        if not args.rss_only:
            await measure(store, meta, args.rounds, column, say)
            plans[label(size)] = await explained(
                store, [c for c in cases_for(store, meta) if c[0].startswith(PLANNED)])
    finally:
        await store.close()
    return column, url


async def run(args: Any, result: Report) -> None:
    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    server = postgres_server(args)
    cluster: Cluster | None = None
    if server is None and args.postgresql:
        bin_dir = find_bin()
        if bin_dir is None:
            raise SystemExit("--postgresql: PostgreSQL is not installed (apt-get install "
                             "postgresql)")
        cluster = kept_cluster(bin_dir)
        cluster.start()
        server = cluster.url()
    try:
        await measure_all(args, result, server, say)
    finally:
        if cluster is not None:
            cluster.stop()


async def measure_all(args: Any, result: Report, server: str | None,
                      say: Callable[[str], None]) -> None:
    columns: list[Figures] = []
    plans: dict[str, dict[str, str]] = {}
    targets: dict[str, str | Path] = {}
    version = ""
    if server is not None:
        probe = await asyncpg.connect(server)
        try:
            version = str(await probe.fetchval("SHOW server_version"))
        finally:
            await probe.close()
    for size in args.sizes:
        meta = await build(size, say)
        if args.build_only and server is None:
            continue
        column, path = await sqlite_column(size, meta, args, say)
        if not args.only_postgresql and not args.build_only:
            columns.append(column)
            targets["SQLite"] = path
        if server is not None:
            if args.build_only:
                await pg_database(server, path, say)
                continue
            pg_column, url = await postgres_column(size, meta, path, server, args, plans, say)
            columns.append(pg_column)
            targets["PostgreSQL"] = url
    if args.build_only or not columns:
        return
    if args.rss:
        for backend, target in targets.items():
            try:
                forgotten = await forget_updates(target)
                if forgotten:
                    say(f"  {forgotten} updates of an earlier bot run forgotten ({backend})")
                figures = bot_rss(target, say)
                last = [c for c in columns if c.backend == backend][-1]
                last.values["bot RSS idle / peak after /tips and /stats (MiB)"] = (
                    f"{figures['idle'] / 1024:.0f} / {figures['VmHWM'] / 1024:.0f}")
                last.values["bot launch to polling / to the first /start answer (s)"] = (
                    f"{figures['polling_ms'] / 1000:.1f} / {figures['answered_ms'] / 1000:.1f}")
            except Exception as error:  # the figures above still get printed
                result.note(f"RSS stage on {backend} failed: {type(error).__name__}: "
                            f"{error}"[:300])
    names = ["build: µs per tip (through Tips.insert)", "file: bytes per tip",
             "migrating the cached copy (s)", "migrate-db copy of the SQLite line (s)",
             "  VACUUM ANALYZE after it (s)", *QUERIES,
             "bot RSS idle / peak after /tips and /stats (MiB)",
             "bot launch to polling / to the first /start answer (s)"]
    header = " | ".join(f"{label(c.size)} {c.backend}" for c in columns)
    result.section(f"p50 / p95 ms over {args.rounds} rounds (/stats and /export: "
                   f"{max(3, args.rounds // 4)}) | {header}")
    for name in names:
        if any(name in c.values for c in columns):
            result.row(name, " | ".join(c.values.get(name, "-") for c in columns))
    for backend in dict.fromkeys(c.backend for c in columns if c.raw):
        headline(result, [c for c in columns if c.backend == backend][-1])
    for size_label, found in plans.items():
        result.note(f"PostgreSQL {version}, {size_label}: what the statements of each case "
                    "read (EXPLAIN, not ANALYZE; small tables such as staff are read whole)")
        grouped: dict[str, list[str]] = {}
        for name, summary in found.items():
            grouped.setdefault(summary, []).append(name)
        for summary, names_of in grouped.items():
            result.note(f"  {'; '.join(names_of)}: {summary}")
        scans = [name for name, summary in found.items() if "SEQ SCAN" in summary]
        result.key(f"PostgreSQL {size_label}: officer/worker cases with a Seq Scan",
                   ", ".join(scans) or "none")


def headline(result: Report, last: Figures) -> None:
    """The summary's figures of a backend's largest size."""
    at = f"at {label(last.size)} {last.backend}"
    base = last.raw["baseline: SELECT count(*) FROM tips"][0]
    worst_list = max(v[1] for k, v in last.raw.items() if k.startswith("/tips") and
                     "page 50" not in k)
    result.ratio(f"worst /tips first page p95 / count(*) p50 {at}",
                 worst_list / base if base else float("nan"))
    result.key(f"worst /tips first page p95 {at}", f"{worst_list:.1f} ms")
    year_p95 = last.raw["/stats year, every area"][1]
    result.key(f"/stats year p95 {at}", f"{year_p95:.0f} ms")
    alone, busy = (last.raw["submission alone"][1],
                   last.raw["submission while /stats year runs"][1])
    result.ratio(f"submission p95 while /stats runs / alone {at}",
                 busy / alone if alone else 0.0)


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated tip counts (default 10000,100000,1000000)")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--rss", action="store_true",
                        help="also start the real bot on the largest database (peak RSS)")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--rss-only", action="store_true",
                        help="only the --rss stage (on the largest size), no queries timed")
    parser.add_argument("--postgresql", action="store_true",
                        help="also on PostgreSQL: a durable cluster of the benchmark's own, kept"
                             f" in {PG_FOLDER} (TIPBOT_DB=postgresql://… uses that server"
                             " instead, without this flag)")
    parser.add_argument("--only-postgresql", action="store_true",
                        help="time PostgreSQL only (the SQLite columns left out)")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.rss = args.rss or args.rss_only
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
