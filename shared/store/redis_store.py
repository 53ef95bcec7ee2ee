"""The Redis (Tair) store: shared by every instance of every function of the account.

Each primitive falls back to its in-memory counterpart (`shared.store.memory`) while Redis is
unavailable (see `shared.store.redis_link`):

- cache: values are also written to the instance's memory, which answers while Redis cannot; a
  Redis restart loses nothing but cache entries.
- locks: per-instance locks, so single-flight then holds per instance only.
- limiter: a per-instance rate (`shared.store.fallback`): a tenth of the limit's rate to start
  with, spaced out, halved on every throttling answer from CAMS, recovering over a minute. N
  instances may together go past the account's limit until CAMS's answers slow them; the cache
  prefers its stale answers to new calls meanwhile (`shared.cache.facade`).
- token buckets: per-instance buckets with the same rate and burst.

Example (no server needed to build one; it connects on first use):
    >>> from shared.clock import SYSTEM_CLOCK
    >>> store = redis_store("redis://127.0.0.1:1", SYSTEM_CLOCK)
    >>> store.shared
    True
"""

from __future__ import annotations

import secrets
from typing import cast

from shared.clock import Clock
from shared.store.algorithms import MICROS
from shared.store.base import MAX_WAIT_MS, RedisOptions, Reservation, Store, Take, check_bucket, check_limit
from shared.store.fallback import FallbackRates
from shared.store.memory import MemoryBuckets, MemoryCache, MemoryLimiter, MemoryLocks
from shared.store.redis_link import RedisLink, Unavailable
from shared.store.scripts import RESERVE, TAKE_TOKENS, UNLOCK, LuaScript


class RedisCache:
    """GET and SET PX, written through to memory; memory answers while Redis is unavailable."""

    def __init__(self, link: RedisLink, memory: MemoryCache) -> None:
        self._link = link
        self._memory = memory

    def get(self, key: str) -> bytes | None:
        try:
            value = self._link.run(lambda client: client.get(key))
        except Unavailable:
            return self._memory.get(key)
        return cast("bytes | None", value)  # bytes: the client does not decode responses

    def set(self, key: str, value: bytes | str, ttl_ms: int) -> None:
        self._memory.set(key, value, ttl_ms)
        try:
            self._link.run(lambda client: client.set(key, value, px=max(1, ttl_ms)))
        except Unavailable:
            return

    def delete(self, key: str) -> None:
        self._memory.delete(key)
        try:
            self._link.run(lambda client: client.delete(key))
        except Unavailable:
            return


class RedisLocks:
    """SET NX PX to take a lock; a compare-and-delete script to release it."""

    _unlock = LuaScript(UNLOCK)

    def __init__(self, link: RedisLink, memory: MemoryLocks) -> None:
        self._link = link
        self._memory = memory

    def try_lock(self, key: str, ttl_ms: int) -> str | None:
        token = secrets.token_hex(16)
        try:
            taken = self._link.run(lambda client: client.set(key, token, nx=True, px=max(1, ttl_ms)))
        except Unavailable:
            return self._memory.try_lock(key, ttl_ms)
        return token if taken else None

    def unlock(self, key: str, token: str) -> bool:
        if self._memory.unlock(key, token):
            return True
        try:
            return bool(self._link.run(lambda client: self._unlock(client, [key], [token])))
        except Unavailable:
            return False  # it expires by itself after its ttl


