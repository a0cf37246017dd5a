"""JSON control API under ``/_emulator/`` so another process (the offline sandbox page) can play
the users, inspect chats and follow changes live via server-sent events.

Routes (all JSON; answers are ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": ...}``):

- ``GET  /_emulator/state``                          bot, users, chats
- ``POST /_emulator/users``                          create {user_id, first_name, username,
                                                     language_code, started}
- ``POST /_emulator/users/{id}/text``                {text, chat_id?, reply_to?}
- ``POST /_emulator/users/{id}/command``             {command, args?, chat_id?}
- ``POST /_emulator/users/{id}/photo``               {data_base64?, caption?, chat_id?}
- ``POST /_emulator/users/{id}/document``            {data_base64?, file_name?, mime_type?,
                                                     caption?, chat_id?}
- ``POST /_emulator/users/{id}/location``            {latitude, longitude, chat_id?}
- ``POST /_emulator/users/{id}/edit``                {message_id, text, chat_id?}
- ``POST /_emulator/users/{id}/click``               {message_id, callback_data} or {text}
- ``POST /_emulator/users/{id}/block`` / ``unblock``
- ``GET  /_emulator/users/{id}/commands``            the command menu the user's private chat
                                                     shows (setMyCommands scopes resolved as
                                                     Telegram does); ?language_code= overrides
                                                     the user's language
- ``GET  /_emulator/chats/{chat_id}/messages``       ?include_user=0 to hide user messages
- ``GET  /_emulator/callbacks/{query_id}``           the bot's answer (or null)
- ``GET  /_emulator/files/{file_id}``                raw bytes
- ``GET  /_emulator/calls``                          ?method=&chat_id=
- ``GET  /_emulator/spec_violations``
- ``POST /_emulator/faults`` {kind, method?, chat_id?, probability?, times?, retry_after?,
  delay?}; ``DELETE /_emulator/faults``
- ``GET  /_emulator/webhook``                        getWebhookInfo, the targets and the number
                                                     of delivery attempts
- ``POST /_emulator/webhook`` {targets?, spread?, timeout?, retry_first?, retry_max?,
  lose_answers?}: spread updates over several addresses as a reverse proxy would ("round-robin"
  or "hash" of the chat), delivery timeout and redelivery delays, lose the next N answers
- ``GET  /_emulator/events``                         text/event-stream; ?since=seq or
                                                     Last-Event-ID replays missed events
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .core import Emulator
    from .driver import UserHandle

__all__ = ["setup_control_routes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _fail(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


def _guard(handler: Handler) -> Handler:
    """Map driver exceptions to JSON errors instead of 500 pages."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (KeyError, LookupError) as exc:
            return _fail(404, str(exc.args[0] if exc.args else exc))
        except (ValueError, TypeError, binascii.Error) as exc:
            return _fail(400, str(exc))

    return wrapped


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("JSON object expected")
    return data


def _b64(body: dict[str, Any], key: str = "data_base64") -> bytes | None:
    value = body.get(key)
    return base64.b64decode(value) if value else None


