"""Retries: throttling and outages are retried with backoff, within attempts and the invocation's deadline."""

from __future__ import annotations

import time
from typing import Any

import pytest

from local.cams import FakeCams
from tests.helpers import Env, get, log_lines


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


@pytest.mark.slow
def test_throttling_retry_after_is_honoured(lookup: Any, cams: FakeCams, capsys: pytest.CaptureFixture[str]) -> None:
    cams.fail_next(1, code="Throttling.User", retry_after_ms=300)

    assert get(lookup, "/waba", "custSpaceId=demo-approved").status == 200

    first, second = cams.calls()
    assert second.at - first.at >= 0.3
    [retry] = [line for line in log_lines(capsys.readouterr().out) if line["event"] == "cams.retry"]
    assert retry["delayMs"] >= 300


@pytest.mark.slow
def test_a_read_timeout_is_retried(lookup: Any, cams: FakeCams, env: Env) -> None:
    env.setenv("CAMS_READ_TIMEOUT_MS", "300")
    cams.delay_next(1, seconds=1.0)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert answer.status == 200
    assert len(cams.calls()) == 2


def test_a_dropped_connection_is_retried(lookup: Any, cams: FakeCams) -> None:
    cams.drop_next(1)

    assert get(lookup, "/waba", "custSpaceId=demo-approved").status == 200
    assert [c.code for c in cams.calls()] == [None, "OK"], "the dropped call was answered by nothing"


@pytest.mark.slow
def test_the_deadline_is_respected(lookup: Any, cams: FakeCams) -> None:
    cams.delay_next(5, seconds=3.0)
    started = time.monotonic()

    answer = get(lookup, "/waba", "custSpaceId=demo-approved", timeout=2)

    elapsed = time.monotonic() - started
    assert (answer.status, answer.error_code) == (504, "UpstreamTimeout")
    assert elapsed < 2.0, "the answer must leave before FC's timeout"
    assert len(cams.calls()) == 1, "no retry starts that cannot finish"


@pytest.mark.slow
def test_no_retry_starts_when_its_backoff_would_pass_the_deadline(lookup: Any, cams: FakeCams) -> None:
    cams.fail_next(3, code="ServiceUnavailable", retry_after_ms=1400)
    started = time.monotonic()

    answer = get(lookup, "/waba", "custSpaceId=demo-approved", timeout=2)

    assert (answer.status, answer.error_code) == (503, "UpstreamUnavailable")
    assert len(cams.calls()) == 1
    assert time.monotonic() - started < 1.0, "it does not sleep into a retry it cannot make"


@pytest.mark.slow
def test_throttled_near_the_deadline_says_when_to_come_back(lookup: Any, cams: FakeCams) -> None:
    cams.fail_next(3, code="Throttling.Api", retry_after_ms=2500)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved", timeout=2)

    assert (answer.status, answer.headers["retry-after"]) == (429, "3")
