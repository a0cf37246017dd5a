"""The one conversation store and the typed state of each flow (issue 12, item 2): one
conversation per user, starting one replaces the other, every flow has a lifetime, a draft saved
by the previous version still loads, and nothing about it is in clear in the database file."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from contextlib import closing

import pytest

from handlers.conversation import ON_MESSAGE, cancelled
from handlers.shared.flows import (
    AgencyTransfer,
    BroadcastDraft,
    OfficerReply,
    OwedReceipt,
    Purpose,
    ReportDraft,
    ScheduleDraft,
    State,
    StatusSession,
    TypedDates,
    from_saved,
)
from storage.conversations import LIFETIMES, Conversations, Flow, Saved
from storage.keyring import KeyPurpose
from storage.store import Store, open_store

RESIDENT = 987_654_321
OFFICER = 7002
SECRET = "Cờ bạc ở nhà kho thôn 3, xe máy biển 81B1-23456"


async def _save(store: Store, user_id: int, state: State) -> None:
    await store.conversations.save(user_id, state.flow, state.to_json())


async def _load(store: Store, user_id: int) -> State | None:
    saved = await store.conversations.load(user_id)
    return None if saved is None else from_saved(saved)


async def test_one_conversation_per_user_and_starting_one_replaces_the_other(store) -> None:
    await _save(store, RESIDENT, ReportDraft(step="text", text=(SECRET,)))
    await _save(store, OFFICER, OfficerReply(tip_id=5))
    assert await _load(store, RESIDENT) == ReportDraft(step="text", text=(SECRET,))
    # The officer starts something else: the pending reply ends with it, in the one row.
    await _save(store, OFFICER, TypedDates(Purpose.STATS))
    assert await _load(store, OFFICER) == TypedDates(Purpose.STATS)
    await _save(store, RESIDENT, StatusSession(step="open", tip_id=7, view="abc123"))
    assert await _load(store, RESIDENT) == StatusSession(step="open", tip_id=7, view="abc123")
    rows = await store.db.fetchall("SELECT subject FROM drafts")
    assert len(rows) == 2
    assert await store.conversations.end(RESIDENT) is True
    assert await store.conversations.end(RESIDENT) is False
    assert await _load(store, RESIDENT) is None
    assert await _load(store, OFFICER) == TypedDates(Purpose.STATS)


def test_every_flow_has_a_lifetime_a_state_a_cancel_answer_and_a_message_route() -> None:
    assert set(LIFETIMES) == set(Flow)
    assert LIFETIMES[Flow.REPLY] == LIFETIMES[Flow.TRANSFER] == 15 * 60  # as staff_actions had
    for flow in Flow:
        assert cancelled("vi", flow) and cancelled("en", flow)
    # An owed receipt takes no message (the gatekeeper shows it first); every other flow does.
    assert set(ON_MESSAGE) == set(Flow) - {Flow.RECEIPT}


async def test_an_officers_pending_reply_lapses_after_its_lifetime(store) -> None:
    short = Conversations(store.db, store.keyring, {**LIFETIMES, Flow.REPLY: 0.05})
    await short.save(OFFICER, Flow.REPLY, {"tip_id": 5})
    assert await short.load(OFFICER) == Saved(Flow.REPLY, {"tip_id": 5})
    time.sleep(0.1)
    assert await short.load(OFFICER) is None
    assert not await store.db.fetchall("SELECT 1 FROM drafts")


STATES: tuple[State, ...] = (
    ReportDraft(),
    ReportDraft(
        step="summary", category="drugs", area="hong-van", area_page=1, place="chợ",
        location={"lat": 16.2, "lon": 107.1}, when="today", text=("a", "b"),
        voice=({"kind": "voice", "file_id": "V1"},), voice_warned=True,
        attachments=({"kind": "photo", "file_id": "P1", "n": 1},
                     {"kind": "document", "pending": "ab12cd34", "n": 2, "received": {}}),
        evidence_seq=2, followup="notify", campaign="tet", editing=True, choosing_edit=False,
        prompt_id=41,
    ),
    StatusSession(),
    StatusSession(step="add", tip_id=3, view="f00d", evidence_seq=4,
                  undecided={"ab12cd34": {"n": 4, "text": "x", "received": {"k": "v"}}}),
    OwedReceipt(tip_id=9, followup="notify"),
    BroadcastDraft(),
    BroadcastDraft(step="confirm", token="tok", content={"kind": "text", "texts": {"*": "hi"}}),
    ScheduleDraft(),
    ScheduleDraft(step="confirm", content={"kind": "rotation"}, frequency="weekly",
                  weekdays=(0, 3), hour=7, minute=30),
    ScheduleDraft(step="time", frequency="monthly", day=15),
    TypedDates(Purpose.STATS),
    TypedDates(Purpose.EXPORT),
    OfficerReply(tip_id=12),
    AgencyTransfer(tip_id=13),
)


@pytest.mark.parametrize("state", STATES, ids=lambda s: type(s).__name__)
async def test_every_state_round_trips_through_json_and_the_store(store, state: State) -> None:
    stored = json.loads(json.dumps(state.to_json()))
    assert "flow" not in stored
    assert from_saved(Saved(state.flow, stored)) == state
    await _save(store, RESIDENT, state)
    assert await _load(store, RESIDENT) == state


def test_the_stored_json_keeps_the_keys_drafts_always_had() -> None:
    assert TypedDates(Purpose.EXPORT).to_json() == {"for": "export"}
    assert OwedReceipt(tip_id=9).to_json() == {"tip_id": 9}
    assert StatusSession(step="code").to_json() == {}  # the default step
    assert ReportDraft(step="text", text=("x",)).to_json() == {"step": "text", "text": ["x"]}


def _old_blob(store: Store, user_id: int, envelope: dict) -> tuple[bytes, bytes]:
    """A row exactly as the previous version's storage/drafts.py `Drafts.save` wrote it."""
    subject = store.keyring.pseudonym(KeyPurpose.CONVERSATION, user_id)
    blob = store.keyring.encrypt(
        json.dumps(envelope, ensure_ascii=False), "drafts", subject.hex(), "state"
    )
    return subject, blob


