"""A resident's evidence file on its way to the officers: fetched, cleaned, uploaded again.

Documents, audio, videos and animations can carry who made them (the file name, EXIF GPS and
camera serials, PDF and Office authors, audio tags, video locations). The bot downloads each
(getFile: at most 20 MB), cleans it with `evidence.clean` in a worker thread, names it
`evidence-N.ext` and uploads the clean copy once, into the resident's own chat as "your
cleaned copy" (they see exactly what officers will get); the copy's file id is what the tip
keeps, and officers are sent that. Photos (Telegram encodes them again and drops EXIF), voice
notes and video notes (recorded in Telegram) go as they are.

A file's bytes are in memory only while it holds one of `PARALLEL_CLEANINGS` slots, from its
download to its upload (`Slots`), so files waiting for their turn hold no memory. A slot set
free goes to the waiting person holding the fewest slots, so one person's many files cannot keep
another resident's waiting behind all of them; and a person has at most `IN_FLIGHT_PER_PERSON`
files on their way at once (`InFlight`): a report keeps the rest in its draft until one is done,
/status refuses the rest with a kind answer. Both count a person by the keyed hash of their
conversation (`person_of`), in memory only.

This module knows Telegram and files, not drafts or tips: the report and /status flows decide
what to keep (handlers/resident/report.py, handlers/resident/status.py). Logs say what
happened to a file (its format, never its name, id or content).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, TelegramError

from evidence.clean import (
    EMBEDDED,
    ENCRYPTED,
    MACROS,
    MAX_BYTES,
    NO_FFMPEG,
    TOO_LARGE,
    TOO_SLOW,
    UNKNOWN_TYPE,
    CannotClean,
)
from evidence.isolated import clean_elsewhere
from storage.keyring import KeyPurpose, Keyring
from texts.catalog import Html, file_kind_label, plain, text

log = logging.getLogger(__name__)

#: Message kinds downloaded and cleaned (animation first: a GIF also has `document` set).
CLEANED_KINDS = ("animation", "video", "audio", "document")
#: A reason of our own, next to evidence.clean.REASONS: Telegram could not give or take it.
NOT_FETCHED = "not_fetched"
#: Files fetched, cleaned and uploaded at once, all residents together: each holds its bytes
#: (up to 20 MB) two or three times in memory, from its download to its upload.
PARALLEL_CLEANINGS = 2
#: Files one person may have on their way at once (waiting for a slot or in one).
IN_FLIGHT_PER_PERSON = 3
DOWNLOAD_TIMEOUT = 120.0
UPLOAD_TIMEOUT = 180.0

_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
#: Jobs alive in this process (tokens only), so a flow can restart those a restart cut off.
running: set[str] = set()
#: The cleaning tasks under way, by person (the keyed hash, as `in_flight`): `/forget` stops
#: theirs, so no copy is uploaded into the chat and nothing said there after its answer.
_cleanings: dict[bytes, set[asyncio.Task[Any]]] = {}
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")


@contextlib.asynccontextmanager
async def user_lock(user_id: int) -> AsyncIterator[None]:
    """One change of a user's draft at a time: a handler's, or a finished cleaning's.

    The key stays in memory only, for as long as someone holds the lock.
    """
    lock = _locks.get(user_id)
    if lock is None:
        lock = asyncio.Lock()
        _locks[user_id] = lock
    async with lock:
        yield


def person_of(keyring: Keyring, user_id: int) -> bytes:
    """Whom a file belongs to, for the limits here: the keyed hash that finds their
    conversation (storage/conversations.py), never the Telegram id."""
    return keyring.pseudonym(KeyPurpose.CONVERSATION, user_id)


class InFlight:
    """How many files each person has on their way (waiting for a slot or in one): counted when
    a flow starts a file's task, given back when that task ends. In memory only, by `person_of`;
    the flows check `count` against IN_FLIGHT_PER_PERSON before they start one. `Slots` counts
    the slots each person holds with one too."""

    def __init__(self) -> None:
        self._counts: dict[bytes, int] = {}

    def count(self, person: bytes) -> int:
        return self._counts.get(person, 0)

    def take(self, person: bytes) -> None:
        self._counts[person] = self._counts.get(person, 0) + 1

    def give_back(self, person: bytes) -> None:
        left = self._counts.get(person, 0) - 1
        if left > 0:
            self._counts[person] = left
        else:
            self._counts.pop(person, None)

    def total(self) -> int:
        """Everyone's together."""
        return sum(self._counts.values())


