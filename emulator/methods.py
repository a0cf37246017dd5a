"""Bot API method implementations (everything except getUpdates, which is asynchronous).

Each ``_api_<snake_name>`` method receives decoded, spec-checked parameters and runs under the
emulator lock. Checks follow Telegram's order and wording so that error handling in the bot is
exercised with the very messages it will see in production.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import TYPE_CHECKING, Any

from .errors import ApiError, bad_request, forbidden
from .files import (
    MAX_DOWNLOAD_SIZE,
    MAX_UPLOAD_SIZE,
    FileStore,
    StoredFile,
)
from .formatting import ParseError, char_len, normalize_url, parse_formatted
from .spec import Upload
from .state import MEDIA_KEYS, ChatInfo, StoredMessage, UserInfo

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from .faults import RateLimiter

__all__ = ["BotMethods", "api_attr"]

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
# Which stored file kinds a send method accepts when given an existing file_id.
COMPATIBLE_KINDS = {
    "photo": {"photo"},
    "document": {"document", "video", "animation", "audio", "voice"},
    "video": {"video", "animation"},
    "animation": {"animation", "document", "video"},
    "audio": {"audio"},
    "voice": {"voice"},
    "sticker": {"sticker"},
    "video_note": {"video_note"},
}
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


def api_attr(method: str) -> str:
    """Attribute name implementing a Bot API method: sendMessage -> _api_send_message."""
    return "_api_" + re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


class BotMethods:
    """Mixin with the Bot API surface; the state attributes live on :class:`Emulator`."""

    # Provided by Emulator.
    _lock: threading.RLock
    _users: dict[int, UserInfo]
    _chats: dict[int, ChatInfo]
    _messages: dict[int, dict[int, StoredMessage]]
    _files: FileStore
    _updates: list[dict[str, Any]]
    _callbacks: dict[str, dict[str, Any]]
    _commands: dict[tuple[str, str], list[dict[str, Any]]]
    _bot_texts: dict[tuple[str, str], str]
    _media_group_counter: int
    rate_limiter: RateLimiter
    callback_answer_timeout: float
    bot_id: int
    bot_username: str
    bot_first_name: str
    clock: Callable[[], float]
    now: Callable[[], int]
    _emit: Callable[..., None]
    _notify: Callable[[], None]
    _rate_limited_call: bool

    # ---- helpers -------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _resolve_user(self, user_id: int) -> dict[str, Any] | None:
        user = self._users.get(user_id)
        return user.to_user() if user else None

    def _resolve_chat(self, chat_id: Any) -> ChatInfo:
        if isinstance(chat_id, str):
            if chat_id.startswith("@"):
                name = chat_id[1:].lower()
                for chat in self._chats.values():
                    if chat.type != "private" and (chat.username or "").lower() == name:
                        return chat
            raise bad_request("chat not found")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _check_reachable(self, chat: ChatInfo, initiating: bool = True) -> None:
        if chat.type == "private":
            user = self._users[chat.id]
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if initiating and not user.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif chat.bot_removed:
            kind = "channel chat" if chat.type == "channel" else f"{chat.type} chat"
            raise forbidden(f"bot was kicked from the {kind}")

    def _chat_for_send(self, chat_id: Any) -> ChatInfo:
        chat = self._resolve_chat(chat_id)
        self._check_reachable(chat)
        return chat

    def _rate_check(self, chat: ChatInfo, count: int = 1) -> None:
        retry = self.rate_limiter.check(chat.id, chat.is_group, self.clock(), count)
        if retry is not None:
            self._rate_limited_call = True
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)

    def _rate_record(self, chat: ChatInfo, count: int = 1) -> None:
        self.rate_limiter.record(chat.id, chat.is_group, self.clock(), count)

    def _formatted(
        self, text: str, parse_mode: str | None, entities: Any, *, caption: bool = False
    ) -> tuple[str, list[dict[str, Any]]]:
        try:
            plain, ents = parse_formatted(text, parse_mode, entities, self._resolve_user)
        except ParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        except ValueError:
            raise bad_request("unsupported parse_mode") from None
        if caption:
            if char_len(plain) > CAPTION_LIMIT:
                raise bad_request("message caption is too long")
        else:
            if not plain:
                raise bad_request("message text is empty")
            if char_len(plain) > MESSAGE_LIMIT:
                raise bad_request("message is too long")
        return plain, ents

    def _validate_inline_keyboard(self, markup: dict[str, Any]) -> None:
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list):
            raise bad_request('can\'t parse inline keyboard: field "inline_keyboard" is missing')
        total = 0
        for row in rows:
            if not isinstance(row, list):
                raise bad_request("can't parse inline keyboard: rows must be arrays")
            if len(row) > 8:
                raise bad_request("too many buttons in a row of the inline keyboard")
            for button in row:
                total += 1
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request("can't parse inline keyboard button: Text must be non-empty")
                actions = [a for a in INLINE_ACTIONS if a in button]
                if not actions:
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if len(actions) > 1:
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        f"only one of {', '.join(actions)} can be specified"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and normalize_url(str(button["url"])) is None:
                    raise bad_request(
                        f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
                    )
        if total > 100:
            raise bad_request("reply markup is too long")

    def _markup(self, chat: ChatInfo | None, markup: Any) -> dict[str, Any] | None:
        """Validate reply_markup; returns the inline keyboard to store in the message."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._validate_inline_keyboard(markup)
            return copy.deepcopy(markup)
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not any(rows):
                raise bad_request("keyboard must be non-empty")
            for row in rows:
                for button in row:
                    text = button if isinstance(button, str) else (button or {}).get("text")
                    if not text:
                        raise bad_request("can't parse keyboard button: Text must be non-empty")
            if chat is not None:
                chat.reply_keyboard = copy.deepcopy(markup)
        elif markup.get("remove_keyboard") and chat is not None:
            chat.reply_keyboard = None
        return None

    def _reply_to(self, chat: ChatInfo, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if not reply:
            return None
        target_chat = chat
        if reply.get("chat_id") is not None:
            target_chat = self._resolve_chat(reply["chat_id"])
        stored = self._messages.get(target_chat.id, {}).get(reply.get("message_id"))
        if stored is None or stored.deleted:
            if reply.get("allow_sending_without_reply") and target_chat is chat:
                return None
            raise bad_request("message to be replied not found")
        data = copy.deepcopy(stored.data)
        data.pop("reply_to_message", None)
        return data

    def _next_message_id(self, chat: ChatInfo) -> int:
        mid = chat.next_message_id
        chat.next_message_id += 1
        return mid

    def _store_bot_message(
        self,
        chat: ChatInfo,
        content: dict[str, Any],
        params: dict[str, Any],
        method: str,
        inline_markup: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> StoredMessage:
        data: dict[str, Any] = {"message_id": self._next_message_id(chat)}
        if chat.type == "channel":
            data["sender_chat"] = chat.to_chat()
        else:
            data["from"] = self.bot_user()
        data["date"] = self.now()
        data["chat"] = chat.to_chat()
        if reply_to:
            data["reply_to_message"] = reply_to
        data.update(content)
        if params.get("protect_content"):
            data["has_protected_content"] = True
        if inline_markup:
            data["reply_markup"] = inline_markup
        stored = StoredMessage(chat.id, data["message_id"], True, data, method=method)
        self._messages.setdefault(chat.id, {})[stored.message_id] = stored
        self._emit("message", chat.id, stored)
        return stored

    def _get_message(self, chat: ChatInfo, message_id: Any) -> StoredMessage | None:
        stored = self._messages.get(chat.id, {}).get(message_id)
        return None if stored is None or stored.deleted else stored

    def _input_file(
        self, kind: str, value: Any, files: dict[str, Upload], params: dict[str, Any]
    ) -> StoredFile:
        """Resolve an InputFile-or-String parameter to a stored file (new upload or file_id)."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            value = upload
        if isinstance(value, Upload):
            if not value.data:
                raise bad_request("file must be non-empty")
            if len(value.data) > MAX_UPLOAD_SIZE:
                raise ApiError(413, "Request Entity Too Large")
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = None
            return self._files.add(
                kind,
                value.data,
                file_name=None if kind in ("photo", "sticker", "voice") else value.filename,
                mime_type=mime if kind in ("document", "video", "audio", "animation") else None,
                width=params.get("width"),
                height=params.get("height"),
                duration=params.get("duration"),
                origin="bot",
            )
        if not isinstance(value, str) or not value:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if re.match(r"https?://", value):
            raise bad_request("failed to get HTTP URL content")
        stored = self._files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind not in COMPATIBLE_KINDS.get(kind, {kind}):
            raise bad_request("type of file mismatch")
        return stored

    def _media_content(self, kind: str, stored: StoredFile, params: dict[str, Any]) -> dict:
        content: dict[str, Any] = {}
        if kind == "photo":
            content["photo"] = self._files.photo_sizes(stored)
        else:
            obj = stored.as_object()
            if kind == "audio":
                for key in ("title", "performer"):
                    if params.get(key):
                        obj[key] = params[key]
            content[kind] = obj
            if kind == "animation":
                content["document"] = stored.as_document()
        if params.get("caption"):
            caption, ents = self._formatted(
                params["caption"],
                params.get("parse_mode"),
                params.get("caption_entities"),
                caption=True,
            )
            if caption:
                content["caption"] = caption
                if ents:
                    content["caption_entities"] = ents
        if params.get("has_spoiler"):
            content["has_media_spoiler"] = True
        if params.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
        return content

    def _send_media(
        self, kind: str, params: dict[str, Any], files: dict[str, Upload]
    ) -> dict[str, Any]:
        chat = self._chat_for_send(params["chat_id"])
        markup = self._markup(chat, params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        stored_file = self._input_file(kind, params[kind], files, params)
        content = self._media_content(kind, stored_file, params)
        self._rate_check(chat)
        msg = self._store_bot_message(
            chat, content, params, f"send{kind.title().replace('_', '')}", markup, reply_to
        )
        self._rate_record(chat)
        return copy.deepcopy(msg.data)

    # ---- bot identity & settings -------------------------------------------------------

    def _api_get_me(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @staticmethod
    def _scope_key(p: dict[str, Any]) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), p.get("language_code") or ""

    def _check_language(self, p: dict[str, Any]) -> None:
        code = p.get("language_code")
        if code and not re.fullmatch(r"[a-z]{2}", code):
            raise bad_request("invalid language code specified")

    def _api_set_my_commands(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        self._check_language(p)
        commands = p["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands")
        for cmd in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", cmd.get("command", "")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(cmd.get("description", "")) <= 256:
                raise bad_request("command description must be 1-256 characters long")
        scope = p.get("scope") or {"type": "default"}
        if scope.get("chat_id") is not None:
            self._resolve_chat(scope["chat_id"])
        key = self._scope_key(p)
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    def _api_get_my_commands(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        self._check_language(p)
        return copy.deepcopy(self._commands.get(self._scope_key(p), []))

    def _api_delete_my_commands(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        self._check_language(p)
        self._commands.pop(self._scope_key(p), None)
        return True

    def _set_bot_text(self, kind: str, value: str | None, limit: int, p: dict[str, Any]) -> bool:
        self._check_language(p)
        if value and len(value) > limit:
            raise bad_request(f"bot {kind.replace('_', ' ')} is too long")
        key = (kind, p.get("language_code") or "")
        if value:
            self._bot_texts[key] = value
        else:
            self._bot_texts.pop(key, None)
        return True

    def _api_set_my_description(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._set_bot_text("description", p.get("description"), 512, p)

    def _api_set_my_short_description(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._set_bot_text("short_description", p.get("short_description"), 120, p)

    def _api_set_my_name(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._set_bot_text("name", p.get("name"), 64, p)

    def _get_bot_text(self, kind: str, p: dict[str, Any]) -> dict[str, str]:
        self._check_language(p)
        lang = p.get("language_code") or ""
        value = self._bot_texts.get((kind, lang), self._bot_texts.get((kind, ""), ""))
        if kind == "name" and not value:
            value = self.bot_first_name
        return {kind: value}

    def _api_get_my_description(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._get_bot_text("description", p)

    def _api_get_my_short_description(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._get_bot_text("short_description", p)

    def _api_get_my_name(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._get_bot_text("name", p)

    # ---- chats & files ---------------------------------------------------------------------

    def _api_get_chat(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat = self._resolve_chat(p["chat_id"])
        if chat.type == "private" and not self._users[chat.id].started:
            raise bad_request("chat not found")
        info = chat.to_chat()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return info

    def _api_send_chat_action(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(p["chat_id"])
        if p["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._emit("chat_action", chat.id, None, action=p["action"])
        return True

    def _api_get_file(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        stored = self._files.get(p["file_id"])
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.size > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        return {**stored.base(), "file_path": stored.file_path}

    # ---- sending -------------------------------------------------------------------------

    def _api_send_message(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(p["chat_id"])
        text, ents = self._formatted(p["text"], p.get("parse_mode"), p.get("entities"))
        markup = self._markup(chat, p.get("reply_markup"))
        reply_to = self._reply_to(chat, p)
        content: dict[str, Any] = {"text": text}
        if ents:
            content["entities"] = ents
        if p.get("link_preview_options"):
            content["link_preview_options"] = p["link_preview_options"]
        self._rate_check(chat)
        msg = self._store_bot_message(chat, content, p, "sendMessage", markup, reply_to)
        self._rate_record(chat)
        return copy.deepcopy(msg.data)

    def _api_send_photo(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._send_media("photo", p, files)

    def _api_send_document(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._send_media("document", p, files)

    def _api_send_video(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._send_media("video", p, files)

    def _api_send_voice(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._send_media("voice", p, files)

    def _api_send_audio(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._send_media("audio", p, files)

    def _api_send_animation(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._send_media("animation", p, files)

    def _api_send_video_note(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        # Round videos have no caption (the spec check refuses one) and no file name.
        return self._send_media("video_note", p, files)

    def _api_send_sticker(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._send_media("sticker", p, files)

    def _api_send_media_group(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(p["chat_id"])
        media = p["media"]
        if not 2 <= len(media) <= 10:
            raise bad_request("media group must include 2-10 items")
        kinds = [item.get("type") for item in media]
        for kind in kinds:
            if kind not in ("photo", "video", "document", "audio"):
                raise bad_request(f'unsupported media type "{kind}" in a media group')
        for lonely in ("document", "audio"):
            if lonely in kinds and any(k != lonely for k in kinds):
                raise bad_request(f"{lonely}s can't be mixed with other media types in an album")
        reply_to = self._reply_to(chat, p)
        contents = []
        for item in media:
            kind = item["type"]
            stored_file = self._input_file(kind, item.get("media"), files, item)
            contents.append(self._media_content(kind, stored_file, item))
        self._rate_check(chat, len(media))
        self._media_group_counter += 1
        group_id = str(13_000_000_000_000_000 + self._media_group_counter)
        results = []
        for content in contents:
            content["media_group_id"] = group_id
            msg = self._store_bot_message(chat, content, p, "sendMediaGroup", None, reply_to)
            results.append(copy.deepcopy(msg.data))
        self._rate_record(chat, len(media))
        return results

    def _api_send_location(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(p["chat_id"])
        lat, lon = p["latitude"], p["longitude"]
        if not -90 <= lat <= 90 or not -180 <= lon <= 180:
            raise bad_request("wrong latitude or longitude specified")
        markup = self._markup(chat, p.get("reply_markup"))
        reply_to = self._reply_to(chat, p)
        location: dict[str, Any] = {"latitude": lat, "longitude": lon}
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if p.get(key) is not None:
                location[key] = p[key]
        self._rate_check(chat)
        msg = self._store_bot_message(
            chat, {"location": location}, p, "sendLocation", markup, reply_to
        )
        self._rate_record(chat)
        return copy.deepcopy(msg.data)

    def _copy_content(self, source: StoredMessage) -> dict[str, Any]:
        data = source.data
        keys = (*MEDIA_KEYS, "text", "entities", "caption", "caption_entities", "has_media_spoiler")
        content = {k: copy.deepcopy(data[k]) for k in keys if k in data}
        if not any(k in content for k in (*MEDIA_KEYS, "text")):
            raise bad_request("message can't be copied")
        return content

    def _source_message(self, p: dict[str, Any], what: str) -> StoredMessage:
        from_chat = self._resolve_chat(p["from_chat_id"])
        source = self._get_message(from_chat, p["message_id"])
        if source is None:
            raise bad_request(f"message to {what} not found")
        return source

    def _api_copy_message(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(p["chat_id"])
        source = self._source_message(p, "copy")
        content = self._copy_content(source)
        if p.get("caption") is not None and "text" not in content:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            caption, ents = self._formatted(
                p["caption"], p.get("parse_mode"), p.get("caption_entities"), caption=True
            )
            if caption:
                content["caption"] = caption
                if ents:
                    content["caption_entities"] = ents
        markup = self._markup(chat, p.get("reply_markup"))
        reply_to = self._reply_to(chat, p)
        self._rate_check(chat)
        msg = self._store_bot_message(chat, content, p, "copyMessage", markup, reply_to)
        self._rate_record(chat)
        return {"message_id": msg.message_id}

    def _api_forward_message(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat = self._chat_for_send(p["chat_id"])
        source = self._source_message(p, "forward")
        content = self._copy_content(source)
        src = source.data
        if "from" in src:
            origin = {"type": "user", "sender_user": src["from"], "date": src["date"]}
        else:
            origin = {
                "type": "channel",
                "chat": src["chat"],
                "message_id": src["message_id"],
                "date": src["date"],
            }
        content["forward_origin"] = origin
        self._rate_check(chat)
        msg = self._store_bot_message(chat, content, p, "forwardMessage")
        self._rate_record(chat)
        return copy.deepcopy(msg.data)

    # ---- editing & deleting ------------------------------------------------------------

    def _message_to_edit(self, p: dict[str, Any]) -> tuple[ChatInfo, StoredMessage]:
        if p.get("inline_message_id") is not None:
            raise bad_request("MESSAGE_ID_INVALID")
        if p.get("chat_id") is None or p.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        chat = self._resolve_chat(p["chat_id"])
        self._check_reachable(chat, initiating=False)
        stored = self._get_message(chat, p["message_id"])
        if stored is None:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        return chat, stored

    def _apply_edit(
        self, stored: StoredMessage, changes: dict[str, Any], markup: dict[str, Any] | None
    ) -> dict[str, Any]:
        data = stored.data
        current = {k: data.get(k) for k in changes}
        if current == changes and data.get("reply_markup") == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        stored.versions.append(copy.deepcopy(data))
        for key, value in changes.items():
            if value in (None, []):
                data.pop(key, None)
            else:
                data[key] = value
        if markup:
            data["reply_markup"] = markup
        else:
            data.pop("reply_markup", None)
        data["edit_date"] = self.now()
        stored.edited = True
        self._emit("edit", stored.chat_id, stored)
        return copy.deepcopy(data)

    def _api_edit_message_text(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        _chat, stored = self._message_to_edit(p)
        if "text" not in stored.data:
            raise bad_request("there is no text in the message to edit")
        text, ents = self._formatted(p["text"], p.get("parse_mode"), p.get("entities"))
        markup = self._markup(None, p.get("reply_markup"))
        return self._apply_edit(stored, {"text": text, "entities": ents or None}, markup)

    def _api_edit_message_caption(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        _chat, stored = self._message_to_edit(p)
        if "text" in stored.data or not any(
            k in stored.data for k in ("photo", "video", "document", "audio", "animation", "voice")
        ):
            raise bad_request("there is no caption in the message to edit")
        caption, ents = self._formatted(
            p.get("caption") or "", p.get("parse_mode"), p.get("caption_entities"), caption=True
        )
        markup = self._markup(None, p.get("reply_markup"))
        changes = {"caption": caption or None, "caption_entities": ents or None}
        return self._apply_edit(stored, changes, markup)

    def _api_edit_message_reply_markup(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        _chat, stored = self._message_to_edit(p)
        markup = self._markup(None, p.get("reply_markup"))
        return self._apply_edit(stored, {}, markup)

    def _delete(self, chat: ChatInfo, message_id: Any) -> None:
        stored = self._get_message(chat, message_id)
        if stored is None:
            raise bad_request("message to delete not found")
        if chat.type != "private" and not stored.from_bot and not chat.bot_admin:
            raise bad_request("message can't be deleted")
        stored.deleted = True
        self._emit("delete", chat.id, stored)

    def _api_delete_message(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat = self._resolve_chat(p["chat_id"])
        self._delete(chat, p["message_id"])
        return True

    def _api_delete_messages(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat = self._resolve_chat(p["chat_id"])
        ids = p["message_ids"]
        if not 1 <= len(ids) <= 100:
            raise bad_request("too many messages to delete")
        for mid in ids:
            if self._get_message(chat, mid) is not None:
                self._delete(chat, mid)
        return True

    # ---- callbacks -----------------------------------------------------------------------

    def _api_answer_callback_query(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        query = self._callbacks.get(p["callback_query_id"])
        if (
            query is None
            or query["answer"] is not None
            or self.clock() - query["created"] > self.callback_answer_timeout
        ):
            raise bad_request(QUERY_TOO_OLD)
        text = p.get("text") or ""
        if len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        if p.get("url") and normalize_url(p["url"]) is None:
            raise bad_request("URL_INVALID")
        query["answer"] = {
            "text": text or None,
            "show_alert": bool(p.get("show_alert")),
            "url": p.get("url"),
            "cache_time": p.get("cache_time"),
            "time": time.time(),
        }
        self._emit(
            "callback_answer",
            query["chat_id"],
            None,
            callback_query_id=p["callback_query_id"],
            answer=query["answer"],
        )
        return True
