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
from typing import Any

import pytest

from storage.postgres import PostgresDatabase
from storage.store import Store, open_store
from testing.postgres import Cluster
from tests.unit.conftest import MASTER
from tests.unit.test_query_plans import PARTIAL, WATCHED, _an_officer_and_the_worker


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
