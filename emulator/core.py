"""The emulator object: state, call dispatch, recording, faults, waiting and events.

One :class:`Emulator` serves one bot token. HTTP handlers (in the server's event loop) and test
code (often in another thread) share its state through a single re-entrant lock; a condition
variable and per-loop asyncio events wake up blocked waiters and long polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from .driver import ChatHandle, DriverMixin, UserHandle
from .errors import ApiError, bad_request, forbidden
from .faults import FaultInjector, FaultRule, RateLimiter
from .files import FileStore, StoredFile
from .methods import BotMethods, api_attr
from .spec import Upload, check_call, decode_params, method_name
from .state import CallRecord, ChatInfo, ChatMessage, StoredMessage, UserInfo
from .webhook import WebhookDesk, WebhookMethods

__all__ = ["Emulator"]

log = logging.getLogger(__name__)

DEFAULT_ALLOWED = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
        "business_message", "edited_business_message", "deleted_business_messages",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member",
        "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip
EventCallback = Callable[[dict[str, Any]], None]
MessagePredicate = Callable[[ChatMessage], bool] | str | None
#: The status `handle_call` gives for a "reset" fault: the server closes the connection.
RESET = 0
#: Updates `redeliver` can still find.
SENT_KEPT = 10_000


class Emulator(WebhookMethods, BotMethods, DriverMixin):
    """A local Telegram Bot API server for one bot.

    Start it inside a running loop with ``await emu.start()`` or in a background thread with
    :class:`emulator.EmulatorThread`. Point the bot at :attr:`base_url` / :attr:`file_url`.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",  # noqa: S107 - a fake test token
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "tipline_test_bot",
        bot_first_name: str = "Tipline",
        seed: int = 0,
        callback_answer_timeout: float = 15.0,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123456
        self.callback_answer_timeout = callback_answer_timeout
        self.faults = FaultInjector(seed)
        self.rate_limiter = RateLimiter()
        self.rate_limit_hits = 0

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        #: one condition per chat (on the same lock): a wait for a chat's messages wakes only at
        #: that chat's changes, not at everyone's (50 users waiting at once each re-scanned their
        #: chat under the lock at every change of every chat: most of the emulator's time)
        self._chat_conds: dict[int, threading.Condition] = {}
        self._users: dict[int, UserInfo] = {}
        self._chats: dict[int, ChatInfo] = {}
        self._messages: dict[int, dict[int, StoredMessage]] = {}
        self._files = FileStore(salt=token)
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        #: Every update queued so far by id (the last `SENT_KEPT`), for `redeliver`.
        self._sent: OrderedDict[int, dict[str, Any]] = OrderedDict()
        #: Updates `redeliver` queued again, served ahead of the queue whatever the offset.
        self._again: list[dict[str, Any]] = []
        self._again_served = 0
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._callback_counter = itertools.count(1)
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._bot_texts: dict[tuple[str, str], str] = {}
        self._media_group_counter = 0
        self._calls: list[CallRecord] = []
        self._call_seq = itertools.count(1)
        self._spec_violations: list[dict[str, Any]] = []
        self._unsupported: list[str] = []
        self._rate_limited_call = False
        self._time_offset = 0.0
        self._subscribers: list[EventCallback] = []
        self._events: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._event_seq = itertools.count(1)
        self._consumed: dict[int, set[int]] = {}
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = []
        #: The webhook (emulator/webhook.py): setWebhook's settings, the sender, its records.
        self.webhook = WebhookDesk(self, DEFAULT_ALLOWED)

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the HTTP server in the running loop; ``port=0`` picks a free port."""
        from .server import build_app

        self._closing = False
        self._loop = asyncio.get_running_loop()
        self._runner = web.AppRunner(
            build_app(self), shutdown_timeout=0.5, handle_signals=False, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop the server; pending long polls and event streams end immediately."""
        with self._lock:
            self._closing = True
            self._notify()
            for loop, queue in list(self._queues):
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(queue.put_nowait, None)
        await self.webhook.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` (the token is appended by PTB)."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """Value for PTB's ``base_file_url``."""
        return f"{self.url}/file/bot"

    # ---- time ----------------------------------------------------------------------------

    def clock(self) -> float:
        """Monotonic time used for callback expiry and rate limits (see :meth:`advance_time`)."""
        return time.monotonic() + self._time_offset

    def now(self) -> int:
        """Unix time for message dates (shifted by :meth:`advance_time`, too)."""
        return int(time.time() + self._time_offset)

    def advance_time(self, seconds: float) -> None:
        """Pretend ``seconds`` passed: expire callback queries / rate windows without sleeping."""
        with self._lock:
            self._time_offset += seconds

    # ---- notification & events -------------------------------------------------------------

    def _notify(self, chat_id: int | None = None) -> None:
        """Wake blocking waiters and long polls; call with the lock held. `chat_id`: a change
        in that chat, which also wakes the waiters on that chat (all of them at a stop)."""
        self._cond.notify_all()
        if chat_id is not None:
            chat_cond = self._chat_conds.get(chat_id)
            if chat_cond is not None:
                chat_cond.notify_all()
        elif self._closing:
            for chat_cond in self._chat_conds.values():
                chat_cond.notify_all()
        for loop, event in list(self._async_waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                self._async_waiters.discard((loop, event))

    def _emit(self, kind: str, chat_id: int, message: StoredMessage | None, **extra: Any) -> None:
        event: dict[str, Any] = {
            "seq": next(self._event_seq),
            "type": kind,
            "chat_id": chat_id,
            "time": time.time(),
            **extra,
        }
        if message is not None:
            event["message"] = message.snapshot().to_json()
        self._events.append(event)
        self._notify(chat_id)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("emulator event subscriber failed")

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` on every change (bot message/edit/delete, callback answer,
        chat action, user message). Runs in the thread making the change, with the emulator
        lock held: keep it quick and non-blocking. Returns an unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def event_queue(
        self, loop: asyncio.AbstractEventLoop | None = None
    ) -> tuple[asyncio.Queue, Callable[[], None]]:
        """An asyncio queue (bound to ``loop``, default the running one) receiving every event;
        ``None`` is put when the emulator stops. Returns ``(queue, unsubscribe)``."""
        loop = loop or asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        entry = (loop, queue)

        def forward(event: dict[str, Any]) -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, event)

        unsubscribe_cb = self.subscribe(forward)
        with self._lock:
            self._queues.append(entry)

        def unsubscribe() -> None:
            unsubscribe_cb()
            with self._lock, contextlib.suppress(ValueError):
                self._queues.remove(entry)

        return queue, unsubscribe

    def events(self, since: int = 0) -> list[dict[str, Any]]:
        """Recent events with ``seq > since`` (the last 10000 are kept)."""
        with self._lock:
            return [copy.deepcopy(e) for e in self._events if e["seq"] > since]

    # ---- faults & limits -------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        method: str | Iterable[str] | None = None,
        chat_id: int | str | None = None,
        probability: float = 1.0,
        times: int | None = None,
        retry_after: int = 1,
        delay: float | None = None,
        status: int = 502,
        description: str | None = None,
    ) -> FaultRule:
        """Add a fault rule: kind "429", "5xx" (``status``, default 502 Bad Gateway),
        "400" (a Bad Request with ``description``, e.g. "VOICE_MESSAGES_FORBIDDEN"), "403"
        (Forbidden, by default "bot was blocked by the user"), "reset" (the connection is
        closed without an answer, the call not applied),
        "latency" (sleep ``delay`` then answer) or "timeout" (apply the call, then hold the
        answer ``delay`` seconds, default 6 > PTB's 5 s read timeout). ``method=None`` matches
        every method except getUpdates."""
        with self._lock:
            return self.faults.add(
                kind, method, chat_id, probability, times, retry_after, delay, status,
                description,
            )

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def set_rate_limits(
        self,
        enabled: bool = True,
        global_per_second: int = 30,
        per_chat_per_second: float = 1.0,
        group_per_minute: int = 20,
    ) -> None:
        """Enforce Telegram's flood limits on send methods (429 + retry_after when exceeded)."""
        with self._lock:
            self.rate_limiter = RateLimiter(
                enabled, global_per_second, per_chat_per_second, group_per_minute
            )

    def unretried_429s(self) -> list[CallRecord]:
        """429-answered calls never followed by a successful identical call (same method and
        parameters): the bot gave up instead of retrying."""
        with self._lock:
            calls = list(self._calls)
        pending = []
        for idx, call in enumerate(calls):
            if call.error_code != 429:
                continue
            fp = call.fingerprint()
            if not any(c.ok and c.fingerprint() == fp for c in calls[idx + 1 :]):
                pending.append(call)
        return pending

    # ---- recording -----------------------------------------------------------------------

    @property
    def calls(self) -> list[CallRecord]:
        """Every Bot API request so far (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, chat_id: int | str | None = None) -> list[CallRecord]:
        """Recorded calls of ``method`` (case-insensitive), optionally to one chat."""
        canonical = method_name(method) or method
        with self._lock:
            return [
                c
                for c in self._calls
                if c.method == canonical and (chat_id is None or str(c.chat_id) == str(chat_id))
            ]

    @property
    def spec_violations(self) -> list[dict[str, Any]]:
        """Calls rejected because they do not match api.json: {method, params, problems}."""
        with self._lock:
            return list(self._spec_violations)

    @property
    def unsupported_calls(self) -> list[str]:
        """Documented methods the bot called that the emulator does not implement."""
        with self._lock:
            return list(self._unsupported)

    def check_recorded_calls(self) -> list[str]:
        """Re-run the spec check over every recorded call: ``"#seq method: problem"`` lines."""
        problems = []
        for call in self.calls:
            for problem in check_call(call.method, call.params):
                problems.append(f"#{call.seq} {call.method}: {problem}")
        return problems

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._spec_violations.clear()

    # ---- dispatch ------------------------------------------------------------------------

    async def handle_call(self, method: str, raw: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Execute one Bot API request; returns (HTTP status, JSON body)."""
        canonical = method_name(method)
        if canonical is None:
            with self._lock:
                self._calls.append(
                    CallRecord(
                        seq=next(self._call_seq),
                        method=method,
                        params=dict(raw),
                        chat_id=raw.get("chat_id"),
                        time=time.time(),
                        clock=self.clock(),
                        error_code=404,
                        description="Not Found",
                    )
                )
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

        params, attachments, problems = decode_params(canonical, raw)
        problems += check_call(canonical, params)
        with self._lock:
            record = CallRecord(
                seq=next(self._call_seq),
                method=canonical,
                params=params,
                chat_id=params.get("chat_id"),
                time=time.time(),
                clock=self.clock(),
                attachments=attachments,
            )
            self._calls.append(record)
            if problems:
                self._spec_violations.append(
                    {"method": canonical, "params": params, "problems": problems}
                )
            rule = None if problems else self.faults.pick(canonical, record.chat_id)
        if rule is not None:
            record.fault = rule.kind
        try:
            if problems:
                raise self._spec_error(problems)
            if rule is not None and rule.kind == "latency":
                await asyncio.sleep(rule.delay)
            if rule is not None and rule.kind == "429":
                raise ApiError(
                    429, f"Too Many Requests: retry after {rule.retry_after}", rule.retry_after
                )
            if rule is not None and rule.kind == "5xx":
                raise ApiError(rule.status, _status_phrase(rule.status))
            if rule is not None and rule.kind == "400":
                raise bad_request(rule.description)
            if rule is not None and rule.kind == "403":
                raise forbidden(rule.description)
            if rule is not None and rule.kind == "reset":
                with self._lock:
                    record.error_code = RESET
                    record.description = "connection reset"
                return RESET, {}
            result = await self._execute(canonical, params, attachments, record)
            status, body = 200, {"ok": True, "result": result}
            with self._lock:
                record.ok = True
                record.result = result
        except ApiError as exc:
            status, body = exc.code, exc.payload()
            with self._lock:
                record.error_code = exc.code
                record.description = exc.description
                record.retry_after = exc.retry_after
        if rule is not None and rule.kind == "timeout":
            await asyncio.sleep(rule.delay)
        return status, body

    @staticmethod
    def _spec_error(problems: list[str]) -> ApiError:
        first = problems[0]
        if first == 'missing required parameter "text"':
            return bad_request("message text is empty")
        if first == 'missing required parameter "chat_id"':
            return bad_request("chat_id is empty")
        return bad_request(f"{first} (Bot API spec check)")

    async def _execute(
        self,
        method: str,
        params: dict[str, Any],
        attachments: dict[str, Upload],
        record: CallRecord,
    ) -> Any:
        if method == "getUpdates":
            return await self._get_updates(params)
        handler = getattr(self, api_attr(method), None)
        with self._lock:
            if handler is None:
                self._unsupported.append(method)
                raise bad_request(f"method {method} is not supported by the emulator")
            self._rate_limited_call = False
            try:
                return handler(params, attachments)
            finally:
                if self._rate_limited_call:
                    record.rate_limited = True
                    self.rate_limit_hits += 1

    # ---- updates -------------------------------------------------------------------------

    def _push_update(self, kind: str, payload: dict[str, Any]) -> int:
        """Queue an update for the bot (lock held by caller or taken here)."""
        with self._lock:
            update_id = self._next_update_id
            self._next_update_id += 1
            update = {"update_id": update_id, kind: copy.deepcopy(payload)}
            self._updates.append(update)
            self._sent[update_id] = update
            while len(self._sent) > SENT_KEPT:
                self._sent.popitem(last=False)
            self._notify()
            return update_id

    def updates_sent(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The updates queued so far (the last `SENT_KEPT`), oldest first, optionally of one
        kind ("message", "callback_query"...); copies."""
        with self._lock:
            return [
                copy.deepcopy(u) for u in self._sent.values() if kind is None or kind in u
            ]

    @property
    def redeliveries_pending(self) -> int:
        """Updates `redeliver` queued that the bot has not yet fetched and confirmed."""
        with self._lock:
            return len(self._again)

    def redeliver(self, update_id: int) -> None:
        """Deliver update `update_id` (already queued once) again with the same id, to the next
        getUpdates whatever its offset: what a polling bot sees when Telegram did not hear its
        offset confirmation (a restart before the next getUpdates, a confirmation lost on the
        way). In webhook mode use `webhook.lose_answers` instead."""
        with self._lock:
            update = self._sent.get(update_id)
            if update is None:
                raise KeyError(f"update {update_id} was never queued (or is too old)")
            self._again.append(copy.deepcopy(update))
            self._notify()

    def _take_updates(self, limit: int) -> list[dict[str, Any]]:
        allowed = self._allowed_updates
        self._updates = [u for u in self._updates if _update_kind(u) in allowed]
        again = self._again[:limit]
        self._again_served = len(again)
        return copy.deepcopy(again + self._updates[: limit - len(again)])

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        limit = params.get("limit") or 100
        if not 1 <= limit <= 100:
            limit = 100
        timeout = max(0, params.get("timeout") or 0)
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        with self._lock:
            self.webhook.refuse_polling()
            if offset is not None:  # what the last answer carried again was received
                self._again = self._again[self._again_served :]
                self._again_served = 0
            if offset is not None and offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset is not None and offset < 0:
                self._updates = self._updates[offset:]
            if params.get("allowed_updates") is not None:
                self._allowed_updates = frozenset(params["allowed_updates"]) or DEFAULT_ALLOWED
            self._poll_generation += 1
            generation = self._poll_generation
            self._notify()  # terminates a concurrent long poll with 409 Conflict
            updates = self._take_updates(limit)
            if updates or timeout == 0 or self._closing:
                return updates
            waiter = (loop, wake)
            self._async_waiters.add(waiter)
        deadline = loop.time() + timeout
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), remaining)
                wake.clear()
                with self._lock:
                    self.webhook.refuse_polling()  # setWebhook during a long poll
                    if self._poll_generation != generation:
                        raise ApiError(
                            409,
                            "Conflict: terminated by other getUpdates request; make sure that "
                            "only one bot instance is running",
                        )
                    updates = self._take_updates(limit)
                    if updates or self._closing or loop.time() >= deadline:
                        return updates
        finally:
            with self._lock:
                self._async_waiters.discard(waiter)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (a copy)."""
        with self._lock:
            return copy.deepcopy(self._updates)

    # ---- users, chats & state views --------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = "vi",
        last_name: str | None = None,
        started: bool = False,
    ) -> UserHandle:
        """Create (or fetch) a user; ``started=True`` as if they already wrote to the bot."""
        with self._lock:
            info = self._users.get(user_id)
            if info is None:
                info = UserInfo(user_id, first_name, last_name, username, language_code)
                self._users[user_id] = info
                self._chats[user_id] = ChatInfo(
                    user_id,
                    "private",
                    username=username,
                    first_name=first_name,
                    last_name=last_name,
                )
            info.started = info.started or started
        return UserHandle(self, user_id)

    def group(
        self,
        title: str = "Test group",
        chat_id: int | None = None,
        members: Iterable[UserHandle | int] = (),
        supergroup: bool = True,
        username: str | None = None,
        bot_admin: bool = False,
    ) -> ChatHandle:
        """Create a (super)group the bot is a member of."""
        with self._lock:
            if chat_id is None:
                base = -1_001_000_000_000 if supergroup else -1_000_000
                chat_id = base - len(self._chats)
            chat = ChatInfo(
                chat_id,
                "supergroup" if supergroup else "group",
                title=title,
                username=username,
                bot_admin=bot_admin,
            )
            chat.members = {m if isinstance(m, int) else m.id for m in members}
            self._chats[chat_id] = chat
        return ChatHandle(self, chat_id)

    def channel(
        self, title: str = "Test channel", chat_id: int | None = None, username: str | None = None
    ) -> ChatHandle:
        """Create a channel where the bot is an administrator."""
        with self._lock:
            if chat_id is None:
                chat_id = -1_002_000_000_000 - len(self._chats)
            self._chats[chat_id] = ChatInfo(
                chat_id, "channel", title=title, username=username, bot_admin=True
            )
        return ChatHandle(self, chat_id)

    def block(self, user_id: int | UserHandle) -> None:
        """The user blocks the bot: sends answer 403 until :meth:`unblock`."""
        uid = user_id if isinstance(user_id, int) else user_id.id
        with self._lock:
            self._users[uid].blocked = True

    def unblock(self, user_id: int | UserHandle) -> None:
        uid = user_id if isinstance(user_id, int) else user_id.id
        with self._lock:
            self._users[uid].blocked = False

    def messages(
        self, chat_id: int | ChatHandle | UserHandle, include_user: bool = False
    ) -> list[ChatMessage]:
        """Current state of the messages in a chat (bot's only unless ``include_user``)."""
        cid = chat_id if isinstance(chat_id, int) else chat_id.id
        with self._lock:
            stored = sorted(self._messages.get(cid, {}).values(), key=lambda m: m.message_id)
            return [m.snapshot() for m in stored if m.from_bot or include_user]

    def message(
        self, chat_id: int | ChatHandle | UserHandle, message_id: int
    ) -> ChatMessage | None:
        cid = chat_id if isinstance(chat_id, int) else chat_id.id
        with self._lock:
            stored = self._messages.get(cid, {}).get(message_id)
            return stored.snapshot() if stored else None

    def reply_keyboard(self, chat_id: int | ChatHandle | UserHandle) -> dict[str, Any] | None:
        """The custom reply keyboard the bot currently shows in a chat (None if removed)."""
        cid = chat_id if isinstance(chat_id, int) else chat_id.id
        with self._lock:
            chat = self._chats.get(cid)
            return copy.deepcopy(chat.reply_keyboard) if chat else None

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """How the bot answered a callback query (None while unanswered)."""
        with self._lock:
            query = self._callbacks.get(query_id)
            return copy.deepcopy(query["answer"]) if query else None

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """Commands stored by setMyCommands for a scope/language."""
        key = self._scope_key({"scope": scope, "language_code": language_code})
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    def bot_text(self, kind: str, language_code: str = "") -> str | None:
        """Stored description / short_description / name for a language."""
        with self._lock:
            return self._bot_texts.get((kind, language_code))

    def file_bytes(self, file_id: str) -> bytes | None:
        with self._lock:
            stored = self._files.get(file_id)
            return stored.data if stored else None

    def stored_file(self, file_id: str) -> StoredFile | None:
        """The record of a file (its bytes, name, MIME type, and whether the bot uploaded it)."""
        with self._lock:
            stored = self._files.get(file_id)
            return copy.copy(stored) if stored else None

    def uploads(self) -> list[StoredFile]:
        """Every file the bot uploaded (multipart), oldest first: what it sent as new bytes."""
        with self._lock:
            return [copy.copy(f) for f in self._files.all() if f.origin == "bot"]

    def download(self, file_path: str) -> bytes | None:
        with self._lock:
            stored = self._files.by_path(file_path)
            return stored.data if stored else None

    def users(self) -> list[UserInfo]:
        with self._lock:
            return [copy.copy(u) for u in self._users.values()]

    def chats(self) -> list[ChatInfo]:
        with self._lock:
            return [copy.copy(c) for c in self._chats.values()]

    # ---- waiting -------------------------------------------------------------------------

    def _find_unconsumed(self, chat_id: int, predicate: MessagePredicate) -> ChatMessage | None:
        consumed = self._consumed.setdefault(chat_id, set())
        stored = sorted(self._messages.get(chat_id, {}).values(), key=lambda m: m.message_id)
        for msg in stored:
            if not msg.from_bot or msg.message_id in consumed:
                continue
            snap = msg.snapshot()
            if _matches(snap, predicate):
                consumed.add(msg.message_id)
                return snap
        return None

    def wait_for_message(
        self,
        chat_id: int | ChatHandle | UserHandle,
        predicate: MessagePredicate = None,
        timeout: float = 10.0,
    ) -> ChatMessage:
        """Block until the bot has sent a matching message to the chat and return it.

        Each message is returned at most once per chat (so consecutive waits walk through the
        conversation); ``predicate`` is a callable on :class:`ChatMessage` or a substring of
        the text/caption. Raises TimeoutError listing what the bot did send.
        """
        cid = chat_id if isinstance(chat_id, int) else chat_id.id
        deadline = time.monotonic() + timeout
        with self._lock:
            cond = self._chat_cond(cid)
            while True:
                found = self._find_unconsumed(cid, predicate)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_report(cid, predicate))
                cond.wait(remaining)

    def _chat_cond(self, chat_id: int) -> threading.Condition:
        """The condition of `chat_id`'s changes (call with the lock held)."""
        cond = self._chat_conds.get(chat_id)
        if cond is None:
            cond = self._chat_conds[chat_id] = threading.Condition(self._lock)
        return cond

    async def wait_for_message_async(
        self,
        chat_id: int | ChatHandle | UserHandle,
        predicate: MessagePredicate = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - mirrors wait_for_message
    ) -> ChatMessage:
        """:meth:`wait_for_message` for code running in the emulator's own event loop."""
        cid = chat_id if isinstance(chat_id, int) else chat_id.id
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self._find_unconsumed(cid, predicate)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                with self._lock:
                    raise TimeoutError(self._timeout_report(cid, predicate))
            await asyncio.sleep(0.01)

    def wait_until(
        self, condition: Callable[[], Any], timeout: float = 10.0, *, chat: int | None = None
    ) -> Any:
        """Block until ``condition()`` is truthy (re-checked after every change, or with `chat`
        after every change in that chat: bot messages, edits, deletions, answers, the user's
        own; and at least every 0.1 s); returns it."""
        deadline = time.monotonic() + timeout
        with self._lock:
            cond = self._cond if chat is None else self._chat_cond(chat)
            while True:
                value = condition()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("condition not met within timeout")
                cond.wait(min(remaining, 0.1))

    def wait_for_callback_answer(self, query_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Block until the bot answered the callback query; returns the answer."""
        return self.wait_until(lambda: self.callback_answer(query_id), timeout)

    def _timeout_report(self, chat_id: int, predicate: MessagePredicate) -> str:
        sent = [
            f"#{m.message_id}{' (deleted)' if m.deleted else ''}: {m.text!r}"
            for m in (s.snapshot() for s in self._messages.get(chat_id, {}).values())
            if m.from_bot
        ]
        return (
            f"no matching bot message in chat {chat_id} (predicate {predicate!r}); "
            f"bot messages: {sent or 'none'}"
        )


def _matches(msg: ChatMessage, predicate: MessagePredicate) -> bool:
    if predicate is None:
        return True
    if isinstance(predicate, str):
        return predicate in (msg.text or "")
    return bool(predicate(msg))


def _update_kind(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


def _status_phrase(status: int) -> str:
    phrases = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    return phrases.get(status, "Internal Server Error")
