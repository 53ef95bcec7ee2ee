"""The run's summary, and the alert that carries it to a webhook.

Results stay typed to here; they become JSON only for the log, the returned summary and the alert.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from shared import alerts
from shared.healthcheck.alerting import Decision
from shared.healthcheck.payload import Trigger
from shared.healthcheck.settings import HealthcheckSettings
from shared.healthcheck.verdicts import VERDICTS, SpaceResult
from shared.invocation import retry_logger
from shared.logs import log_event
from shared.retry import Deadline

MAX_PROBLEMS_IN_MESSAGE = 30


@dataclass(frozen=True)
class AlertOutcome:
    sent: bool
    reason: str | None = None
    status: int | None = None
    attempts: int | None = None

    def to_json(self) -> dict[str, Any]:
        fields = {"sent": self.sent, "reason": self.reason, "status": self.status, "attempts": self.attempts}
        return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class Coverage:
    """Which part of the list this run reached: it starts at `start` and goes round."""

    start: int
    checked: int
    total: int

    def to_json(self) -> dict[str, Any]:
        return {"startIndex": self.start, "checked": self.checked, "total": self.total}


@dataclass(frozen=True)
class Summary:
    trigger: Trigger
    results: tuple[SpaceResult, ...]
    duration_ms: int
    coverage: Coverage
    alarming_verdicts: frozenset[str]
    decisions: tuple[Decision, ...] = ()
    """Each result's alert decision, in the results' order."""
    alert: AlertOutcome | None = None

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(result.verdict for result in self.results)
        return {verdict: counted.get(verdict, 0) for verdict in VERDICTS}

    @property
    def problems(self) -> list[SpaceResult]:
        return [result for result in self.results if result.verdict in self.alarming_verdicts]

    @property
    def alarming(self) -> bool:
        return bool(self.problems)

    @property
    def alerted(self) -> list[tuple[SpaceResult, Decision]]:
        """The spaces this run alerts (new, changed, reminded or resolved), with why."""
        return [
            (result, decision)
            for result, decision in zip(self.results, self.decisions, strict=False)
            if decision.alerted
        ]

    def alerts_json(self) -> dict[str, Any]:
        """Which spaces were alerted and which (alarming) were not, and why."""
        alerted = [{"custSpaceId": r.cust_space_id, "why": d.why} for r, d in self.alerted]
        held = [
            {"custSpaceId": r.cust_space_id, "why": d.why}
            for r, d in zip(self.results, self.decisions, strict=False)
            if not d.alerted and r.verdict in self.alarming_verdicts
        ]
        return {"alerted": alerted, "notAlerted": held}

    def to_json(self, *, spaces: bool = True) -> dict[str, Any]:
        document: dict[str, Any] = {
            **self.trigger.to_json(),
            "total": len(self.results),
            "counts": self.counts,
            "alarming": self.alarming,
            "durationMs": self.duration_ms,
            "coverage": self.coverage.to_json(),
            "alerts": self.alerts_json(),
        }
        if spaces:
            document["spaces"] = [result.to_json() for result in self.results]
        if self.alert is not None:
            document["alert"] = self.alert.to_json()
        return document


def send_alert(summary: Summary, settings: HealthcheckSettings, deadline: Deadline) -> AlertOutcome:
    """Send the alert if a webhook is set; a failure is logged and reported, never lost."""
    if settings.alert_webhook_url is None:
        return AlertOutcome(False, reason="ALERT_WEBHOOK_URL is not set.")
    secret = settings.alert_webhook_secret.get_secret_value() if settings.alert_webhook_secret else None
    outcome = alerts.send(
        settings.alert_webhook_url.get_secret_value(),
        alert_body(summary, settings.alert_webhook_format),
        deadline,
        secret=secret if settings.alert_webhook_format == "dingtalk" else None,
        timeout_s=settings.alert_webhook_timeout_ms / 1000,
        on_retry=retry_logger("alert.retry"),
    )
    if outcome.error is not None:
        failed = outcome.error
        log_event("healthcheck.alert_failed", logging.ERROR, errorCode=failed.code, reason=failed.message)
        return AlertOutcome(False, reason=failed.message, attempts=outcome.attempts)
    return AlertOutcome(True, status=outcome.unwrap(), attempts=outcome.attempts)


def alert_body(summary: Summary, alert_format: alerts.AlertFormat) -> dict[str, Any]:
    """One message naming every space alerted this run, and why."""
    alerted = summary.alerted
    if alert_format == "json":
        return {
            "source": "waba-healthcheck",
            **summary.to_json(spaces=False),
            "problems": [{**result.to_json(), "why": decision.why} for result, decision in alerted],
        }
    title = f"WABA health check: {len(alerted)} of {len(summary.results)} spaces alerted"
    lines = [
        f"- **{r.cust_space_id}**: {r.verdict} ({d.why}), {_codes_or_reason(r)}"
        for r, d in alerted[:MAX_PROBLEMS_IN_MESSAGE]
    ]
    lines.append("")
    lines.append(", ".join(f"{verdict} {count}" for verdict, count in summary.counts.items()))
    return alerts.dingtalk_message(title, lines)


def _codes_or_reason(result: SpaceResult) -> str:
    return ", ".join(result.codes) + f": {result.reason}" if result.codes else result.reason
