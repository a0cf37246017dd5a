"""The HTTP client the bot talks to Telegram with (aiohttp, telegram_api.transport), retrying.

Telegram answers a busy moment with 429 (and how long to wait) and a bad moment with a 5xx. A
resident in a weak-signal village pressing a button should not see nothing because of one such
answer, so a call is retried a few times within a small time budget: after `retry_after` for a
429, after a short backoff for a 5xx. Past the budget the error reaches the caller as usual
(the outbox then reschedules its row). Calls whose repetition would break a promise opt out
with `no_retry()`: broadcasts are at most once per recipient.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator

from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from telegram_api.transport import AiohttpRequest

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
MAX_TOTAL_WAIT = 12.0
MAX_SINGLE_WAIT = 8.0

_retry_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("retry", default=True)


@contextlib.contextmanager
def no_retry() -> Iterator[None]:
    """Within this block, each call is made once: its outcome is reported, never repeated."""
    token = _retry_enabled.set(False)
    try:
        yield
    finally:
        _retry_enabled.reset(token)


class RetryingRequest(AiohttpRequest):
    """The transport, repeating a call on 429 (after retry_after) and 5xx (after a backoff)."""

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
        waited = 0.0
        attempt = 1
        while True:
            code, payload = await super().do_request(
                url, method, request_data, read_timeout=read_timeout,
                write_timeout=write_timeout, connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
            if code != 429 and code < 500:
                return code, payload
            if not _retry_enabled.get() or attempt >= MAX_ATTEMPTS:
                return code, payload
            delay = _retry_after(payload) if code == 429 else 0.5 * 2 ** (attempt - 1)
            if delay is None or delay > MAX_SINGLE_WAIT or waited + delay > MAX_TOTAL_WAIT:
                return code, payload
            log.info("Telegram answered %s; calling again in %.1f s", code, delay)
            await asyncio.sleep(delay)
            waited += delay
            attempt += 1


def _retry_after(payload: bytes) -> float | None:
    try:
        return float(json.loads(payload)["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return None
