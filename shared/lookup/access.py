"""Who may ask, how often, and for which spaces: checked before any cache lookup or call to CAMS.

A request is admitted in this order: its caller is authenticated (`shared.auth`), then counted
against its own token bucket (CALLER_RATE_PER_SECOND, bursts of CALLER_BURST; in the shared store
when REDIS_URL is set, else in the instance's memory), and only then is its query read. A space
outside the caller's claim answers exactly what a space unknown to the account answers, without
asking CAMS or the cache, so that neither the answer nor its timing tells whether it exists.

A caller also has a budget of the account's calls to CAMS, one per operation: CALLER_CAMS_SHARE
percent of what the HTTP function may take of the operation's limit, as a token bucket in the same
store. Only a lookup that calls CAMS spends it, one call with its retries (an answer from the
cache, or one another instance is asking for, costs nothing); past it, the request answers 429
`TooManyRequests` before any call (or its stale answer, when there is one), so that a caller within
its request rate cannot take the quota every other caller shares.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from shared.auth import Caller, authenticate
from shared.cache.quota import share_of
from shared.cache.runtime import InstanceRuntime
from shared.errors import SpaceNotFound, TooManyRequests
from shared.http import HttpRequest
from shared.invocation import Invocation
from shared.lookup.settings import LookupSettings
from shared.operations import Operation


def admit(request: HttpRequest, invocation: Invocation[LookupSettings], runtime: InstanceRuntime) -> Caller:
    """The request's caller, once authenticated and within its own rate; Unauthorized or TooManyRequests."""
    settings = invocation.settings
    caller = authenticate(request.headers.get("authorization"), request.source_ip, settings, invocation.clock.time())
    key = runtime.keys.caller_bucket("caller", caller.key)
    taken = runtime.store.buckets.take(key, settings.caller_rate_per_second, settings.caller_burst)
    if not taken.allowed:
        raise TooManyRequests(retry_after_s=taken.wait_ms / 1000, context=caller.log_fields())
    return caller


def out_of_scope() -> SpaceNotFound:
    """What a space outside the caller's claim answers: the very answer of a space the account does not have."""
    return SpaceNotFound()


class CamsBudget:
    """One caller's budget of the account's calls to CAMS, checked before each of its calls."""

    def __init__(self, caller: Caller, invocation: Invocation[LookupSettings], runtime: InstanceRuntime) -> None:
        self.caller = caller
        self.settings = invocation.settings
        self.runtime = runtime

    def rate_of(self, operation: Operation[Any, Any]) -> tuple[float, int]:
        """Calls per second and burst: CALLER_CAMS_SHARE percent of the function's slots per window."""
        settings = self.settings
        slots = share_of(
            operation.limit_in_force(settings), settings.lookup_cams_share, settings.cams_rate_limit_per_second
        )
        window_s = 1 + settings.cams_rate_window_margin_ms / 1000
        per_window = slots * settings.caller_cams_share / 100
        return per_window / window_s, max(1, math.ceil(per_window))

    def before_call(self, operation: Operation[Any, Any]) -> Callable[[], None] | None:
        """A hook for each attempt at CAMS: the first spends one call of the budget, or raises TooManyRequests.

        None at 100 percent: the function's own share bounds the caller already.
        """
        if self.settings.caller_cams_share >= 100:
            return None
        rate, burst = self.rate_of(operation)
        key = self.runtime.keys.caller_bucket("cams", self.caller.key, operation.action)

        spent = False

        def spend() -> None:
            nonlocal spent
            if spent:  # its retries are part of the one call
                return
            spent = True
            taken = self.runtime.store.buckets.take(key, rate, burst)
            if not taken.allowed:
                raise TooManyRequests(
                    "This caller has spent its share of the account's calls to CAMS; try again after Retry-After.",
                    retry_after_s=taken.wait_ms / 1000,
                    context={**self.caller.log_fields(), "budget": "cams"},
                )

        return spend
