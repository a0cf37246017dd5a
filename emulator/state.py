"""Plain data kept by the emulator: users, chats, stored messages and recorded calls.

Everything here is mutated only under the emulator's lock; what leaves the emulator (to tests,
to the control API) are copies: :class:`ChatMessage` snapshots and :class:`CallRecord`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .spec import Upload

__all__ = ["MEDIA_KEYS", "CallRecord", "ChatInfo", "ChatMessage", "StoredMessage", "UserInfo"]

# Message fields that carry the "content" of a message, in the order used to name its kind.
MEDIA_KEYS = (
    "animation",
    "photo",
    "video",
    "voice",
    "audio",
    "video_note",
    "sticker",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)


@dataclass
class UserInfo:
    """A Telegram user the test created; ``started`` = has written to the bot in private."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    started: bool = False
    blocked: bool = False

    def to_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass
class ChatInfo:
    """A chat; for ``private`` chats ``id`` equals the user's id."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    members: set[int] = field(default_factory=set)
    bot_admin: bool = False
    bot_removed: bool = False
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None

    def to_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value:
                chat[key] = value
        return chat

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")


@dataclass
class StoredMessage:
    """A message as it currently is (after edits); ``data`` is the Bot API Message object."""

    chat_id: int
    message_id: int
    from_bot: bool
    data: dict[str, Any]
    method: str | None = None
    deleted: bool = False
    edited: bool = False
    versions: list[dict[str, Any]] = field(default_factory=list)

    def snapshot(self) -> ChatMessage:
        data = copy.deepcopy(self.data)
        kind = next((k for k in MEDIA_KEYS if k in data), None)
        file_id = None
        if kind == "photo":
            file_id = data["photo"][-1]["file_id"]
        elif kind and isinstance(data[kind], dict):
            file_id = data[kind].get("file_id")
        text = data.get("text", data.get("caption"))
        entities = data.get("entities", data.get("caption_entities", []))
        return ChatMessage(
            chat_id=self.chat_id,
            message_id=self.message_id,
            from_bot=self.from_bot,
            text=text,
            entities=entities,
            reply_markup=data.get("reply_markup"),
            deleted=self.deleted,
            edited=self.edited,
            media_kind=kind,
            file_id=file_id,
            location=data.get("location"),
            media_group_id=data.get("media_group_id"),
            method=self.method,
            raw=data,
        )


@dataclass(frozen=True)
class ChatMessage:
    """Immutable view of a message for tests: text/caption after edits, keyboard, deletion."""

    chat_id: int
    message_id: int
    from_bot: bool
    text: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    deleted: bool
    edited: bool
    media_kind: str | None
    file_id: str | None
    location: dict[str, Any] | None
    media_group_id: str | None
    method: str | None
    raw: dict[str, Any]

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """Inline keyboard rows (empty when the message has none)."""
        return list((self.reply_markup or {}).get("inline_keyboard", []))

    def button_texts(self) -> list[str]:
        return [b.get("text", "") for row in self.buttons for b in row]

    def callback_data(self) -> list[str]:
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]

    def find_button(self, text: str) -> dict[str, Any] | None:
        return next((b for row in self.buttons for b in row if b.get("text") == text), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "text": self.text,
            "entities": self.entities,
            "reply_markup": self.reply_markup,
            "deleted": self.deleted,
            "edited": self.edited,
            "media_kind": self.media_kind,
            "file_id": self.file_id,
            "location": self.location,
            "media_group_id": self.media_group_id,
            "method": self.method,
            "raw": self.raw,
        }


def json_safe(value: Any) -> Any:
    """Replace uploads by a short description so params can be serialized."""
    if isinstance(value, Upload):
        return {
            "upload": value.filename,
            "content_type": value.content_type,
            "size": len(value.data),
        }
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


@dataclass
class CallRecord:
    """One Bot API request as the emulator saw and answered it."""

    seq: int
    method: str
    params: dict[str, Any]
    chat_id: int | str | None
    time: float
    clock: float
    ok: bool = False
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    fault: str | None = None
    rate_limited: bool = False
    retry_after: int | None = None
    attachments: dict[str, Upload] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "params": json_safe(self.params),
            "chat_id": self.chat_id,
            "time": self.time,
            "ok": self.ok,
            "result": self.result,
            "error_code": self.error_code,
            "description": self.description,
            "fault": self.fault,
            "rate_limited": self.rate_limited,
            "retry_after": self.retry_after,
        }

    def fingerprint(self) -> tuple[str, str]:
        """Identity of a call for "was this 429 retried?" (upload names are random)."""
        params = _mask_attach(json_safe(self.params))
        return self.method, repr(sorted(params.items(), key=lambda kv: kv[0]))


def _mask_attach(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("attach://"):
        return "attach://*"
    if isinstance(value, dict):
        return {k: _mask_attach(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_attach(v) for v in value]
    return value