OLD_REPORT = {
    "flow": "report", "step": "evidence", "attachments": [
        {"kind": "photo", "file_id": "P1", "n": 1},
        {"kind": "video", "undecided": "ab12cd34", "n": 2, "reason": "not_fetched",
         "received": {"kind": "video", "file_id": "ORIG"}},
    ],
    "text": [SECRET], "category": "theft", "area": "unsure", "place": None, "location": None,
    "when": "now", "voice": [{"kind": "voice", "file_id": "V1"}], "voice_warned": True,
    "evidence_seq": 2, "prompt_id": 17, "campaign": "tet",
}


async def test_a_report_saved_by_the_previous_version_is_kept_across_the_upgrade(store) -> None:
    envelope = {"v": 2, "until": time.time() + 3600, "state": OLD_REPORT}
    subject, blob = _old_blob(store, RESIDENT, envelope)
    await store.db.execute(
        "INSERT INTO drafts (subject, state, expires_at) VALUES (?, ?, ?)",
        (subject, blob, "2999-01-01T00:00:00+00:00"),
    )
    draft = await _load(store, RESIDENT)
    assert draft == ReportDraft(
        step="evidence", category="theft", area="unsure", when="now", text=(SECRET,),
        voice=({"kind": "voice", "file_id": "V1"},), voice_warned=True,
        attachments=tuple(OLD_REPORT["attachments"]), evidence_seq=2, prompt_id=17,
        campaign="tet",
    )
    # The resident goes on: the next step is saved in the new store and loads the same way.
    await _save(store, RESIDENT, draft)
    assert await _load(store, RESIDENT) == draft


@pytest.mark.parametrize("old, typed", [
    ({"flow": "status", "step": "open", "tip_id": 7, "view": "a1b2c3"},
     StatusSession(step="open", tip_id=7, view="a1b2c3")),
    ({"flow": "status", "step": "add", "tip_id": 7}, StatusSession(step="add", tip_id=7)),
    ({"flow": "receipt", "tip_id": 8, "followup": "anon"}, OwedReceipt(tip_id=8)),
    ({"flow": "broadcast", "step": "content"}, BroadcastDraft()),
    ({"flow": "schedule", "step": "weekdays", "frequency": "weekly", "weekdays": [1, 2]},
     ScheduleDraft(step="weekdays", frequency="weekly", weekdays=(1, 2))),
    ({"flow": "stats", "for": "export"}, TypedDates(Purpose.EXPORT)),
])
async def test_every_old_flow_loads_typed_and_a_pre_deadline_draft_too(
    store, old: dict, typed: State
) -> None:
    for user_id, envelope in ((1, {"v": 2, "until": time.time() + 60, "state": old}), (2, old)):
        subject, blob = _old_blob(store, user_id, envelope)
        await store.db.execute(
            "INSERT INTO drafts (subject, state, expires_at) VALUES (?, ?, ?)",
            (subject, blob, "2999-01-01T00:00:00+00:00"),
        )
        assert await _load(store, user_id) == typed


async def test_an_unknown_flow_is_ended_not_guessed(store) -> None:
    subject, blob = _old_blob(store, RESIDENT, {"v": 2, "until": time.time() + 60,
                                                "state": {"flow": "nonsense"}})
    await store.db.execute(
        "INSERT INTO drafts (subject, state, expires_at) VALUES (?, ?, ?)",
        (subject, blob, "2999-01-01T00:00:00+00:00"),
    )
    assert await store.conversations.load(RESIDENT) is None
    assert not await store.db.fetchall("SELECT 1 FROM drafts")


async def test_nothing_of_a_conversation_is_in_clear_in_the_database_file(tmp_path) -> None:
    path = tmp_path / "tipline.db"
    store = await open_store(path, os.urandom(32))
    try:
        await _save(store, RESIDENT, ReportDraft(step="text", text=(SECRET,), place="chợ Hồng"))
        await _save(store, OFFICER, OfficerReply(tip_id=424242))
        names = await store.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert "staff_actions" not in {r["name"] for r in names}  # migration 0011
        columns = await store.db.fetchall("PRAGMA table_info(drafts)")
        assert {c["name"] for c in columns} == {"subject", "state", "expires_at"}
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as db:
        expiries = [r[0] for r in db.execute("SELECT expires_at FROM drafts")]
        # Only the hour: no exact time of a step.
        assert all(e.endswith(":00:00+00:00") for e in expiries), expiries
        # Blobs are dumped as hex (X'...'), where a short id's digits turn up by chance (one
        # run in a few hundred for "7002"): what is searched is everything but those.
        dump = re.sub(r"X'[0-9A-F]*'", "X''", "\n".join(db.iterdump()))
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("tipline"))
    for clear in (SECRET, "chợ Hồng", str(RESIDENT), str(OFFICER), "424242", '"report"',
                  '"reply"'):
        assert clear.encode() not in raw, clear
        assert clear not in dump, clear
    # Nor as the integer SQLite would store (a small id like OFFICER's is too common a byte
    # pattern to test this way; its decimal text is checked above).
    assert RESIDENT.to_bytes(4, "big") not in raw and RESIDENT.to_bytes(8, "big") not in raw
