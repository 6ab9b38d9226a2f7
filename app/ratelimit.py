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
        limit, remaining, reset = str(self.limit).encode(), str(self.remaining).encode(), str(self.reset_after).encode()
        return [
            (b"ratelimit-policy", self.policy.encode()),
            (b"ratelimit", b"limit=" + limit + b", remaining=" + remaining + b", reset=" + reset),
            (b"x-ratelimit-limit", limit),
            (b"x-ratelimit-remaining", remaining),
            (b"x-ratelimit-reset", reset),
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
    """The configured items counted in this process: each moving window a queue of hit times, each fixed window a
    counter. `limits`' MemoryStorage keeps the same state, but it prepends to a list on every hit and starts an
    expiry pass in a thread on nearly every hit, which cost a fifth of a request's CPU in the benchmark. A request
    refused by one window is not counted in the others."""

    SWEEP_EVERY = 60.0

    def __init__(self, items: list[RateLimitItem]) -> None:
        # (index, amount, window seconds, exact): the index keys this item's state per caller.
        self.items = [
            (i, item.amount, item.get_expiry(), item.get_expiry() <= EXACT_UP_TO_SECONDS)
            for i, item in enumerate(items)
        ]
        self.hits: dict[tuple[int, str], deque[float]] = {}
        self.counters: dict[tuple[int, str], list[float]] = {}  # [window start, count]
        self._next_sweep = time.monotonic() + self.SWEEP_EVERY

    async def hit(self, key: str, policy: str) -> Decision:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
        tightest: tuple[int, int, int] | None = None  # (remaining, limit, reset_after)
        for i, amount, expiry, exact in self.items:
            if exact:
                times = self.hits.get((i, key))
                if times is None:
                    times = self.hits[(i, key)] = deque()
                while times and times[0] <= now - expiry:
                    times.popleft()
                used, reset_at = len(times), (times[0] if times else now) + expiry
            else:
                counter = self.counters.get((i, key))
                if counter is None or counter[0] + expiry <= now:
                    counter = self.counters[(i, key)] = [now, 0]
                used, reset_at = int(counter[1]), counter[0] + expiry
            reset_after = max(0, math.ceil(reset_at - now))
            if used >= amount:
                return Decision(False, amount, 0, max(1, reset_after), policy)
            if tightest is None or amount - used - 1 < tightest[0]:
                tightest = (amount - used - 1, amount, reset_after)
        for i, _amount, _expiry, exact in self.items:
            if exact:
                self.hits[(i, key)].append(now)
            else:
                self.counters[(i, key)][1] += 1
        assert tightest is not None
        return Decision(True, tightest[1], tightest[0], tightest[2], policy)

    def _sweep(self, now: float) -> None:
        """Forgets callers whose windows have all passed, so idle keys do not pile up."""
        self._next_sweep = now + self.SWEEP_EVERY
        expiries = {i: expiry for i, _amount, expiry, _exact in self.items}
        for k, times in list(self.hits.items()):
            if not times or times[-1] <= now - expiries[k[0]]:
                del self.hits[k]
        for k, counter in list(self.counters.items()):
            if counter[0] + expiries[k[0]] <= now:
                del self.counters[k]


class RateLimits:
    RETRY_REDIS_AFTER = 5.0

    def __init__(self, spec: str, redis_url: str | None = None, *, redis_timeout: float = 0.25) -> None:
        self.items = parse_many(spec)
        if not self.items:
            raise ValueError(f"no rate limits in {spec!r}")
        self.policy = ", ".join(f"{i.amount};w={i.get_expiry()}" for i in self.items)
        self.local: _Budget | _LocalBudget = _LocalBudget(self.items)
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
        return await self.local.hit(key, self.policy)

    @property
    def using_shared(self) -> bool:
        return self.shared is not None and self._redis_down_until == 0.0
