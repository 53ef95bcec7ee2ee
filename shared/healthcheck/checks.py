"""The check loop: each space in turn, paced below CAMS's limits, until the deadline.

Each space is judged by `shared.health` (its binding, then its WABA's messaging health and its
phone numbers, as the checks ask). Every call is paced, per operation, at HEALTHCHECK_RATE_PER_SECOND
but never above half the operation's own limit (GetWhatsappHealthStatus: 2.5 a second), through a
quota in the shared store judged at arrival like the account's (a window of one second plus
CAMS_RATE_WINDOW_MARGIN_MS), so that overlapping runs share it too. Every call also takes a slot of
its operation's account-wide quota, and what CAMS answers refreshes the routes' cache. Spaces the
deadline leaves no time for are `unchecked`, never reported as healthy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shared.cache.facade import CachedCams
from shared.cache.quota import AccountQuota, pace
from shared.credentials import StaticCredentials
from shared.health import AttemptHook, Check, Got, assess
from shared.healthcheck.payload import SpaceSpec
from shared.healthcheck.settings import HealthcheckSettings
from shared.healthcheck.verdicts import SpaceResult, result_of, unchecked
from shared.logs import log_event
from shared.operations import QUERY_CHATAPP_BIND_WABA, A, Operation, R, SpaceArguments
from shared.retry import Deadline
from shared.store import MAX_WAIT_MS


def check_spaces(
    specs: list[SpaceSpec],
    isv_codes: dict[SpaceSpec, str | None],
    cams: CachedCams[HealthcheckSettings],
    deadline: Deadline,
    checks: Iterable[Check],
) -> list[SpaceResult]:
    """Check each space, logging one line each; `deadline` is when the checks must stop."""
    invocation = cams.invocation
    settings = invocation.settings
    paces = Paces(cams, deadline)
    asking = _Asking(cams, _CheckBudget(invocation.credentials, deadline), paces.before_attempt)
    wanted = tuple(checks)
    min_attempt_s = settings.cams_min_attempt_ms / 1000
    results: list[SpaceResult] = []
    for spec in specs:
        if deadline.remaining() - paces.time_to_slot(QUERY_CHATAPP_BIND_WABA) < min_attempt_s:
            result = unchecked(spec)
        else:
            arguments = SpaceArguments(spec.cust_space_id, isv_codes[spec])
            health = assess(arguments, asking, expected_waba_id=spec.expected_waba_id, checks=wanted)
            result = result_of(spec, health)
        level = logging.INFO if result.verdict == "healthy" else logging.WARNING
        log_event("healthcheck.space", level, **result.to_json())
        results.append(result)
    return results


class Paces:
    """The timer's own pace, one quota per operation, in the store."""

    def __init__(self, cams: CachedCams[HealthcheckSettings], deadline: Deadline) -> None:
        self.cams = cams
        self.deadline = deadline
        self._quotas: dict[str, AccountQuota] = {}

    def quota(self, operation: Operation[Any, Any]) -> AccountQuota:
        quota = self._quotas.get(operation.action)
        if quota is None:
            settings = self.cams.settings
            per_second = min(settings.healthcheck_rate_per_second, operation.limit_in_force(settings) / 2)
            slots, window_ms = pace(per_second, settings.cams_rate_window_margin_ms)
            key = self.cams.keys.rate_limit(f"healthcheck.{operation.action}")
            quota = self._quotas[operation.action] = AccountQuota(
                self.cams.store.limiter, key, slots, window_ms, MAX_WAIT_MS
            )
        return quota

    def before_attempt(self, operation: Operation[Any, Any]) -> AttemptHook:
        settings, clock = self.cams.settings, self.cams.invocation.clock
        return self.quota(operation).before_attempt(self.deadline, settings.cams_min_attempt_ms / 1000, clock)

    def time_to_slot(self, operation: Operation[Any, Any]) -> float:
        return self.quota(operation).time_to_slot()


class _Asking:
    """The timer's getter: each operation asked of CAMS now, paced, within the checks' budget, and kept."""

    def __init__(
        self,
        cams: CachedCams[HealthcheckSettings],
        budget: _CheckBudget,
        paced: Callable[[Operation[Any, Any]], AttemptHook],
    ) -> None:
        self.cams = cams
        self.budget = budget
        self.paced = paced

    def __call__(self, operation: Operation[A, R], arguments: A) -> Got[R]:
        outcome = self.cams.ask(operation, arguments, self.budget, before_attempt=self.paced(operation))
        if outcome.error is not None:
            return Got(error=outcome.error, cams_request_id=outcome.error.cams_request_id, attempts=outcome.attempts)
        answered = outcome.unwrap()
        now = self.cams.invocation.clock.time()
        return Got(answered.result, None, answered.cams_request_id, now, attempts=outcome.attempts)


@dataclass(frozen=True)
class _CheckBudget:
    """The invocation's credentials with the checks' own deadline, earlier than the invocation's."""

    credentials: StaticCredentials | None
    deadline: Deadline
