"""The in-memory store: one instance's cache, locks and limits, on the injected clock.

It is the whole store when no REDIS_URL is set (one instance's worth of protection), and the
fallback of the Redis store while Redis is unavailable. Everything is bounded in entries.

Example:
    >>> from shared.clock import SYSTEM_CLOCK
    >>> cache = MemoryCache(SYSTEM_CLOCK, max_entries=2)
    >>> cache.set("a", "1", ttl_ms=60_000); cache.get("a")
    b'1'
"""

from __future__ import annotations

import bisect
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from shared.clock import Clock
from shared.store.algorithms import MICROS, Bucket, earliest_slot, take_tokens
from shared.store.base import MAX_WAIT_MS, Reservation, Store, Take, check_bucket, check_limit

DEFAULT_MAX_ENTRIES = 1024
V = TypeVar("V")


def _micros(clock: Clock) -> int:
    return round(clock.monotonic() * MICROS)


def _make_room(entries: OrderedDict[str, V], max_entries: int, expired: Callable[[V], bool] | None = None) -> None:
    """Drop the `expired` entries, then the oldest ones, until one more entry fits.

    Expiry is looked for only when the map is full: scanning every entry on each write cost a
    lookup's worth of time once the map held hundreds.
    """
    if len(entries) < max_entries:
        return
    if expired is not None:
        for key in [key for key, value in entries.items() if expired(value)]:
            del entries[key]
    while len(entries) >= max_entries:
        entries.popitem(last=False)


class _Bounded(Generic[V]):
    """Entries of one kind, at most `max_entries` of them, behind one lock, on the injected clock."""

    def __init__(self, clock: Clock, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[str, V] = OrderedDict()
        self._guard = threading.Lock()


class MemoryCache(_Bounded[tuple[float, bytes]]):
    """A bounded map with expiry: the oldest write goes first when it is full."""

    def get(self, key: str) -> bytes | None:
        with self._guard:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def set(self, key: str, value: bytes | str, ttl_ms: int) -> None:
        data = value.encode() if isinstance(value, str) else value
        with self._guard:
            now = self._clock.monotonic()
            self._entries.pop(key, None)
            _make_room(self._entries, self._max_entries, lambda entry: entry[0] <= now)
            self._entries[key] = (now + ttl_ms / 1000, data)

    def delete(self, key: str) -> None:
        with self._guard:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


class MemoryLocks(_Bounded[tuple[float, str]]):
    """Locks held in this instance only."""

    def try_lock(self, key: str, ttl_ms: int) -> str | None:
        with self._guard:
            now = self._clock.monotonic()
            held = self._entries.get(key)
            if held is not None and held[0] > now:
                return None
            self._entries.pop(key, None)
            _make_room(self._entries, self._max_entries, lambda entry: entry[0] <= now)
            token = secrets.token_hex(16)
            self._entries[key] = (now + ttl_ms / 1000, token)
            return token

    def unlock(self, key: str, token: str) -> bool:
        with self._guard:
            held = self._entries.get(key)
            if held is None or held[1] != token or held[0] <= self._clock.monotonic():
                return False
            del self._entries[key]
            return True


class MemoryLimiter(_Bounded[list[int]]):
    """The sliding-window limiter of `shared.store.redis_store.RedisLimiter`, for this instance alone."""

    def reserve(self, key: str, limit: int, window_ms: int, max_wait_ms: float) -> Reservation:
        check_limit(limit, window_ms)
        with self._guard:
            now, slots, slot = self._earliest(key, limit, window_ms)
            wait = slot - now
            granted = wait <= min(max(max_wait_ms, 0.0), MAX_WAIT_MS) * 1000
            if granted:
                bisect.insort(slots, slot)
                self._keep(key, slots, now, window_ms)
            return Reservation(granted, wait / 1000, shared=False)

    def time_to_slot(self, key: str, limit: int, window_ms: int) -> float:
        check_limit(limit, window_ms)
        with self._guard:
            now, _, slot = self._earliest(key, limit, window_ms)
            return (slot - now) / 1000

    def throttled(self, key: str, limit: int, window_ms: int) -> None:
        """Nothing to learn: this limiter is the whole of what this instance knows."""

    def _earliest(self, key: str, limit: int, window_ms: int) -> tuple[int, list[int], int]:
        now = _micros(self._clock)
        window = window_ms * 1000
        slots = self._entries.get(key, [])
        del slots[: bisect.bisect_left(slots, now - window)]  # gone from every window that can hold `now`
        return now, slots, earliest_slot(slots, now, limit, window)

    def _keep(self, key: str, slots: list[int], now: int, window_ms: int) -> None:
        self._entries.pop(key, None)
        _make_room(self._entries, self._max_entries, lambda kept: not kept or kept[-1] < now - window_ms * 1000)
        self._entries[key] = slots


class MemoryBuckets(_Bounded[Bucket]):
    """Token buckets held in this instance only."""

    def take(self, key: str, rate_per_s: float, burst: int, cost: int = 1) -> Take:
        check_bucket(rate_per_s, burst, cost)
        with self._guard:
            now = _micros(self._clock)
            bucket, allowed, wait = take_tokens(self._entries.pop(key, None), now, rate_per_s, burst, cost)
            _make_room(self._entries, self._max_entries)
            self._entries[key] = bucket
            return Take(allowed, wait / 1000, bucket.tokens, shared=False)


def memory_store(clock: Clock, max_entries: int = DEFAULT_MAX_ENTRIES) -> Store:
    """The whole store in this instance's memory: what runs without REDIS_URL."""
    return Store(
        cache=MemoryCache(clock, max_entries),
        locks=MemoryLocks(clock, max_entries),
        limiter=MemoryLimiter(clock, max_entries),
        buckets=MemoryBuckets(clock, max_entries),
        shared=False,
    )
