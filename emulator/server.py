"""aiohttp application: the Bot API endpoint, file downloads and the control API.

Request decoding accepts everything Telegram accepts (query string, urlencoded form,
multipart with file parts, JSON body) and hands raw values to the emulator, which decodes them
against the spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .control import setup_control_routes
from .spec import Upload

if TYPE_CHECKING:
    from .core import Emulator

#: `Emulator.handle_call`'s status for a reset connection (emulator/core.py RESET).
RESET = 0

__all__ = ["build_app"]

UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


async def _read_params(request: web.Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return raw
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            return raw
        if isinstance(body, dict):
            raw.update(body)
        return raw
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            raw[key] = Upload(
                filename=value.filename or key,
                content_type=value.content_type or "application/octet-stream",
                data=value.file.read(),
            )
        elif isinstance(value, bytes | bytearray):
            raw[key] = bytes(value).decode("utf-8", "replace")
        else:
            raw[key] = value
    return raw


def build_app(emu: Emulator) -> web.Application:
    """The web application serving ``emu`` (Bot API under /bot<token>/, files, control)."""
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def bot_method(request: web.Request) -> web.Response:
        if request.match_info["token"] != emu.token:
            return web.json_response(UNAUTHORIZED, status=401)
        raw = await _read_params(request)
        status, body = await emu.handle_call(request.match_info["method"], raw)
        if status == RESET and request.transport is not None:
            request.transport.abort()  # a reset connection: no answer at all
            raise ConnectionResetError("fault injected: connection reset")
        return web.json_response(body, status=status)

    async def bot_root(request: web.Request) -> web.Response:
        if request.match_info["token"] != emu.token:
            return web.json_response(UNAUTHORIZED, status=401)
        return web.json_response(NOT_FOUND, status=404)

    async def file_download(request: web.Request) -> web.Response:
        if request.match_info["token"] != emu.token:
            return web.json_response(UNAUTHORIZED, status=401)
        data = emu.download(request.match_info["path"])
        if data is None:
            return web.json_response(NOT_FOUND, status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    app.router.add_route("*", "/bot{token}/{method}", bot_method)
    app.router.add_route("*", "/bot{token}", bot_root)
    app.router.add_get("/file/bot{token}/{path:.+}", file_download)
    setup_control_routes(app, emu)
    return app