class RedisLimiter:
    """A sliding-window log of slots in one sorted set per key, decided by a Lua script on `TIME`.

    See `shared.store` for the algorithm, the arrival margin and the shares of the two functions.
    """

    _reserve = LuaScript(RESERVE)

    def __init__(self, link: RedisLink, memory: MemoryLimiter, clock: Clock) -> None:
        self._link = link
        self._memory = memory
        self._fallback = FallbackRates(clock, link.options.fallback_divisor)

    def reserve(self, key: str, limit: int, window_ms: int, max_wait_ms: float) -> Reservation:
        check_limit(limit, window_ms)
        max_wait = round(min(max(max_wait_ms, 0.0), MAX_WAIT_MS) * 1000)
        try:
            granted, wait, _ = self._run(key, limit, window_ms, max_wait, take=True)
        except Unavailable:
            return self._fallback_reserve(key, limit, window_ms, max_wait_ms)
        return Reservation(bool(granted), wait / 1000, shared=True)

    def time_to_slot(self, key: str, limit: int, window_ms: int) -> float:
        check_limit(limit, window_ms)
        try:
            _, wait, _ = self._run(key, limit, window_ms, 0, take=False)
        except Unavailable:
            interval = self._fallback.interval_ms(key, limit, window_ms)
            return max(self._fallback.entry_delay_ms(key, interval), self._memory.time_to_slot(key, 1, interval))
        return float(wait) / 1000

    def reserve_at(self, key: str, limit: int, window_ms: int, max_wait_ms: float) -> tuple[Reservation, int] | None:
        """`reserve`, with the slot's time on the server's clock (microseconds); None when Redis is
        unavailable. For tests and diagnostics."""
        check_limit(limit, window_ms)
        max_wait = round(min(max(max_wait_ms, 0.0), MAX_WAIT_MS) * 1000)
        try:
            granted, wait, slot = self._run(key, limit, window_ms, max_wait, take=True)
        except Unavailable:
            return None
        return Reservation(bool(granted), wait / 1000, shared=True), slot

    def _run(self, key: str, limit: int, window_ms: int, max_wait_us: int, *, take: bool) -> list[int]:
        args: list[str | int | float] = [limit, window_ms * 1000, max_wait_us, secrets.token_hex(8), int(take)]
        answer = self._link.run(lambda client: self._reserve(client, [key], args))
        return [int(value) for value in answer]

    def throttled(self, key: str, limit: int, window_ms: int) -> None:
        self._fallback.throttled(key, limit, window_ms)

    def _fallback_reserve(self, key: str, limit: int, window_ms: int, max_wait_ms: float) -> Reservation:
        """This instance's own slot, one per interval, the first of an episode at a random phase."""
        interval = self._fallback.interval_ms(key, limit, window_ms)
        delay = self._fallback.entry_delay_ms(key, interval)
        if delay > max_wait_ms:
            return Reservation(False, delay, shared=False)
        taken = self._memory.reserve(key, 1, interval, max_wait_ms - delay)
        return Reservation(taken.granted, taken.wait_ms + delay, shared=False)


class RedisBuckets:
    """Token buckets in Redis hashes, refilled on `TIME` by a Lua script."""

    _take = LuaScript(TAKE_TOKENS)

    def __init__(self, link: RedisLink, memory: MemoryBuckets) -> None:
        self._link = link
        self._memory = memory

    def take(self, key: str, rate_per_s: float, burst: int, cost: int = 1) -> Take:
        check_bucket(rate_per_s, burst, cost)
        args: list[str | int | float] = [repr(float(rate_per_s)), burst, cost]
        try:
            allowed, wait, tokens = self._link.run(lambda client: self._take(client, [key], args))
        except Unavailable:
            return self._memory.take(key, rate_per_s, burst, cost)
        return Take(bool(allowed), int(wait) * 1000 / MICROS, float(tokens), shared=True)


def redis_store(url: str, clock: Clock, options: RedisOptions | None = None, password: str | None = None) -> Store:
    """The store on Redis at `url` (`redis://` or `rediss://`; a password in it, or `password`)."""
    chosen = options or RedisOptions()
    link = RedisLink(url, chosen, clock, password)
    size = chosen.memory_max_entries
    return Store(
        cache=RedisCache(link, MemoryCache(clock, size)),
        locks=RedisLocks(link, MemoryLocks(clock, size)),
        limiter=RedisLimiter(link, MemoryLimiter(clock, size), clock),
        buckets=RedisBuckets(link, MemoryBuckets(clock, size)),
        shared=True,
        closer=link.close,
        degraded=lambda: link.skipping,
    )
