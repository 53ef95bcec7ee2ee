"""The check loop: each space in turn, paced below CAMS's limit, until the deadline.

The pace (HEALTHCHECK_RATE_PER_SECOND) is a quota in the shared store, judged at arrival like the
account's (a window of one second plus CAMS_RATE_WINDOW_MARGIN_MS), so that overlapping runs share
it too. Spaces the deadline leaves no time for are `unchecked`, never reported as healthy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.cache.facade import CachedCams
from shared.cache.quota import AccountQuota, pace
from shared.credentials import StaticCredentials
from shared.healthcheck.payload import SpaceSpec
from shared.healthcheck.settings import HealthcheckSettings
from shared.healthcheck.verdicts import SpaceResult, result_of, unchecked
from shared.logs import log_event
from shared.operations import QUERY_CHATAPP_BIND_WABA, SpaceArguments
from shared.retry import Deadline
from shared.store import MAX_WAIT_MS


def check_spaces(
    specs: list[SpaceSpec],
    isv_codes: dict[SpaceSpec, str | None],
    cams: CachedCams[HealthcheckSettings],
    deadline: Deadline,
) -> list[SpaceResult]:
    """Check each space, logging one line each; `deadline` is when the checks must stop.

    Every call is paced and takes a slot of the operation's quota; what CAMS answers refreshes the
    routes' cache too.
    """
    invocation = cams.invocation
    settings = invocation.settings
    pace = _pace(cams)
    take_slot = pace.before_attempt(deadline, settings.cams_min_attempt_ms / 1000, invocation.clock)
    budget = _CheckBudget(invocation.credentials, deadline)
    min_attempt_s = settings.cams_min_attempt_ms / 1000
    results: list[SpaceResult] = []
    for spec in specs:
        if deadline.remaining() - pace.time_to_slot() < min_attempt_s:
            result = unchecked(spec)
        else:
            arguments = SpaceArguments(spec.cust_space_id, isv_codes[spec])
            outcome = cams.ask(QUERY_CHATAPP_BIND_WABA, arguments, budget, before_attempt=take_slot)
            result = result_of(spec, outcome)
        level = logging.INFO if result.verdict == "healthy" else logging.WARNING
        log_event("healthcheck.space", level, **result.to_json())
        results.append(result)
    return results


def _pace(cams: CachedCams[HealthcheckSettings]) -> AccountQuota:
    settings = cams.settings
    slots, window_ms = pace(settings.healthcheck_rate_per_second, settings.cams_rate_window_margin_ms)
    return AccountQuota(cams.store.limiter, cams.keys.rate_limit("healthcheck"), slots, window_ms, MAX_WAIT_MS)


@dataclass(frozen=True)
class _CheckBudget:
    """The invocation's credentials with the checks' own deadline, earlier than the invocation's."""

    credentials: StaticCredentials | None
    deadline: Deadline
