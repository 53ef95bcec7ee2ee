"""FC3 HTTP trigger plumbing: the event in, a complete response out, CORS from an allow-list.

Example:
    >>> request = parse_http_event(b'{"requestContext": {"http": {"method": "GET", "path": "/healthz"}}}')
    >>> request.method, request.path, request.query
    ('GET', '/healthz', {})
    >>> json_response(200, {"ok": True})["headers"]["content-type"]
    'application/json; charset=utf-8'
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from shared.errors import InvalidRequest

ALLOWED_METHODS = "GET, OPTIONS"
PREFLIGHT_MAX_AGE_S = "600"


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an FC3 HTTP event this package reads; header names are lower-case."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    request_id: str | None = None

    @property
    def origin(self) -> str | None:
        return self.headers.get("origin")

    @property
    def is_preflight(self) -> bool:
        return self.method == "OPTIONS" and "access-control-request-method" in self.headers


def parse_http_event(event: object) -> HttpRequest:
    """Read an FC3 HTTP event given as bytes (as FC passes it), str or an already-parsed dict.

    Raises InvalidRequest for anything that is not such an event.
    """
    document = _as_document(event)
    context = _mapping(document.get("requestContext"))
    http = _mapping(context.get("http"))
    method = http.get("method")
    if not isinstance(method, str) or not method.strip():
        raise InvalidRequest("The request has no HTTP method.")
    path = http.get("path")
    if not isinstance(path, str):
        raw_path = document.get("rawPath")
        path = unquote(raw_path) if isinstance(raw_path, str) else "/"
    request_id = context.get("requestId")
    return HttpRequest(
        method=method.strip().upper(),
        path=path or "/",
        headers={k.lower(): v for k, v in _strings(document.get("headers")).items()},
        query=_strings(document.get("queryParameters")),
        body=_body(document),
        request_id=request_id if isinstance(request_id, str) else None,
    )


def _as_document(event: object) -> dict[str, Any]:
    if isinstance(event, (bytes, bytearray, memoryview)):
        try:
            event = bytes(event).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("The event is not UTF-8.") from None
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except ValueError:
            raise InvalidRequest("The event is not JSON.") from None
    if not isinstance(event, dict):
        raise InvalidRequest("The event is not an FC3 HTTP event.")
    return event


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> dict[str, str]:
    """Headers or query parameters as str to str; FC joins repeated values with commas already."""
    result: dict[str, str] = {}
    for key, item in _mapping(value).items():
        if isinstance(item, (list, tuple)):
            result[str(key)] = ",".join(str(v) for v in item)
        elif item is not None:
            result[str(key)] = item if isinstance(item, str) else json.dumps(item)
    return result


def _body(document: Mapping[str, Any]) -> bytes:
    body = document.get("body")
    if not isinstance(body, str) or not body:
        return b""
    if document.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("The request body is not valid base64.") from None
    return body.encode("utf-8", errors="replace")


def json_response(status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A complete FC3 HTTP response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {
            "content-type": "application/json; charset=utf-8",
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
            **(headers or {}),
        },
        "isBase64Encoded": False,
        "body": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
    }


def empty_response(status: int, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "headers": dict(headers or {}), "isBase64Encoded": False, "body": ""}


def allowed_origin(origin: str | None, allowed: tuple[str, ...]) -> str | None:
    """The value for Access-Control-Allow-Origin, or None when this origin may not read answers."""
    if not origin:
        return None
    if "*" in allowed:
        return "*"
    return origin if origin.rstrip("/") in allowed else None


def cors_headers(origin: str | None, allowed: tuple[str, ...]) -> dict[str, str]:
    allow = allowed_origin(origin, allowed)
    if allow is None:
        return {"vary": "Origin"} if allowed else {}
    return {"access-control-allow-origin": allow, "vary": "Origin"}


def preflight_headers(request: HttpRequest, allowed: tuple[str, ...]) -> dict[str, str]:
    requested = request.headers.get("access-control-request-headers", "")
    headers = {
        **cors_headers(request.origin, allowed),
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-max-age": PREFLIGHT_MAX_AGE_S,
    }
    safe = [h.strip() for h in requested.split(",") if h.strip() and h.strip().replace("-", "").isalnum()]
    if safe:
        headers["access-control-allow-headers"] = ", ".join(safe)
    return headers