class Slots:
    """`size` slots for the work that holds a file's bytes: its download, cleaning and upload.

    A slot set free goes to the waiting person who holds the fewest slots, the one who waited
    longest among them: a resident's file waits for the end of one file in a slot, not for a
    flooder's whole queue. Waiting costs no memory (nothing is downloaded yet) and no handler
    waits here: only the files' background tasks do.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._held = InFlight()
        self._waiting: list[tuple[int, bytes, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    def held(self, person: bytes) -> int:
        return self._held.count(person)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @contextlib.asynccontextmanager
    async def slot(self, person: bytes) -> AsyncIterator[None]:
        await self._take(person)
        try:
            yield
        finally:
            self._give_back(person)

    def _busy(self) -> int:
        return self._held.total()

    async def _take(self, person: bytes) -> None:
        if not self._waiting and self._busy() < self.size:
            self._held.take(person)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (next(self._arrivals), person, future)
        self._waiting.append(entry)
        try:
            await future
        except asyncio.CancelledError:
            if entry in self._waiting:
                self._waiting.remove(entry)
            elif future.done() and not future.cancelled():
                self._give_back(person)  # handed a slot at the moment it was cancelled
            raise

    def _give_back(self, person: bytes) -> None:
        self._held.give_back(person)
        while self._waiting and self._busy() < self.size:
            entry = min(self._waiting, key=lambda e: (self.held(e[1]), e[0]))
            self._waiting.remove(entry)
            _, waiter, future = entry
            if future.done():
                continue  # cancelled while waiting
            self._held.take(waiter)
            future.set_result(None)


slots = Slots(PARALLEL_CLEANINGS)
in_flight = InFlight()


@dataclass(frozen=True)
class Received:
    """A file as the resident sent it (kept, encrypted in a draft, only until it is cleaned)."""

    kind: str
    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Received:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def received_file(message: Message) -> Received | None:
    """The message's document, audio, video or animation, if it has one."""
    for kind in CLEANED_KINDS:
        media = getattr(message, kind, None)
        if media is not None:
            return Received(
                kind=kind,
                file_id=media.file_id,
                file_name=getattr(media, "file_name", None),
                mime_type=getattr(media, "mime_type", None),
                file_size=media.file_size,
                width=getattr(media, "width", None),
                height=getattr(media, "height", None),
                duration=int(media.duration.total_seconds())
                if hasattr(getattr(media, "duration", None), "total_seconds")
                else getattr(media, "duration", None),
            )
    return None


def evidence_name(number: int, extension: str) -> str:
    return f"evidence-{number}.{extension}"


def original_extension(received: Received) -> str:
    """The extension a file sent as it is keeps (only a short, plain one), else `bin`."""
    name = (received.file_name or "").lower()
    extension = name.rsplit(".", 1)[1] if "." in name else ""
    return extension if _EXTENSION.fullmatch(extension) else "bin"


def track(person: bytes, task: asyncio.Task[Any]) -> None:
    """Remember `task` as one of `person`'s cleanings until it ends."""
    _cleanings.setdefault(person, set()).add(task)

    def ended(done: asyncio.Task[Any]) -> None:
        tasks = _cleanings.get(person)
        if tasks is not None:
            tasks.discard(done)
            if not tasks:
                del _cleanings[person]

    task.add_done_callback(ended)


def stop_cleanings(person: bytes) -> int:
    """Cancel `person`'s cleanings under way (`/forget`, under the user's lock); how many. A
    cleaning's child process is killed with it (evidence/isolated.py); an upload already
    handed to Telegram may still arrive."""
    tasks = list(_cleanings.get(person, ()))
    for task in tasks:
        task.cancel()
    return len(tasks)


async def download(bot: Bot, received: Received) -> bytes:
    """The file's bytes; CannotClean(TOO_LARGE) past the Bot API's 20 MB, or NOT_FETCHED."""
    if received.file_size is not None and received.file_size > MAX_BYTES:
        raise CannotClean(TOO_LARGE)
    try:
        file = await bot.get_file(received.file_id)
        if file.file_size is not None and file.file_size > MAX_BYTES:
            raise CannotClean(TOO_LARGE)
        return bytes(await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT))
    except BadRequest as error:
        if "too big" in str(error).lower():
            raise CannotClean(TOO_LARGE) from error
        raise CannotClean(NOT_FETCHED) from error
    except TelegramError as error:
        raise CannotClean(NOT_FETCHED) from error


