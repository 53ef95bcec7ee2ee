"""CORS from the allow-list, with preflight."""

from __future__ import annotations

from typing import Any

from local.cams import FakeCams
from local.emulator import http_event
from tests.helpers import Env, call, get

ALLOWED = "https://app.example.com"


def preflight(origin: str, path: str = "/waba") -> dict[str, Any]:
    return http_event(
        "OPTIONS",
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-Trace, bad header",
        },
    )


def test_an_allowed_origin_may_read_the_answer(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/waba", "custSpaceId=demo-approved", {"Origin": ALLOWED})

    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert answer.headers["vary"] == "Origin"


def test_errors_carry_cors_headers_too(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/waba", "custSpaceId=demo-unbound", {"Origin": ALLOWED})

    assert answer.status == 404
    assert answer.headers["access-control-allow-origin"] == ALLOWED


def test_another_origin_gets_no_cors_header(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/waba", "custSpaceId=demo-approved", {"Origin": "https://evil.example"})

    assert answer.status == 200
    assert "access-control-allow-origin" not in answer.headers


def test_preflight_from_an_allowed_origin(lookup: Any, cams: FakeCams) -> None:
    answer = call(lookup, preflight(ALLOWED))

    assert answer.status == 204
    assert answer.raw["body"] == ""
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert answer.headers["access-control-allow-methods"] == "GET, OPTIONS"
    assert answer.headers["access-control-allow-headers"] == "Authorization, X-Trace"
    assert answer.headers["vary"] == "Origin"
    assert cams.journal == []


def test_a_preflight_needs_no_token_and_always_allows_the_authorization_header(lookup: Any, cams: FakeCams) -> None:
    for path in ("/waba", "/waba/own"):
        event = http_event(
            "OPTIONS",
            path,
            headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x"},
        )
        answer = call(lookup, event, authorization=None)

        assert answer.status == 204
        assert answer.headers["access-control-allow-headers"] == "Authorization, x"
    assert cams.journal == []


def test_answers_without_a_token_carry_cors_for_an_allowed_origin(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/waba", "custSpaceId=demo-approved", {"Origin": ALLOWED}, authorization=None)

    assert (answer.status, answer.error_code) == (401, "Unauthorized")
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert answer.headers["vary"] == "Origin"
    assert "WWW-Authenticate" in answer.headers["access-control-expose-headers"]
    assert "Retry-After" in answer.headers["access-control-expose-headers"]


def test_preflight_from_another_origin_is_403(lookup: Any) -> None:
    answer = call(lookup, preflight("https://evil.example"))

    assert (answer.status, answer.error_code) == (403, "OriginNotAllowed")


def test_preflight_for_an_unknown_path_is_404(lookup: Any) -> None:
    assert call(lookup, preflight(ALLOWED, "/nowhere")).status == 404


def test_plain_options_lists_the_methods(lookup: Any) -> None:
    answer = call(lookup, http_event("OPTIONS", "/waba"))

    assert (answer.status, answer.headers["allow"]) == (204, "GET, OPTIONS")


def test_a_wildcard_allows_every_origin(lookup: Any, cams: FakeCams, env: Env) -> None:
    env.setenv("CORS_ALLOWED_ORIGINS", "*")

    answer = get(lookup, "/waba", "custSpaceId=demo-approved", {"Origin": "https://any.example"})

    assert answer.headers["access-control-allow-origin"] == "*"


def test_no_allow_list_means_no_cors(lookup: Any, cams: FakeCams, env: Env) -> None:
    env.delenv("CORS_ALLOWED_ORIGINS")

    answer = get(lookup, "/waba", "custSpaceId=demo-approved", {"Origin": ALLOWED})

    assert not any(name.startswith("access-control") for name in answer.headers)
