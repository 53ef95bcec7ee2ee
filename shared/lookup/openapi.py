"""The lookup function's OpenAPI 3.1 document, generated from the models of its answers and of its query.

`GET /openapi.json` serves it, without a token and without calling CAMS: the route imports this
module on its first request and keeps the document, so that none of it loads on the cold path.
`python -m local openapi` writes the same document to docs/openapi.json.

Example:
    >>> document = openapi_document()
    >>> document["openapi"], sorted(document["paths"])
    ('3.1.0', ['/healthz', '/openapi.json', '/waba', '/waba/health', '/waba/own'])
"""

from __future__ import annotations

import copy
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.errors import ERROR_TABLE
from shared.http import EXPOSED_HEADERS, PREFLIGHT_MAX_AGE_S
from shared.lookup import examples
from shared.lookup.query import LookupQuery
from shared.lookup.schema import ANSWERS, AnswerSchema
from shared.resolver import HttpReply

OPENAPI_VERSION = "3.1.0"
API_VERSION = "0.1.0"
"""The package's version (pyproject.toml), which a test holds this to."""
SCHEMAS = "#/components/schemas/"
RESPONSES = "#/components/responses/"
JSON = "application/json"
DOCUMENT_MAX_AGE_S = 300
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
OPEN: list[dict[str, list[str]]] = []

Errors = dict[int, tuple[str, ...]]
TOKEN_ERRORS: Errors = {
    400: ("InvalidParameter", "InvalidRequest"),
    401: ("Unauthorized",),
    429: ("TooManyRequests",),
    500: ("InternalError", "ConfigurationError"),
}
"""What a route with a token and strict parameters may answer before it asks CAMS anything."""
WABA_ERRORS: Errors = {
    **TOKEN_ERRORS,
    404: ("WabaNotBound", "SpaceNotFound"),
    429: ("TooManyRequests", "Throttled"),
    502: ("UpstreamMisconfigured", "UpstreamBadResponse", "UpstreamError"),
    503: ("UpstreamUnavailable",),
    504: ("UpstreamTimeout",),
}
OPEN_ERRORS: Errors = {400: ("InvalidRequest",), 500: ("InternalError",)}
PREFLIGHT_ERRORS: Errors = {
    400: ("InvalidRequest",),
    403: ("OriginNotAllowed",),
    500: ("InternalError", "ConfigurationError"),
}
ROUTELESS: Errors = {404: ("NotFound",), 405: ("MethodNotAllowed",)}
"""Errors of no route: a path no route has, a method a route does not take."""

DESCRIPTION = """\
Which WhatsApp Business Account (WABA) is bound to a Chat App (CAMS) customer space, and whether it can send.

Every route but `/healthz`, `/openapi.json` and CORS preflights takes `Authorization: Bearer <JWT>`,
signed by a key of the function's `AUTH_JWKS` for its issuer and audience; the token's `cams_spaces`
claim names the spaces its caller may read (`*`: every space, and the account's own WABA). A space
outside the token answers exactly what a space unknown to the account answers.

Every error is JSON, `{"error": {"code", "message", "requestId"}}` (and `parameter` for input
errors), with a stable code; besides those of each operation, a path no route has answers 404
`NotFound` and a method a route does not take answers 405 `MethodNotAllowed` with `Allow`
(`components.responses`). With the trigger's `authType: jwt`, FC's own check may answer a 401
first, `{"Code": "Unauthorized", "Message": ...}`, without CORS headers; FC's gateway answers 413,
414 and 431 for requests too large to reach the function.

Answers of `/waba`, `/waba/own` and `/waba/health` carry a weak `ETag` and `Cache-Control: private,
no-cache`; a matching `If-None-Match` answers 304. Every answer carries `Vary: Origin` and, for an
origin in `CORS_ALLOWED_ORIGINS`, the CORS headers its scripts need, `Retry-After`,
`WWW-Authenticate` and `ETag` among those exposed."""


def openapi_document() -> dict[str, Any]:
    """The document, to change at will: a copy of the one this instance keeps."""
    return copy.deepcopy(_document())


