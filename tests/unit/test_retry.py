"""The retry module on its own, on a fake clock: attempts, backoff, deadline and outcomes."""

from __future__ import annotations

import pytest

from shared import errors
from shared.retry import Deadline, RetryPolicy, call_with_retry
from tests.helpers import FakeClock

FAST = RetryPolicy(max_attempts=4, base_delay_s=0.1, max_delay_s=0.2, min_attempt_s=0.05)


def test_non_retryable_errors_end_at_once() -> None:
    clock = FakeClock()
    calls: list[float] = []

    def attempt(budget_s: float) -> None:
        calls.append(budget_s)
        raise errors.UpstreamMisconfigured("no")

    outcome = call_with_retry(attempt, FAST, Deadline.after(5, clock))

    assert (len(calls), outcome.attempts, type(outcome.error)) == (1, 1, errors.UpstreamMisconfigured)
    assert clock.sleeps == []
    with pytest.raises(errors.UpstreamMisconfigured):
        outcome.unwrap()


def test_attempts_are_bounded_and_counted() -> None:
    def attempt(budget_s: float) -> None:
        raise errors.UpstreamUnavailable("down")

    outcome = call_with_retry(attempt, FAST, Deadline.after(5, FakeClock()))

    assert (outcome.attempts, type(outcome.error)) == (4, errors.UpstreamUnavailable)


def test_each_attempt_is_given_the_time_left() -> None:
    clock = FakeClock()
    budgets: list[float] = []

    def attempt(budget_s: float) -> str:
        budgets.append(budget_s)
        if len(budgets) < 3:
            raise errors.Throttled("slow down")
        return "done"

    outcome = call_with_retry(attempt, FAST, Deadline.after(2, clock))

    assert (outcome.value, outcome.attempts, outcome.error) == ("done", 3, None)
    assert budgets == [pytest.approx(2 - sum(clock.sleeps[:n])) for n in range(3)]


def test_no_attempt_starts_without_time_left() -> None:
    outcome = call_with_retry(lambda budget_s: "never", FAST, Deadline.after(0.01, FakeClock()))

    assert (outcome.attempts, type(outcome.error)) == (0, errors.UpstreamTimeout)


def test_backoff_is_full_jitter_within_the_cap() -> None:
    clock = FakeClock()
    delays: list[float] = []
    policy = RetryPolicy(max_attempts=6, base_delay_s=0.4, max_delay_s=1.0, min_attempt_s=0.01)

    def attempt(budget_s: float) -> None:
        raise errors.UpstreamUnavailable("down")

    call_with_retry(attempt, policy, Deadline.after(50, clock), on_retry=lambda e, n, d: delays.append(d))

    assert len(delays) == 5
    assert all(0 <= d <= 1.0 for d in delays)
    assert clock.sleeps == delays, "the waits are the clock's, not the machine's"


def test_a_retry_after_hint_is_a_floor_for_the_backoff() -> None:
    clock = FakeClock()
    hinted = errors.Throttled("slow down", retry_after_s=1.5)
    outcomes = iter([hinted, "ok"])

    def attempt(budget_s: float) -> str:
        result = next(outcomes)
        if isinstance(result, errors.ServiceError):
            raise result
        return result

    outcome = call_with_retry(attempt, FAST, Deadline.after(10, clock))

    assert (outcome.value, outcome.attempts) == ("ok", 2)
    assert clock.sleeps[0] >= 1.5


def test_no_retry_starts_when_its_backoff_would_pass_the_deadline() -> None:
    clock = FakeClock()

    def attempt(budget_s: float) -> None:
        raise errors.Throttled("slow down", retry_after_s=5.0)

    outcome = call_with_retry(attempt, FAST, Deadline.after(2, clock))

    assert outcome.attempts == 1
    assert clock.sleeps == [], "it does not sleep into a retry it cannot make"
