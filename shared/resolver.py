"""A small resolver for FC3 HTTP triggers: routes by decorator, errors mapped to answers in one place.

Example:
    >>> from shared.settings import FunctionSettings
    >>> app = HttpApp(FunctionSettings, allowed_origins=lambda: ())
    >>> @app.get("/ping")
    ... def ping(request, invocation):
    ...     return HttpReply.json(200, {"pong": True})
    >>> app.resolve(b'{"requestContext": {"http": {"method": "GET", "path": "/ping"}}}', None)["body"]
    {"time": ..., "event": "request", ..., "route": "/ping", "method": "GET", "outcome": "ok", "status": 200, ...}
    '{"pong":true}'

No library parses FC3 events, and the frameworks that could be bent to it cost more at import than
this whole module. 404 and 405 (with `Allow`) come from the route table; OPTIONS and CORS are
answered here for every route, errors included; a route returns an `HttpReply` whose `log` fields join
the one request line of the invocation, or raises a `ServiceError` (with its own fields for that line),
which becomes its documented answer here and nowhere else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic

from shared.clock import SYSTEM_CLOCK, Clock
from shared.errors import (
    ConfigurationError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    OriginNotAllowed,
    ServiceError,
)
from shared.http import HttpRequest, allowed_origin, cors_headers, parse_http_event, preflight_headers
from shared.invocation import Invocation, begin
from shared.logs import log_event
from shared.settings import S

JSON_HEADERS = {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}


@dataclass(frozen=True)
class HttpReply:
    """What a route answers: a status, a JSON body or none, headers, and fields for the request line."""

    status: int
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    log: Mapping[str, Any] = field(default_factory=dict)
    error: ServiceError | None = None

    @classmethod
    def json(
        cls,
        status: int,
        body: Mapping[str, Any],
        log: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpReply:
        return cls(status, body, headers=headers or {}, log=log or {})

    @classmethod
    def failed(cls, error: ServiceError) -> HttpReply:
        """The answer to `error`, rendered with its documented status, body and headers."""
        return cls(error.status, headers=error.headers(), error=error)

    def log_fields(self) -> dict[str, Any]:
        if self.error is None:
            return {"outcome": "ok", **self.log}
        fields = {"outcome": self.error.code, "errorMessage": self.error.message, **self.error.context}
        if self.error.cams_request_id:
            fields["camsRequestId"] = self.error.cams_request_id
        return fields

    def render(self, request_id: str | None, extra_headers: Mapping[str, str]) -> dict[str, Any]:
        """The complete FC3 HTTP response."""
        body = self.error.body(request_id) if self.error is not None else self.body
        headers = {**(JSON_HEADERS if body is not None or self.status == 304 else {}), **self.headers, **extra_headers}
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return {"statusCode": self.status, "headers": headers, "isBase64Encoded": False, "body": text}


Route = Callable[[HttpRequest, Invocation[Any]], HttpReply]


class HttpApp(Generic[S]):
    """The routes of one HTTP function, its settings model, and where its CORS allow-list comes from."""

    def __init__(
        self,
        settings_model: type[S],
        allowed_origins: Callable[[], tuple[str, ...]],
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.settings_model = settings_model
        self.allowed_origins = allowed_origins
        self.clock = clock
        self.routes: dict[str, dict[str, Route]] = {}

    def get(self, path: str) -> Callable[[Route], Route]:
        return self.route(path, "GET")

    def route(self, path: str, method: str) -> Callable[[Route], Route]:
        def register(route: Route) -> Route:
            self.routes.setdefault(_normalise(path), {})[method] = route
            return route

        return register

    def resolve(self, event: object, context: object) -> dict[str, Any]:
        """The FC3 HTTP response to `event`: never a traceback, never an exception."""
        # Read before the invocation's log scope opens, so that the scope starts with the caller's
        # credentials among its secrets; what reading raises is answered and logged inside it.
        parsed = _parsed(event)
        secrets = _credentials_in(parsed) if isinstance(parsed, HttpRequest) else ()
        with begin(context, self.settings_model, self.clock, secrets) as invocation:
            request, reply = self._reply(parsed, invocation)
            extra = self._cors(request) if request is not None else {}
            self._log(request, reply, invocation)
            return reply.render(invocation.request_id, extra)

    def _reply(
        self, parsed: HttpRequest | Exception, invocation: Invocation[S]
    ) -> tuple[HttpRequest | None, HttpReply]:
        request = parsed if isinstance(parsed, HttpRequest) else None
        try:
            if not isinstance(parsed, HttpRequest):
                raise parsed
            return parsed, self._dispatch(parsed, invocation)
        except ServiceError as error:
            return request, HttpReply.failed(error)
        except Exception as unexpected:
            log_event("unhandled", logging.ERROR, error=unexpected)
            return request, HttpReply.failed(InternalError("The function failed unexpectedly."))

    def _dispatch(self, request: HttpRequest, invocation: Invocation[S]) -> HttpReply:
        path = _normalise(request.path)
        methods = self.routes.get(path)
        if methods is None:
            raise NotFound(f"No route for {path[:100]}.")
        allow = ", ".join([*methods, "OPTIONS"])
        if request.method == "OPTIONS":
            return self._options(request, allow)
        route = methods.get(request.method)
        if route is None:
            raise MethodNotAllowed(f"{request.method[:16]} is not allowed here; use {allow}.", allow=allow)
        return route(request, invocation)

    def _options(self, request: HttpRequest, allow: str) -> HttpReply:
        if not request.is_preflight:
            return HttpReply(204, headers={"allow": allow})
        allowed = self.allowed_origins()
        if allowed_origin(request.origin, allowed) is None:
            raise OriginNotAllowed("This origin may not call this endpoint.")
        return HttpReply(204, headers=preflight_headers(request, allowed, allow))

    def _cors(self, request: HttpRequest) -> dict[str, str]:
        try:
            return cors_headers(request.origin, self.allowed_origins())
        except ConfigurationError:
            return {}

    def _log(self, request: HttpRequest | None, reply: HttpReply, invocation: Invocation[S]) -> None:
        fields: dict[str, Any] = {}
        if request is not None:
            fields.update(route=request.path[:200], method=request.method[:16])
        fields.update(reply.log_fields(), status=reply.status, latencyMs=invocation.elapsed_ms())
        level = logging.ERROR if reply.status >= 500 else logging.WARNING if reply.status == 429 else logging.INFO
        log_event("request", level, **fields)


def _parsed(event: object) -> HttpRequest | Exception:
    try:
        return parse_http_event(event)
    except Exception as failed:
        return failed


def _credentials_in(request: HttpRequest) -> list[str]:
    """The caller's Authorization header, and its token alone, to be scrubbed from every line."""
    authorization = request.headers.get("authorization", "")
    return [authorization, authorization.partition(" ")[2].strip()]


def _normalise(path: str) -> str:
    return path.rstrip("/") or "/"
