"""The HTTP function's routes.

    GET /waba?custSpaceId=<id>   200 {"waba": {...}, "requestId": ..., "camsRequestId": ...}
    GET /healthz                 200 {"status": "ok"} without calling CAMS
    OPTIONS <route>              CORS preflight

Every failure is a JSON error from the table in `shared/errors.py` (and the README).
"""

from __future__ import annotations

from dataclasses import replace

from shared.bindings.wiring import bindings_for
from shared.cams import warm_up
from shared.http import HttpRequest
from shared.invocation import Invocation
from shared.logs import add_secrets
from shared.lookup.answers import waba_reply
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
    bindings = bindings_for(invocation, settings.lookup_cams_share)
    isv_code = query.isv_code or settings.isv_code()
    found = bindings.service.lookup(query.cust_space_id, isv_code, bindings.keys, bindings.quota, invocation)
    log = {"custSpaceId": query.cust_space_id, "attempts": found.attempts, "cache": found.source}
    if found.answer is None:
        assert found.error is not None
        return Reply.failed(found.error, log)
    negative = found.answer.error()
    if negative is not None:
        return Reply.failed(negative, {**log, "stale": found.stale})
    reply = waba_reply(found, found.answer, request, invocation.request_id, invocation.clock.time())
    return replace(reply, log={**log, **reply.log})


@app.get("/healthz")
def healthz(request: HttpRequest, invocation: Invocation[LookupSettings]) -> Reply:
    return Reply.json(200, {"status": "ok", "requestId": invocation.request_id})


def initialize(context: object) -> None:
    """FC3 initializer: validate settings and build the CAMS client before the first request."""
    warm_up(context, LookupSettings, "lookup.invalid")
