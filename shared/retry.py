"""Retries with exponential backoff and full jitter, bounded by attempts and by a deadline.

Example:
    >>> deadline = Deadline.after(5.0)
    >>> call_with_retry(lambda budget_s: "ok", RetryPolicy(), deadline)
    Attempted(value='ok', attempts=1)

Only a `ServiceError` whose class is `retryable` (throttling, CAMS unavailable, timeouts) is tried
again; any other error is raised at once. No retry starts unless, after its backoff, at least
`min_attempt_s` is left before the deadline, so an answer always goes out before FC's timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential
from tenacity.stop import stop_base

from shared.errors import ServiceError, UpstreamTimeout

T = TypeVar("T")

RetryLogger = Callable[[ServiceError, int, float], None]
"""Called before each backoff with the error, the attempt that failed and the delay in seconds."""


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock by which the work must be over."""

    expires_at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0
    min_attempt_s: float = 0.3


@dataclass(frozen=True)
class Attempted(Generic[T]):
    value: T
    attempts: int


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
        delay = self.jitter(retry_state)
        error = retry_state.outcome.exception() if retry_state.outcome else None
        hint = error.retry_after_s if isinstance(error, ServiceError) else None
        return max(delay, hint or 0.0)


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, ServiceError) and error.retryable


def call_with_retry(
    attempt: Callable[[float], T],
    policy: RetryPolicy,
    deadline: Deadline,
    on_retry: RetryLogger | None = None,
) -> Attempted[T]:
    """Call `attempt(budget_s)` until it succeeds, fails for good, or time or attempts run out.

    `budget_s` is the time left before the deadline, for the attempt to bound its own timeouts.
    The error raised is the last attempt's, with `attempts` set to how many were made.
    """
    if deadline.remaining() < policy.min_attempt_s:
        raise UpstreamTimeout("No time was left for the call before the function's deadline.")
    # Most calls succeed at once: the first attempt runs without building the retry machinery.
    try:
        return Attempted(attempt(deadline.remaining()), 1)
    except ServiceError as error:
        error.attempts = 1
        if not error.retryable or policy.max_attempts == 1:
            raise
        first_failure: ServiceError | None = error

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if on_retry and isinstance(error, ServiceError):
            on_retry(error, state.attempt_number, state.upcoming_sleep)

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts) | _StopAtDeadline(deadline, policy.min_attempt_s),
        wait=_BackoffOrHint(policy),
        retry=retry_if_exception(_is_retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
    attempts = 1

    def replay_then_attempt() -> T:
        # Tenacity sees the first failure as its own attempt 1, so backoff and stops count it.
        nonlocal attempts, first_failure
        if first_failure is not None:
            failure, first_failure = first_failure, None
            raise failure
        attempts += 1
        return attempt(deadline.remaining())

    try:
        return Attempted(retrying(replay_then_attempt), attempts)
    except ServiceError as error:
        error.attempts = attempts
        raise
