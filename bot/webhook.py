"""Webhook mode (`TIPBOT_WEBHOOK_URL`): Telegram posts each update to this process.

The start-up and the clean stop are long polling's (bot/polling.py `serve`): getMe, then
setWebhook (with `TIPBOT_WEBHOOK_SECRET`, the update types polling asks for, and
`max_connections`) instead of deleteWebhook, `post_init`, `Application.start()`, then updates
are handled. The listening socket is taken first, before Telegram is asked anything, so a port
already in use stops the start with one line instead of registering a webhook nobody serves; a
request arriving before the bot is ready waits for it (a little) instead of being refused.

Why not python-telegram-bot's own webhook server: it answers 200 as soon as the update is
queued, before it is handled, so an update in hand when the process dies is lost. Here the answer
is given only once the update was handled (`handle_update`: through the Application's update
processor, so the per-chat lanes and the flood guard apply exactly as in polling), and Telegram's
redelivery is the safety net:

- without the right `X-Telegram-Bot-Api-Secret-Token`: 403, its body never read; logged as one
  line without content (at most one a minute, with the count);
- a body that is not an update: 400 (Telegram would send it again; a broken update stays broken);
- handled: 200. A handler's error is the handler's (the error handler has told the person and
  logged it): still 200, because a redelivery would run the same failing code again and repeat
  whatever it had already sent. Only a failure outside the handlers answers 500, so Telegram
  retries;
- while stopping: 503, and Telegram delivers it again later (or to another process).

The same update delivered twice (a retry after an answer lost on the way, or after Telegram's
timeout while it was still being handled) is handled once: `RecentUpdates` (bot/polling.py,
shared with long polling) remembers the last ids handled or in hand, and a repeat waits for the
first and gets its answer. Behind it the database (bot/fleet.py), for several processes behind
a proxy and across restarts: an update is claimed there before it is handled and marked done
after; a repeat of a done one is answered 200 unhandled; of one in hand in another live
process 503 (Telegram tries again later, by which time it is done); of one whose process died,
handled here. An update waits for its chat's turn among the processes inside its lane (the
request stays open); past `bot.fleet.TURN_WAIT` it is answered 503 and redelivered.

Exactly one process of the line registers the webhook: `register` runs after `post_init` and
calls setWebhook only when it takes the lease named for these settings (a keyed digest of the
URL, the secret and max_connections; workers/jobs.py `Holdings`), which it keeps while it
lives. The others start serving at once: Telegram already posts to the proxy in front of them.

On SIGTERM: the socket is closed (no new connections), requests on open connections get 503,
the updates in hand are handled and answered, then the workers wind down and the App
stops. The webhook stays registered, so Telegram keeps the updates that arrive meanwhile for
the next start (a start with long polling removes it with deleteWebhook).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time

from aiohttp import web
from telegram import Update
from telegram.error import BadRequest, InvalidToken

from bot.config import WebhookSettings
from bot.fleet import fleet_of
from bot.polling import RECENT, Reachability, RecentUpdates, run_bot
from storage.chat_turns import TurnBusy
from storage.keyring import KeyPurpose
from storage.updates_seen import Seen
from telegram_api.types import App
from workers.jobs import holdings_of

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
#: Largest request body accepted (an update is a few kilobytes).
MAX_BODY = 1024 * 1024
#: How long a request that arrived before the bot was ready waits for it.
READY_WAIT = 30.0
#: At most one "refused without the secret" line per this many seconds.
REFUSAL_LOG_INTERVAL = 60.0
#: Seconds the server gives the last answers to be written when it closes.
CLOSE_TIMEOUT = 5.0


class ListenError(Exception):
    """The listen address cannot be taken (in use, not this machine's...)."""


class WebhookRefused(Exception):
    """Telegram refused setWebhook (a URL it cannot reach, a bad certificate...)."""


def run_webhook(application: App, settings: WebhookSettings) -> int:
    """Run in webhook mode until SIGINT or SIGTERM; 0 on a clean stop."""
    return run_bot(application, Webhook(settings))


class _Refusals:
    """Counts requests without the secret; one log line now, then at most one per interval."""

    def __init__(self, interval: float = REFUSAL_LOG_INTERVAL) -> None:
        self._interval = interval
        self._count = 0
        self._last: float | None = None

    def note(self) -> None:
        self._count += 1
        now = time.monotonic()
        if self._last is not None and now - self._last < self._interval:
            return
        log.warning(
            "webhook: refused %d request%s without the right secret token (403)%s",
            self._count, "" if self._count == 1 else "s",
            "" if self._last is None else f" in the last {now - self._last:.0f} s",
        )
        self._count = 0
        self._last = now


class Webhook:
    """The webhook intake for bot/polling.py `serve` (see the module's docstring)."""

    register_call = "setWebhook"
    register_after_init = True  # the lease of the registration is in the database

    def __init__(self, settings: WebhookSettings, recent: int = RECENT) -> None:
        self.settings = settings
        self.fatal: InvalidToken | None = None  # polling meets a revoked token; a webhook does not
        self.recent = RecentUpdates(recent)
        self._secret = settings.secret.encode()
        self._refusals = _Refusals()
        self._application: App | None = None
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._in_hand = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    # ---- the intake -----------------------------------------------------------------------

    async def prepare(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.settings.path, self._receive)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=CLOSE_TIMEOUT
        )
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        try:
            await self._site.start()
        except OSError as error:
            await self._runner.cleanup()
            self._runner = self._site = None
            raise ListenError(
                f"cannot listen on {self.settings.host}:{self.settings.port}"
                f" ({error.strerror or error})"
            ) from error
        log.info("webhook: listening on %s:%s", self.settings.host, self.settings.port)

    async def register(self, application: App) -> None:
        if "services" in application.bot_data:
            store = application.bot_data["services"].store
            settings = "\n".join(
                (self.settings.url, self.settings.secret, str(self.settings.max_connections))
            )
            digest = store.keyring.pseudonym(KeyPurpose.RATELIMIT, f"webhook:{settings}")
            name = f"webhook:{digest.hex()[:16]}"
            if not await holdings_of(application).take(name):
                log.info("webhook: registered by another process of the line; serving")
                return
        try:
            await application.bot.set_webhook(
                self.settings.url,
                secret_token=self.settings.secret,
                max_connections=self.settings.max_connections,
                allowed_updates=Update.ALL_TYPES,
            )
        except BadRequest as error:
            raise WebhookRefused(error.message) from error

    async def begin(
        self, application: App, reach: Reachability, stop: asyncio.Event
    ) -> None:
        self._application = application
        self._ready.set()
        log.info("webhook: handling updates")

    async def end(self, application: App) -> None:
        self._closing.set()
        if self._site is not None:
            await self._site.stop()  # no new connections
            self._site = None
        await self._idle.wait()  # what was accepted is handled
        if self._runner is not None:
            await self._runner.cleanup()  # the last answers are written, connections closed
            self._runner = None

    # ---- one request ----------------------------------------------------------------------

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self._refusals.note()
            return web.Response(status=403)
        if self._closing.is_set():
            return web.Response(status=503)
        self._in_hand += 1
        self._idle.clear()
        try:
            if not await self._wait_until_ready():
                return web.Response(status=503)
            update = await self._read(request)
            if update is None:
                return web.Response(status=400)
            return web.Response(status=await self._once(update))
        finally:
            self._in_hand -= 1
            if self._in_hand == 0:
                self._idle.set()

    async def _wait_until_ready(self) -> bool:
        if self._ready.is_set():
            return True
        waits = [asyncio.ensure_future(e.wait()) for e in (self._ready, self._closing)]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait(waits, timeout=READY_WAIT, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        return self._ready.is_set() and not self._closing.is_set()

    async def _read(self, request: web.Request) -> Update | None:
        """The update in the body, or None (logged without the body)."""
        assert self._application is not None
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            if type(data.get("update_id")) is not int:
                raise ValueError("no update_id")
            update = Update.de_json(data, self._application.bot)
        except web.HTTPRequestEntityTooLarge:
            log.warning("webhook: refused an oversized request (400)")
            return None
        except Exception as error:  # whatever a broken body makes the parser raise
            log.warning("webhook: refused a malformed update (%s, 400)", type(error).__name__)
            return None
        return update

    async def _once(self, update: Update) -> int:
        """Handle `update` unless it is already handled or in hand; the HTTP status."""
        first = self.recent.begin(update.update_id)
        if first is not None:
            log.info("webhook: update %s delivered again; not handled twice", update.update_id)
            return 200 if await asyncio.shield(first) else 500
        status = 500
        try:
            status = await self._claimed(update)
        finally:
            # Handled (or handled before): remembered; else forgotten, the next delivery tries.
            self.recent.done(update.update_id, status == 200)
        return status

    async def _claimed(self, update: Update) -> int:
        """The database's claim around the handling (bot/fleet.py); the HTTP status."""
        assert self._application is not None
        fleet = fleet_of(self._application)
        update_id = update.update_id
        if fleet is not None:
            try:
                seen = await fleet.claim(update_id)
            except Exception as error:
                log.warning("webhook: update %s not claimed (%s, 503)", update_id,
                            type(error).__name__)
                return 503
            if seen is Seen.DONE:
                log.info("webhook: update %s delivered again; not handled twice (handled"
                         " before, here or in another process)", update_id)
                return 200
            if seen is Seen.BUSY:
                log.info("webhook: update %s is in hand in another process (503)", update_id)
                return 503
        status = 500
        try:
            await self.handle_update(update)
            status = 200
        except TurnBusy:
            log.warning("webhook: update %s waited too long for its chat's turn (503)",
                        update_id)
            status = 503
        except Exception:
            log.exception("webhook: update %s failed outside its handlers", update_id)
        finally:
            if fleet is not None:
                if status == 200:
                    await asyncio.shield(fleet.done(update_id))
                else:
                    await asyncio.shield(fleet.release(update_id))
        return status

    async def handle_update(self, update: Update) -> None:
        """The one place an update is handled in webhook mode: the Application's update
        processor (bot/chat_lanes.py: the chat's lane, the flood guard) around
        `Application.process_update` (the handlers, and the error handler for their errors).
        Returns when it is done."""
        application = self._application
        assert application is not None
        await application.update_processor.process_update(
            update, application.process_update(update)
        )
