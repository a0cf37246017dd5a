"""The user side: what emulated people do (send, edit, click) and handles to drive them.

All methods are synchronous and thread-safe, so tests can drive a bot that runs in another
thread or process. Every action produces the Update Telegram would deliver to the bot.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from typing import TYPE_CHECKING, Any

from .files import FileStore
from .formatting import detect_entities, utf16_len
from .state import ChatInfo, ChatMessage, StoredMessage, UserInfo

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from .core import Emulator

__all__ = ["ChatHandle", "DriverMixin", "UserHandle"]

# Tiny valid files used when a test does not care about the content.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)
_poll_ids = itertools.count(5_000_000_000)


class DriverMixin:
    """User actions; state attributes live on :class:`Emulator`."""

    _lock: threading.RLock
    _users: dict[int, UserInfo]
    _chats: dict[int, ChatInfo]
    _messages: dict[int, dict[int, StoredMessage]]
    _files: FileStore
    _callbacks: dict[str, dict[str, Any]]
    _callback_counter: itertools.count
    bot_username: str
    clock: Callable[[], float]
    now: Callable[[], int]
    _emit: Callable[..., None]
    _push_update: Callable[[str, dict[str, Any]], int]
    _next_message_id: Callable[[ChatInfo], int]

    def _user_chat(self, user_id: int, chat_id: int | None) -> tuple[UserInfo, ChatInfo]:
        user = self._users.get(user_id)
        if user is None:
            raise KeyError(f"unknown user {user_id}; create it with emu.user(...)")
        chat = self._chats.get(user_id if chat_id is None else chat_id)
        if chat is None:
            raise KeyError(f"unknown chat {chat_id}")
        if chat.type == "private":
            if chat.id != user_id:
                raise ValueError("a user can only write to the bot in their own private chat")
            user.started = True
            user.blocked = False  # writing to a bot you blocked unblocks it
        else:
            chat.members.add(user_id)
        return user, chat

    def user_send(
        self,
        user_id: int,
        content: dict[str, Any],
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """Deliver a message from a user (``content``: Bot API Message fields); returns it."""
        with self._lock:
            user, chat = self._user_chat(user_id, chat_id)
            data: dict[str, Any] = {
                "message_id": self._next_message_id(chat),
                "from": user.to_user(),
                "date": self.now(),
                "chat": chat.to_chat(),
            }
            if reply_to is not None:
                target = self._messages.get(chat.id, {}).get(reply_to)
                if target is None:
                    raise KeyError(f"no message {reply_to} in chat {chat.id}")
                replied = copy.deepcopy(target.data)
                replied.pop("reply_to_message", None)
                data["reply_to_message"] = replied
            data.update(copy.deepcopy(content))
            stored = StoredMessage(chat.id, data["message_id"], False, data)
            self._messages.setdefault(chat.id, {})[stored.message_id] = stored
            self._push_update("message", data)
            self._emit("user_message", chat.id, stored)
            return copy.deepcopy(data)

    def user_edit(
        self, user_id: int, message_id: int, text: str, chat_id: int | None = None
    ) -> dict[str, Any]:
        """The user edits an earlier text (or caption) message: an edited_message update."""
        with self._lock:
            _user, chat = self._user_chat(user_id, chat_id)
            stored = self._messages.get(chat.id, {}).get(message_id)
            if stored is None or stored.from_bot or stored.data["from"]["id"] != user_id:
                raise KeyError(f"user {user_id} has no message {message_id} in chat {chat.id}")
            stored.versions.append(copy.deepcopy(stored.data))
            key = "text" if "text" in stored.data else "caption"
            ent_key = "entities" if key == "text" else "caption_entities"
            stored.data[key] = text
            stored.data.pop(ent_key, None)
            ents = detect_entities(text, [])
            if ents:
                stored.data[ent_key] = ents
            stored.data["edit_date"] = self.now()
            stored.edited = True
            self._push_update("edited_message", stored.data)
            self._emit("user_edit", chat.id, stored)
            return copy.deepcopy(stored.data)

    def user_click(
        self,
        user_id: int,
        message_id: int,
        data: str,
        chat_id: int | None = None,
        verify: bool = True,
    ) -> str:
        """Press an inline button: a callback_query update; returns the query id.

        With ``verify=False`` any ``data`` is sent, even if the keyboard has no such button
        (forged callback data, as a malicious client could send).
        """
        with self._lock:
            user, chat = self._user_chat(user_id, chat_id)
            stored = self._messages.get(chat.id, {}).get(message_id)
            if stored is None or stored.deleted:
                raise KeyError(f"no message {message_id} in chat {chat.id}")
            if verify and data not in stored.snapshot().callback_data():
                raise LookupError(f"message {message_id} has no button with callback_data {data!r}")
            query_id = str(4_000_000_000_000 + next(self._callback_counter))
            instance = hashlib.sha256(f"{chat.id}".encode()).hexdigest()[:16]
            query = {
                "id": query_id,
                "from": user.to_user(),
                "message": copy.deepcopy(stored.data),
                "chat_instance": str(int(instance, 16)),
                "data": data,
            }
            self._callbacks[query_id] = {
                "created": self.clock(),
                "answer": None,
                "chat_id": chat.id,
                "message_id": message_id,
                "user_id": user_id,
                "data": data,
            }
            self._push_update("callback_query", query)
            self._emit("click", chat.id, None, callback_query_id=query_id, data=data,
                       message_id=message_id, user_id=user_id)  # fmt: skip
            return query_id

    def user_click_text(self, user_id: int, text: str, chat_id: int | None = None) -> str:
        """Press the button labelled ``text`` on the latest bot message showing it."""
        with self._lock:
            cid = user_id if chat_id is None else chat_id
            stored = sorted(
                self._messages.get(cid, {}).values(), key=lambda m: m.message_id, reverse=True
            )
            for msg in stored:
                if not msg.from_bot or msg.deleted:
                    continue
                button = msg.snapshot().find_button(text)
                if button is None:
                    continue
                if "callback_data" not in button:
                    raise LookupError(f"button {text!r} is not a callback button: {button}")
                return self.user_click(user_id, msg.message_id, button["callback_data"], chat_id)
            raise LookupError(f"no bot message in chat {cid} has a button {text!r}")

    def user_file(
        self,
        kind: str,
        data: bytes,
        file_name: str | None = None,
        mime_type: str | None = None,
        **dims: Any,
    ) -> dict[str, Any]:
        """Store bytes a user sends and return the message content for them."""
        with self._lock:
            stored = self._files.add(kind, data, file_name=file_name, mime_type=mime_type, **dims)
            if kind == "photo":
                return {"photo": self._files.photo_sizes(stored)}
            obj = stored.as_object()
            if kind == "animation":
                return {"animation": obj, "document": stored.as_document()}
            return {kind: obj}


def _with_caption(content: dict[str, Any], caption: str | None) -> dict[str, Any]:
    if caption:
        content["caption"] = caption
        ents = detect_entities(caption, [])
        if ents:
            content["caption_entities"] = ents
    return content


def _chat_id(chat: ChatHandle | int | None) -> int | None:
    return chat.id if isinstance(chat, ChatHandle) else chat


class UserHandle:
    """An emulated Telegram user. ``chat`` arguments default to the private chat with the bot."""

    def __init__(self, emulator: Emulator, user_id: int) -> None:
        self.emu = emulator
        self.id = user_id

    def __repr__(self) -> str:
        return f"UserHandle({self.id})"

    @property
    def chat_id(self) -> int:
        return self.id

    @property
    def info(self) -> UserInfo:
        with self.emu._lock:
            return copy.copy(self.emu._users[self.id])

    def send_text(
        self, text: str, chat: ChatHandle | int | None = None, reply_to: int | None = None
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        ents = detect_entities(text, [])
        if ents:
            content["entities"] = ents
        return self.emu.user_send(self.id, content, _chat_id(chat), reply_to)

    def send_command(
        self, command: str, args: str | None = None, chat: ChatHandle | int | None = None
    ) -> dict[str, Any]:
        """``/start payload`` with a bot_command entity (``@botname`` appended in groups)."""
        cmd = command if command.startswith("/") else f"/{command}"
        cid = _chat_id(chat)
        if cid is not None and cid != self.id and "@" not in cmd:
            cmd = f"{cmd}@{self.emu.bot_username}"
        text = cmd if not args else f"{cmd} {args}"
        entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(cmd)}]
        rest = detect_entities(text, [])
        entities += [e for e in rest if e["offset"] >= utf16_len(cmd)]
        return self.emu.user_send(self.id, {"text": text, "entities": entities}, cid)

    def send_photo(
        self,
        data: bytes = PNG_1X1,
        caption: str | None = None,
        chat: ChatHandle | int | None = None,
    ) -> dict[str, Any]:
        content = _with_caption(self.emu.user_file("photo", data), caption)
        return self.emu.user_send(self.id, content, _chat_id(chat))

    def send_document(
        self,
        data: bytes = b"%PDF-1.4\n%emulator\n",
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        chat: ChatHandle | int | None = None,
    ) -> dict[str, Any]:
        content = self.emu.user_file("document", data, file_name, mime_type)
        return self.emu.user_send(self.id, _with_caption(content, caption), _chat_id(chat))

    def send_video(
        self,
        data: bytes = b"\x00\x00\x00\x18ftypmp42emulator",
        caption: str | None = None,
        duration: int = 3,
        chat: ChatHandle | int | None = None,
        file_name: str = "video.mp4",
        mime_type: str = "video/mp4",
    ) -> dict[str, Any]:
        content = self.emu.user_file(
            "video", data, file_name, mime_type, width=640, height=360, duration=duration
        )
        return self.emu.user_send(self.id, _with_caption(content, caption), _chat_id(chat))

    def send_animation(
        self,
        data: bytes = b"GIF89a\x01\x00\x01\x00emulator",
        caption: str | None = None,
        chat: ChatHandle | int | None = None,
    ) -> dict[str, Any]:
        content = self.emu.user_file("animation", data, "animation.mp4", "video/mp4", duration=1)
        return self.emu.user_send(self.id, _with_caption(content, caption), _chat_id(chat))

    def send_voice(
        self,
        data: bytes = b"OggS\x00emulator-voice",
        duration: int = 2,
        chat: ChatHandle | int | None = None,
    ) -> dict[str, Any]:
        content = self.emu.user_file("voice", data, None, "audio/ogg", duration=duration)
        return self.emu.user_send(self.id, content, _chat_id(chat))

    def send_audio(
        self,
        data: bytes = b"ID3emulator-audio",
        file_name: str = "audio.mp3",
        duration: int = 5,
        chat: ChatHandle | int | None = None,
        mime_type: str = "audio/mpeg",
    ) -> dict[str, Any]:
        content = self.emu.user_file("audio", data, file_name, mime_type, duration=duration)
        return self.emu.user_send(self.id, content, _chat_id(chat))

    def send_video_note(
        self,
        data: bytes = b"\x00\x00\x00\x18ftypmp42emulator-round",
        duration: int = 4,
        length: int = 240,
        chat: ChatHandle | int | None = None,
    ) -> dict[str, Any]:
        """A round video message (recorded in Telegram: no file name, no MIME type)."""
        content = self.emu.user_file("video_note", data, width=length, duration=duration)
        return self.emu.user_send(self.id, content, _chat_id(chat))

    def send_sticker(
        self, emoji: str = "👍", chat: ChatHandle | int | None = None
    ) -> dict[str, Any]:
        content = self.emu.user_file("sticker", b"RIFF\x00\x00\x00\x00WEBPemulator")
        content["sticker"]["emoji"] = emoji
        return self.emu.user_send(self.id, content, _chat_id(chat))

    def send_location(
        self, latitude: float, longitude: float, chat: ChatHandle | int | None = None
    ) -> dict[str, Any]:
        location = {"latitude": latitude, "longitude": longitude}
        return self.emu.user_send(self.id, {"location": location}, _chat_id(chat))

    def send_contact(
        self,
        phone_number: str,
        first_name: str,
        user_id: int | None = None,
        chat: ChatHandle | int | None = None,
    ) -> dict[str, Any]:
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if user_id is not None:
            contact["user_id"] = user_id
        return self.emu.user_send(self.id, {"contact": contact}, _chat_id(chat))

    def send_poll(
        self, question: str, options: list[str], chat: ChatHandle | int | None = None
    ) -> dict[str, Any]:
        poll = {
            "id": str(next(_poll_ids)),
            "question": question,
            "options": [
                {"persistent_id": str(i), "text": o, "voter_count": 0}
                for i, o in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        return self.emu.user_send(self.id, {"poll": poll}, _chat_id(chat))

    def send_content(
        self, content: dict[str, Any], chat: ChatHandle | int | None = None
    ) -> dict[str, Any]:
        """Send arbitrary Message fields (escape hatch for kinds without a helper)."""
        return self.emu.user_send(self.id, content, _chat_id(chat))

    def edit_text(
        self, message_id: int, text: str, chat: ChatHandle | int | None = None
    ) -> dict[str, Any]:
        return self.emu.user_edit(self.id, message_id, text, _chat_id(chat))

    def click(
        self, message_id: int, callback_data: str, chat: ChatHandle | int | None = None
    ) -> str:
        """Press the button carrying ``callback_data`` (must exist on the message)."""
        return self.emu.user_click(self.id, message_id, callback_data, _chat_id(chat))

    def click_data(self, message_id: int, data: str, chat: ChatHandle | int | None = None) -> str:
        """Send a callback query with arbitrary (possibly forged) data for a message."""
        return self.emu.user_click(self.id, message_id, data, _chat_id(chat), verify=False)

    def click_text(self, text: str, chat: ChatHandle | int | None = None) -> str:
        """Press the button labelled ``text`` on the latest bot message that has it."""
        return self.emu.user_click_text(self.id, text, _chat_id(chat))

    def block(self) -> None:
        self.emu.block(self.id)

    def unblock(self) -> None:
        self.emu.unblock(self.id)

    def messages(self, include_user: bool = False) -> list[ChatMessage]:
        return self.emu.messages(self.id, include_user)

    def wait_for_message(
        self, predicate: Callable[[ChatMessage], bool] | str | None = None, timeout: float = 10.0
    ) -> ChatMessage:
        return self.emu.wait_for_message(self.id, predicate, timeout)


class ChatHandle:
    """A group, supergroup or channel created by the test."""

    def __init__(self, emulator: Emulator, chat_id: int) -> None:
        self.emu = emulator
        self.id = chat_id

    def __repr__(self) -> str:
        return f"ChatHandle({self.id})"

    def add_member(self, user: UserHandle | int) -> None:
        with self.emu._lock:
            self.emu._chats[self.id].members.add(user if isinstance(user, int) else user.id)

    def remove_bot(self) -> None:
        """The bot gets kicked: further sends answer 403."""
        with self.emu._lock:
            self.emu._chats[self.id].bot_removed = True

    def messages(self, include_user: bool = False) -> list[ChatMessage]:
        return self.emu.messages(self.id, include_user)

    def wait_for_message(
        self, predicate: Callable[[ChatMessage], bool] | str | None = None, timeout: float = 10.0
    ) -> ChatMessage:
        return self.emu.wait_for_message(self.id, predicate, timeout)
