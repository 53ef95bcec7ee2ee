"""Logs: one JSON object per line with the FC and CAMS request ids, and never a secret."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.cams import FakeCams
from local.emulator import Credentials, http_event
from shared.lookup.app import app
from tests.helpers import ROLE, TEST_AUDIENCE, TEST_ISSUER, TEST_SUB, Env, bearer, call, context, get

SERVER_ISV_CODE = "server-side-isv-code-7f3a"
CALLER_ISV_CODE = "demo-isv-code-0001"
AUTHORIZATION = "Bearer caller-bearer-token-9c2e"
SECRETS = [
    ROLE.access_key_id,
    ROLE.access_key_secret,
    str(ROLE.security_token),
    SERVER_ISV_CODE,
    CALLER_ISV_CODE,
    AUTHORIZATION,
    "caller-bearer-token-9c2e",
]


def every_path(lookup: Any, cams: FakeCams, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drive the handler through success, every error, retries and an unexpected exception."""
    get(lookup, "/waba", "custSpaceId=demo-approved", {"Authorization": AUTHORIZATION})
    get(lookup, "/waba", "custSpaceId=demo-approved", {"Authorization": bearer(["demo-pending"], sub="someone")})
    headers = {"Authorization": bearer(), "Origin": "https://app.example.com"}
    get(lookup, "/waba", "custSpaceId=demo-approved", headers)
    get(lookup, "/waba", f"custSpaceId=demo-isv&isvCode={CALLER_ISV_CODE}", headers)
    env.setenv("ALLOW_CALLER_ISV_CODE", "true")
    get(lookup, "/waba", f"custSpaceId=demo-isv&isvCode={CALLER_ISV_CODE}", headers)
    get(lookup, "/waba", f"custSpaceId=demo-isv&isvCode={CALLER_ISV_CODE}x", headers)
    env.setenv("CAMS_ISV_CODE", SERVER_ISV_CODE)
    for code in ["Ram.PermissionDeny", "Unknown.ResourceOwnerId", "InvalidParameter", "Some.NewError"]:
        cams.fail_next(1, code=code)
        get(lookup, "/waba", "custSpaceId=demo-isv", headers)
    cams.fail_next(10, code="System.LimitControl", retry_after_ms=5)
    get(lookup, "/waba", "custSpaceId=demo-approved", headers)
    cams.garbage_next(1)
    get(lookup, "/waba", "custSpaceId=demo-approved", headers)
    cams.drop_next(1)
    get(lookup, "/waba", "custSpaceId=demo-approved", headers)
    get(
        lookup,
        "/waba",
        "custSpaceId=demo-approved",
        headers,
        credentials=Credentials(ROLE.access_key_id, "bad", ROLE.security_token),
    )
    get(lookup, "/waba", "custSpaceId=<bad>", headers)
    call(lookup, http_event("OPTIONS", "/waba", headers={**headers, "Access-Control-Request-Method": "GET"}))

    def boom(*args: Any) -> Any:
        raise RuntimeError(f"unexpected, holding {ROLE.security_token} and {SERVER_ISV_CODE}")

    monkeypatch.setitem(app.routes, "/boom", {"GET": boom})
    assert get(lookup, "/boom", headers=headers).error_code == "InternalError"
    env.setenv("CAMS_READ_TIMEOUT_MS", "not a number")
    get(lookup, "/waba", "custSpaceId=demo-approved", headers)


def test_no_secret_reaches_any_log(
    lookup: Any,
    monkeypatch: pytest.MonkeyPatch,
    cams: FakeCams,
    env: Env,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    env.setenv("LOG_LEVEL", "DEBUG")

    every_path(lookup, cams, env, monkeypatch)

    out, err = capfd.readouterr()
    everything = out + err + caplog.text
    assert "req-test-1" in everything, "the logs were captured"
    for secret in SECRETS:
        assert secret not in everything
    for sent in (bearer(), bearer(["demo-pending"], sub="someone")):
        assert sent.split()[1] not in everything, "a token never reaches a log line"
    for claim in (TEST_ISSUER, TEST_AUDIENCE, "cams_spaces", "demo-pending"):
        assert claim not in everything, "nor do its claims"
    assert '"sub": "someone"' in everything, "the sub does"


def test_every_line_is_json_with_the_request_ids(
    lookup: Any, cams: FakeCams, capsys: pytest.CaptureFixture[str]
) -> None:
    cams.fail_next(1, code="System.LimitControl")
    lookup(
        json.dumps(http_event("GET", "/waba", "custSpaceId=demo-approved", {"Authorization": bearer()})).encode(),
        context(request_id="fc-req-42"),
    )

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert [line["event"] for line in lines] == ["cams.retry", "request"]
    assert all(line["requestId"] == "fc-req-42" for line in lines)
    retry, summary = lines
    assert retry["camsRequestId"] == cams.calls()[0].request_id
    assert summary["camsRequestId"] == cams.calls()[1].request_id
    assert summary | {"latencyMs": 0, "time": ""} == {
        "time": "",
        "level": "INFO",
        "event": "request",
        "requestId": "fc-req-42",
        "outcome": "ok",
        "route": "/waba",
        "method": "GET",
        "sub": TEST_SUB,
        "custSpaceId": "demo-approved",
        "camsRequestId": cams.calls()[1].request_id,
        "attempts": 2,
        "cache": "cams",
        "stale": False,
        "status": 200,
        "latencyMs": 0,
    }


def test_an_error_line_names_the_outcome(lookup: Any, cams: FakeCams, capsys: pytest.CaptureFixture[str]) -> None:
    get(lookup, "/waba", "custSpaceId=demo-unbound")

    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert (line["outcome"], line["status"], line["camsRequestId"]) == (
        "WabaNotBound",
        404,
        cams.calls()[0].request_id,
    )
