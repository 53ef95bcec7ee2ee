"""Storage primitives shared by the functions: a cache, single-flight locks, the account-wide rate
limit for calls to CAMS, and per-caller token buckets; in Redis (Tair) when REDIS_URL is set, else
in the instance's memory.

    >>> from shared.clock import SYSTEM_CLOCK
    >>> store = open_store(None, SYSTEM_CLOCK)              # no REDIS_URL: one instance's memory
    >>> store.limiter.reserve("k", limit=10, window_ms=1250, max_wait_ms=0)
    Reservation(granted=True, wait_ms=0.0, shared=False)

`redis` is imported only when a URL is given, by `open_store`, once per instance.

The rate limiter
----------------
A sliding-window log: each reservation is a *slot*, a time on the server's clock (Lua, `TIME`),
kept in one sorted set per key. A reservation takes the earliest slot at or after now such that
every closed window of `window_ms` containing it holds at most `limit` slots, itself included;
equivalently, any limit + 1 consecutive slots span more than `window_ms`. At 10 per 1000 ms, ten
slots 100 ms apart make the eleventh wait until 1000 ms *and one microsecond* after the first:
a slot at exactly 1000 ms would put 11 in the closed interval [0, 1000].

Slots may lie ahead: with `max_wait_ms` > 0 a caller gets the earliest slot within that wait and
sleeps `wait_ms` before its call; when none is that close it is refused, and `wait_ms` says when
the earliest is (a `Retry-After`). `time_to_slot` asks the same without taking one. A taken slot
is spent, whether or not the call is made.

Calls arrive later than their slots. CAMS counts arrivals: if each call arrives between d_min and
d_max after its slot (the Redis answer, the sleep's overshoot, signing, and on a fresh instance
DNS, TCP and TLS set-up), then slots whose any limit + 1 span more than W put at most `limit`
arrivals in any one-second window as long as W >= 1000 ms + (d_max - d_min). Callers therefore pass
a window of 1 s plus a margin, e.g. `window_ms=1250` (10 per 1.25 s: 8 a second sustained), and a
call that would start more than the margin after its slot (a late wake-up, a pause) takes a new
reservation rather than going.

Shares: `limit` is given per call, and every call counts every slot of the key. A slot is placed
only where no window containing it would exceed the caller's own limit, so no window ever holds
more than the largest limit in use; a caller with a lower limit can never fill a window past it.
Give the timer function the account's limit (10) and the HTTP function a lower one (say 7): the
HTTP function never takes more than 7 slots of a window, and the timer always finds the other 3,
and more when the HTTP function is quiet. Slots are the earliest that fit, not the end of a queue,
so the timer is not pushed behind the HTTP function's slots that lie ahead.

Redis unavailable: see `shared.store.redis_store` (a per-instance rate that CAMS's throttling
slows, the in-memory cache, per-instance locks) and `shared.store.redis_link` (timeouts, the breaker and
the rate-limited warning).

Single flight
-------------
`locks.try_lock(key, ttl_ms)` (`SET NX PX`) elects one instance to ask CAMS and fill the cache;
the others `poll` the cache key until their deadline (no pub/sub: not every Tair proxy has it),
then `locks.unlock(key, token)` (compare-and-delete in Lua) lets the next one in. The lock's ttl
bounds how long a crashed holder blocks the others.
"""

from __future__ import annotations

from shared.clock import SYSTEM_CLOCK, Clock
from shared.store.base import (
    MAX_WAIT_MS,
    Cache,
    Locks,
    RateLimiter,
    RedisOptions,
    Reservation,
    Store,
    Take,
    TokenBuckets,
)
from shared.store.keys import KeySpace, keyed_digest
from shared.store.memory import memory_store
from shared.store.poll import poll

__all__ = [
    "MAX_WAIT_MS",
    "Cache",
    "KeySpace",
    "Locks",
    "RateLimiter",
    "RedisOptions",
    "Reservation",
    "Store",
    "Take",
    "TokenBuckets",
    "keyed_digest",
    "open_store",
    "poll",
]


def open_store(
    redis_url: str | None,
    clock: Clock = SYSTEM_CLOCK,
    options: RedisOptions | None = None,
    password: str | None = None,
) -> Store:
    """The Redis store when `redis_url` is set (`redis://` or `rediss://`), else the in-memory one.

    `password` is used when the URL has none (REDIS_PASSWORD). Nothing connects here: the client
    connects on its first command. A malformed URL raises ValueError, without repeating the URL.
    """
    chosen = options or RedisOptions()
    if not redis_url:
        return memory_store(clock, chosen.memory_max_entries)
    from shared.store.redis_store import redis_store  # imports redis: only when REDIS_URL is set

    return redis_store(redis_url, clock, chosen, password)