def document_reply() -> HttpReply:
    """`GET /openapi.json`: the document, which caches may keep a few minutes (it changes with a deployment)."""
    return HttpReply.json(200, _document(), headers={"cache-control": f"public, max-age={DOCUMENT_MAX_AGE_S}"})


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "WABA binding lookup",
            "version": API_VERSION,
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [
            {"name": "WABA", "description": "A customer space's WABA and its health, to a caller with a token."},
            {"name": "Service", "description": "The function itself, without a token."},
            {"name": "CORS", "description": "Preflights, answered by the function, without a token."},
        ],
        "security": BEARER,
        "paths": _paths(),
        "components": _components(),
    }


def _paths() -> dict[str, Any]:
    return {
        "/waba": _path("/waba", _waba_lookup()),
        "/waba/own": _path("/waba/own", _own_lookup()),
        "/waba/health": _path("/waba/health", _health_lookup()),
        "/healthz": _path("/healthz", _healthz()),
        "/openapi.json": _path("/openapi.json", _openapi()),
    }


def _path(path: str, get: dict[str, Any]) -> dict[str, Any]:
    return {"get": get, "options": _preflight(path, get["operationId"].replace("get", "preflight", 1))}


def _waba_lookup() -> dict[str, Any]:
    return {
        "operationId": "getWaba",
        "tags": ["WABA"],
        "summary": "The WABA bound to a customer space",
        "description": "The space must be in the token's `cams_spaces` (or the token for `*`). "
        "The own WABA of the account is never a default: it has its own route.",
        "parameters": [*_refs("custSpaceId", "isvCode", "cacheBuster"), _if_none_match(examples.WABA_ETAG)],
        "security": BEARER,
        "responses": _revalidated("WabaAnswer", examples.WABA_ANSWERS, WABA_ERRORS),
    }


def _own_lookup() -> dict[str, Any]:
    return {
        "operationId": "getOwnWaba",
        "tags": ["WABA"],
        "summary": "The WABA of the function's own account",
        "description": "Only to a token for every space (`*`); to any other, 404 `SpaceNotFound`.",
        "parameters": [*_refs("isvCode", "cacheBuster"), _if_none_match(examples.OWN_WABA_ETAG)],
        "security": BEARER,
        "responses": _revalidated("WabaAnswer", examples.OWN_WABA_ANSWERS, WABA_ERRORS),
    }


def _health_lookup() -> dict[str, Any]:
    return {
        "operationId": "getWabaHealth",
        "tags": ["WABA"],
        "summary": "Whether a customer space's WABA can send, and why not",
        "description": "No WABA bound, and a space the account does not have (or outside the token), are "
        "verdicts here (200, `unhealthy`), not errors; an operation CAMS could not answer is a `CamsError` "
        "reason. Only the caller's own errors are errors.",
        "parameters": [*_refs("custSpaceId", "isvCode", "cacheBuster"), _if_none_match(examples.HEALTH_ETAG)],
        "security": BEARER,
        "responses": _revalidated("HealthAnswer", examples.HEALTH_ANSWERS, TOKEN_ERRORS),
    }


def _healthz() -> dict[str, Any]:
    return {
        "operationId": "getHealthz",
        "tags": ["Service"],
        "summary": "Whether the function answers",
        "description": "Without a token and without calling CAMS.",
        "security": OPEN,
        "responses": {
            "200": _json_response("The function answers.", "StatusAnswer", examples.STATUS_ANSWERS, _headers()),
            **_errors(OPEN_ERRORS),
        },
    }


def _openapi() -> dict[str, Any]:
    document = {
        "type": "object",
        "required": ["openapi", "info", "paths"],
        "properties": {"openapi": {"type": "string"}},
    }
    return {
        "operationId": "getOpenApi",
        "tags": ["Service"],
        "summary": "This document",
        "description": "Without a token and without calling CAMS.",
        "security": OPEN,
        "responses": {
            "200": {
                "description": "The OpenAPI document of this function.",
                "headers": _headers("Cache-Control"),
                "content": {JSON: {"schema": document}},
            },
            **_errors(OPEN_ERRORS),
        },
    }


