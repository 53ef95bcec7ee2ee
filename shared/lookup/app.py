"""The HTTP function's routes.

    GET /waba?custSpaceId=<id>   200 {"waba": {...}, "requestId": ..., "camsRequestId": ...}
    GET /waba/own                the WABA of the function's own account, for callers of every space (`*`)
    GET /waba/health?custSpaceId=<id>
                                 200 {"health": {"verdict", "reasons", ...}, "checkedAt", "stale", "requestId"}
    GET /healthz                 200 {"status": "ok"} without calling CAMS, without a token
    GET /openapi.json            this API's OpenAPI document, without calling CAMS, without a token
    OPTIONS <route>              CORS preflight, without a token

Every failure is a JSON error from the table in `shared/errors.py` (and the README's error table).
"""

from __future__ import annotations

from dataclasses import replace

from shared.auth import Caller
from shared.cache.runtime import RuntimeSlot
from shared.errors import SpaceNotFound, TooManyRequests
from shared.health import CHECKS, SpaceHealth, ThroughCache, assess, binding_failure
from shared.http import HttpRequest
from shared.invocation import Invocation
from shared.logs import add_secrets
from shared.lookup.access import CamsBudget, admit, out_of_scope
from shared.lookup.answers import health_reply, waba_reply
from shared.lookup.query import parse_lookup_query
from shared.lookup.settings import CorsSettings, LookupSettings
from shared.operations import QUERY_CHATAPP_BIND_WABA, SpaceArguments
from shared.resolver import HttpApp, HttpReply
from shared.settings import current_settings

app = HttpApp(LookupSettings, allowed_origins=lambda: current_settings(CorsSettings).cors_allowed_origins)
runtime = RuntimeSlot()
"""This instance's store, memory, gateway and keys, built by its first request (or the initializer)."""
REFUSALS = (TooManyRequests,)
"""Errors of the health route that are the caller's, answered as errors: any other is a verdict's reason."""


@app.get("/waba")
def lookup_waba(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
    caller = admit(request, invocation, runtime.get(invocation))
    query = parse_lookup_query(request.query, allow_isv_code=invocation.settings.allow_caller_isv_code)
    return _lookup(request, invocation, caller, query.cust_space_id, query.isv_code)


@app.get("/waba/own")
def lookup_own_waba(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
    caller = admit(request, invocation, runtime.get(invocation))
    query = parse_lookup_query(request.query, allow_isv_code=invocation.settings.allow_caller_isv_code, own=True)
    return _lookup(request, invocation, caller, None, query.isv_code)


def _lookup(
    request: HttpRequest,
    invocation: Invocation[LookupSettings],
    caller: Caller,
    space: str | None,
    caller_isv_code: str | None,
) -> HttpReply:
    settings = invocation.settings
    if caller_isv_code:
        add_secrets([caller_isv_code])
    scope = {**caller.log_fields(), "custSpaceId": space}
    if not caller.may_read(space):
        raise out_of_scope().logged_with({**scope, "scope": "denied"})
    instance = runtime.get(invocation)
    cams = instance.cams(invocation, settings.lookup_cams_share)
    arguments = SpaceArguments(space, caller_isv_code or settings.isv_code())
    budget = CamsBudget(caller, invocation, instance)
    found = cams.fetch(QUERY_CHATAPP_BIND_WABA, arguments, before_attempt=budget.before_call(QUERY_CHATAPP_BIND_WABA))
    log = {**scope, "attempts": found.attempts, "cache": found.source}
    if found.entry is None:
        assert found.error is not None
        raise found.error.logged_with(log)
    negative = found.entry.error(QUERY_CHATAPP_BIND_WABA)
    if negative is not None:
        raise negative.logged_with({**log, "stale": found.stale})
    return waba_reply(found, found.entry, request, invocation.request_id, invocation.clock.time(), log)


@app.get("/waba/health")
def space_health(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
    """Whether the space's WABA can send; no WABA bound, or a space the account lacks, is a verdict here."""
    instance = runtime.get(invocation)
    caller = admit(request, invocation, instance)
    query = parse_lookup_query(request.query, allow_isv_code=invocation.settings.allow_caller_isv_code, health=True)
    settings = invocation.settings
    add_secrets([query.isv_code])
    space = query.cust_space_id
    scope = {**caller.log_fields(), "custSpaceId": space}
    now = invocation.clock.time()
    if not caller.may_read(space):
        reply = health_reply(NOT_FOUND, request, invocation.request_id, now)  # no CAMS call, no oracle
        return replace(reply, log={**scope, "scope": "denied", **reply.log})
    cams = instance.cams(invocation, settings.lookup_cams_share)
    budget = CamsBudget(caller, invocation, instance)
    arguments = SpaceArguments(space, query.isv_code or settings.isv_code())
    health = assess(arguments, ThroughCache(cams, budget.before_call), checks=CHECKS)
    failed = next((got.error for _, got in health.answers if isinstance(got.error, REFUSALS)), None)
    if failed is not None:
        raise failed.logged_with(scope)
    log = {**scope, "attempts": health.attempts, "camsRequestIds": health.cams_request_ids()}
    if health.codes == ("SpaceNotFound",):
        health = NOT_FOUND  # as a space outside the token answers: no time, nothing stale
    reply = health_reply(health, request, invocation.request_id, now)
    return replace(reply, log={**reply.log, **log})


NOT_FOUND = SpaceHealth("unhealthy", (binding_failure(SpaceNotFound()),))
"""The health of a space the account does not have, and of one outside the caller's token: the same."""


@app.get("/healthz")
def healthz(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
    return HttpReply.json(200, {"status": "ok", "requestId": invocation.request_id})


@app.get("/openapi.json")
def openapi_document(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
    # Imported here, on the first request for it: the document's models stay off the cold path.
    from shared.lookup.openapi import document_reply

    return document_reply()


def initialize(context: object) -> None:
    """FC3 initializer: validate settings and build the CAMS client before the first request."""
    runtime.warm_up(context, LookupSettings, "lookup.invalid", app.clock)
