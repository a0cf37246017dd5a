"""The PostgreSQL twin of test_query_plans.py: every statement an officer or the worker runs on
tips and the outbox can be answered from an index of the PostgreSQL schema.

The same work (`_an_officer_and_the_worker`: /tips, /tip, the receipt lookup, the card's
buttons, /stats, /export, the worker's rounds) runs on a new PostgreSQL database with every
statement recorded; each is then explained (EXPLAIN, not ANALYZE: nothing runs) with its values,
with sequential scans priced out of reach (`enable_seqscan = off`), as the planner would plan
them on a large table. What is not allowed: a `Seq Scan` of tips or the outbox (no index serves
the statement at all), or a scan of a whole index of theirs (an index scan with no Index Cond),
except on the partial indexes, whose rows are only the work waiting. bench/storage.py prints the
plans the planner really picks at 10k, 100k and 1M tips."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

import storage.purge as purge_module
import storage.rotation as rotation
from reports.stats import collect, typed_period
from storage.postgres import PostgresDatabase, _arguments, translate
from storage.stats import StatsScope
from storage.store import Store, open_store
from testing.postgres import Cluster
from tests.unit.conftest import MASTER
from tests.unit.test_query_plans import PARTIAL, TZ, WATCHED, _an_officer_and_the_worker


@pytest.fixture
async def pg_store(pg_cluster: Cluster) -> AsyncIterator[Store]:
    url = await pg_cluster.new_database()
    opened = await open_store(url, MASTER)
    try:
        yield opened
    finally:
        await opened.close()
        await pg_cluster.drop_database(url)


def _recorded(db: PostgresDatabase) -> list[tuple[str, Any]]:
    """Record every statement and its values (fetchone and read_* go through fetchall)."""
    seen: list[tuple[str, Any]] = []
    for method in ("fetchall", "execute", "executemany"):
        plain = getattr(db, method)

        async def recording(sql: str, params: Any = (), *, _plain: Any = plain,
                            _many: bool = method == "executemany") -> Any:
            if _many:
                params = list(params)
                seen.extend((sql, p) for p in params[:1])
            else:
                seen.append((sql, params))
            return await _plain(sql, params)

        vars(db)[method] = recording
    return seen


def _unindexed(node: dict[str, Any]) -> list[str]:
    """The nodes of a plan that read tips or the outbox without an index condition."""
    found = []
    relation, index = node.get("Relation Name"), node.get("Index Name")
    if relation in WATCHED:
        if node["Node Type"] == "Seq Scan":
            found.append(f"Seq Scan on {relation}")
        elif (node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node
              and index not in PARTIAL):
            found.append(f"whole index {index} of {relation}")
    for child in node.get("Plans", []):
        found += _unindexed(child)
    return found


async def test_no_statement_of_an_officer_or_the_worker_reads_tips_or_the_outbox_whole(
    pg_store: Store,
) -> None:
    db = pg_store.db
    assert isinstance(db, PostgresDatabase)
    seen = _recorded(db)
    await _an_officer_and_the_worker(pg_store)
    for method in ("fetchall", "execute", "executemany"):
        del vars(db)[method]
    statements = {
        (sql, repr(params)): (sql, params) for sql, params in seen
        if any(f" {table}" in sql for table in WATCHED) and sql.lstrip().upper().startswith(
            ("SELECT", "WITH", "UPDATE", "DELETE", "INSERT"))
    }
    assert len({sql for sql, _ in statements}) >= 35  # the recording did see the work
    scans: dict[str, list[str]] = {}
    async with db.transaction():
        await db.execute("SET LOCAL enable_seqscan = off")
        for sql, params in statements.values():
            row = await db.fetchone("EXPLAIN (FORMAT JSON) " + sql, params)
            assert row is not None
            plan = json.loads(row[0]) if isinstance(row[0], str) else row[0]
            if found := _unindexed(plan[0]["Plan"]):
                scans[sql] = found
    assert scans == {}


def _literal(value: Any) -> str:
    """A value as SQL text, for EXECUTE in a test (values from the test itself)."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return f"'\\x{value.hex()}'::bytea"
    return "'" + str(value).replace("'", "''") + "'"