def _preflight(path: str, operation_id: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "tags": ["CORS"],
        "summary": f"The CORS preflight of GET {path}",
        "description": "Answered by the function, without a token and without calling CAMS. An OPTIONS request "
        "that is no preflight (without `Origin` and `Access-Control-Request-Method`) answers 204 with `Allow`.",
        "parameters": _refs("origin", "accessControlRequestMethod", "accessControlRequestHeaders"),
        "security": OPEN,
        "responses": {
            "204": {
                "description": "An allowed origin's preflight: what it may use. No preflight: `Allow`.",
                "headers": _headers(
                    "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Allow"
                ),
            },
            **_errors(PREFLIGHT_ERRORS),
        },
    }


def _revalidated(answer: str, answer_examples: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """The answers of a lookup: 200 with an ETag, 304 for a matching If-None-Match, and its errors."""
    cached = ("ETag", "Cache-Control", "Age")
    return {
        "200": _json_response("The answer.", answer, answer_examples, _headers(*cached)),
        "304": {
            "description": "The caller's copy (`If-None-Match`) is still the answer; no body.",
            "headers": _headers(*cached),
        },
        **_errors(errors),
    }


def _json_response(
    description: str, model: str, answer_examples: dict[str, Any], headers: dict[str, Any]
) -> dict[str, Any]:
    content = {"schema": {"$ref": SCHEMAS + model}, "examples": answer_examples}
    return {"description": description, "headers": headers, "content": {JSON: content}}


def _errors(errors: Errors) -> dict[str, Any]:
    return {str(status): {"$ref": RESPONSES + _response_name(codes)} for status, codes in sorted(errors.items())}


def _response_name(codes: tuple[str, ...]) -> str:
    return "Or".join(codes)


def _error_responses() -> dict[str, Any]:
    """Each error answer some operation documents, once, by the codes it may carry."""
    answers = {
        _response_name(codes): _error_response(status, codes)
        for errors in (WABA_ERRORS, TOKEN_ERRORS, OPEN_ERRORS, PREFLIGHT_ERRORS, ROUTELESS)
        for status, codes in errors.items()
    }
    return dict(sorted(answers.items()))


def _error_response(status: int, codes: tuple[str, ...]) -> dict[str, Any]:
    """One status's answer: the JSON error, its code one of `codes`, with the headers the status carries."""
    own = {401: ("WWW-Authenticate",), 429: ("Retry-After",), 405: ("Allow",)}.get(status, ())
    schema = {
        "allOf": [{"$ref": SCHEMAS + "ErrorAnswer"}],
        "properties": {"error": {"properties": {"code": {"enum": list(codes)}}}},
    }
    content = {"schema": schema, "examples": examples.error_examples(codes)}
    return {"description": _explained(status, codes), "headers": _headers(*own), "content": {JSON: content}}


def _explained(status: int, codes: tuple[str, ...]) -> str:
    errors = {error.code: error for error in ERROR_TABLE}
    lines = [f"- `{code}`: {_first_paragraph(errors[code].__doc__)}" for code in codes]
    return "\n".join([f"{HTTPStatus(status).phrase}.", *lines])


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


def _refs(*names: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in names]


def _headers(*names: str) -> dict[str, Any]:
    """These headers, then those of every answer: FC's request id and CORS's."""
    every = ("X-Fc-Request-Id", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Vary")
    return {name: {"$ref": f"#/components/headers/{name}"} for name in (*names, *every)}


def _components() -> dict[str, Any]:
    return {
        "schemas": _schemas(),
        "parameters": _parameters(),
        "headers": _header_definitions(),
        "responses": _error_responses(),
        "securitySchemes": {"bearerAuth": _bearer_scheme()},
    }


def _schemas() -> dict[str, Any]:
    models = [(model, "serialization") for model in ANSWERS]
    _, definitions = models_json_schema(
        models,  # type: ignore[arg-type]
        by_alias=True,
        ref_template=SCHEMAS + "{model}",
        schema_generator=AnswerSchema,
    )
    schemas: dict[str, Any] = definitions["$defs"]
    return dict(sorted(schemas.items()))


def _parameters() -> dict[str, Any]:
    return {
        "custSpaceId": _query(
            "custSpaceId",
            True,
            "The customer space; it must be in the token's `cams_spaces`.",
            examples.SPACE_EXAMPLES,
        ),
        "isvCode": _query(
            "isvCode",
            False,
            "The space's IsvCode: refused (400) unless the function sets `ALLOW_CALLER_ISV_CODE=true`; "
            "otherwise its own `CAMS_ISV_CODE`, if any, is sent.",
            examples.ISV_CODE_EXAMPLES,
        ),
        "cacheBuster": _query("_", False, "A cache-buster, taken and ignored.", {"time": {"value": "1764138845000"}}),
        "origin": _header("Origin", "The page's origin, which the browser sends.", examples.ORIGIN_EXAMPLES),
        "accessControlRequestMethod": _header(
            "Access-Control-Request-Method", "The method the page would use.", {"get": {"value": "GET"}}
        ),
        "accessControlRequestHeaders": _header(
            "Access-Control-Request-Headers",
            "The headers the page would send; `Authorization` is always allowed.",
            {"revalidated": {"value": "authorization, if-none-match"}},
        ),
    }


def _if_none_match(etag: str) -> dict[str, Any]:
    description = "The `ETag` of the caller's copy: 304 when it is still the answer."
    return _header("If-None-Match", description, {"demo": {"summary": "the demo data's first answer", "value": etag}})


def _query(name: str, required: bool, description: str, values: dict[str, Any]) -> dict[str, Any]:
    """A query parameter, its schema that of the model the route validates its query with."""
    rules = _query_rules()[name]
    schema = next(branch for branch in rules["anyOf"] if branch.get("type") != "null")
    extra = " Given once: a repeated parameter, or any other name, is a 400 `InvalidParameter` naming it."
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description + extra,
        "schema": schema,
        "examples": values,
    }


@lru_cache(maxsize=1)
def _query_rules() -> dict[str, Any]:
    properties: dict[str, Any] = LookupQuery.model_json_schema(by_alias=True)["properties"]
    return properties


def _header(name: str, description: str, values: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "string"}
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": schema,
        "examples": values,
    }


