"""Retries: throttling and outages are retried with backoff, within attempts and the invocation's deadline."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from local.cams import FakeCams
from shared import errors
from shared.retry import Deadline, RetryPolicy, call_with_retry
from tests.conftest import Env
from tests.helpers import get

FAST = RetryPolicy(max_attempts=4, base_delay_s=0.001, max_delay_s=0.002, min_attempt_s=0.05)


def log_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_throttled_then_success(lookup: Any, cams: FakeCams, capsys: pytest.CaptureFixture[str]) -> None:
    cams.fail_next(2, code="System.LimitControl")

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert answer.status == 200
    assert [c.code for c in cams.calls()] == ["System.LimitControl", "System.LimitControl", "OK"]
    lines = log_lines(capsys.readouterr().out)
    retries = [line for line in lines if line["event"] == "cams.retry"]
    assert [(r["reason"], r["attempt"]) for r in retries] == [("Throttled", 1), ("Throttled", 2)]
    assert all(0 <= r["delayMs"] <= 50 for r in retries)
    assert lines[-1]["attempts"] == 3


def test_throttling_retry_after_is_honoured(lookup: Any, cams: FakeCams, capsys: pytest.CaptureFixture[str]) -> None:
    cams.fail_next(1, code="Throttling.User", retry_after_ms=300)

    assert get(lookup, "/waba", "custSpaceId=demo-approved").status == 200

    first, second = cams.calls()
    assert second.at - first.at >= 0.3
    [retry] = [line for line in log_lines(capsys.readouterr().out) if line["event"] == "cams.retry"]
    assert retry["delayMs"] >= 300


def test_a_read_timeout_is_retried(lookup: Any, cams: FakeCams, env: Env) -> None:
    env.setenv("CAMS_READ_TIMEOUT_MS", "300")
    cams.delay_next(1, seconds=1.0)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert answer.status == 200
    assert len(cams.calls()) == 2


def test_a_dropped_connection_is_retried(lookup: Any, cams: FakeCams) -> None:
    cams.drop_next(1)

    assert get(lookup, "/waba", "custSpaceId=demo-approved").status == 200


def test_the_deadline_is_respected(lookup: Any, cams: FakeCams) -> None:
    cams.delay_next(5, seconds=3.0)
    started = time.monotonic()

    answer = get(lookup, "/waba", "custSpaceId=demo-approved", timeout=2)

    elapsed = time.monotonic() - started
    assert (answer.status, answer.error_code) == (504, "UpstreamTimeout")
    assert elapsed < 2.0, "the answer must leave before FC's timeout"
    assert len(cams.calls()) == 1, "no retry starts that cannot finish"


def test_no_retry_starts_when_its_backoff_would_pass_the_deadline(lookup: Any, cams: FakeCams) -> None:
    cams.fail_next(3, code="ServiceUnavailable", retry_after_ms=1400)
    started = time.monotonic()

    answer = get(lookup, "/waba", "custSpaceId=demo-approved", timeout=2)

    assert (answer.status, answer.error_code) == (503, "UpstreamUnavailable")
    assert len(cams.calls()) == 1
    assert time.monotonic() - started < 1.0, "it does not sleep into a retry it cannot make"


def test_throttled_near_the_deadline_says_when_to_come_back(lookup: Any, cams: FakeCams) -> None:
    cams.fail_next(3, code="Throttling.Api", retry_after_ms=2500)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved", timeout=2)

    assert (answer.status, answer.headers["retry-after"]) == (429, "3")


# --- the retry module on its own ---------------------------------------------------------------


def test_non_retryable_errors_are_raised_at_once() -> None:
    calls: list[float] = []

    def attempt(budget_s: float) -> None:
        calls.append(budget_s)
        raise errors.UpstreamMisconfigured("no")

    with pytest.raises(errors.UpstreamMisconfigured) as raised:
        call_with_retry(attempt, FAST, Deadline.after(5))
    assert len(calls) == 1
    assert raised.value.attempts == 1


def test_attempts_are_bounded_and_counted() -> None:
    def attempt(budget_s: float) -> None:
        raise errors.UpstreamUnavailable("down")

    with pytest.raises(errors.UpstreamUnavailable) as raised:
        call_with_retry(attempt, FAST, Deadline.after(5))
    assert raised.value.attempts == 4


def test_each_attempt_is_given_the_time_left() -> None:
    budgets: list[float] = []

    def attempt(budget_s: float) -> str:
        budgets.append(budget_s)
        if len(budgets) < 3:
            raise errors.Throttled("slow down")
        return "done"

    result = call_with_retry(attempt, FAST, Deadline.after(2))

    assert (result.value, result.attempts) == ("done", 3)
    assert budgets == sorted(budgets, reverse=True)
    assert all(0 < b <= 2 for b in budgets)


def test_no_attempt_starts_without_time_left() -> None:
    with pytest.raises(errors.UpstreamTimeout):
        call_with_retry(lambda budget_s: "never", FAST, Deadline.after(0.01))


def test_backoff_is_full_jitter_within_the_cap() -> None:
    delays: list[float] = []
    policy = RetryPolicy(max_attempts=6, base_delay_s=0.004, max_delay_s=0.01, min_attempt_s=0.01)

    def attempt(budget_s: float) -> None:
        raise errors.UpstreamUnavailable("down")

    with pytest.raises(errors.UpstreamUnavailable):
        call_with_retry(attempt, policy, Deadline.after(5), on_retry=lambda e, n, d: delays.append(d))
    assert len(delays) == 5
    assert all(0 <= d <= 0.01 for d in delays)
