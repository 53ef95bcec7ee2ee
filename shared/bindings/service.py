"""Which WABA is bound to a space: from the cache when it knows, else from CAMS by one instance at a time.

A lookup reads this instance's memory, then the shared store. A fresh answer is served as it is. A
missing or expired one is asked of CAMS by the instance that takes the key's lock; the others serve
the stale answer if there is one, or wait for the new one within their deadline. When CAMS is
throttled, unavailable or too slow, a stale answer beats the error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared import errors
from shared.bindings.entry import Answer
from shared.bindings.quota import CamsQuota
from shared.cams import CamsGateway
from shared.invocation import Invocation
from shared.settings import CamsSettings, S
from shared.store import Cache, KeySpace, Store, keyed_digest, poll

Source = Literal["memory", "shared", "cams", "stale", "waited"]
STALE_WORTHY = (errors.Throttled, errors.UpstreamUnavailable, errors.UpstreamTimeout)
LOCK_TTL_S = 10.0
POLL_INTERVAL_S = 0.05
WAIT_FOR_ANSWER_S = 1.0


@dataclass(frozen=True)
class Lookup:
    """How a lookup ended: an answer (fresh or stale) or an error, and how it was found."""

    source: Source
    answer: Answer | None = None
    error: errors.ServiceError | None = None
    attempts: int = 0

    @property
    def stale(self) -> bool:
        return self.source == "stale"


class BindingService:
    """The lookups of one account in one region, over one store and one CAMS gateway."""

    def __init__(self, store: Store, memory: Cache, gateway: CamsGateway, key_secret: bytes) -> None:
        self.store = store
        self.memory = memory
        self.gateway = gateway
        self.key_secret = key_secret

    def parts(self, space: str | None, isv_code: str | None) -> tuple[str, str, str]:
        """The parts of a space's keys: an IsvCode only as a keyed hash."""
        return "waba", space or "-own", keyed_digest(self.key_secret, isv_code) if isv_code else "-"

    def lookup(
        self,
        space: str | None,
        isv_code: str | None,
        keys: KeySpace,
        quota: CamsQuota,
        invocation: Invocation[S],
    ) -> Lookup:
        settings, now = invocation.settings, invocation.clock.time()
        key = keys.cache(*self.parts(space, isv_code))
        remembered = Answer.decode(self.memory.get(key))
        if remembered is not None and remembered.is_fresh(now, settings):
            return Lookup("memory", remembered)
        kept = Answer.decode(self.store.cache.get(key))
        if kept is not None and kept.is_fresh(now, settings):
            self._remember(key, kept, now, settings)
            return Lookup("shared", kept)
        stale = kept if kept is not None and kept.is_usable(now, settings) else None
        lock_key = keys.lock(*self.parts(space, isv_code))
        lock_ms = max(1, int(min(LOCK_TTL_S, invocation.deadline.remaining()) * 1000))
        token = self.store.locks.try_lock(lock_key, lock_ms)
        if token is None:
            return Lookup("stale", stale) if stale is not None else self._wait_for(key, invocation)
        try:
            return self._ask((space, isv_code), (key, stale), quota, invocation)
        finally:
            self.store.locks.unlock(lock_key, token)

    def _ask(
        self,
        asked: tuple[str | None, str | None],
        kept: tuple[str, Answer | None],
        quota: CamsQuota,
        invocation: Invocation[S],
    ) -> Lookup:
        (space, isv_code), (key, stale), settings = asked, kept, invocation.settings
        hook = quota.before_attempt(invocation.deadline, settings.min_attempt_ms / 1000, invocation.clock)
        outcome = self.gateway.query_bind_waba(space, isv_code, invocation, before_attempt=hook)
        now = invocation.clock.time()
        answer = Answer.of(outcome, now)
        if answer is not None:
            self.keep(key, answer, now, settings)
            return Lookup("cams", answer, attempts=outcome.attempts)
        if stale is not None and isinstance(outcome.error, STALE_WORTHY):
            return Lookup("stale", stale, attempts=outcome.attempts)
        return Lookup("cams", error=outcome.error, attempts=outcome.attempts)

    def _wait_for(self, key: str, invocation: Invocation[S]) -> Lookup:
        """Another instance is asking CAMS: wait for its answer while the deadline allows."""
        settings = invocation.settings

        def fresh() -> Answer | None:
            answer = Answer.decode(self.store.cache.get(key))
            return answer if answer is not None and answer.is_fresh(invocation.clock.time(), settings) else None

        # The asking instance waits at most CAMS_QUOTA_WAIT_MS for its slot, then CAMS answers or not.
        wait_s = settings.cams_quota_wait_ms / 1000 + WAIT_FOR_ANSWER_S
        budget_s = invocation.deadline.remaining() - settings.min_attempt_ms / 1000
        answer = poll(fresh, invocation.clock, min(LOCK_TTL_S, wait_s, budget_s), POLL_INTERVAL_S)
        if answer is None:
            busy = errors.QuotaExhausted("Another instance is asking CAMS for this space; try again shortly.")
            return Lookup("waited", error=busy)
        return Lookup("waited", answer)

    def keep(self, key: str, answer: Answer, now: float, settings: CamsSettings) -> None:
        """Keep `answer` in the shared store until it is too old to serve even stale, and remember it here."""
        keep_s = max(answer.fresh_s(settings), settings.cache_max_stale_seconds)
        if keep_s > 0:
            self.store.cache.set(key, answer.encode(), int(keep_s * 1000))
        self._remember(key, answer, now, settings)

    def _remember(self, key: str, answer: Answer, now: float, settings: CamsSettings) -> None:
        fresh_ms = int((answer.fresh_s(settings) - answer.age_s(now)) * 1000)
        if fresh_ms > 0:
            self.memory.set(key, answer.encode(), fresh_ms)