async def _plan_of(db: PostgresDatabase, sql: str, params: Any, *, generic: bool = False
                   ) -> dict[str, Any]:
    """The plan of one statement (sequential scans priced out); with `generic`, the plan a
    connection's prepared statement gets after its fifth run: made once for any values."""
    text, names = translate(sql)
    args = _arguments(names, params)
    async with db.transaction():
        await db.execute("SET LOCAL enable_seqscan = off")
        if not generic:
            row = await db.fetchone("EXPLAIN (FORMAT JSON) " + sql, params)
        else:
            await db.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await db.execute("PREPARE generic_case AS " + text)
            values = ", ".join(_literal(a) for a in args)
            row = await db.fetchone(f"EXPLAIN (FORMAT JSON) EXECUTE generic_case({values})")
            await db.execute("DEALLOCATE generic_case")
    assert row is not None
    plan = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return plan[0]["Plan"]  # type: ignore[no-any-return]


def _indexes_read(node: dict[str, Any]) -> set[str]:
    found = {f"{node.get('Index Name')}:{'Index Cond' in node}"} if "Index Name" in node else set()
    for child in node.get("Plans", []):
        found |= _indexes_read(child)
    return found


async def test_stats_plans_made_for_any_values_still_read_tips_by_index(pg_store: Store) -> None:
    """/stats runs on a pool connection whose prepared statements get a generic plan after
    five runs: that plan must read tips and the histogram by index too. With `:everything = 1
    OR area IN …` in the grouping, PostgreSQL's generic plan read the whole of tips_by_kind at
    1M tips (3.5 s for a month, 5.4 s for a year: the benchmark's p50 once warm), so no /stats
    statement takes that flag on PostgreSQL: every area and some areas are two statements."""
    await _an_officer_and_the_worker(pg_store)
    db = pg_store.db
    assert isinstance(db, PostgresDatabase)
    now = datetime.now(UTC)
    seen = _recorded(db)
    year = typed_period(date(now.year, 1, 1), date(now.year, 12, 31))
    for scope in (StatsScope(everything=True), StatsScope(everything=False, areas=("a-ngo",))):
        await collect(pg_store, year, scope, TZ)
    for method in ("fetchall", "execute", "executemany"):
        del vars(db)[method]
    statements = {sql: params for sql, params in seen
                  if " tips" in sql or " tip_hours" in sql or " tip_days" in sql}
    assert len(statements) >= 4  # the groupings of both scopes, the edges, the histogram
    # The cause at 1M: a flag the plan depends on. A small database does not make the planner
    # choose the whole read (it did not with 40,000 rows), so the shape itself is checked.
    assert [sql for sql in statements if ":everything" in sql] == []
    scans = {}
    for sql, params in statements.items():
        if found := _unindexed(await _plan_of(db, sql, params, generic=True)):
            scans[sql] = found
    assert scans == {}, "\n".join(f"{found}: {sql}" for sql, found in scans.items())


async def test_the_purge_and_the_check_at_start_seek_their_ranges(pg_store: Store) -> None:
    """The purge's choice of tips is a range of tips_by_closing up to the cutoff; the check at
    start counts by key id on the indexes of migration 0017 (test_query_plans.py's twins)."""
    await _an_officer_and_the_worker(pg_store)
    db = pg_store.db
    assert isinstance(db, PostgresDatabase)
    purge = await _plan_of(db, purge_module._EXPIRED,
                           (purge_module.cutoff(36500), json.dumps(purge_module.CLOSED), 200))
    assert "tips_by_closing:True" in _indexes_read(purge), purge
    held = pg_store.keyring.active_content_key_id.to_bytes(4, "big")
    for (table, field), sql in rotation._COUNT_BETWEEN.items():
        if table in ("tips", "tip_messages", "outbox", "subscribers"):
            plan = await _plan_of(db, sql, (held, b"\xff" * 5))
            assert f"{table}_{field}_key:True" in _indexes_read(plan), (table, field, plan)
    assert await rotation.unreadable_values(db, pg_store.keyring) == 0
