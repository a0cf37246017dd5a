"""The HTTP transport to Telegram: python-telegram-bot's request interface over aiohttp.

Why not PTB's default (httpx): measured against the project's emulator, one `sendMessage`
costs about 3 ms of CPU through httpx with a pool of 64 connections (httpcore checks every
idle connection on every request) and about 0.4 ms through aiohttp, which the bot already
depends on for its webhook server. A report makes two to three calls per update, so the
transport was most of the bot's CPU under a crowd (docs/PERFORMANCE.md, section 2).

What PTB's HTTPXRequest promises, this keeps: the four timeouts (connect, read, write, pool)
with the same defaults; a timeout of any kind raises `TimedOut` and any other transport
failure `NetworkError`, which is what `telegram_api/answers.py` and the workers classify;
multipart with files; the User-Agent.

Parameters without files go as one JSON body (the Bot API takes `application/json`) rather than
PTB's form encoding: aiohttp's form encoding (FormData, urllib's quoting of every character, each
keyboard dumped to a JSON string first) was about a tenth of the bot's CPU under a crowd of
/start (py-spy of the bench/intake.py run, session 5); one `json.dumps` of the whole call is a
fraction of it.
"""

from __future__ import annotations

import json
import math
import re

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded pool; created in `initialize`, inside the loop."""

    __slots__ = ("_connect", "_media_write", "_pool", "_pool_size", "_read", "_session", "_write")

    def __init__(
        self,
        connection_pool_size: int = 1,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds it to getUpdates' long-polling timeout)."""
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=None),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write if files else self._write
        else:
            write = write_timeout
        timeout = _timeout(read=read, write=write, connect=connect, pool=pool)
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if files and request_data is not None:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            body = form
        elif request_data is not None and (parameters := request_data.parameters):
            body = json.dumps(parameters, ensure_ascii=False, separators=(",", ":")).encode()
            headers = _JSON
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts are asyncio's (TimeoutError)
            raise TimedOut(_described(error)) from error
        except aiohttp.ClientError as error:
            raise NetworkError(_described(error)) from error


#: The content type of a call's parameters sent as one JSON body.
_JSON = {"Content-Type": "application/json"}

#: The bot token inside a Bot API URL (`/bot<id>:<secret>/`), as an aiohttp error may quote it.
_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_-]+")


def _described(error: BaseException) -> str:
    """The error for the log, without the token: whoever holds it can read every message
    residents send the bot (getUpdates), so it must not reach a log line."""
    return _TOKEN.sub("bot<token>", f"aiohttp.{type(error).__name__}: {error}")


def _timeout(
    *, read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for PTB's four. aiohttp waits for a free pooled connection inside
    `connect`, so that one is pool + connect; it has no write timeout, so the whole call is
    bounded by the sum of all four (a stalled upload ends), unless one of them is unbounded."""
    parts = (read, write, connect, pool)
    total = None if any(p is None for p in parts) else math.fsum(p for p in parts if p)
    waiting = None if pool is None or connect is None else pool + connect
    return aiohttp.ClientTimeout(
        total=total, connect=waiting, sock_connect=connect, sock_read=read
    )

