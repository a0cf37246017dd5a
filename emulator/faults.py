"""Fault injection and Telegram's flood limits.

Bots must survive 429s, 5xx, slow answers and requests that time out on the client although
Telegram executed them. Rules here decide, reproducibly (seeded), which call gets which fault;
the rate limiter answers 429 like Telegram does when a bot sends faster than allowed.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["FAULT_KINDS", "FORBIDDEN_DESCRIPTION", "FaultInjector", "FaultRule", "RateLimiter"]

FAULT_KINDS = ("429", "5xx", "400", "403", "latency", "timeout", "reset")
#: The description of a 403 fault unless one is given.
FORBIDDEN_DESCRIPTION = "bot was blocked by the user"


@dataclass
class FaultRule:
    """One injection rule; ``times=None`` means unlimited, ``methods=None`` every method except
    getUpdates (polling faults must be asked for explicitly, they only slow tests down)."""

    kind: str
    methods: frozenset[str] | None = None
    chat_id: int | str | None = None
    probability: float = 1.0
    times: int | None = None
    retry_after: int = 1
    delay: float = 0.0
    status: int = 502
    description: str = "wrong file identifier/HTTP URL specified"
    hits: int = 0

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.methods is None:
            if method == "getUpdates":
                return False
        elif method not in self.methods:
            return False
        if self.chat_id is not None and str(self.chat_id) != str(chat_id):
            return False
        return self.times is None or self.times > 0


class FaultInjector:
    """Ordered rule list; the first matching rule whose dice roll succeeds fires."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.rules: list[FaultRule] = []

    def add(
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
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        methods = None
        if method is not None:
            methods = frozenset([method] if isinstance(method, str) else method)
        if delay is None:
            delay = {"latency": 0.5, "timeout": 6.0}.get(kind, 0.0)
        rule = FaultRule(
            kind=kind,
            methods=methods,
            chat_id=chat_id,
            probability=probability,
            times=times,
            retry_after=retry_after,
            delay=delay,
            status=status,
        )
        if description is not None:
            rule.description = description
        elif kind == "403":
            rule.description = FORBIDDEN_DESCRIPTION
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, method: str, chat_id: int | str | None) -> FaultRule | None:
        """The rule that fires for this call (its ``times`` is consumed), or None."""
        for rule in self.rules:
            if not rule.matches(method, chat_id):
                continue
            if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                continue
            rule.hits += 1
            if rule.times is not None:
                rule.times -= 1
            return rule
        return None


@dataclass
class RateLimiter:
    """Telegram's documented send limits: ~30 messages/s overall, 1 message/s per chat and
    20 messages/min per group. Disabled by default; only successful sends are counted."""

    enabled: bool = False
    global_per_second: int = 30
    per_chat_per_second: float = 1.0
    group_per_minute: int = 20
    _global: deque[float] = field(default_factory=deque)
    _last_in_chat: dict[int, float] = field(default_factory=dict)
    _group: dict[int, deque[float]] = field(default_factory=dict)

    def check(self, chat_id: int, is_group: bool, now: float, count: int = 1) -> int | None:
        """``retry_after`` seconds when a send of ``count`` messages now would exceed a limit."""
        if not self.enabled:
            return None
        waits: list[float] = []
        while self._global and self._global[0] <= now - 1.0:
            self._global.popleft()
        if len(self._global) + count > self.global_per_second and self._global:
            waits.append(self._global[0] + 1.0 - now)
        last = self._last_in_chat.get(chat_id)
        if last is not None and self.per_chat_per_second > 0:
            interval = 1.0 / self.per_chat_per_second
            if now - last < interval:
                waits.append(last + interval - now)
        if is_group:
            window = self._group.setdefault(chat_id, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) + count > self.group_per_minute and window:
                waits.append(window[0] + 60.0 - now)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def record(self, chat_id: int, is_group: bool, now: float, count: int = 1) -> None:
        if not self.enabled:
            return
        self._global.extend([now] * count)
        self._last_in_chat[chat_id] = now
        if is_group:
            self._group.setdefault(chat_id, deque()).extend([now] * count)
