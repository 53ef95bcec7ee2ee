"""The check loop: each space in turn, paced below CAMS's limit, until the deadline.

Spaces the deadline leaves no time for are `unchecked`, never reported as healthy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.cache.facade import CachedCams
from shared.credentials import StaticCredentials
from shared.healthcheck.payload import SpaceSpec
from shared.healthcheck.settings import HealthcheckSettings
from shared.healthcheck.verdicts import SpaceResult, result_of, unchecked
from shared.logs import log_event
from shared.operations import QUERY_CHATAPP_BIND_WABA, SpaceArguments
from shared.pacing import Pacer
from shared.retry import Deadline


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
    pacer = Pacer(settings.healthcheck_rate_per_second, invocation.clock)
    budget = _CheckBudget(invocation.credentials, deadline)
    min_attempt_s = settings.cams_min_attempt_ms / 1000
    results: list[SpaceResult] = []
    for spec in specs:
        if deadline.remaining() - pacer.time_to_next() < min_attempt_s:
            result = unchecked(spec)
        else:
            arguments = SpaceArguments(spec.cust_space_id, isv_codes[spec])
            outcome = cams.ask(QUERY_CHATAPP_BIND_WABA, arguments, budget, before_attempt=lambda: pacer.wait(deadline))
            result = result_of(spec, outcome)
        level = logging.INFO if result.verdict == "healthy" else logging.WARNING
        log_event("healthcheck.space", level, **result.to_json())
        results.append(result)
    return results


@dataclass(frozen=True)
class _CheckBudget:
    """The invocation's credentials with the checks' own deadline, earlier than the invocation's."""

    credentials: StaticCredentials | None
    deadline: Deadline
