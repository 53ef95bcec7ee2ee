"""The HTTP function's routes.

    GET /waba?custSpaceId=<id>   200 {"waba": {...}, "requestId": ..., "camsRequestId": ...}
    GET /healthz                 200 {"status": "ok"} without calling CAMS
    OPTIONS <route>              CORS preflight

Every failure is a JSON error from the table in `shared/errors.py` (and the README).
"""

from __future__ import annotations

from shared.cams import gateway_for, warm_up
from shared.http import HttpRequest
from shared.invocation import Invocation
from shared.logs import add_secrets
from shared.lookup.query import parse_lookup_query
from shared.lookup.settings import CorsSettings, LookupSettings
from shared.resolver import HttpApp, Reply
from shared.settings import current_settings

app = HttpApp(LookupSettings, allowed_origins=lambda: current_settings(CorsSettings).cors_allowed_origins)


@app.get("/waba")
def lookup_waba(request: HttpRequest, invocation: Invocation[LookupSettings]) -> Reply:
    settings = invocation.settings
    query = parse_lookup_query(request.query, allow_isv_code=settings.allow_caller_isv_code)
    add_secrets([query.isv_code])
    outcome = gateway_for(settings).query_bind_waba(
        query.cust_space_id, query.isv_code or settings.isv_code(), invocation
    )
    log = {"custSpaceId": query.cust_space_id, "attempts": outcome.attempts}
    if outcome.error is not None:
        return Reply.failed(outcome.error, log)
    found = outcome.unwrap()
    body = {"waba": found.binding.to_json(), "requestId": invocation.request_id, "camsRequestId": found.cams_request_id}
    return Reply.json(200, body, log={**log, "camsRequestId": found.cams_request_id})


@app.get("/healthz")
def healthz(request: HttpRequest, invocation: Invocation[LookupSettings]) -> Reply:
    return Reply.json(200, {"status": "ok", "requestId": invocation.request_id})


def initialize(context: object) -> None:
    """FC3 initializer: validate settings and build the CAMS client before the first request."""
    warm_up(context, LookupSettings, "lookup.invalid")
