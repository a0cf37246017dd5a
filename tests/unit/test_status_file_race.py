"""handlers/resident/status.py: a /status file whose cleaning finishes after the session was
ended (/forget) or replaced (a new /report) stores the file and leaves the chat as it is now;
it used to write the session it had read before back, which brought the /status session back
to life (the next text typed would go to the tip's officers) or overwrote the new report
(the review of 2026-12-03). Since the files on their way are kept beside the session
(storage/conversations.py `FilesOnTheirWay`), storing a file does not touch the session at all;
the file's own row goes in the storing transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from handlers.resident import evidence, status
from handlers.shared import flows
from handlers.shared.flows import ReportDraft, StatusSession
from storage.store import open_store
from storage.tips import Delivery, NewTip

USER = 4242


@pytest.mark.parametrize("meanwhile", ["forget", "report"])
async def test_a_late_file_does_not_bring_an_ended_session_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, meanwhile: str
) -> None:
    store = await open_store(tmp_path / "t.db", bytes(range(32)))
    try:
        async with store.db.transaction():
            tip, _ = await store.tips.insert(
                NewTip("drugs", None, False, {"text": "x"}), Delivery(1, ()))
        sent: list[str] = []

        class Bot:
            async def send_message(self, chat: int, body: str, **_: Any) -> None:
                sent.append(body)

        services = SimpleNamespace(store=store, config=SimpleNamespace(admin_ids=frozenset()))
        context: Any = SimpleNamespace(application=SimpleNamespace(
            bot_data={"services": services}), bot=Bot())
        received = evidence.Received(kind="document", file_id="F", file_name="a.pdf",
                                     mime_type="application/pdf", file_size=10)
        entry = {"received": received.to_json(), "n": 1, "text": ""}
        job = await status._keep_file(
            context, status._Job(b"", USER, USER, tip.tip_id, "tok", entry, "en"),
            StatusSession(step="add", tip_id=tip.tip_id))
        entered, release = asyncio.Event(), asyncio.Event()

        async def cleaned(*_: Any, **__: Any) -> dict[str, Any]:
            return {"kind": "document", "file_id": "CLEAN", "cleaned": "evidence-1.pdf"}

        async def slow_holders(*_: Any) -> list[int]:
            entered.set()
            await release.wait()
            return [7002]

        monkeypatch.setattr(evidence, "prepare", cleaned)
        monkeypatch.setattr(status, "entitled_holders", slow_holders)
        monkeypatch.setattr(status, "wake_delivery", lambda _app: None)
        person = evidence.person_of(store.keyring, USER)
        evidence.in_flight.take(person)
        evidence.running.add(job.running_key)
        task = asyncio.create_task(status._clean_addition(context, job, person))
        await entered.wait()  # the file is being stored: the resident acts meanwhile
        if meanwhile == "forget":
            await flows.end(context, USER)
        else:
            await flows.begin(context, USER, ReportDraft())
        release.set()
        await task
        now = await flows.current(context, USER)
        if meanwhile == "forget":
            assert now is None
        else:
            assert isinstance(now, ReportDraft)
        thread = await store.tips.thread(tip.tip_id)
        assert [m.body["attachments"][0]["file_id"] for m in thread] == ["CLEAN"]
        assert len(sent) == 1  # the resident is told the file went
        assert await store.conversations.files.all() == []  # no longer on its way
    finally:
        await store.close()
