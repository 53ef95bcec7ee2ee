"""FC3 HTTP events, however they arrive."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.emulator import http_event
from shared.errors import InvalidRequest
from shared.http import parse_http_event


def test_bytes_str_and_dict_events_parse_alike() -> None:
    event = http_event("GET", "/waba", "custSpaceId=demo-approved", {"X-Trace": "1"})

    parsed = [parse_http_event(e) for e in (json.dumps(event).encode(), json.dumps(event), event)]

    assert parsed[0] == parsed[1] == parsed[2]
    request = parsed[0]
    assert (request.method, request.path, dict(request.query)) == (
        "GET",
        "/waba",
        {"custSpaceId": "demo-approved"},
    )
    assert request.headers["x-trace"] == "1"


def test_missing_headers_and_query_are_empty() -> None:
    request = parse_http_event({"requestContext": {"http": {"method": "get", "path": "/healthz"}}})

    assert (request.method, dict(request.headers), dict(request.query)) == ("GET", {}, {})


def test_the_decoded_path_comes_from_the_request_context() -> None:
    event = http_event("GET", "/wa%62a")

    assert parse_http_event(event).path == "/waba"
    del event["requestContext"]["http"]["path"]
    assert parse_http_event(event).path == "/waba", "rawPath, decoded, when the context has no path"


def test_repeated_values_arrive_joined_with_commas() -> None:
    event = http_event("GET", "/waba", "custSpaceId=a&custSpaceId=b")

    assert parse_http_event(event).query["custSpaceId"] == "a,b"


@pytest.mark.parametrize(
    "event",
    [b"\xff\xfe", b"not json", b"[1, 2]", "null", {"requestContext": {"http": {}}}, {"requestContext": "x"}],
)
def test_events_that_are_not_http_events_are_invalid(event: Any) -> None:
    with pytest.raises(InvalidRequest):
        parse_http_event(event)


def test_a_body_is_never_read() -> None:
    event = http_event("POST", "/waba", body=b"x")
    event |= {"isBase64Encoded": True, "body": "***"}

    assert parse_http_event(event).method == "POST", "a GET-only API does not refuse a body it never reads"
