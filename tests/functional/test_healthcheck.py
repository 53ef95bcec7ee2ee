"""The timer function through the real SDK against the fake CAMS: verdicts, pacing, deadline, alerts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from functions.healthcheck.index import handler
from local.cams import FakeCams
from shared.cams import CamsGateway
from shared.errors import ConfigurationError
from shared.healthcheck.app import HealthcheckFailed
from shared.healthcheck.payload import InvalidHealthcheck
from tests.helpers import ROLE, Env, FakeClock, context, log_lines

WEBHOOK_TOKEN = "robot-access-token-5b1f"
WEBHOOK_SECRET = "SEC-robot-signing-secret-77aa"
PARTNER_ISV_CODE = "demo-isv-code-0001"


def timer_event(spaces: list[dict[str, Any]] | None = None, payload: Any = None, at: str | None = None) -> bytes:
    """A timer event; without a trigger time the checks start at the top of the list."""
    if payload is None and spaces is not None:
        payload = json.dumps({"spaces": spaces})
    return json.dumps({"triggerTime": at, "triggerName": "timer", "payload": payload}).encode()


def run_context(timeout: float = 60) -> Any:
    return context(function="healthcheck", timeout=timeout, request_id="timer-req-1")


@pytest.fixture
def healthcheck(env: Env) -> Any:
    env.setenv("HEALTHCHECK_RATE_PER_SECOND", "10")
    env.setenv("HEALTHCHECK_FAIL_ON_ALARM", "false")
    return handler


def verdicts(summary: dict[str, Any]) -> dict[str, str]:
    return {space["custSpaceId"]: space["verdict"] for space in summary["spaces"]}


def test_every_verdict(healthcheck: Any, cams: FakeCams) -> None:
    cams.backend.bind_space("1000000000000001", "demo-disabled", {"Id": "5", "AccountReviewStatus": "DISABLED"})
    cams.backend.bind_space("1000000000000001", "demo-flaky", {"Id": "6", "AccountReviewStatus": "APPROVED"})
    cams.fail_next(4, code="ServiceUnavailable")  # every attempt of the first space
    spaces = [
        {"custSpaceId": "demo-flaky"},
        {"custSpaceId": "demo-approved", "expectedWabaId": "200000000000101"},
        {"custSpaceId": "demo-pending"},
        {"custSpaceId": "demo-rejected"},
        {"custSpaceId": "demo-disabled"},
        {"custSpaceId": "demo-unbound"},
        {"custSpaceId": "other-space"},
    ]
    moved = {"custSpaceId": "demo-approved", "expectedWabaId": "299999999999999"}

    summary = healthcheck(timer_event([*spaces, moved]), run_context())

    assert [s["verdict"] for s in summary["spaces"]] == [
        "error", "healthy", "degraded", "unhealthy", "unhealthy", "unhealthy", "unhealthy", "unhealthy",
    ]  # fmt: skip
    assert summary["spaces"][0]["errorCode"] == "UpstreamUnavailable"
    assert summary["spaces"][0]["attempts"] == 4
    assert summary["spaces"][5]["errorCode"] == "WabaNotBound"
    assert summary["spaces"][6]["errorCode"] == "SpaceNotFound"
    assert "not the expected 299999999999999" in summary["spaces"][7]["reason"]
    assert summary["counts"] == {"healthy": 1, "degraded": 1, "unhealthy": 5, "error": 1, "unchecked": 0}
    assert summary["alarming"] is True
    assert summary["alert"] == {"sent": False, "reason": "ALERT_WEBHOOK_URL is not set."}


def test_all_well_is_not_alarming(healthcheck: Any, cams: FakeCams, capsys: pytest.CaptureFixture[str]) -> None:
    summary = healthcheck(timer_event([{"custSpaceId": "demo-approved"}]), run_context())

    assert (summary["alarming"], "alert" in summary) == (False, False)
    lines = log_lines(capsys.readouterr().out)
    assert [line["event"] for line in lines] == ["healthcheck.space", "healthcheck.summary"]
    assert lines[0]["camsRequestId"] == cams.calls()[0].request_id
    assert all(line["requestId"] == "timer-req-1" for line in lines)


@pytest.mark.parametrize(
    ("setting", "checked"),
    [
        ("demo-approved, demo-pending", ["demo-approved", "demo-pending"]),
        ('[{"custSpaceId": "demo-pending"}]', ["demo-pending"]),
        ('{"spaces": [{"custSpaceId": "demo-rejected"}]}', ["demo-rejected"]),
    ],
)
def test_without_a_payload_the_settings_name_the_spaces(
    healthcheck: Any, cams: FakeCams, env: Env, setting: str, checked: list[str]
) -> None:
    env.setenv("HEALTHCHECK_SPACES", setting)

    summary = healthcheck(timer_event(payload=""), run_context())

    assert list(verdicts(summary)) == checked
    assert [c.query["CustSpaceId"] for c in cams.calls()] == checked


def test_an_isv_code_is_named_by_reference(healthcheck: Any, cams: FakeCams, env: Env) -> None:
    env.setenv("HEALTHCHECK_ISV_CODES", json.dumps({"partner-a": PARTNER_ISV_CODE}))

    summary = healthcheck(timer_event([{"custSpaceId": "demo-isv", "isvCodeRef": "partner-a"}]), run_context())

    assert verdicts(summary) == {"demo-isv": "healthy"}
    assert cams.calls()[0].query["IsvCode"] == PARTNER_ISV_CODE


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (timer_event(payload="{not json"), "not valid JSON"),
        (timer_event(payload='{"spaces": ' + "[" * 1000 + "]" * 1000 + "}"), "nests deeper than 32 levels"),
        (timer_event(payload="[" * 100_000 + "]" * 100_000), "nests deeper than 32 levels"),
        (timer_event(payload="demo-approved"), "not JSON"),
        (timer_event([{"custSpaceId": "demo-isv", "isvCode": PARTNER_ISV_CODE}]), "isvCode"),
        (timer_event([]), "spaces"),
        (timer_event([{"custSpaceId": "has space"}]), "custSpaceId"),
        (timer_event([{"custSpaceId": "demo-isv", "isvCodeRef": "nobody"}]), "nobody"),
        (timer_event(payload={"spaces": []}), "must be a string"),
        (timer_event(payload=""), "Nothing to check"),
        (b"\x00not an event", "not JSON"),
        (b"[]", "not a timer"),
    ],
)
def test_a_malformed_payload_fails_with_one_clear_line(
    healthcheck: Any,
    cams: FakeCams,
    capsys: pytest.CaptureFixture[str],
    event: bytes,
    why: str,
) -> None:
    with pytest.raises(InvalidHealthcheck, match=why):
        healthcheck(event, run_context())

    [line] = log_lines(capsys.readouterr().out)
    assert (line["level"], line["event"]) == ("ERROR", "healthcheck.invalid")
    assert why in line["reason"]
    assert PARTNER_ISV_CODE not in line["reason"]
    assert cams.journal == []


def test_a_bad_setting_fails_with_one_clear_line(
    healthcheck: Any, cams: FakeCams, env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("HEALTHCHECK_RATE_PER_SECOND", "50")

    with pytest.raises(ConfigurationError, match="HEALTHCHECK_RATE_PER_SECOND"):
        healthcheck(timer_event([{"custSpaceId": "demo-approved"}]), run_context())
    [line] = log_lines(capsys.readouterr().out)
    assert line["event"] == "healthcheck.invalid"


def most_in_window(times: list[float], window_s: float) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered if start <= t <= start + window_s) for start in ordered)


@pytest.fixture
def paced_starts(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> list[float]:
    """When each call to CAMS started, once every wait for its slots was over, on the functions' clock."""
    starts: list[float] = []
    attempt = CamsGateway._attempt

    def recording(gateway: CamsGateway, *args: Any) -> Any:
        starts.append(clock.monotonic())
        return attempt(gateway, *args)

    monkeypatch.setattr(CamsGateway, "_attempt", recording)
    return starts


