"""One typed state per conversation flow, and the one place a conversation begins and ends.

A user is in at most one conversation (storage/conversations.py keeps it, encrypted). Its state
is one of the frozen dataclasses below, one per `Flow`; each turns into the JSON object the store
keeps with `to_json()` and back with `from_json()` (the field names are the keys drafts always
had, so a conversation saved by an earlier version loads). A step of a flow makes a new state
with `dataclasses.replace` and saves it.

`begin` starts a flow and so ends whatever the user was in the middle of (a report, a /status
session, an officer's reply...): the one rule of "one conversation at a time". The one exception
is written once too: a /status session or an answer to an officer must not throw a report being
written away (`busy_with_report`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers.shared.context import language_of, services_of
from storage.conversations import Flow, Saved
from texts.catalog import plain, text

__all__ = [
    "AgencyTransfer", "BroadcastDraft", "Flow", "OfficerReply", "OwedReceipt", "Purpose",
    "ReportDraft", "ScheduleDraft", "State", "StatusSession", "TypedDates", "begin",
    "busy_with_report", "current", "current_of", "end", "from_saved", "save",
]

#: An evidence file, a voice note or an admin's content: the JSON record the module that makes
#: it writes (handlers/resident/evidence.py, handlers/admin/broadcast.py), kept as it is.
Record = Mapping[str, Any]


class _Json:
    """`to_json` / `from_json` for a state dataclass: every field whose value is not its
    default, by its name (`_KEYS` renames one); tuples are JSON arrays."""

    flow: ClassVar[Flow]
    _KEYS: ClassVar[Mapping[str, str]] = {}
    _TUPLES: ClassVar[frozenset[str]] = frozenset()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]  # every _Json is a dataclass
            value = getattr(self, f.name)
            factory = f.default_factory
            default = f.default if factory is dataclasses.MISSING else factory()
            if value != default:
                out[self._KEYS.get(f.name, f.name)] = (
                    list(value) if isinstance(value, tuple) else value
                )
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Any:
        values = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]  # every _Json is a dataclass
            key = cls._KEYS.get(f.name, f.name)
            if key in data:
                value = data[key]
                values[f.name] = tuple(value or ()) if f.name in cls._TUPLES else value
        return cls(**values)


@dataclass(frozen=True)
class ReportDraft(_Json):
    """A resident's report being written (handlers/resident/report.py)."""

    flow: ClassVar[Flow] = Flow.REPORT
    _TUPLES: ClassVar[frozenset[str]] = frozenset({"text", "voice", "attachments"})

    step: str = "category"
    category: str | None = None
    area: str | None = None
    area_page: int = 0
    place: str | None = None
    location: Mapping[str, float] | None = None
    when: str | None = None
    text: tuple[str, ...] = ()
    voice: tuple[Record, ...] = ()
    voice_warned: bool = False
    attachments: tuple[Record, ...] = ()
    evidence_seq: int = 0
    followup: str | None = None
    campaign: str | None = None
    editing: bool = False
    choosing_edit: bool = False
    prompt_id: int | None = None
    #: The last of the resident's messages the draft took (message ids grow in a chat): an
    #: update handled again after a crash (bot/polling.py) or a webhook redelivery is not
    #: taken twice, whatever it had saved before the crash.
    last_message: int = 0


@dataclass(frozen=True)
class StatusSession(_Json):
    """`/status`: asking for the code, a tip open (its view token), or adding to it; files
    that could not be cleaned wait in `undecided` for the resident's choice, each by a token,
    with the original's file id (encrypted). Files on their way are kept beside the session
    (storage/conversations.py `FilesOnTheirWay`); `cleaning` holds them only in a session
    saved by an earlier version, moved over at the next step (handlers/resident/status.py)."""

    flow: ClassVar[Flow] = Flow.STATUS

    step: str = "code"
    tip_id: int | None = None
    view: str = ""
    evidence_seq: int | None = None
    undecided: Mapping[str, Record] = field(default_factory=dict)
    cleaning: Mapping[str, Record] = field(default_factory=dict)
    #: The last of the resident's messages taken as an addition (as ReportDraft.last_message):
    #: saved with what it added, so an update handled again after a crash is not taken twice.
    last_message: int = 0


@dataclass(frozen=True)
class OwedReceipt(_Json):
    """A tip stored whose receipt code has not reached the resident yet (never the code)."""

    flow: ClassVar[Flow] = Flow.RECEIPT

    tip_id: int
    followup: str = "anon"


