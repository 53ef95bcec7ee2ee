"""The HTTP function's routes.

    GET /waba?custSpaceId=<id>   200 {"waba": {...}, "requestId": ..., "camsRequestId": ...}
    GET /waba/own                the WABA of the function's own account, for callers of every space (`*`)
    GET /healthz                 200 {"status": "ok"} without calling CAMS, without a token
    OPTIONS <route>              CORS preflight, without a token

Every failure is a JSON error from the table in `shared/errors.py` (and the README).
"""

from __future__ import annotations

from dataclasses import replace

from shared.auth import Caller
from shared.cache.runtime import RuntimeSlot
from shared.http import HttpRequest
from shared.invocation import Invocation
from shared.logs import add_secrets
from shared.lookup.access import CamsBudget, admit, out_of_scope
from shared.lookup.answers import waba_reply
from shared.lookup.query import parse_lookup_query
from shared.lookup.settings import CorsSettings, LookupSettings
from shared.operations import QUERY_CHATAPP_BIND_WABA, SpaceArguments
from shared.resolver import HttpApp, HttpReply
from shared.settings import current_settings

app = HttpApp(LookupSettings, allowed_origins=lambda: current_settings(CorsSettings).cors_allowed_origins)
runtime = RuntimeSlot()
"""This instance's store, memory, gateway and keys, built by its first request (or the initializer)."""


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
    reply = waba_reply(found, found.entry, request, invocation.request_id, invocation.clock.time())
    return replace(reply, log={**log, **reply.log})


@app.get("/healthz")
def healthz(request: HttpRequest, invocation: Invocation[LookupSettings]) -> HttpReply:
    return HttpReply.json(200, {"status": "ok", "requestId": invocation.request_id})


def initialize(context: object) -> None:
    """FC3 initializer: validate settings and build the CAMS client before the first request."""
    runtime.warm_up(context, LookupSettings, "lookup.invalid", app.clock)
