"""Per-caller request budgets, parsed and (with Redis) counted by the `limits` library.

Windows of an hour or less use the moving window: exact, so no doubled burst across a window boundary. Longer
windows (the day) use a fixed window: one counter per caller, cheap, and a boundary burst of one day's budget is
harmless at that scale. Counting is in-process by default (`_LocalBudget`) and in Redis when `REDIS_URL` is set, so
several processes share one budget. If Redis fails or is slow, counting falls back to this process for a few
seconds, a warning is logged, and Redis is tried again: limiting degrades, serving does not.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

log = logging.getLogger("coursepipeline.ratelimit")

EXACT_UP_TO_SECONDS = 3600


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is a call per field, on every request
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the tightest window frees a request
    policy: str

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Policy": self.policy,
            "RateLimit": f"limit={self.limit}, remaining={self.remaining}, reset={self.reset_after}",
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_after),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_after))
        return headers

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """`headers()` of an allowed request, encoded for ASGI: built directly, since every request carries them."""
        limit, remaining, reset = self.limit, self.remaining, self.reset_after
        return [
            (b"ratelimit-policy", self.policy.encode()),
            (b"ratelimit", b"limit=%d, remaining=%d, reset=%d" % (limit, remaining, reset)),
            (b"x-ratelimit-limit", b"%d" % limit),
            (b"x-ratelimit-remaining", b"%d" % remaining),
            (b"x-ratelimit-reset", b"%d" % reset),
        ]


class _Budget:
    """The configured items over a `limits` storage (Redis)."""

    def __init__(self, items: list[RateLimitItem], storage: Storage) -> None:
        self.storage = storage
        self.pairs: list[tuple[RateLimitItem, RateLimiter]] = []
        for item in items:
            exact = item.get_expiry() <= EXACT_UP_TO_SECONDS
            self.pairs.append((item, (MovingWindowRateLimiter if exact else FixedWindowRateLimiter)(storage)))

    async def hit(self, key: str, policy: str) -> Decision:
        tightest: tuple[int, int, int] | None = None  # (remaining, limit, reset_after)
        allowed = True
        now = time.time()
        for item, limiter in self.pairs:
            ok = await limiter.hit(item, key)
            stats = await limiter.get_window_stats(item, key)
            reset_after = max(0, math.ceil(stats.reset_time - now))
            entry = (stats.remaining, item.amount, reset_after)
            if not ok:
                return Decision(False, item.amount, 0, max(1, reset_after), policy)
            if tightest is None or entry[0] < tightest[0]:
                tightest = entry
        assert tightest is not None
        return Decision(allowed, tightest[1], tightest[0], tightest[2], policy)


class _LocalBudget:
    """The configured items counted in this process, one entry per caller: for each item, a queue of hit times
    (moving window) or a `[window start, count]` pair (fixed window). `limits`' MemoryStorage keeps the same
    state, but it prepends to a list on every hit and starts an expiry pass in a thread on nearly every hit, which
    costs more than the rest of the request's limiting. A request refused by one window is not counted in the
    others."""

    SWEEP_EVERY = 60.0

    def __init__(self, items: list[RateLimitItem]) -> None:
        # (amount, window seconds, exact), in the order of each caller's windows.
        self.items = [(item.amount, item.get_expiry(), item.get_expiry() <= EXACT_UP_TO_SECONDS) for item in items]
        self.callers: dict[str, list[Any]] = {}
        self._next_sweep = time.monotonic() + self.SWEEP_EVERY

    def hit(self, key: str, policy: str) -> Decision:
        """Not a coroutine: nothing here waits, and every request comes through."""
        now = time.monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
        windows = self.callers.get(key)
        if windows is None:
            windows = self.callers[key] = [deque() if exact else [now, 0] for _amount, _expiry, exact in self.items]
        tightest: tuple[int, int, float] | None = None  # (remaining after this hit, limit, when a request frees)
        for (amount, expiry, exact), window in zip(self.items, windows):  # noqa: B905 (each caller's windows follow self.items)
            if exact:
                while window and window[0] <= now - expiry:
                    window.popleft()
                used, reset_at = len(window), (window[0] if window else now) + expiry
            else:
                if window[0] + expiry <= now:
                    window[0], window[1] = now, 0
                used, reset_at = window[1], window[0] + expiry
            if used >= amount:
                return Decision(False, amount, 0, max(1, math.ceil(reset_at - now)), policy)
            if tightest is None or amount - used - 1 < tightest[0]:
                tightest = (amount - used - 1, amount, reset_at)
        for (_amount, _expiry, exact), window in zip(self.items, windows):  # noqa: B905
            if exact:
                window.append(now)
            else:
                window[1] += 1
        assert tightest is not None
        remaining, limit, reset_at = tightest
        return Decision(True, limit, remaining, max(0, math.ceil(reset_at - now)), policy)

    def _sweep(self, now: float) -> None:
        """Forgets callers whose windows have all passed, so idle keys do not pile up."""
        self._next_sweep = now + self.SWEEP_EVERY
        for key, windows in list(self.callers.items()):
            if all(
                (not window or window[-1] <= now - expiry) if exact else window[0] + expiry <= now
                for (_amount, expiry, exact), window in zip(self.items, windows, strict=True)
            ):
                del self.callers[key]


class RateLimits:
    RETRY_REDIS_AFTER = 5.0

    def __init__(self, spec: str, redis_url: str | None = None, *, redis_timeout: float = 0.25) -> None:
        self.items = parse_many(spec)
        if not self.items:
            raise ValueError(f"no rate limits in {spec!r}")
        self.policy = ", ".join(f"{i.amount};w={i.get_expiry()}" for i in self.items)
        self.local = _LocalBudget(self.items)
        self.shared: _Budget | None = None
        self.redis_timeout = redis_timeout
        self._redis_down_until = 0.0
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            storage = RedisStorage(
                uri,
                implementation="redispy",
                key_prefix="coursepipeline",
                socket_timeout=redis_timeout,
                socket_connect_timeout=redis_timeout,
            )
            self.shared = _Budget(self.items, storage)

    async def hit(self, key: str) -> Decision:
        if self.shared is not None and time.monotonic() >= self._redis_down_until:
            try:
                async with asyncio.timeout(self.redis_timeout * 4):
                    decision = await self.shared.hit(key, self.policy)
            except Exception as exc:  # any storage failure: keep serving, count locally
                if self._redis_down_until == 0.0:
                    log.warning("rate limit storage unavailable (%s); counting per process until it returns", exc)
                self._redis_down_until = time.monotonic() + self.RETRY_REDIS_AFTER
            else:
                if self._redis_down_until:
                    log.warning("rate limit storage is back; budgets are shared again")
                    self._redis_down_until = 0.0
                return decision
        return self.local.hit(key, self.policy)

    @property
    def using_shared(self) -> bool:
        return self.shared is not None and self._redis_down_until == 0.0
