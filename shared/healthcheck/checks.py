"""The check loop: each space in turn, paced below CAMS's limit, until the deadline.

Spaces the deadline leaves no time for are `unchecked`, never reported as healthy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared.bindings.entry import Answer
from shared.bindings.wiring import Bindings, bindings_for
from shared.cams import BindingResult
from shared.healthcheck.payload import SpaceSpec
from shared.healthcheck.settings import HealthcheckSettings
from shared.healthcheck.verdicts import SpaceResult, result_of, unchecked
from shared.invocation import Invocation
from shared.logs import log_event
from shared.pacing import Pacer
from shared.retry import Attempted, Deadline


def check_spaces(
    specs: list[SpaceSpec],
    isv_codes: dict[SpaceSpec, str | None],
    invocation: Invocation[HealthcheckSettings],
    deadline: Deadline,
) -> list[SpaceResult]:
    """Check each space, logging one line each; `deadline` is when the checks must stop.

    Every call is paced and takes a slot of the account's quota; what CAMS answers refreshes the
    lookups' cache too.
    """
    settings = invocation.settings
    bindings = bindings_for(invocation)
    pacer = Pacer(settings.healthcheck_rate_per_second, invocation.clock)
    take_slot = bindings.quota.before_attempt(deadline, settings.min_attempt_ms / 1000, invocation.clock)
    checks = _CheckBudget(invocation, deadline)
    min_attempt_s = settings.min_attempt_ms / 1000
    results: list[SpaceResult] = []
    for spec in specs:
        if deadline.remaining() - pacer.time_to_next() < min_attempt_s:
            result = unchecked(spec)
        else:
            outcome = bindings.service.gateway.query_bind_waba(
                spec.cust_space_id, isv_codes[spec], checks, before_attempt=lambda: _paced(pacer, deadline, take_slot)
            )
            _keep(bindings, spec.cust_space_id, isv_codes[spec], outcome, invocation)
            result = result_of(spec, outcome)
        level = logging.INFO if result.verdict == "healthy" else logging.WARNING
        log_event("healthcheck.space", level, **result.to_json())
        results.append(result)
    return results


def _paced(pacer: Pacer, deadline: Deadline, take_slot: Callable[[], None]) -> None:
    pacer.wait(deadline)
    take_slot()


def _keep(
    bindings: Bindings,
    space: str,
    isv_code: str | None,
    outcome: Attempted[BindingResult],
    invocation: Invocation[HealthcheckSettings],
) -> None:
    now = invocation.clock.time()
    answer = Answer.of(outcome, now)
    if answer is not None:
        key = bindings.keys.cache(*bindings.service.parts(space, isv_code))
        bindings.service.keep(key, answer, now, invocation.settings)


class _CheckBudget:
    """The invocation's credentials with the checks' own deadline, earlier than the invocation's."""

    def __init__(self, invocation: Invocation[HealthcheckSettings], deadline: Deadline) -> None:
        self.credentials = invocation.credentials
        self.deadline = deadline
