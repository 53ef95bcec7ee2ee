"""The invocation object: request id, deadline from FC's timeout on the injected clock, secrets scrubbed."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from shared.invocation import DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S, begin, function_timeout_s
from shared.logs import log_event
from shared.lookup.settings import LookupSettings
from tests.helpers import FakeClock, context, log_lines


@pytest.fixture(autouse=True)
def no_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    """The invocation, not the callers: the lookup's settings without keys."""
    monkeypatch.setenv("AUTH_MODE", "none")


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [
        (3, 3.0),
        (2.5, 2.5),
        (None, DEFAULT_TIMEOUT_S),
        (0, DEFAULT_TIMEOUT_S),
        (-1, DEFAULT_TIMEOUT_S),
        (True, DEFAULT_TIMEOUT_S),
        ("60", DEFAULT_TIMEOUT_S),
        (float("nan"), DEFAULT_TIMEOUT_S),
        (float("inf"), MAX_TIMEOUT_S),
        (1e308, MAX_TIMEOUT_S),
    ],
)
def test_the_timeout_is_read_safely(timeout: object, seconds: float) -> None:
    assert function_timeout_s(SimpleNamespace(function=SimpleNamespace(timeout=timeout))) == seconds


def test_the_deadline_runs_on_the_injected_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEADLINE_MARGIN_MS", "500")
    clock = FakeClock()

    with begin(context(timeout=3), LookupSettings, clock) as invocation:
        clock.advance(1.0)
        assert invocation.deadline.remaining() == pytest.approx(1.5)
        assert invocation.elapsed_ms() == pytest.approx(1000.0)


def test_secrets_of_the_settings_and_credentials_are_scrubbed_from_the_first_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAMS_ISV_CODE", "server-side-isv-code-1234")

    with begin(context(request_id="r-9"), LookupSettings) as invocation:
        log_event("early", logging.INFO, note=f"{invocation.credentials} server-side-isv-code-1234 demo-role-secret")

    [line] = log_lines(capsys.readouterr().out)
    assert line["requestId"] == "r-9"
    assert "server-side-isv-code-1234" not in line["note"]
    assert "demo-role-secret" not in line["note"]