async def cleaned_copy(bot: Bot, received: Received) -> tuple[bytes, str]:
    """Download and clean: (bytes, extension), or CannotClean with the reason."""
    data = await download(bot, received)
    result = await clean_elsewhere(data, received.file_name, received.mime_type)
    log.info("evidence: a %s file cleaned (%s KB)", result.fmt, len(result.data) // 1024)
    return result.data, result.extension


async def upload(
    bot: Bot,
    chat_id: int,
    received: Received,
    data: bytes,
    name: str,
    caption: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> dict[str, Any]:
    """Upload the copy into `chat_id` once; the attachment {kind, file_id} that the tip keeps.

    Telegram plays MP4 videos and animations and shows MP3/M4A as music; anything else goes
    as a document. The kind recorded is the one Telegram answered with, so sending it again
    by file id uses the matching method.
    """
    extension = name.rsplit(".", 1)[-1]
    common: dict[str, Any] = {
        "caption": caption,
        "reply_markup": reply_markup,
        "filename": name,
        "write_timeout": UPLOAD_TIMEOUT,
        "read_timeout": UPLOAD_TIMEOUT,
    }
    if received.kind == "video" and extension == "mp4":
        sent = await bot.send_video(
            chat_id, data, width=received.width, height=received.height,
            duration=received.duration, supports_streaming=True, **common,
        )
    elif received.kind == "animation" and extension == "mp4":
        sent = await bot.send_animation(
            chat_id, data, width=received.width, height=received.height,
            duration=received.duration, **common,
        )
    elif received.kind == "audio" and extension in ("mp3", "m4a"):
        sent = await bot.send_audio(chat_id, data, duration=received.duration, **common)
    else:
        sent = await bot.send_document(chat_id, data, **common)
    for kind in ("animation", "video", "audio", "document"):
        media = getattr(sent, kind, None)
        if media is not None:
            return {"kind": kind, "file_id": media.file_id}
    raise CannotClean(NOT_FETCHED)  # Telegram answered without the file: treat as not taken


async def prepare(
    bot: Bot,
    chat_id: int,
    received: Received,
    number: int,
    language: str,
    *,
    person: bytes,
    as_it_is: bool = False,
    reply_markup: InlineKeyboardMarkup | None = None,
    caption_suffix: str = "",
) -> dict[str, Any]:
    """The attachment to keep for `received`: its clean copy, uploaded to the resident.

    `as_it_is` (the resident's choice for a file that cannot be cleaned): the bytes are
    uploaded unchanged under the neutral name when they can be fetched, else the original
    file id is kept. Raises CannotClean when cleaning was asked and is not possible. Waits
    for one of the slots (`slots`, fair between persons) first and holds it to the end.
    """
    async with slots.slot(person):
        return await _prepare(bot, chat_id, received, number, language, as_it_is=as_it_is,
                              reply_markup=reply_markup, caption_suffix=caption_suffix)


async def _prepare(
    bot: Bot,
    chat_id: int,
    received: Received,
    number: int,
    language: str,
    *,
    as_it_is: bool,
    reply_markup: InlineKeyboardMarkup | None,
    caption_suffix: str,
) -> dict[str, Any]:
    if as_it_is:
        try:
            data = await download(bot, received)
        except CannotClean:
            return {"kind": received.kind, "file_id": received.file_id, "as_is": True}
        name = evidence_name(number, original_extension(received))
        caption = _with_suffix(text(language, "evidence_copy_as_is", name=name), caption_suffix)
        try:
            attachment = await upload(bot, chat_id, received, data, name, caption, reply_markup)
        except (TelegramError, CannotClean):
            return {"kind": received.kind, "file_id": received.file_id, "as_is": True}
        return {**attachment, "as_is": True, "name": name}
    data, extension = await cleaned_copy(bot, received)
    name = evidence_name(number, extension)
    caption = _with_suffix(text(language, "evidence_copy_cleaned", name=name), caption_suffix)
    try:
        attachment = await upload(bot, chat_id, received, data, name, caption, reply_markup)
    except TelegramError as error:
        raise CannotClean(NOT_FETCHED) from error
    return {**attachment, "cleaned": name}


def _with_suffix(caption: Html, suffix: str) -> Html:
    return Html(caption + "\n\n" + suffix) if suffix else caption


def reason_text(language: str, reason: str) -> str:
    """Why a file could not be cleaned, as the resident reads it."""
    for known, key in (
        (UNKNOWN_TYPE, "evidence_reason_unknown_type"),
        (TOO_LARGE, "evidence_reason_too_large"),
        (NO_FFMPEG, "evidence_reason_no_ffmpeg"),
        (ENCRYPTED, "evidence_reason_encrypted"),
        (MACROS, "evidence_reason_macros"),
        (EMBEDDED, "evidence_reason_embedded"),
        (NOT_FETCHED, "evidence_reason_not_fetched"),
        (TOO_SLOW, "evidence_reason_too_slow"),
    ):
        if reason == known:
            return plain(language, key)
    return plain(language, "evidence_reason_unreadable")


def cannot_clean_text(language: str, number: int, received: Received, reason: str) -> Html:
    return text(
        language,
        "evidence_cannot_clean",
        number=number,
        name=received.file_name or file_kind_label(language, received.kind),
        reason=reason_text(language, reason),
    )


def attachment_line(language: str, attachment: Mapping[str, Any]) -> Html:
    """One line of the summary: what will reach officers for this file."""
    if attachment.get("cleaned"):
        return text(language, "evidence_line_cleaned", name=attachment["cleaned"])
    if attachment.get("as_is"):
        return text(language, "evidence_line_as_is",
                    name=attachment.get("name") or plain(language, "file_kind_document"))
    if attachment.get("pending"):
        return text(language, "evidence_line_pending", number=attachment.get("n", "?"))
    if attachment.get("undecided"):
        return text(language, "evidence_line_undecided", number=attachment.get("n", "?"))
    kind = file_kind_label(language, attachment.get("kind", ""))
    return text(language, "evidence_line_media", kind=kind)
