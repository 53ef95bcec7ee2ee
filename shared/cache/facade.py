"""CAMS behind the cache, for routes and the timer alike: `fetch` reads through it, `ask` writes through it.

`fetch(operation, arguments)` reads this instance's memory, then the shared store. A fresh entry
is served as it is. A missing or expired one is asked of CAMS by the instance that takes the key's
lock; the others serve the stale entry if there is one, or wait for the new one within their
deadline. When CAMS is throttled, unavailable or too slow, a stale entry beats the error.

`ask(operation, arguments)` always asks CAMS (the timer's checks) and keeps what it answers, so
that the routes find it. Both take a slot of the operation's quota before every attempt, and tell
the quota when CAMS throttles. While the shared store is unreachable, a fetch serves a stale entry
rather than ask: each instance's own limit is only a guess then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Literal

from shared import errors
from shared.cache.entry import CacheEntry
from shared.cache.keys import CacheKeys
from shared.cache.quota import AccountQuota, share_of
from shared.cams import Answered, CallBudget, CamsGateway
from shared.invocation import Invocation
from shared.operations import A, Operation, R
from shared.retry import Attempted
from shared.settings import S
from shared.store import Cache, Store, poll

Source = Literal["memory", "shared", "cams", "stale", "waited"]
STALE_WORTHY = (errors.Throttled, errors.UpstreamUnavailable, errors.UpstreamTimeout, errors.TooManyRequests)
LOCK_TTL_S = 10.0
POLL_INTERVAL_S = 0.05
WAIT_FOR_ANSWER_S = 1.0


@dataclass(frozen=True)
class Fetched(Generic[R]):
    """How a fetch ended: an entry (fresh or stale) or an error, and where it was found."""

    source: Source
    entry: CacheEntry[R] | None = None
    error: errors.ServiceError | None = None
    attempts: int = 0

    @property
    def stale(self) -> bool:
        return self.source == "stale"


class CachedCams(Generic[S]):
    """One invocation's view of CAMS through the instance's cache, store and quotas."""

    def __init__(
        self,
        store: Store,
        memory: Cache,
        gateway: CamsGateway,
        keys: CacheKeys,
        invocation: Invocation[S],
        share: int | None = None,
    ) -> None:
        self.store = store
        self.memory = memory
        self.gateway = gateway
        self.keys = keys
        self.invocation = invocation
        self.settings = invocation.settings
        self.share = share

    def fetch(
        self, operation: Operation[A, R], arguments: A, *, before_attempt: Callable[[], None] | None = None
    ) -> Fetched[R]:
        """The operation's answer for `arguments`, from the cache when it is fresh, else from CAMS once.

        `before_attempt` (a caller's budget, say) runs before each attempt, when one is made at all.
        """
        invocation, settings, now = self.invocation, self.settings, self.invocation.clock.time()
        keys = self.keys.of(operation, arguments)
        remembered = CacheEntry.decode(operation, self.memory.get(keys.cache))
        if remembered is not None and remembered.is_fresh(now, operation, settings):
            return Fetched("memory", remembered)
        kept = CacheEntry.decode(operation, self.store.cache.get(keys.cache))
        if kept is not None and kept.is_fresh(now, operation, settings):
            self._remember(operation, keys.cache, kept, now)
            return Fetched("shared", kept)
        stale = kept if kept is not None and kept.is_usable(now, operation, settings) else None
        if stale is not None and self.store.degraded():
            return Fetched("stale", stale)  # the account's limit is only guessed at now: no call that can wait
        lock_ms = max(1, int(min(LOCK_TTL_S, invocation.deadline.remaining()) * 1000))
        token = self.store.locks.try_lock(keys.lock, lock_ms)
        if token is None:
            return Fetched("stale", stale) if stale is not None else self._wait_for(operation, keys.cache)
        try:
            outcome, entry = self._ask(operation, arguments, keys.cache, self.invocation, before_attempt)
        finally:
            self.store.locks.unlock(keys.lock, token)
        if entry is not None:
            return Fetched("cams", entry, attempts=outcome.attempts)
        if stale is not None and isinstance(outcome.error, STALE_WORTHY):
            return Fetched("stale", stale, attempts=outcome.attempts)
        return Fetched("cams", error=outcome.error, attempts=outcome.attempts)

    def ask(
        self,
        operation: Operation[A, R],
        arguments: A,
        budget: CallBudget | None = None,
        *,
        before_attempt: Callable[[], None] | None = None,
    ) -> Attempted[Answered[R]]:
        """Ask CAMS now, within `budget` (the invocation's by default), and keep what it answers.

        `before_attempt` (a pacer, say) runs before the quota's slot is taken for each attempt.
        """
        key = self.keys.of(operation, arguments).cache
        return self._ask(operation, arguments, key, budget or self.invocation, before_attempt)[0]

    def _ask(
        self,
        operation: Operation[A, R],
        arguments: A,
        key: str,
        budget: CallBudget,
        before_attempt: Callable[[], None] | None,
    ) -> tuple[Attempted[Answered[R]], CacheEntry[R] | None]:
        """The call, and the entry it kept under `key` (None: an error that is not the space's)."""
        quota = self._quota(operation)
        take_slot = quota.before_attempt(
            budget.deadline, self.settings.cams_min_attempt_ms / 1000, self.invocation.clock
        )

        def before() -> None:
            if before_attempt is not None:
                before_attempt()
            take_slot()

        outcome = self.gateway.call(operation, arguments, budget, before_attempt=before, on_throttled=quota.throttled)
        now = self.invocation.clock.time()
        entry = CacheEntry.of(operation, outcome, now)
        if entry is not None:
            self._keep(operation, key, entry, now)
        return outcome, entry

    def _quota(self, operation: Operation[A, R]) -> AccountQuota:
        settings = self.settings
        limit = share_of(operation.limit_in_force(settings), self.share, settings.cams_rate_limit_per_second)
        window_ms = 1000 + settings.cams_rate_window_margin_ms
        key = self.keys.rate_limit(operation.action)
        return AccountQuota(self.store.limiter, key, limit, window_ms, settings.cams_quota_wait_ms)

    def _wait_for(self, operation: Operation[A, R], key: str) -> Fetched[R]:
        """Another instance is asking CAMS: wait for its answer while the deadline allows."""
        invocation, settings = self.invocation, self.settings

        def fresh() -> CacheEntry[R] | None:
            entry = CacheEntry.decode(operation, self.store.cache.get(key))
            return entry if entry is not None and entry.is_fresh(invocation.clock.time(), operation, settings) else None

        # The asking instance waits at most CAMS_QUOTA_WAIT_MS for its slot, then CAMS answers or not.
        wait_s = settings.cams_quota_wait_ms / 1000 + WAIT_FOR_ANSWER_S
        budget_s = invocation.deadline.remaining() - settings.cams_min_attempt_ms / 1000
        entry = poll(fresh, invocation.clock, min(LOCK_TTL_S, wait_s, budget_s), POLL_INTERVAL_S)
        if entry is None:
            busy = errors.QuotaExhausted("Another instance is asking CAMS for this space; try again shortly.")
            return Fetched("waited", error=busy)
        return Fetched("waited", entry)

    def _keep(self, operation: Operation[A, R], key: str, entry: CacheEntry[R], now: float) -> None:
        """Keep `entry` in the shared store until it is too old to serve even stale, and remember it here."""
        keep_s = max(entry.fresh_s(operation, self.settings), self.settings.cache_max_stale_seconds)
        if keep_s > 0:
            self.store.cache.set(key, entry.encode(), int(keep_s * 1000))
        self._remember(operation, key, entry, now)

    def _remember(self, operation: Operation[A, R], key: str, entry: CacheEntry[R], now: float) -> None:
        fresh_ms = int((entry.fresh_s(operation, self.settings) - entry.age_s(now)) * 1000)
        if fresh_ms > 0:
            self.memory.set(key, entry.encode(), fresh_ms)
