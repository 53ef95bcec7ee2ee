"""The timer function: check the spaces the timer names, report, alert, and fail when one is unwell.

The timer's payload (or, without one, HEALTHCHECK_SPACES) names the spaces:

    {"spaces": [{"custSpaceId": "demo-approved", "expectedWabaId": "200000000000101", "isvCodeRef": "partner-a"}]}

A space that becomes unhealthy or in error, changes its reasons, stays so past the reminder, or
recovers, is alerted to ALERT_WEBHOOK_URL (`shared.healthcheck.alerting`), in one message per run.
While any space is alarming the invocation fails (unless HEALTHCHECK_FAIL_ON_ALARM is false), so
that FC's own metrics and alarms see it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from shared.cache.runtime import RuntimeSlot
from shared.clock import SYSTEM_CLOCK, Clock
from shared.errors import ConfigurationError
from shared.healthcheck.alerting import AlarmBook, Decision, decide
from shared.healthcheck.checks import check_spaces
from shared.healthcheck.payload import (
    CheckList,
    InvalidHealthcheck,
    SpaceSpec,
    Trigger,
    isv_codes_for,
    read_event,
    rotation_start,
)
from shared.healthcheck.report import Coverage, Summary, send_alert
from shared.healthcheck.settings import HealthcheckSettings
from shared.healthcheck.verdicts import SpaceResult
from shared.invocation import Invocation, begin
from shared.logs import log_event
from shared.operations import SpaceArguments
from shared.retry import Deadline

INVALID_EVENT = "healthcheck.invalid"


class HealthcheckFailed(Exception):
    """Some space is unhealthy or in error; raised after the report is logged and the alert sent."""


class HealthcheckApp:
    """The timer function, with the clock its pacing and deadlines run on."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self.runtime = RuntimeSlot()

    def run(self, event: object, context: object) -> dict[str, Any]:
        """Returns the summary, or raises when a space needs attention or the input is invalid."""
        with begin(context, HealthcheckSettings, self.clock) as invocation:
            trigger, check_list, isv_codes = _read(event, invocation)
            summary = self._check_and_alert(trigger, check_list, isv_codes, invocation)
            level = logging.WARNING if summary.alarming else logging.INFO
            # One line per space is logged already; the summary line carries the counts.
            log_event("healthcheck.summary", level, **summary.to_json(spaces=False))
            if summary.alarming and invocation.settings.healthcheck_fail_on_alarm:
                problems = [f"{result.cust_space_id} ({result.verdict})" for result in summary.problems]
                raise HealthcheckFailed(
                    f"{len(problems)} of {len(summary.results)} customer spaces need attention: "
                    + ", ".join(problems[:20])
                )
            return summary.to_json()

    def _check_and_alert(
        self,
        trigger: Trigger,
        check_list: CheckList,
        isv_codes: dict[SpaceSpec, str | None],
        invocation: Invocation[HealthcheckSettings],
    ) -> Summary:
        settings = invocation.settings
        specs = check_list.spaces
        start = rotation_start(trigger, len(specs))
        runtime = self.runtime.get(invocation)
        cams = runtime.cams(invocation)
        checks = check_list.checks or settings.healthcheck_checks
        rotated = check_spaces(specs[start:] + specs[:start], isv_codes, cams, _checks_deadline(invocation), checks)
        results = rotated[len(specs) - start :] + rotated[: len(specs) - start]  # reported in the list's order
        checked = sum(1 for result in results if result.verdict != "unchecked")
        coverage = Coverage(start, checked, len(specs))
        book = AlarmBook(runtime.store.cache, runtime.keys)
        decisions = _decide(book, specs, isv_codes, results, invocation)
        summary = Summary(
            trigger, tuple(results), round(invocation.elapsed_ms()), coverage, settings.alarming_verdicts, decisions
        )
        if summary.alerted:
            alert = send_alert(summary, settings, invocation.deadline)
            if alert.sent:
                for spec, decision in zip(specs, decisions, strict=True):
                    if decision.alerted:
                        book.keep(SpaceArguments(spec.cust_space_id, isv_codes[spec]), decision)
            summary = replace(summary, alert=alert)
        return replace(summary, duration_ms=round(invocation.elapsed_ms()))


def _decide(
    book: AlarmBook,
    specs: list[SpaceSpec],
    isv_codes: dict[SpaceSpec, str | None],
    results: list[SpaceResult],
    invocation: Invocation[HealthcheckSettings],
) -> tuple[Decision, ...]:
    """Each space's alert decision, against its last alarming state."""
    settings, now = invocation.settings, invocation.clock.time()
    decided = []
    for spec, result in zip(specs, results, strict=True):
        previous = book.state_of(SpaceArguments(spec.cust_space_id, isv_codes[spec]))
        alarming = result.verdict in settings.alarming_verdicts
        decision = decide(
            previous,
            result.verdict,
            result.codes,
            alarming=alarming,
            now=now,
            remind_s=settings.healthcheck_remind_minutes * 60,
            unchecked=result.verdict == "unchecked",
        )
        decided.append(decision)
    return tuple(decided)


def _read(
    event: object, invocation: Invocation[HealthcheckSettings]
) -> tuple[Trigger, CheckList, dict[SpaceSpec, str | None]]:
    try:
        settings = invocation.settings
        trigger, check_list = read_event(event, settings)
        return trigger, check_list, isv_codes_for(check_list.spaces, settings)
    except ConfigurationError as invalid:
        log_event(INVALID_EVENT, logging.ERROR, reason=invalid.message)
        raise
    except InvalidHealthcheck as invalid:
        log_event(INVALID_EVENT, logging.ERROR, reason=str(invalid))
        raise


def _checks_deadline(invocation: Invocation[HealthcheckSettings]) -> Deadline:
    """Checks stop early enough for the alert to be sent before the function's deadline."""
    settings = invocation.settings
    if settings.alert_webhook_url is None:
        return invocation.deadline
    return invocation.deadline.earlier_by(settings.alert_webhook_timeout_ms / 1000)


app = HealthcheckApp()


def initialize(context: object) -> None:
    """FC3 initializer: validate settings and build the CAMS client before the first run."""
    app.runtime.warm_up(context, HealthcheckSettings, INVALID_EVENT, app.clock)
