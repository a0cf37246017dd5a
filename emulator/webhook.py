"""Webhooks as Telegram's Bot API server does them: setWebhook, deleteWebhook, getWebhookInfo,
and the delivery of updates by HTTP POST.

What Telegram does, and so what the emulator does:

- ``setWebhook`` takes ``url`` (empty: remove the webhook), ``secret_token`` (1-256 of
  ``A-Za-z0-9_-``, sent back in the ``X-Telegram-Bot-Api-Secret-Token`` header),
  ``max_connections`` (1-100, default 40; out-of-range values are clamped, as Telegram does),
  ``allowed_updates`` and ``drop_pending_updates``. While a webhook is set, ``getUpdates``
  answers 409 Conflict.
- Updates are POSTed as JSON, up to ``max_connections`` at once. Telegram's server keeps one
  queue per chat and sends the next update of a queue only once the previous one was answered
  (so a chat's updates arrive one after another, in order, even over several connections);
  updates of different chats go out concurrently. The emulator does the same: an update's queue
  is its chat (a button press: the chat of the message carrying the button); updates without a
  chat (polls, inline queries) have no queue and no order.
- A non-2xx answer, a refused connection or no answer within ``timeout`` seconds is a failed
  delivery: it is recorded in ``getWebhookInfo`` (``last_error_date``,
  ``last_error_message``) and the update is sent again later with a growing delay (Telegram: a
  ``Retry-After`` header is honoured, otherwise about one second, doubling up to about a
  minute; here ``retry_first`` and ``retry_max`` so tests need not wait), holding back the
  later updates of its chat meanwhile. ``pending_update_count`` counts every update not yet
  answered with 2xx, including those being sent.

For tests (not Telegram): :meth:`WebhookDesk.spread_over` gives several target addresses that
updates are spread over the way a reverse proxy in front of several bot processes would
(round-robin, or by a hash of the chat so a chat sticks to one address); :meth:`lose_answers`
drops the next answers as a broken network would (the bot handled the update, Telegram did not
hear it, and delivers it again); ``deliveries`` records every attempt. The emulator delivers
only to this machine (loopback addresses): an https URL elsewhere is accepted by setWebhook
as Telegram would, but its deliveries fail until targets on this machine are given.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from .errors import ApiError, bad_request

if TYPE_CHECKING:
    from .core import Emulator
    from .spec import Upload

__all__ = ["Delivery", "WebhookDesk", "WebhookMethods", "queue_of"]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DEFAULT_MAX_CONNECTIONS = 40
TELEGRAM_PORTS = (80, 88, 443, 8443)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SPREADS = ("round-robin", "hash")
CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete"
    " the webhook first"
)


@dataclass
class Delivery:
    """One POST of one update (an attempt): where, when, and how it was answered."""

    update_id: int
    target: str
    attempt: int
    queue: int | None
    started: float  # time.monotonic()
    finished: float | None = None
    status: int | None = None  # the HTTP status, None when no answer came
    error: str | None = None  # None: delivered (2xx)

    @property
    def ok(self) -> bool:
        return self.finished is not None and self.error is None


@dataclass
class _Pending:
    """What the sender knows of an update not yet delivered."""

    fails: int = 0
    wakeup: float = 0.0  # loop time before which it is not sent again
    in_flight: bool = False


def queue_of(update: dict[str, Any]) -> int | None:
    """The chat whose order this update keeps (None: no chat, no order)."""
    kind = next(k for k in update if k != "update_id")
    body = update[kind]
    if not isinstance(body, dict):
        return None
    if kind == "callback_query":
        message = body.get("message")
        if isinstance(message, dict):
            return message["chat"]["id"]
        return body["from"]["id"]
    chat = body.get("chat")
    if isinstance(chat, dict):
        return chat["id"]
    sender = body.get("from") or body.get("user")
    if isinstance(sender, dict):
        return sender["id"]
    return None


def _loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK


class WebhookDesk:
    """The webhook of one emulator: its settings, the sender task, what was delivered."""

    def __init__(self, emu: Emulator, default_allowed: frozenset[str]) -> None:
        self._emu = emu
        self._default_allowed = default_allowed
        self.url = ""
        self.secret: str | None = None
        self.max_connections = DEFAULT_MAX_CONNECTIONS
        self.has_certificate = False
        self.ip_address: str | None = None
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        #: Seconds without an answer before a delivery counts as failed.
        self.timeout = 60.0
        #: Delay before the first redelivery, doubled each failure up to `retry_max`.
        self.retry_first = 1.0
        self.retry_max = 60.0
        self._targets: list[str] = []
        self._spread = "round-robin"
        self._turn = 0
        self._losses: list[list[Any]] = []  # [answers still to lose, which updates]
        self._pending: dict[int, _Pending] = {}
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._deliveries: list[Delivery] = []
        self.peak_in_flight = 0
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._wake: asyncio.Event | None = None

    # ---- for tests ------------------------------------------------------------------------

    def spread_over(self, targets: list[str], spread: str = "round-robin") -> None:
        """Deliver to these addresses instead of the webhook URL, as a reverse proxy would:
        `round-robin`, or `hash` (a chat always to the same address). Empty: the URL again."""
        if spread not in SPREADS:
            raise ValueError(f"spread must be one of {', '.join(SPREADS)}")
        for target in targets:
            if not _loopback(target):
                raise ValueError(f"{target!r}: targets must be on this machine")
        with self._emu._lock:
            self._targets = list(targets)
            self._spread = spread
            self._emu._notify()

    @property
    def targets(self) -> list[str]:
        with self._emu._lock:
            return list(self._targets)

    def lose_answers(
        self, times: int = 1, matching: Callable[[dict[str, Any]], bool] | None = None
    ) -> None:
        """The next `times` 2xx answers (to updates `matching`, default any) are lost on the
        way back: the bot handled the update, and it is sent again."""
        with self._emu._lock:
            self._losses.append([times, matching])

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery attempt so far, oldest first (copies)."""
        with self._emu._lock:
            return [copy.copy(d) for d in self._deliveries]

    def info(self) -> dict[str, Any]:
        """What getWebhookInfo answers."""
        with self._emu._lock:
            result: dict[str, Any] = {
                "url": self.url,
                "has_custom_certificate": self.has_certificate,
                "pending_update_count": len(self._emu._updates),
            }
            if self.url:
                if self.ip_address:
                    result["ip_address"] = self.ip_address
                if self.last_error_date is not None:
                    result["last_error_date"] = self.last_error_date
                    result["last_error_message"] = self.last_error_message
                result["max_connections"] = self.max_connections
                if self._emu._allowed_updates != self._default_allowed:
                    result["allowed_updates"] = sorted(self._emu._allowed_updates)
            return result

    # ---- the Bot API methods (lock held, in the emulator's loop) --------------------------

    def set(self, p: dict[str, Any], files: dict[str, Upload]) -> bool:
        url = p.get("url") or ""
        if not url:
            self.delete(p)
            return True
        parts = urlsplit(url)
        local = (parts.hostname or "") in LOOPBACK
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if parts.scheme == "http" and not local:
            # Telegram refuses http altogether; the emulator lets a bot on this machine be
            # reached without TLS (as a Bot API server in --local mode does).
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        try:
            port = parts.port
        except ValueError:
            raise bad_request("bad webhook: Wrong port number specified in the URL") from None
        if not local and (port or 443) not in TELEGRAM_PORTS:
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = p.get("secret_token")
        if secret is not None and not SECRET_PATTERN.match(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = p.get("max_connections") or DEFAULT_MAX_CONNECTIONS
        self.url = url
        self.secret = secret or None
        self.max_connections = max(1, min(100, int(max_connections)))
        self.has_certificate = "certificate" in p or "certificate" in files
        self.ip_address = p.get("ip_address") or ("127.0.0.1" if local else None)
        if p.get("allowed_updates") is not None:
            self._emu._allowed_updates = frozenset(p["allowed_updates"]) or self._default_allowed
        if p.get("drop_pending_updates"):
            self._emu._updates.clear()
        self._start()
        self._emu._notify()  # wakes a long poll, which now answers 409
        return True

    def delete(self, p: dict[str, Any]) -> bool:
        self.url = ""
        self.secret = None
        self.last_error_date = None
        self.last_error_message = None
        self.max_connections = DEFAULT_MAX_CONNECTIONS
        self._halt()
        if p.get("drop_pending_updates"):
            self._emu._updates.clear()
        return True

    def refuse_polling(self) -> None:
        """getUpdates while a webhook is set: 409, as Telegram answers."""
        if self.url:
            raise ApiError(409, CONFLICT)

    # ---- the sender -----------------------------------------------------------------------

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook")

    def _halt(self) -> None:
        """Stop sending (lock held): the updates in flight stay pending, as on Telegram."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for task in self._in_flight.values():
            task.cancel()
        self._in_flight.clear()
        self._pending.clear()

    async def close(self) -> None:
        """The emulator stops: cancel everything, close the HTTP client."""
        with self._emu._lock:
            tasks = [t for t in (self._task, *self._in_flight.values()) if t is not None]
            self._halt()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        waiter = (loop, wake)
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100), auto_decompress=True
            )
        with self._emu._lock:
            self._emu._async_waiters.add(waiter)
        try:
            while True:
                with self._emu._lock:
                    next_wakeup = self._dispatch(loop.time())
                timeout = None if next_wakeup is None else max(0.0, next_wakeup - loop.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout)
                wake.clear()
        finally:
            with self._emu._lock:
                self._emu._async_waiters.discard(waiter)

    def _dispatch(self, now: float) -> float | None:
        """Start the deliveries that may go now (lock held); the next time one may."""
        emu = self._emu
        allowed = emu._allowed_updates
        emu._updates = [u for u in emu._updates if _kind(u) in allowed]
        present = {u["update_id"] for u in emu._updates}
        for update_id in [i for i in self._pending if i not in present]:
            del self._pending[update_id]
        busy: set[int] = set()
        next_wakeup: float | None = None
        for update in emu._updates:
            update_id = update["update_id"]
            queue = queue_of(update)
            held = queue is not None and queue in busy
            if queue is not None:
                busy.add(queue)  # the chat's later updates wait for this one
            state = self._pending.setdefault(update_id, _Pending())
            if held or state.in_flight:
                continue
            if state.wakeup > now:
                next_wakeup = min(next_wakeup or state.wakeup, state.wakeup)
                continue
            if len(self._in_flight) >= self.max_connections:
                break
            state.in_flight = True
            target = self._target(queue)
            self._in_flight[update_id] = asyncio.get_running_loop().create_task(
                self._deliver(copy.deepcopy(update), queue, target, state)
            )
            self.peak_in_flight = max(self.peak_in_flight, len(self._in_flight))
        return next_wakeup

    def _lost(self, update: dict[str, Any]) -> bool:
        for loss in self._losses:
            if loss[0] > 0 and (loss[1] is None or loss[1](update)):
                loss[0] -= 1
                return True
        return False

    def _target(self, queue: int | None) -> str:
        if not self._targets:
            return self.url
        if self._spread == "hash" and queue is not None:
            index = zlib.crc32(str(queue).encode()) % len(self._targets)
        else:
            index = self._turn % len(self._targets)
            self._turn += 1
        return self._targets[index]

    async def _deliver(
        self, update: dict[str, Any], queue: int | None, target: str, state: _Pending
    ) -> None:
        update_id = update["update_id"]
        with self._emu._lock:
            record = Delivery(update_id, target, state.fails + 1, queue, time.monotonic())
            self._deliveries.append(record)
        headers = {"Content-Type": "application/json"}
        if self.secret:
            headers[SECRET_HEADER] = self.secret
        retry_after = 0
        try:
            if not _loopback(target):
                raise _Refused(
                    "the emulator delivers only to this machine; give targets with spread_over()"
                )
            assert self._session is not None
            async with self._session.post(
                target,
                data=json.dumps(update, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as response:
                await response.read()
                record.status = response.status
                if not 200 <= response.status <= 299:
                    record.error = (
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
                    retry_after = _retry_after(response.headers.get("Retry-After"))
        except asyncio.CancelledError:
            with self._emu._lock:
                record.finished = time.monotonic()
                record.error = "webhook removed"
            raise
        except TimeoutError:
            record.error = "Read timeout expired"
        except _Refused as error:
            record.error = str(error)
        except aiohttp.ClientConnectorError:
            record.error = "Connection refused"
        except aiohttp.ClientError:
            record.error = "Webhook connection closed"
        loop = asyncio.get_running_loop()
        with self._emu._lock:
            record.finished = time.monotonic()
            if record.error is None and self._lost(update):
                record.error = "answer lost"
            self._in_flight.pop(update_id, None)
            state.in_flight = False
            if record.error is None:
                self._emu._updates = [u for u in self._emu._updates if u["update_id"] != update_id]
                self._pending.pop(update_id, None)
            else:
                state.fails += 1
                delay = retry_after or min(
                    self.retry_max, self.retry_first * 2 ** (state.fails - 1)
                )
                state.wakeup = loop.time() + delay
                self.last_error_date = self._emu.now()
                self.last_error_message = record.error
            self._emu._notify()


class _Refused(Exception):
    """A delivery the emulator does not attempt."""


def _retry_after(value: str | None) -> int:
    if value is None or not value.strip().isdigit():
        return 0
    return min(int(value), 3600)


def _kind(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


class WebhookMethods:
    """The three webhook methods of the Bot API, on the :class:`Emulator`."""

    webhook: WebhookDesk

    def _api_set_webhook(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self.webhook.set(p, files)

    def _api_delete_webhook(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self.webhook.delete(p)

    def _api_get_webhook_info(self, p: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self.webhook.info()
