"""The sandbox page's server: static files, the emulator's control API on the same origin, the
files users and the bot sent, and one bootstrap answer with everything the page needs first.

The page drives the emulated users through the emulator's own control routes (`/_emulator/...`,
mounted here with `setup_control_routes`) and follows every change through its server-sent
events at `/_emulator/events`; only what the control API has no route for lives under
`/sandbox/`. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from emulator import Emulator
from emulator.control import setup_control_routes
from sandbox.demo import PEOPLE, SAMPLE_LOCATION, sample_photo

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC = resources.files("sandbox") / "static"
STATIC_TYPES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "style.css": "text/css",
}
# File signatures, so the browser shows pictures from the emulator's file store.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"%PDF", "application/pdf"),
    (b"OggS", "audio/ogg"),
)


def media_type(data: bytes) -> str:
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return "application/octet-stream"


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


@web.middleware
async def local_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse requests naming another host: a web page elsewhere cannot reach the sandbox by
    pointing its own domain name at 127.0.0.1 (DNS rebinding)."""
    host = (request.host or "").rsplit(":", 1)[0].lower()
    if host not in LOCAL_HOSTS:
        raise web.HTTPForbidden(text="the sandbox answers on 127.0.0.1 only")
    return await handler(request)


def build_page_app(emu: Emulator) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024, middlewares=[local_only])
    earlier = emu.events()
    latest = {"seq": earlier[-1]["seq"] if earlier else 0}

    def remember(event: dict[str, Any]) -> None:  # runs under the emulator's lock: keep it quick
        latest["seq"] = max(latest["seq"], event["seq"])

    unsubscribe_events = emu.subscribe(remember)

    async def page(request: web.Request) -> web.StreamResponse:
        return _static("index.html")

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC_TYPES:
            raise web.HTTPNotFound()
        return _static(name)

    async def bootstrap(request: web.Request) -> web.StreamResponse:
        """The event number first, then the chats: replaying events after it is idempotent."""
        seq = latest["seq"]
        users = {u.id: u for u in emu.users()}
        keyboards = {c.id: c.reply_keyboard for c in emu.chats()}
        panes = []
        for person in PEOPLE:
            info = users.get(person.user_id)
            panes.append(
                {
                    "role": person.role,
                    "user_id": person.user_id,
                    "first_name": info.first_name if info else person.first_name,
                    "language_code": info.language_code if info else person.language_code,
                    "messages": [
                        m.to_json() for m in emu.messages(person.user_id, include_user=True)
                    ],
                    "reply_keyboard": keyboards.get(person.user_id),
                }
            )
        return web.json_response(
            {
                "seq": seq,
                "bot": {"username": emu.bot_username, "first_name": emu.bot_first_name},
                "panes": panes,
                "sample_location": SAMPLE_LOCATION,
            }
        )

    async def media(request: web.Request) -> web.StreamResponse:
        data = emu.file_bytes(request.match_info["file_id"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=data, content_type=media_type(data), headers={"Cache-Control": "max-age=3600"}
        )

    async def send_sample_photo(request: web.Request) -> web.StreamResponse:
        user_id = int(request.match_info["user_id"])
        if user_id not in {p.user_id for p in PEOPLE}:
            raise web.HTTPNotFound()
        message = emu.user(user_id).send_photo(sample_photo())
        return web.json_response({"ok": True, "result": message})

    async def keyboard(request: web.Request) -> web.StreamResponse:
        """The reply keyboard the bot shows in a chat now (None when it has none)."""
        return web.json_response(
            {"ok": True, "result": emu.reply_keyboard(int(request.match_info["chat_id"]))}
        )

    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/sandbox/bootstrap", bootstrap)
    app.router.add_get("/sandbox/media/{file_id}", media)
    app.router.add_post("/sandbox/users/{user_id}/sample-photo", send_sample_photo)
    app.router.add_get("/sandbox/chats/{chat_id}/keyboard", keyboard)
    setup_control_routes(app, emu)

    async def unsubscribe(app: web.Application) -> None:
        unsubscribe_events()

    app.on_cleanup.append(unsubscribe)
    return app


def _static(name: str) -> web.Response:
    body = (STATIC / name).read_bytes()
    return web.Response(
        body=body,
        content_type=STATIC_TYPES[name],
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )
