"""Stale conversation drafts are removed by flow age; owed receipts and fresh drafts stay."""

from __future__ import annotations

import os

from storage.store import open_store


async def test_expire_removes_old_status_sessions_and_keeps_the_rest(tmp_path) -> None:
    store = await open_store(tmp_path / "t.db", os.urandom(32))
    try:
        await store.drafts.save(1, {"flow": "status", "step": "open", "tip_id": 7})
        await store.drafts.save(2, {"flow": "report", "step": "text"})
        await store.drafts.save(3, {"flow": "receipt", "tip_id": 8})
        await store.drafts.save(4, {"flow": "status", "step": "code"})
        await store.db.execute(
            "UPDATE drafts SET updated_at = '2000-01-01T00:00:00+00:00'"
            " WHERE subject IN (?, ?, ?)",
            tuple(store.keyring.pseudonym("conversation", u) for u in (1, 2, 3)),
        )
        removed = await store.drafts.expire({"status": 1800, "report": 7 * 86400})
        assert removed == 2
        assert await store.drafts.load(1) is None  # old status session
        assert await store.drafts.load(2) is None  # abandoned report
        assert await store.drafts.load(3) == {"flow": "receipt", "tip_id": 8}  # owed: kept
        assert await store.drafts.load(4) is not None  # fresh
    finally:
        await store.close()
