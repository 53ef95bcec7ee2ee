"""Input at Python's edges: lone surrogates, deep nesting and absurd timeouts get documented answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.healthcheck.index import handler as healthcheck
from local.cams import FakeCams
from local.emulator import http_event
from shared.events import MAX_DEPTH
from shared.healthcheck.payload import InvalidHealthcheck
from tests.helpers import Env, call, context, get, log_lines


@pytest.mark.parametrize(
    "event",
    [
        http_event("GET", "/wa\ud800ba"),
        http_event("G\udfffET", "/waba"),
        http_event("GET", "/waba", "custSpaceId=x", {"X-Odd": "\ud800"}),
        json.dumps(http_event("GET", "/waba")).replace('"/waba"', '"/\\ud800"').encode(),
    ],
)
def test_a_lone_surrogate_is_a_400_and_the_log_line_is_written(
    lookup: Any, cams: FakeCams, capsys: pytest.CaptureFixture[str], event: Any
) -> None:
    answer = call(lookup, event)

    assert (answer.status, answer.error_code) in {(400, "InvalidRequest"), (404, "NotFound")}
    [line] = log_lines(capsys.readouterr().out)
    assert line["event"] == "request"
    assert cams.journal == []


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 100_000])
def test_deep_json_is_a_400(lookup: Any, cams: FakeCams, depth: int) -> None:
    event = json.dumps(http_event("GET", "/waba"))[:-1] + f', "x": {nested(depth)}}}'

    answer = call(lookup, event.encode())

    assert (answer.status, answer.error_code) == (400, "InvalidRequest")
    assert "deeper" in answer.body["error"]["message"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_json_fails_the_timer_with_its_invalid_line(
    env: Env, cams: FakeCams, capsys: pytest.CaptureFixture[str], depth: int
) -> None:
    event = '{"triggerName": "timer", "payload": "", "x": ' + nested(depth) + "}"

    with pytest.raises(InvalidHealthcheck, match="deeper"):
        healthcheck(event.encode(), context(function="healthcheck"))

    [line] = log_lines(capsys.readouterr().out)
    assert line["event"] == "healthcheck.invalid"


def test_a_surrogate_in_the_trigger_name_keeps_the_summary_line(
    env: Env, cams: FakeCams, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {"triggerName": "timer\ud800", "payload": json.dumps({"spaces": [{"custSpaceId": "demo-approved"}]})}

    summary = healthcheck(json.dumps(event).encode(), context(function="healthcheck"))

    assert summary["triggerName"] == "timer?"
    assert log_lines(capsys.readouterr().out)[-1]["event"] == "healthcheck.summary"


@pytest.mark.parametrize("timeout", [float("inf"), 1e308, float("nan"), -5])
def test_an_absurd_timeout_in_the_context_is_not_a_500(lookup: Any, cams: FakeCams, timeout: float) -> None:
    answer = get(lookup, "/waba", "custSpaceId=demo-approved", timeout=timeout)

    assert answer.status == 200
