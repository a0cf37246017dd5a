"""Conversations expire by their flow's lifetime, by an indexed deadline, decrypting nothing."""

from __future__ import annotations

import os
import re
import time

from storage.conversations import Conversations, Flow, Saved
from storage.store import open_store


async def test_expire_removes_drafts_past_their_deadline_and_keeps_the_rest(tmp_path) -> None:
    store = await open_store(tmp_path / "t.db", os.urandom(32))
    try:
        await store.conversations.save(1, Flow.STATUS, {"step": "open", "tip_id": 7})
        await store.conversations.save(2, Flow.REPORT, {"step": "text"})
        await store.conversations.save(3, Flow.RECEIPT, {"tip_id": 8})
        await store.conversations.save(4, Flow.STATUS, {"step": "code"})
        await store.db.execute(
            "UPDATE drafts SET expires_at = '2000-01-01T00:00:00+00:00'"
            " WHERE subject IN (?, ?, ?)",
            tuple(store.keyring.pseudonym("conversation", u) for u in (1, 2, 3)),
        )
        assert await store.conversations.expire() == 3
        assert await store.conversations.load(1) is None  # old status session
        assert await store.conversations.load(2) is None  # abandoned report
        assert await store.conversations.load(3) is None  # an owed receipt expires too
        assert await store.conversations.load(4) == Saved(Flow.STATUS, {"step": "code"})
    finally:
        await store.close()


async def test_a_draft_past_its_exact_deadline_is_gone_before_the_sweep(tmp_path) -> None:
    store = await open_store(tmp_path / "t.db", os.urandom(32))
    try:
        short = Conversations(store.db, store.keyring, {Flow.STATUS: 0.05})
        await short.save(1, Flow.STATUS, {"tip_id": 7})
        assert await short.load(1) == Saved(Flow.STATUS, {"tip_id": 7})
        time.sleep(0.1)
        assert await short.load(1) is None
    finally:
        await store.close()


async def test_the_clear_deadline_is_rounded_to_the_hour_and_the_sweep_decrypts_nothing(
    tmp_path, monkeypatch
) -> None:
    store = await open_store(tmp_path / "t.db", os.urandom(32))
    try:
        await store.conversations.save(1, Flow.REPORT, {"step": "text"})
        row = await store.db.fetchone("SELECT expires_at FROM drafts")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00\+00:00", row["expires_at"])
        plan = await store.db.fetchall(
            "EXPLAIN QUERY PLAN DELETE FROM drafts WHERE expires_at <= ?", ("x",)
        )
        assert any("drafts_by_expiry" in r["detail"] for r in plan)

        def refuse(*args, **kwargs):
            raise AssertionError("the sweep decrypted a draft")

        monkeypatch.setattr(type(store.keyring), "decrypt", refuse)
        assert await store.conversations.expire() == 0
    finally:
        await store.close()