@dataclass(frozen=True)
class BroadcastDraft(_Json):
    """`/broadcast`: waiting for the content, then its preview waiting for confirmation."""

    flow: ClassVar[Flow] = Flow.BROADCAST

    step: str = "content"
    token: str = ""
    content: Record | None = None


@dataclass(frozen=True)
class ScheduleDraft(_Json):
    """`/schedule`: content, frequency (weekdays or day of the month), time, confirmation."""

    flow: ClassVar[Flow] = Flow.SCHEDULE
    _TUPLES: ClassVar[frozenset[str]] = frozenset({"weekdays"})

    step: str = "content"
    content: Record | None = None
    frequency: str | None = None
    weekdays: tuple[int, ...] = ()
    day: int | None = None
    hour: int = 0
    minute: int = 0


class Purpose(StrEnum):
    """Which command asked for two typed dates."""

    STATS = "stats"
    EXPORT = "export"


@dataclass(frozen=True)
class TypedDates(_Json):
    """The next message is two dates, for `/stats` or `/export`."""

    flow: ClassVar[Flow] = Flow.DATES
    _KEYS: ClassVar[Mapping[str, str]] = {"purpose": "for"}

    purpose: Purpose

    def __post_init__(self) -> None:
        object.__setattr__(self, "purpose", Purpose(self.purpose))


@dataclass(frozen=True)
class OfficerReply(_Json):
    """An officer's next message is their reply to the resident of a tip."""

    flow: ClassVar[Flow] = Flow.REPLY

    tip_id: int


@dataclass(frozen=True)
class AgencyTransfer(_Json):
    """An officer's next message names the agency a tip is transferred to."""

    flow: ClassVar[Flow] = Flow.TRANSFER

    tip_id: int


State = (
    ReportDraft | StatusSession | OwedReceipt | BroadcastDraft | ScheduleDraft | TypedDates
    | OfficerReply | AgencyTransfer
)
_KINDS: Mapping[Flow, type[State]] = {
    kind.flow: kind
    for kind in (ReportDraft, StatusSession, OwedReceipt, BroadcastDraft, ScheduleDraft,
                 TypedDates, OfficerReply, AgencyTransfer)
}
S = TypeVar("S", bound=State)


def from_saved(saved: Saved) -> State | None:
    """The typed state of a stored conversation; None when its fields cannot make one."""
    try:
        state: State = _KINDS[saved.flow].from_json(saved.fields)
        return state
    except (TypeError, ValueError):
        return None


async def current(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> State | None:
    """The conversation `user_id` is in, or None.

    Read anew each time, never remembered for the update: a file's cleaning runs beside the
    handlers and writes the draft under the user's lock (report.py), so a reading from before
    the lock would write its result away (tests/e2e/test_evidence_files.py caught exactly that).
    """
    store = services_of(context).store.conversations
    saved = await store.load(user_id)
    if saved is None:
        return None
    state = from_saved(saved)
    if state is None:
        await store.end(user_id)
    return state


async def current_of(context: ContextTypes.DEFAULT_TYPE, user_id: int, kind: type[S]) -> S | None:
    """The conversation `user_id` is in when it is of flow `kind`, else None."""
    state = await current(context, user_id)
    return state if isinstance(state, kind) else None


async def begin(context: ContextTypes.DEFAULT_TYPE, user_id: int, state: State) -> None:
    """Start `state`'s flow: whatever the user was in the middle of ends."""
    await save(context, user_id, state)


async def save(context: ContextTypes.DEFAULT_TYPE, user_id: int, state: State) -> None:
    """Store the next step of the user's conversation (before the bot answers that step)."""
    await services_of(context).store.conversations.save(user_id, state.flow, state.to_json())


async def end(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
    """End the user's conversation, whatever it is; True if there was one."""
    return await services_of(context).store.conversations.end(user_id)


async def busy_with_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True (after saying "finish it or /cancel", with a button to continue) when the user of
    `update` is writing a report: a /status session or an answer would replace its draft."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or not isinstance(await current(context, user.id), ReportDraft):
        return False
    language = await language_of(context, user)
    await chat.send_message(
        text(language, "status_busy_with_report"),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(plain(language, "btn_continue"), callback_data="r:resume:")]]
        ),
    )
    return True
