"""The FC3 HTTP function: which WABA is bound to a CAMS customer space.

    GET /waba?custSpaceId=<id>   200 {"waba": {...}, "requestId": ..., "camsRequestId": ...}
    GET /healthz                 200 {"status": "ok"} without calling CAMS
    OPTIONS <route>              CORS preflight

Every failure is a JSON error from the table in `shared/errors.py` (and the README).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from pydantic import Field, field_validator

from shared.cams import gateway_for
from shared.errors import (
    InternalError,
    MethodNotAllowed,
    NotFound,
    OriginNotAllowed,
    ServiceError,
    Throttled,
)
from shared.http import (
    ALLOWED_METHODS,
    HttpRequest,
    allowed_origin,
    cors_headers,
    empty_response,
    json_response,
    parse_http_event,
    preflight_headers,
)
from shared.invocation import credentials_for, deadline_for, log_retry, request_id_of, secrets_of
from shared.logs import bind, log_context, log_event, set_level
from shared.models import parse_lookup_query
from shared.settings import CamsSettings, current_settings, split_list


class LookupSettings(CamsSettings):
    """The HTTP function's settings: those of every function, and who may call it how."""

    allow_caller_isv_code: bool = Field(False, alias="ALLOW_CALLER_ISV_CODE")
    cors_allowed_origins: tuple[str, ...] = Field((), alias="CORS_ALLOWED_ORIGINS")

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        origins = split_list(value)
        return tuple(origin.rstrip("/") for origin in origins) if isinstance(origins, tuple) else origins


Route = Callable[[HttpRequest, LookupSettings, Any, float], dict[str, Any]]


def lookup_waba(request: HttpRequest, settings: LookupSettings, context: Any, started: float) -> dict[str, Any]:
    query = parse_lookup_query(request.query, allow_isv_code=settings.allow_caller_isv_code)
    isv_code = query.isv_code or (settings.cams_isv_code.get_secret_value() if settings.cams_isv_code else None)
    bind(secrets=[isv_code], custSpaceId=query.cust_space_id)
    result = gateway_for(settings).query_bind_waba(
        query.cust_space_id,
        isv_code,
        deadline_for(context, started, settings),
        credentials_for(context),
        log_retry,
    )
    bind(camsRequestId=result.cams_request_id, attempts=result.attempts)
    return json_response(
        200,
        {
            "waba": result.binding.to_json(),
            "requestId": request_id_of(context),
            "camsRequestId": result.cams_request_id,
        },
    )


def healthz(request: HttpRequest, settings: LookupSettings, context: Any, started: float) -> dict[str, Any]:
    return json_response(200, {"status": "ok", "requestId": request_id_of(context)})


ROUTES: dict[str, Route] = {"/waba": lookup_waba, "/healthz": healthz}


def handler(event: Any, context: Any) -> dict[str, Any]:
    """FC3 entry point: `index.handler`."""
    started = time.monotonic()
    request_id = request_id_of(context)
    with log_context(secrets_of(context), requestId=request_id, outcome="ok"):
        response = _answer(lambda: _handle(event, context, started), request_id)
        log_event(
            "request",
            status=response["statusCode"],
            latencyMs=round((time.monotonic() - started) * 1000, 1),
        )
        return response


def initialize(context: Any) -> None:
    """FC3 initializer: validate settings and build the CAMS client before the first request."""
    settings = current_settings(LookupSettings)
    gateway_for(settings).client_for(credentials_for(context))


def _handle(event: Any, context: Any, started: float) -> dict[str, Any]:
    request = parse_http_event(event)
    bind(secrets=[request.headers.get("authorization")], route=request.path[:200], method=request.method[:16])
    settings = current_settings(LookupSettings)
    set_level(settings.log_level)
    response = _answer(lambda: _route(request, settings, context, started), request_id_of(context))
    response["headers"].update(cors_headers(request.origin, settings.cors_allowed_origins))
    return response


def _route(request: HttpRequest, settings: LookupSettings, context: Any, started: float) -> dict[str, Any]:
    path = _normalise(request.path)
    route = ROUTES.get(path)
    if route is None:
        raise NotFound(f"No route for {path[:100]}.")
    if request.method == "OPTIONS":
        return _options(request, settings)
    if request.method != "GET":
        raise MethodNotAllowed(f"{request.method[:16]} is not allowed here; use GET.")
    return route(request, settings, context, started)


def _answer(produce: Callable[[], dict[str, Any]], request_id: str | None) -> dict[str, Any]:
    """The response `produce` makes, or the JSON error for whatever it raised: never a traceback."""
    try:
        return produce()
    except ServiceError as error:
        return _error_response(error, request_id)
    except Exception as unexpected:
        log_event("unhandled", logging.ERROR, error=unexpected)
        return _error_response(InternalError("The function failed unexpectedly."), request_id)


def _options(request: HttpRequest, settings: LookupSettings) -> dict[str, Any]:
    if not request.is_preflight:
        return empty_response(204, {"allow": ALLOWED_METHODS})
    if allowed_origin(request.origin, settings.cors_allowed_origins) is None:
        raise OriginNotAllowed("This origin may not call this endpoint.")
    return empty_response(204, preflight_headers(request, settings.cors_allowed_origins))


def _normalise(path: str) -> str:
    return path.rstrip("/") or "/"


def _error_response(error: ServiceError, request_id: str | None) -> dict[str, Any]:
    headers = {"allow": ALLOWED_METHODS} if isinstance(error, MethodNotAllowed) else {}
    if isinstance(error, Throttled):
        headers["retry-after"] = str(max(1, math.ceil(error.retry_after_s or 1)))
    bind(outcome=error.code, errorMessage=error.message)
    if error.cams_request_id:
        bind(camsRequestId=error.cams_request_id)
    if error.attempts:
        bind(attempts=error.attempts)
    return json_response(error.status, error.body(request_id), headers)
