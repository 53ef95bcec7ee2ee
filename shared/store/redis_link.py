"""One instance's link to Redis: a lazily made client, short timeouts, and a small circuit breaker.

Redis trouble never fails a request. Each command is bounded by the connect and command timeouts;
redis-py retries it once, at once, only on a broken connection (a refused connect is one more
round trip; a timeout is never retried). A failure (down, unreachable, slow, refused) raises `Unavailable`,
and the caller falls back to its in-memory counterpart. After a failure Redis is skipped for
`skip_ms`; the first operation after that tries it again, and a success closes the breaker.

A `cache.unavailable` warning is logged at most once per `warn_interval_s` per instance, with the
error's type, the failures since the last warning and the skip time, and nothing else (the URL may
hold a password); `cache.recovered` is logged when Redis answers again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from shared.clock import Clock
from shared.logs import log_event
from shared.store.base import RedisOptions

T = TypeVar("T")


class Unavailable(Exception):
    """Redis did not answer, or is being skipped after a failure."""


def check_url(url: str) -> None:
    """Refuse a URL that is not `redis://` or `rediss://` (the message never repeats the URL)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("REDIS_URL must be redis://[user:password@]host[:port][/db] or rediss://...")


class RedisLink:
    """The client, made on first use, and the breaker around every command."""

    def __init__(self, url: str, options: RedisOptions, clock: Clock, password: str | None = None) -> None:
        check_url(url)
        self._url = url
        self._password = password
        self.options = options
        self._clock = clock
        self._client: redis.Redis | None = None
        self._guard = threading.Lock()
        self._skip_until = float("-inf")
        self._last_warning = float("-inf")
        self._failures_unreported = 0
        self._failing = False

    @property
    def client(self) -> redis.Redis:
        """The one client of this instance; it connects on its first command, not here."""
        with self._guard:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> redis.Redis:
        extra = {} if self._password is None else {"password": self._password}
        # One immediate retry on a broken connection only: a pooled connection the server closed while
        # the instance was frozen gets a new one. Timeouts are never retried: they are the budget.
        # RESP2: no HELLO, which Tair's older engine versions refuse; no CLIENT SETINFO round trips.
        return redis.Redis.from_url(
            self._url,
            socket_connect_timeout=self.options.connect_timeout_ms / 1000,
            socket_timeout=self.options.command_timeout_ms / 1000,
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
            max_connections=self.options.max_connections,
            protocol=2,
            driver_info=None,
            **extra,
        )

    def run(self, operation: Callable[[redis.Redis], T]) -> T:
        """`operation(client)`, or `Unavailable` when Redis is skipped or fails."""
        if self.skipping:
            raise Unavailable("Redis is skipped after a recent failure.")
        try:
            result = operation(self.client)
        except (redis.RedisError, OSError) as error:
            self._failed(error)
            raise Unavailable(type(error).__name__) from error
        if self._failing:
            self._recovered()
        return result

    @property
    def skipping(self) -> bool:
        """Whether Redis is being skipped now."""
        return self._clock.monotonic() < self._skip_until

    def _failed(self, error: BaseException) -> None:
        now = self._clock.monotonic()
        self._failing = True
        self._skip_until = now + self.options.skip_ms / 1000
        self._failures_unreported += 1
        if now - self._last_warning >= self.options.warn_interval_s:
            log_event(
                "cache.unavailable",
                logging.WARNING,
                errorType=type(error).__name__,
                failures=self._failures_unreported,
                skipMs=self.options.skip_ms,
            )
            self._last_warning = now
            self._failures_unreported = 0

    def _recovered(self) -> None:
        self._failing = False
        log_event("cache.recovered")

    def close(self) -> None:
        """Close the connections (an instance being shut down)."""
        with self._guard:
            if self._client is not None:
                self._client.close()
                self._client = None