def setup_control_routes(app: web.Application, emu: Emulator) -> None:
    """Register the /_emulator/ routes for ``emu`` on ``app``."""

    def user_of(request: web.Request) -> UserHandle:
        uid = int(request.match_info["user_id"])
        with emu._lock:
            if uid not in emu._users:
                raise KeyError(f"unknown user {uid}")
        return emu.user(uid)

    async def state(request: web.Request) -> web.StreamResponse:
        return _ok(
            {
                "bot": emu.bot_user(),
                "base_url": emu.base_url,
                "users": [vars(u) for u in emu.users()],
                "chats": [
                    {
                        **c.to_chat(),
                        "members": sorted(c.members),
                        "reply_keyboard": c.reply_keyboard,
                    }
                    for c in emu.chats()
                ],
            }
        )

    async def create_user(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        handle = emu.user(
            int(body["user_id"]),
            first_name=body.get("first_name", "Test"),
            username=body.get("username"),
            language_code=body.get("language_code", "vi"),
            last_name=body.get("last_name"),
            started=bool(body.get("started", False)),
        )
        return _ok(vars(handle.info))

    async def send_text(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        return _ok(
            user_of(request).send_text(body["text"], body.get("chat_id"), body.get("reply_to"))
        )

    async def send_command(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        user = user_of(request)
        return _ok(user.send_command(body["command"], body.get("args"), body.get("chat_id")))

    async def send_photo(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        user = user_of(request)
        kwargs: dict[str, Any] = {"caption": body.get("caption"), "chat": body.get("chat_id")}
        data = _b64(body)
        if data:
            kwargs["data"] = data
        return _ok(user.send_photo(**kwargs))

    async def send_document(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        user = user_of(request)
        kwargs: dict[str, Any] = {"caption": body.get("caption"), "chat": body.get("chat_id")}
        for key in ("file_name", "mime_type"):
            if body.get(key):
                kwargs[key] = body[key]
        data = _b64(body)
        if data:
            kwargs["data"] = data
        return _ok(user.send_document(**kwargs))

    async def send_location(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        user = user_of(request)
        lat, lon = float(body["latitude"]), float(body["longitude"])
        return _ok(user.send_location(lat, lon, body.get("chat_id")))

    async def edit(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        user = user_of(request)
        return _ok(user.edit_text(int(body["message_id"]), body["text"], body.get("chat_id")))

    async def click(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        user = user_of(request)
        if "text" in body:
            query_id = user.click_text(body["text"], body.get("chat_id"))
        elif body.get("forge"):
            query_id = user.click_data(
                int(body["message_id"]), body["callback_data"], body.get("chat_id")
            )
        else:
            query_id = user.click(
                int(body["message_id"]), body["callback_data"], body.get("chat_id")
            )
        return _ok({"callback_query_id": query_id})

    async def block(request: web.Request) -> web.StreamResponse:
        user_of(request).block()
        return _ok(True)

    async def unblock(request: web.Request) -> web.StreamResponse:
        user_of(request).unblock()
        return _ok(True)

    async def chat_messages(request: web.Request) -> web.StreamResponse:
        include_user = request.query.get("include_user", "1") not in ("0", "false")
        msgs = emu.messages(int(request.match_info["chat_id"]), include_user=include_user)
        return _ok([m.to_json() for m in msgs])

    async def user_commands(request: web.Request) -> web.StreamResponse:
        """Telegram's order for a private chat: the chat's scope, all private chats, default;
        in each, the user's language first, then the scope's language-less list."""
        user = user_of(request)
        language = request.query.get("language_code", user.info.language_code or "")
        scopes: list[dict[str, Any] | None] = [
            {"type": "chat", "chat_id": user.id},
            {"type": "chat", "chat_id": str(user.id)},
            {"type": "all_private_chats"},
            None,
        ]
        for scope in scopes:
            for code in dict.fromkeys((language[:2].lower(), "")):
                commands = emu.commands(scope, code)
                if commands:
                    found = scope or {"type": "default"}
                    return _ok({"scope": found, "language_code": code, "commands": commands})
        return _ok({"scope": None, "language_code": "", "commands": []})

    async def callback(request: web.Request) -> web.StreamResponse:
        return _ok(emu.callback_answer(request.match_info["query_id"]))

    async def file_bytes(request: web.Request) -> web.StreamResponse:
        data = emu.file_bytes(request.match_info["file_id"])
        if data is None:
            return _fail(404, "unknown file_id")
        return web.Response(body=data, content_type="application/octet-stream")

    async def calls(request: web.Request) -> web.StreamResponse:
        method = request.query.get("method")
        chat_id = request.query.get("chat_id")
        records = emu.calls_to(method, chat_id) if method else emu.calls
        if chat_id and not method:
            records = [c for c in records if str(c.chat_id) == chat_id]
        return _ok([c.to_json() for c in records])

    async def spec_violations(request: web.Request) -> web.StreamResponse:
        from .state import json_safe

        return _ok(json_safe(emu.spec_violations))

    async def add_fault(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        allowed = ("method", "chat_id", "probability", "times", "retry_after", "delay", "status")
        rule = emu.inject(body["kind"], **{k: body[k] for k in allowed if k in body})
        return _ok({"kind": rule.kind, "times": rule.times})

    async def clear_faults(request: web.Request) -> web.StreamResponse:
        emu.clear_faults()
        return _ok(True)

    async def webhook_state(request: web.Request) -> web.StreamResponse:
        desk = emu.webhook
        return _ok(
            {
                **desk.info(),
                "targets": desk.targets,
                "deliveries": len(desk.deliveries),
                "peak_in_flight": desk.peak_in_flight,
            }
        )

    async def webhook_settings(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        desk = emu.webhook
        for name in ("timeout", "retry_first", "retry_max"):
            if name in body:
                value = float(body[name])
                if not value > 0:
                    raise ValueError(f"{name} must be greater than 0")
                setattr(desk, name, value)
        if "targets" in body:
            targets = body["targets"] or []
            if not isinstance(targets, list):
                raise ValueError("targets: a list of URLs expected")
            desk.spread_over([str(t) for t in targets], body.get("spread", "round-robin"))
        if body.get("lose_answers"):
            desk.lose_answers(int(body["lose_answers"]))
        return await webhook_state(request)

    async def events(request: web.Request) -> web.StreamResponse:
        since = request.query.get("since") or request.headers.get("Last-Event-ID") or "0"
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue, unsubscribe = emu.event_queue()
        try:
            last = int(since)
            for event in emu.events(since=last):
                await response.write(_sse(event))
                last = event["seq"]
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), 15.0)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if event is None:
                    break
                if event["seq"] <= last:
                    continue
                await response.write(_sse(event))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            unsubscribe()
        return response

    routes: list[tuple[str, str, Handler]] = [
        ("GET", "state", state),
        ("POST", "users", create_user),
        ("POST", "users/{user_id}/text", send_text),
        ("POST", "users/{user_id}/command", send_command),
        ("POST", "users/{user_id}/photo", send_photo),
        ("POST", "users/{user_id}/document", send_document),
        ("POST", "users/{user_id}/location", send_location),
        ("POST", "users/{user_id}/edit", edit),
        ("POST", "users/{user_id}/click", click),
        ("POST", "users/{user_id}/block", block),
        ("POST", "users/{user_id}/unblock", unblock),
        ("GET", "users/{user_id}/commands", user_commands),
        ("GET", "chats/{chat_id}/messages", chat_messages),
        ("GET", "callbacks/{query_id}", callback),
        ("GET", "files/{file_id}", file_bytes),
        ("GET", "calls", calls),
        ("GET", "spec_violations", spec_violations),
        ("POST", "faults", add_fault),
        ("DELETE", "faults", clear_faults),
        ("GET", "webhook", webhook_state),
        ("POST", "webhook", webhook_settings),
    ]
    for verb, path, handler in routes:
        app.router.add_route(verb, f"/_emulator/{path}", _guard(handler))
    app.router.add_get("/_emulator/events", events)


def _sse(event: dict[str, Any]) -> bytes:
    payload = json.dumps(event, ensure_ascii=False, default=str)
    return f"id: {event['seq']}\nevent: {event['type']}\ndata: {payload}\n\n".encode()