def test_calls_are_paced_by_arrival(
    healthcheck: Any, cams: FakeCams, env: Env, clock: FakeClock, paced_starts: list[float]
) -> None:
    env.setenv("HEALTHCHECK_RATE_PER_SECOND", "5")
    env.setenv("HEALTHCHECK_CHECKS", "binding")
    cams.fail_next(2, code="System.LimitControl")  # retries are paced too
    started = clock.monotonic()

    summary = healthcheck(timer_event([{"custSpaceId": "demo-approved"}] * 9), run_context())

    assert summary["counts"]["healthy"] == 9
    assert len(cams.calls()) == len(paced_starts) == 11
    assert most_in_window(paced_starts, 1.25) <= 5, "5 in any 1.25 s: the margin covers arrival jitter"
    assert clock.monotonic() - started >= 1.25


def test_a_call_that_would_start_late_takes_a_new_slot(
    healthcheck: Any,
    cams: FakeCams,
    env: Env,
    clock: FakeClock,
    paced_starts: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env.setenv("HEALTHCHECK_RATE_PER_SECOND", "5")
    env.setenv("HEALTHCHECK_CHECKS", "binding")
    late = {"left": 1}
    sleep = clock.sleep

    def oversleeping(seconds: float) -> None:
        sleep(seconds + (0.5 if late["left"] and seconds > 0 else 0.0))  # a busy CPU wakes one sleeper late
        late["left"] -= bool(late["left"] and seconds > 0)

    monkeypatch.setattr(clock, "sleep", oversleeping)
    summary = healthcheck(timer_event([{"custSpaceId": "demo-approved"}] * 8), run_context())

    assert summary["counts"]["healthy"] == 8
    assert most_in_window(paced_starts, 1.25) <= 5


@pytest.mark.slow
def test_a_slow_cams_leaves_spaces_unchecked_and_the_run_ends_in_time(
    healthcheck: Any, cams: FakeCams, env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("HEALTHCHECK_CHECKS", "binding")
    cams.delay_next(10, seconds=1.0)
    started = time.monotonic()

    summary = healthcheck(timer_event([{"custSpaceId": "demo-approved"}] * 6), run_context(timeout=3))

    assert time.monotonic() - started < 3.0, "the run ends before FC's timeout"
    states = [space["verdict"] for space in summary["spaces"]]
    assert states[:2] == ["healthy", "healthy"]
    assert "unchecked" in states
    assert set(states[2:]) <= {"unchecked", "error"}
    assert summary["counts"]["unchecked"] == states.count("unchecked")
    logged = [line for line in log_lines(capsys.readouterr().out) if line["event"] == "healthcheck.space"]
    assert [line["verdict"] for line in logged] == states


def test_spaces_the_pace_cannot_reach_in_time_are_unchecked_not_errors(
    healthcheck: Any, cams: FakeCams, env: Env, clock: FakeClock
) -> None:
    env.setenv("HEALTHCHECK_RATE_PER_SECOND", "1")

    summary = healthcheck(timer_event([{"custSpaceId": "demo-approved"}] * 5), run_context(timeout=4))

    assert [space["verdict"] for space in summary["spaces"]] == ["healthy"] * 3 + ["unchecked"] * 2
    assert len(cams.calls()) == 3


def test_unhealthy_fails_the_invocation_after_reporting(
    healthcheck: Any, cams: FakeCams, env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("HEALTHCHECK_FAIL_ON_ALARM", "true")

    with pytest.raises(HealthcheckFailed, match=r"1 of 2 customer spaces.*demo-rejected"):
        healthcheck(timer_event([{"custSpaceId": "demo-approved"}, {"custSpaceId": "demo-rejected"}]), run_context())

    summary = log_lines(capsys.readouterr().out)[-1]
    assert (summary["event"], summary["counts"]["unhealthy"]) == ("healthcheck.summary", 1)


# --- alerts -------------------------------------------------------------------------------------


def webhook_url(server: HTTPServer) -> str:
    return server.url_for(f"/robot/send?access_token={WEBHOOK_TOKEN}")


def test_the_alert_as_generic_json(healthcheck: Any, cams: FakeCams, env: Env, httpserver: HTTPServer) -> None:
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    httpserver.expect_oneshot_request("/robot/send", method="POST").respond_with_json({"ok": True})

    summary = healthcheck(
        timer_event([{"custSpaceId": "demo-approved"}, {"custSpaceId": "demo-unbound"}]), run_context()
    )

    httpserver.check_assertions()
    [(request, _)] = httpserver.log
    body = request.get_json()
    assert body["source"] == "waba-healthcheck"
    assert body["counts"]["unhealthy"] == 1
    assert [p["custSpaceId"] for p in body["problems"]] == ["demo-unbound"]
    assert summary["alert"] == {"sent": True, "status": 200, "attempts": 1}


def dingtalk_signature_ok(request: Request) -> bool:
    timestamp, sign = request.args["timestamp"], request.args["sign"]
    expected = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}\n{WEBHOOK_SECRET}".encode(), hashlib.sha256).digest()
    fresh = abs(time.time() * 1000 - int(timestamp)) < 60 * 60 * 1000
    return fresh and hmac.compare_digest(base64.b64decode(sign), expected)


def test_the_alert_in_dingtalk_format_is_signed(
    healthcheck: Any, cams: FakeCams, env: Env, httpserver: HTTPServer
) -> None:
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    env.setenv("ALERT_WEBHOOK_FORMAT", "dingtalk")
    env.setenv("ALERT_WEBHOOK_SECRET", WEBHOOK_SECRET)

    def robot(request: Request) -> Response:
        ok = request.args.get("access_token") == WEBHOOK_TOKEN and dingtalk_signature_ok(request)
        answer = {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 310000, "errmsg": "sign not match"}
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request("/robot/send", method="POST").respond_with_handler(robot)

    summary = healthcheck(timer_event([{"custSpaceId": "demo-rejected"}]), run_context())

    assert summary["alert"]["sent"] is True
    [(request, _)] = httpserver.log
    message = request.get_json()
    assert message["msgtype"] == "markdown"
    assert "1 of 1 spaces alerted" in message["markdown"]["title"]
    assert "**demo-rejected**: unhealthy (new), ReviewRejected: " in message["markdown"]["text"]


def test_a_wrong_dingtalk_secret_is_a_failed_alert(
    healthcheck: Any, cams: FakeCams, env: Env, httpserver: HTTPServer
) -> None:
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    env.setenv("ALERT_WEBHOOK_FORMAT", "dingtalk")
    env.setenv("ALERT_WEBHOOK_SECRET", "SEC-not-the-robots-secret")
    httpserver.expect_request("/robot/send").respond_with_handler(
        lambda r: Response(json.dumps({"errcode": 0 if dingtalk_signature_ok(r) else 310000}))
    )

    summary = healthcheck(timer_event([{"custSpaceId": "demo-rejected"}]), run_context())

    assert summary["alert"]["sent"] is False
    assert "310000" in summary["alert"]["reason"]


def test_a_failing_webhook_is_retried_and_loses_nothing(
    healthcheck: Any,
    cams: FakeCams,
    env: Env,
    httpserver: HTTPServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    env.setenv("HEALTHCHECK_FAIL_ON_ALARM", "true")
    httpserver.expect_request("/robot/send").respond_with_data("down", status=503)

    with pytest.raises(HealthcheckFailed):
        healthcheck(timer_event([{"custSpaceId": "demo-unbound"}]), run_context())

    assert len(httpserver.log) == 3
    lines = log_lines(capsys.readouterr().out)
    events = [line["event"] for line in lines]
    assert events == [
        "healthcheck.space",
        "alert.retry",
        "alert.retry",
        "healthcheck.alert_failed",
        "healthcheck.summary",
    ]
    assert lines[0]["custSpaceId"] == "demo-unbound"
    assert lines[-1]["alert"]["sent"] is False
    assert lines[-1]["counts"]["unhealthy"] == 1


def test_no_secret_reaches_the_logs(
    healthcheck: Any,
    cams: FakeCams,
    env: Env,
    httpserver: HTTPServer,
    capfd: pytest.CaptureFixture[str],
) -> None:
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    env.setenv("ALERT_WEBHOOK_FORMAT", "dingtalk")
    env.setenv("ALERT_WEBHOOK_SECRET", WEBHOOK_SECRET)
    env.setenv("HEALTHCHECK_ISV_CODES", json.dumps({"partner-a": PARTNER_ISV_CODE}))
    env.setenv("CAMS_ISV_CODE", "server-side-isv-code-31c9")
    env.setenv("LOG_LEVEL", "DEBUG")
    httpserver.expect_request("/robot/send").respond_with_data("down", status=500)
    spaces = [{"custSpaceId": "demo-isv", "isvCodeRef": "partner-a"}, {"custSpaceId": "demo-isv"}]

    healthcheck(timer_event(spaces), run_context())
    with pytest.raises(InvalidHealthcheck, match="malformed"):
        healthcheck(timer_event([{"custSpaceId": "demo-isv", "isvCode": PARTNER_ISV_CODE}]), run_context())

    out, err = capfd.readouterr()
    assert "healthcheck.alert_failed" in out
    for secret in (
        WEBHOOK_TOKEN, WEBHOOK_SECRET, PARTNER_ISV_CODE, "server-side-isv-code-31c9",
        ROLE.access_key_id, ROLE.access_key_secret, str(ROLE.security_token),
    ):  # fmt: skip
        assert secret not in out + err


# --- nothing unchecked passes, and the list is covered over consecutive runs ------------------------


def test_an_unchecked_space_raises_the_alarm_and_fails_the_run(
    healthcheck: Any, cams: FakeCams, env: Env, clock: FakeClock, httpserver: HTTPServer
) -> None:
    env.setenv("HEALTHCHECK_RATE_PER_SECOND", "1")
    env.setenv("HEALTHCHECK_FAIL_ON_ALARM", "true")
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    env.setenv("ALERT_WEBHOOK_TIMEOUT_MS", "500")
    httpserver.expect_request("/robot/send", method="POST").respond_with_json({"ok": True})
    spaces = [{"custSpaceId": s} for s in ("demo-approved", "demo-pending", "demo-rejected", "demo-unbound")]

    with pytest.raises(HealthcheckFailed, match=r"demo-unbound \(unchecked\)"):
        healthcheck(timer_event(spaces), run_context(timeout=3))

    [(request, _)] = httpserver.log
    alert = request.get_json()
    assert alert["counts"]["unchecked"] == 2
    assert [(p["custSpaceId"], p["verdict"]) for p in alert["problems"]] == [
        ("demo-rejected", "unchecked"),
        ("demo-unbound", "unchecked"),
    ]
    assert alert["coverage"] == {"startIndex": 0, "checked": 2, "total": 4}


def test_unchecked_spaces_may_be_allowed_to_pass(healthcheck: Any, cams: FakeCams, env: Env, clock: FakeClock) -> None:
    env.setenv("HEALTHCHECK_RATE_PER_SECOND", "1")
    env.setenv("HEALTHCHECK_ALARM_ON_UNCHECKED", "false")

    summary = healthcheck(timer_event([{"custSpaceId": "demo-approved"}] * 5), run_context(timeout=4))

    assert (summary["counts"]["unchecked"], summary["alarming"]) == (2, False)


def test_consecutive_runs_cover_a_list_longer_than_one_run(
    healthcheck: Any, cams: FakeCams, env: Env, clock: FakeClock
) -> None:
    env.setenv("HEALTHCHECK_RATE_PER_SECOND", "1")
    names = [f"space-{n:02d}" for n in range(12)]
    for name in names:
        cams.backend.bind_space("1000000000000001", name, {"Id": "9", "AccountReviewStatus": "APPROVED"})
    event_spaces = [{"custSpaceId": name} for name in names]
    checked: list[set[str]] = []

    for run in range(4):  # every 10 minutes, as the default cron
        at = f"2026-11-26T09:{run * 10:02d}:00Z"
        summary = healthcheck(timer_event(event_spaces, at=at), run_context(timeout=7))
        clock.advance(600)
        assert [space["custSpaceId"] for space in summary["spaces"]] == names, "reported in the list's order"
        checked.append({s["custSpaceId"] for s in summary["spaces"] if s["verdict"] == "healthy"})
        assert summary["coverage"]["checked"] == len(checked[-1]) < len(names)

    assert set().union(*checked) == set(names)
    assert len({frozenset(c) for c in checked}) == 4, "each run starts elsewhere"


# --- webhooks at their edges --------------------------------------------------------------------


def test_a_redirecting_webhook_is_a_failed_alert_not_followed(
    healthcheck: Any, cams: FakeCams, env: Env, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    httpserver.expect_request("/robot/send").respond_with_data("", status=302, headers={"location": "/elsewhere"})

    summary = healthcheck(timer_event([{"custSpaceId": "demo-unbound"}]), run_context())

    assert [request.path for request, _ in httpserver.log] == ["/robot/send"]
    assert summary["alert"] == {
        "sent": False,
        "reason": "The webhook answered HTTP 302, a redirect, which is not followed.",
        "attempts": 1,
    }
    [failed] = [line for line in log_lines(capsys.readouterr().out) if line["event"] == "healthcheck.alert_failed"]
    assert "302" in failed["reason"]


@pytest.mark.slow
def test_a_trickling_webhook_is_cut_at_its_timeout(
    healthcheck: Any, cams: FakeCams, env: Env, httpserver: HTTPServer
) -> None:
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    env.setenv("ALERT_WEBHOOK_TIMEOUT_MS", "500")

    def trickle() -> Iterator[bytes]:
        for _ in range(30):
            time.sleep(0.2)
            yield b" "

    httpserver.expect_request("/robot/send").respond_with_handler(lambda request: Response(trickle()))
    started = time.monotonic()

    summary = healthcheck(timer_event([{"custSpaceId": "demo-unbound"}]), run_context(timeout=4))

    elapsed = time.monotonic() - started
    assert summary["alert"]["sent"] is False
    assert "timed out" in summary["alert"]["reason"]
    assert elapsed < 4, "all attempts together end before the function's deadline"
    assert summary["alert"]["attempts"] <= 3


@pytest.mark.parametrize(
    ("answers", "sent", "attempts"),
    [
        ([{"errcode": 130101, "errmsg": "send too fast"}, {"errcode": 0}], True, 2),
        ([{"errcode": 310000, "errmsg": "sign not match"}], False, 1),
    ],
)
def test_dingtalk_send_too_fast_is_retried_other_codes_are_not(
    healthcheck: Any,
    cams: FakeCams,
    env: Env,
    clock: FakeClock,
    httpserver: HTTPServer,
    answers: list[dict[str, Any]],
    sent: bool,
    attempts: int,
) -> None:
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    env.setenv("ALERT_WEBHOOK_FORMAT", "dingtalk")
    for answer in answers:
        httpserver.expect_ordered_request("/robot/send").respond_with_json(answer)

    summary = healthcheck(timer_event([{"custSpaceId": "demo-unbound"}]), run_context())

    assert (summary["alert"]["sent"], summary["alert"]["attempts"], len(httpserver.log)) == (sent, attempts, attempts)


def test_a_4xx_webhook_fails_at_once(healthcheck: Any, cams: FakeCams, env: Env, httpserver: HTTPServer) -> None:
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    httpserver.expect_request("/robot/send").respond_with_data("no", status=404)

    summary = healthcheck(timer_event([{"custSpaceId": "demo-unbound"}]), run_context())

    assert (summary["alert"]["sent"], summary["alert"]["attempts"], len(httpserver.log)) == (False, 1, 1)


def test_the_duration_covers_the_alert(
    healthcheck: Any, cams: FakeCams, env: Env, clock: FakeClock, httpserver: HTTPServer
) -> None:
    env.setenv("ALERT_WEBHOOK_URL", webhook_url(httpserver))
    httpserver.expect_request("/robot/send").respond_with_data("down", status=503)

    summary = healthcheck(timer_event([{"custSpaceId": "demo-unbound"}]), run_context())

    assert summary["alert"]["attempts"] == 3
    assert summary["durationMs"] >= math.floor(sum(clock.sleeps) * 1000) > 0