def _header_definitions() -> dict[str, Any]:
    string = {"type": "string"}
    return {
        "ETag": _defined(
            "A weak validator of the WABA or the health alone; send it in If-None-Match.",
            {**string, "pattern": '^W/".+"$'},
            required=True,
        ),
        "Cache-Control": _defined("`private, no-cache` for lookups: keep the answer, ask again each time.", string),
        "Age": _defined(
            "Seconds since CAMS gave the answer, when it did not come from CAMS just now.",
            {"type": "integer", "minimum": 0},
        ),
        "Retry-After": _defined(
            "Seconds to wait before asking again.", {"type": "integer", "minimum": 1}, required=True
        ),
        "WWW-Authenticate": _defined(
            'The challenge of RFC 6750: `Bearer` without a token, `Bearer error="invalid_token"` with one that failed.',
            {"type": "string", "enum": ["Bearer", 'Bearer error="invalid_token"']},
            required=True,
        ),
        "Allow": _defined("The methods the route takes.", string),
        "X-Fc-Request-Id": _defined("FC's request id, the `requestId` of the answer.", string),
        "Access-Control-Allow-Origin": _defined(
            "For an origin in `CORS_ALLOWED_ORIGINS`: that origin (or `*`).", string
        ),
        "Access-Control-Expose-Headers": _defined(
            "For an allowed origin.", {"type": "string", "const": EXPOSED_HEADERS}
        ),
        "Vary": _defined("`Origin`, once `CORS_ALLOWED_ORIGINS` is set.", string),
        "Access-Control-Allow-Methods": _defined("For an allowed origin's preflight.", string),
        "Access-Control-Allow-Headers": _defined("For an allowed origin's preflight; `Authorization` first.", string),
        "Access-Control-Max-Age": _defined(
            "For an allowed origin's preflight.", {"type": "integer", "const": int(PREFLIGHT_MAX_AGE_S)}
        ),
    }


def _defined(description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    header: dict[str, Any] = {"description": description, "schema": schema}
    if required:
        header["required"] = True
    return header


def _bearer_scheme() -> dict[str, Any]:
    return {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT of at most 8 KiB, RS256 or ES256 with a `kid` of `AUTH_JWKS`; `iss` and `aud` the "
        "function's `AUTH_ISSUER` and `AUTH_AUDIENCE`; `exp` required (30 s of leeway on `exp`, `nbf`, `iat`); `sub` "
        "the caller, for its rate limit; `cams_spaces` (`AUTH_SPACES_CLAIM`) the space ids it may read, `*` for all.",
    }
