"""FC3 HTTP trigger plumbing: the event in, CORS from an allow-list.

Example:
    >>> request = parse_http_event(b'{"requestContext": {"http": {"method": "GET", "path": "/healthz"}}}')
    >>> request.method, request.path, request.query
    ('GET', '/healthz', {})

The body is never read: every route of this API is a GET.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from shared.errors import InvalidRequest
from shared.events import MalformedEvent, decode_event

PREFLIGHT_MAX_AGE_S = "600"
ALWAYS_ALLOWED_HEADERS = ("Authorization",)
"""Request headers a preflight always allows: the bearer token's, so that a browser may send it."""
EXPOSED_HEADERS = "Retry-After, WWW-Authenticate, ETag"
"""Response headers an allowed origin's scripts may read besides the CORS-safelisted ones."""


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an FC3 HTTP event this package reads; header names are lower-case."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    source_ip: str | None = None
    """The client's address as FC saw the connection (`requestContext.http.sourceIp`), never a header."""

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
    try:
        document = decode_event(event, "an FC3 HTTP event")
    except MalformedEvent as malformed:
        raise InvalidRequest(str(malformed)) from None
    http = _mapping(_mapping(document.get("requestContext")).get("http"))
    method = http.get("method")
    if not isinstance(method, str) or not method.strip():
        raise InvalidRequest("The request has no HTTP method.")
    path = http.get("path")
    if not isinstance(path, str):
        raw_path = document.get("rawPath")
        path = unquote(raw_path) if isinstance(raw_path, str) else "/"
    method = method.strip().upper()
    path = path or "/"
    headers = _strings(document.get("headers"), lower=True)
    query = _strings(document.get("queryParameters"))
    if not _encodable(method, path, headers, query):
        raise InvalidRequest("The request holds text that is not valid Unicode.")
    return HttpRequest(method, path, headers, query, _source_ip(http.get("sourceIp")))


def _encodable(method: str, path: str, *texts: Mapping[str, str]) -> bool:
    """Whether every text encodes as UTF-8: a lone surrogate does not, and must reach no log line.

    Encoded as one text: surrogates side by side are still refused one by one.
    """
    parts = [method, path]
    for mapping in texts:
        parts += mapping
        parts += mapping.values()
    try:
        "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_ADDRESS = re.compile(r"[0-9A-Za-z.:]{1,64}")


def _source_ip(value: object) -> str | None:
    """An address of at most 64 characters from [0-9A-Za-z.:], else None: it becomes part of a store key."""
    return value if isinstance(value, str) and _ADDRESS.fullmatch(value) else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: object, *, lower: bool = False) -> dict[str, str]:
    """Headers (names in lower case) or query parameters as str to str; FC joins repeated values with commas already."""
    result: dict[str, str] = {}
    for key, item in _mapping(value).items():
        if isinstance(item, str):
            text = item
        elif isinstance(item, (list, tuple)):
            text = ",".join(str(v) for v in item)
        elif item is None:
            continue
        else:
            text = json.dumps(item)
        name = str(key)
        result[name.lower() if lower else name] = text
    return result


def allowed_origin(origin: str | None, allowed: tuple[str, ...]) -> str | None:
    """The value for Access-Control-Allow-Origin, or None when this origin may not read answers."""
    if not origin:
        return None
    if "*" in allowed:
        return "*"
    return origin if origin.rstrip("/") in allowed else None


def cors_headers(origin: str | None, allowed: tuple[str, ...]) -> dict[str, str]:
    """`Vary: Origin` on every answer once an allow-list is set; an allowed origin may read the answer."""
    allow = allowed_origin(origin, allowed)
    if allow is None:
        return {"vary": "Origin"} if allowed else {}
    return {"access-control-allow-origin": allow, "vary": "Origin", "access-control-expose-headers": EXPOSED_HEADERS}


def preflight_headers(request: HttpRequest, allowed: tuple[str, ...], methods: str) -> dict[str, str]:
    requested = request.headers.get("access-control-request-headers", "")
    headers = {
        **cors_headers(request.origin, allowed),
        "access-control-allow-methods": methods,
        "access-control-max-age": PREFLIGHT_MAX_AGE_S,
    }
    safe = [h.strip() for h in requested.split(",") if h.strip() and h.strip().replace("-", "").isalnum()]
    always = {name.lower() for name in ALWAYS_ALLOWED_HEADERS}
    wanted = [*ALWAYS_ALLOWED_HEADERS, *(name for name in safe if name.lower() not in always)]
    headers["access-control-allow-headers"] = ", ".join(wanted)
    return headers
