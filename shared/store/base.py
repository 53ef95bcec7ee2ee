"""What a store offers, whether it lives in Redis or in one instance's memory.

Times are milliseconds in this interface; `wait_ms` values are relative (how long from now), never
points on a clock, because the Redis store counts on the server's clock and an instance on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

MAX_WAIT_MS = 60_000
"""The furthest ahead a reservation may be made: it bounds the slots a limiter holds per key."""


@dataclass(frozen=True)
class Reservation:
    """A rate limiter's answer.

    granted: a slot was taken; start the call `wait_ms` from now (0: at once).
    wait_ms: when not granted, how long until the earliest free slot (for `Retry-After`).
    shared: False when the per-instance fallback decided, Redis being unavailable.
    """

    granted: bool
    wait_ms: float
    shared: bool


@dataclass(frozen=True)
class Take:
    """A token bucket's answer.

    allowed: the tokens were taken.
    wait_ms: when not allowed, how long until they would be there.
    tokens: what the bucket holds after this take.
    shared: False when the per-instance fallback decided.
    """

    allowed: bool
    wait_ms: float
    tokens: float
    shared: bool


@dataclass(frozen=True)
class RedisOptions:
    """How the Redis store talks to Redis and what it does when it cannot.

    connect_timeout_ms, command_timeout_ms: each bound one step of one operation.
    skip_ms: how long Redis is skipped after a failure.
    warn_interval_s: at most one `cache.unavailable` warning per this many seconds.
    fallback_divisor: while Redis is skipped, the limiter starts at a fallback_divisor-th of the
        limit's rate in this instance alone (see `shared.store.fallback`).
    max_connections: the connection pool's bound (one is used while calls are sequential).
    memory_max_entries: the bound of each in-memory fallback.
    """

    connect_timeout_ms: int = 50
    command_timeout_ms: int = 50
    skip_ms: int = 5_000
    warn_interval_s: float = 60.0
    fallback_divisor: int = 10
    max_connections: int = 4
    memory_max_entries: int = 1024


class Cache(Protocol):
    """Values (bytes) that expire."""

    def get(self, key: str) -> bytes | None:
        """The value, or None when it is missing or expired."""
        ...

    def set(self, key: str, value: bytes | str, ttl_ms: int) -> None:
        """Store `value` (a str is stored as UTF-8) for `ttl_ms` milliseconds."""
        ...

    def delete(self, key: str) -> None:
        """Forget `key`, if it is there."""
        ...


class Locks(Protocol):
    """Short-lived exclusive locks: one holder at a time, until it unlocks or `ttl_ms` passes."""

    def try_lock(self, key: str, ttl_ms: int) -> str | None:
        """A token proving the lock is held, or None when someone else holds it. Never waits."""
        ...

    def unlock(self, key: str, token: str) -> bool:
        """Release the lock if `token` still holds it (not after it expired and was taken again)."""
        ...


class RateLimiter(Protocol):
    """No more than `limit` reservations in any closed window of `window_ms`, for each key."""

    def reserve(self, key: str, limit: int, window_ms: int, max_wait_ms: float) -> Reservation:
        """Take the earliest slot if it is at most `max_wait_ms` away; the caller then waits `wait_ms`."""
        ...

    def time_to_slot(self, key: str, limit: int, window_ms: int) -> float:
        """Milliseconds until a slot would be free, without taking it (0: one is free now)."""
        ...

    def throttled(self, key: str, limit: int, window_ms: int) -> None:
        """CAMS refused a call of this key's quota for its rate: slow down where the store cannot decide."""
        ...


class TokenBuckets(Protocol):
    """Per-caller token buckets: `rate_per_s` tokens a second, up to `burst`."""

    def take(self, key: str, rate_per_s: float, burst: int, cost: int = 1) -> Take:
        """Take `cost` tokens if the bucket has them; never waits."""
        ...


@dataclass(frozen=True)
class Store:
    """The four primitives, from one backend. `shared` is True when they live in Redis."""

    cache: Cache
    locks: Locks
    limiter: RateLimiter
    buckets: TokenBuckets
    shared: bool
    closer: Callable[[], None] = field(default=lambda: None, repr=False)
    degraded: Callable[[], bool] = field(default=lambda: False, repr=False)
    """Whether the shared store is being skipped after a failure, its fallbacks deciding."""

    def close(self) -> None:
        """Close the connections, if any (an instance being shut down, or a test)."""
        self.closer()


def check_limit(limit: int, window_ms: int) -> None:
    """Refuse a limit that could not be honoured: a ValueError is a bug in the caller."""
    if limit < 1 or window_ms < 1:
        raise ValueError("A rate limit needs limit >= 1 and window_ms >= 1.")


def check_bucket(rate_per_s: float, burst: int, cost: int) -> None:
    """Refuse a bucket that could never answer yes."""
    if rate_per_s <= 0 or burst < 1 or not 1 <= cost <= burst:
        raise ValueError("A token bucket needs rate_per_s > 0, burst >= 1 and 1 <= cost <= burst.")
