"""Retries with exponential backoff and full jitter, bounded by attempts and by a deadline.

Example:
    >>> deadline = Deadline.after(5.0)
    >>> call_with_retry(lambda budget_s: "ok", RetryPolicy(), deadline)
    Attempted(attempts=1, value='ok', error=None)

tenacity runs every attempt. An attempt returns its value or raises a `ServiceError`; only an error
whose class is `retryable` (throttling, CAMS unavailable, timeouts) is tried again. The outcome,
value or error, comes back in `Attempted` with the number of attempts made: nothing is written onto
a raised exception. No retry starts unless, after its backoff, at least `min_attempt_s` is left
before the deadline, so an answer always goes out before FC's timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt, wait_random_exponential
from tenacity.stop import stop_base

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


class _StopAtDeadline(stop_base):
    def __init__(self, deadline: Deadline, min_attempt_s: float) -> None:
        self.deadline = deadline
        self.min_attempt_s = min_attempt_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.deadline.remaining() - retry_state.upcoming_sleep < self.min_attempt_s


class _BackoffOrHint:
    """Full-jitter backoff, but never shorter than a throttling answer's own retry-after."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.jitter = wait_random_exponential(multiplier=policy.base_delay_s, max=policy.max_delay_s)

    def __call__(self, retry_state: RetryCallState) -> float:
        error = _last(retry_state).error
        hint = error.retry_after_s if error is not None else None
        return max(self.jitter(retry_state), hint or 0.0)


def _last(retry_state: RetryCallState) -> Attempted[object]:
    assert retry_state.outcome is not None
    outcome: Attempted[object] = retry_state.outcome.result()
    return outcome


def _failed_retryably(outcome: Attempted[object]) -> bool:
    return outcome.error is not None and outcome.error.retryable


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

    def one_attempt() -> Attempted[T]:
        nonlocal attempts
        attempts += 1
        try:
            return Attempted(attempts, value=attempt(deadline.remaining()))
        except ServiceError as error:
            return Attempted(attempts, error=error)

    def before_sleep(state: RetryCallState) -> None:
        error = _last(state).error
        if on_retry is not None and error is not None:
            on_retry(error, state.attempt_number, state.upcoming_sleep)

    retrying = Retrying(
        sleep=deadline.clock.sleep,
        stop=stop_after_attempt(policy.max_attempts) | _StopAtDeadline(deadline, policy.min_attempt_s),
        wait=_BackoffOrHint(policy),
        retry=retry_if_result(_failed_retryably),
        before_sleep=before_sleep,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )
    outcome: Attempted[T] = retrying(one_attempt)
    return outcome
