"""The resolver on a toy app: route table, 404/405, OPTIONS and CORS for every answer, one error mapping."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.emulator import http_event
from shared.errors import Throttled, WabaNotBound
from shared.http import HttpRequest
from shared.invocation import Invocation
from shared.lookup.settings import LookupSettings
from shared.resolver import HttpApp, HttpReply
from shared.settings import forget_settings
from tests.helpers import FakeClock, context, log_lines

ALLOWED = "https://app.example.com"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> HttpApp[LookupSettings]:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", ALLOWED)
    toy: HttpApp[LookupSettings] = HttpApp(LookupSettings, lambda: (ALLOWED,), FakeClock())

    @toy.get("/items")
    def items(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
        return HttpReply.json(200, {"items": []}, log={"count": 0})

    @toy.get("/busy")
    def busy(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
        raise Throttled("slow down", retry_after_s=2.5).logged_with({"attempts": 4})

    @toy.get("/gone")
    def gone(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
        raise WabaNotBound("none", cams_request_id="cams-1")

    @toy.get("/bug")
    def bug(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
        raise KeyError("internal detail")

    return toy


def resolve(app: HttpApp[LookupSettings], method: str, path: str, **headers: str) -> dict[str, Any]:
    return app.resolve(json.dumps(http_event(method, path, headers=headers)).encode(), context())


def test_a_route_answers_and_its_log_fields_join_the_request_line(
    app: HttpApp[LookupSettings], capsys: pytest.CaptureFixture[str]
) -> None:
    answer = resolve(app, "GET", "/items/", Origin=ALLOWED)

    assert (answer["statusCode"], json.loads(answer["body"])) == (200, {"items": []})
    assert answer["headers"]["access-control-allow-origin"] == ALLOWED
    [line] = log_lines(capsys.readouterr().out)
    assert (line["event"], line["route"], line["count"], line["outcome"], line["status"]) == (
        "request",
        "/items/",
        0,
        "ok",
        200,
    )


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "header"),
    [
        ("GET", "/nowhere", 404, "NotFound", None),
        ("POST", "/items", 405, "MethodNotAllowed", ("allow", "GET, OPTIONS")),
        ("GET", "/busy", 429, "Throttled", ("retry-after", "3")),
        ("GET", "/gone", 404, "WabaNotBound", None),
        ("GET", "/bug", 500, "InternalError", None),
    ],
)
def test_errors_are_mapped_in_one_place_with_cors(
    app: HttpApp[LookupSettings],
    capsys: pytest.CaptureFixture[str],
    method: str,
    path: str,
    status: int,
    code: str,
    header: tuple[str, str] | None,
) -> None:
    answer = resolve(app, method, path, Origin=ALLOWED)

    body = json.loads(answer["body"])
    assert (answer["statusCode"], body["error"]["code"], body["error"]["requestId"]) == (status, code, "req-test-1")
    assert answer["headers"]["access-control-allow-origin"] == ALLOWED
    if header is not None:
        assert answer["headers"][header[0]] == header[1]
    assert "internal detail" not in answer["body"]
    request_line = log_lines(capsys.readouterr().out)[-1]
    assert (request_line["outcome"], request_line["status"]) == (code, status)


def test_request_lines_are_leveled_by_status(app: HttpApp[LookupSettings], capsys: pytest.CaptureFixture[str]) -> None:
    for path in ("/items", "/gone", "/busy", "/bug"):
        resolve(app, "GET", path)

    levels = [line["level"] for line in log_lines(capsys.readouterr().out) if line["event"] == "request"]
    assert levels == ["INFO", "INFO", "WARNING", "ERROR"]


def test_options_from_the_table(app: HttpApp[LookupSettings]) -> None:
    plain = resolve(app, "OPTIONS", "/items")
    preflight = resolve(app, "OPTIONS", "/items", Origin=ALLOWED, **{"Access-Control-Request-Method": "GET"})
    refused = resolve(
        app, "OPTIONS", "/items", Origin="https://evil.example", **{"Access-Control-Request-Method": "GET"}
    )

    assert (plain["statusCode"], plain["headers"]["allow"], plain["body"]) == (204, "GET, OPTIONS", "")
    assert (preflight["statusCode"], preflight["headers"]["access-control-allow-methods"]) == (204, "GET, OPTIONS")
    assert json.loads(refused["body"])["error"]["code"] == "OriginNotAllowed"


def test_a_bad_setting_is_answered_with_cors(app: HttpApp[LookupSettings], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMS_PROTOCOL", "gopher")
    forget_settings()

    @app.get("/settings")
    def settings(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
        return HttpReply.json(200, {"protocol": invocation.settings.cams_protocol})

    answer = resolve(app, "GET", "/settings", Origin=ALLOWED)

    assert (answer["statusCode"], json.loads(answer["body"])["error"]["code"]) == (500, "ConfigurationError")
