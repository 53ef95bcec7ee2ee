"""Who may ask, how often, and for which spaces: checked before any cache lookup or call to CAMS.

A request is admitted in this order: its caller is authenticated (`shared.auth`), then counted
against its own token bucket (CALLER_RATE_PER_SECOND, bursts of CALLER_BURST; in the shared store
when REDIS_URL is set, else in the instance's memory), and only then is its query read. A space
outside the caller's claim answers exactly what a space unknown to the account answers, without
asking CAMS or the cache, so that neither the answer nor its timing tells whether it exists.
"""

from __future__ import annotations

from shared.auth import Caller, authenticate
from shared.cache.runtime import InstanceRuntime
from shared.errors import SpaceNotFound, TooManyRequests
from shared.http import HttpRequest
from shared.invocation import Invocation
from shared.lookup.settings import LookupSettings
from shared.store import keyed_digest

CALLER_KEY_DOMAIN = b"waba-binding caller bucket"
"""Hashes a caller's identity into its bucket's key when CACHE_KEY_SECRET is not set."""


def admit(request: HttpRequest, invocation: Invocation[LookupSettings], runtime: InstanceRuntime) -> Caller:
    """The request's caller, once authenticated and within its own rate; Unauthorized or TooManyRequests."""
    settings = invocation.settings
    caller = authenticate(request.headers.get("authorization"), request.source_ip, settings, invocation.clock.time())
    secret = settings.cache_key_secret.get_secret_value().encode() if settings.cache_key_secret else CALLER_KEY_DOMAIN
    key = runtime.keys.bucket("caller", keyed_digest(secret, caller.key))
    taken = runtime.store.buckets.take(key, settings.caller_rate_per_second, settings.caller_burst)
    if not taken.allowed:
        raise TooManyRequests(retry_after_s=taken.wait_ms / 1000, context=caller.log_fields())
    return caller


def out_of_scope() -> SpaceNotFound:
    """What a space outside the caller's claim answers: the very answer of a space the account does not have."""
    return SpaceNotFound()
