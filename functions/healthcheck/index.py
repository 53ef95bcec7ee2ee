"""The FC3 timer function: health checks of the WABA bindings of configured customer spaces.

The timer's payload (or, without one, HEALTHCHECK_SPACES) names the spaces:

    {"spaces": [{"custSpaceId": "demo-approved", "expectedWabaId": "200000000000101", "isvCodeRef": "partner-a"}]}

`isvCodeRef` names an IsvCode kept in HEALTHCHECK_ISV_CODES, never the code itself. Each space gets a
verdict: healthy (APPROVED, and the expected WABA if one is given), degraded (PENDING), unhealthy
(REJECTED, DISABLED, none bound, another WABA, or a space not the account's), error (CAMS could not
answer after retries), or unchecked (the deadline came first). Calls are paced below CAMS's limit.
When any space is unhealthy or in error, the alert goes to ALERT_WEBHOOK_URL, and the invocation
fails (unless HEALTHCHECK_FAIL_ON_UNHEALTHY is false) so that FC's own metrics and alarms see it.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from shared import alerts
from shared.cams import gateway_for
from shared.errors import ConfigurationError, ServiceError, SpaceNotFound, WabaNotBound
from shared.invocation import credentials_for, deadline_for, log_retry, request_id_of, retry_logger, secrets_of
from shared.logs import bind, log_context, log_event, set_level
from shared.models import WabaBinding
from shared.pacing import Pacer
from shared.retry import Deadline
from shared.settings import CamsSettings, current_settings, split_list

Verdict = Literal["healthy", "degraded", "unhealthy", "error", "unchecked"]
VERDICTS: tuple[Verdict, ...] = ("healthy", "degraded", "unhealthy", "error", "unchecked")
ALARMING: frozenset[Verdict] = frozenset({"unhealthy", "error"})
_ID = r"^[A-Za-z0-9_-]+$"
_ISV_CODE_MAP = TypeAdapter(dict[str, str])


class HealthcheckSettings(CamsSettings):
    """The timer function's settings: those of every function, and what to check and whom to tell."""

    healthcheck_spaces: str | None = Field(None, alias="HEALTHCHECK_SPACES")
    # A JSON object of reference to IsvCode; kept as one secret string so that the settings stay
    # hashable (the CAMS gateway is cached by them), checked once per instance like any setting.
    healthcheck_isv_codes: SecretStr | None = Field(None, alias="HEALTHCHECK_ISV_CODES")
    healthcheck_rate_per_second: float = Field(5.0, alias="HEALTHCHECK_RATE_PER_SECOND", gt=0, le=10)
    healthcheck_fail_on_unhealthy: bool = Field(True, alias="HEALTHCHECK_FAIL_ON_UNHEALTHY")
    alert_webhook_url: SecretStr | None = Field(None, alias="ALERT_WEBHOOK_URL")
    alert_webhook_format: alerts.AlertFormat = Field("json", alias="ALERT_WEBHOOK_FORMAT")
    alert_webhook_secret: SecretStr | None = Field(None, alias="ALERT_WEBHOOK_SECRET")
    alert_webhook_timeout_ms: int = Field(3000, alias="ALERT_WEBHOOK_TIMEOUT_MS", ge=100, le=30_000)

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("healthcheck_isv_codes")
    @classmethod
    def _isv_code_map(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _ISV_CODE_MAP.validate_json(value.get_secret_value())
        return value

    @cached_property
    def isv_codes(self) -> dict[str, str]:
        if self.healthcheck_isv_codes is None:
            return {}
        return _ISV_CODE_MAP.validate_json(self.healthcheck_isv_codes.get_secret_value())


class SpaceSpec(BaseModel):
    """One space to check; an IsvCode itself is refused here, only a reference to one in settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cust_space_id: str = Field(alias="custSpaceId", min_length=1, max_length=64, pattern=_ID)
    expected_waba_id: str | None = Field(None, alias="expectedWabaId", min_length=1, max_length=64, pattern=_ID)
    isv_code_ref: str | None = Field(None, alias="isvCodeRef", min_length=1, max_length=64, pattern=_ID)


class CheckList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    spaces: list[SpaceSpec] = Field(min_length=1, max_length=1000)


@dataclass(frozen=True)
class SpaceResult:
    cust_space_id: str
    verdict: Verdict
    reason: str
    waba_id: str | None = None
    account_review_status: str | None = None
    error_code: str | None = None
    cams_request_id: str | None = None
    attempts: int = 0

    def to_json(self) -> dict[str, Any]:
        return {to_camel(name): value for name, value in asdict(self).items()}


class InvalidHealthcheck(Exception):
    """The payload or the settings do not say what to check; the invocation fails."""


class HealthcheckFailed(Exception):
    """Some space is unhealthy or in error; raised after the report is logged and the alert sent."""


def handler(event: Any, context: Any) -> dict[str, Any]:
    """FC3 entry point: `index.handler`. Returns the summary, or raises when a space needs attention."""
    started = time.monotonic()
    with log_context(secrets_of(context), requestId=request_id_of(context)):
        try:
            settings = current_settings(HealthcheckSettings)
            bind(secrets=_secrets(settings))
            set_level(settings.log_level)
            trigger, specs = _read_event(event, settings)
            isv_codes = _isv_codes_for(specs, settings)
        except (InvalidHealthcheck, ConfigurationError) as invalid:
            log_event("healthcheck.invalid", logging.ERROR, reason=str(invalid))
            raise
        deadline = deadline_for(context, started, settings)
        results = check_spaces(specs, isv_codes, settings, context, _checks_deadline(deadline, settings))
        summary = _summary(trigger, results, started)
        if summary["alarming"]:
            summary["alert"] = _alert(summary, settings, deadline)
        level = logging.WARNING if summary["alarming"] else logging.INFO
        # One line per space is logged already; the summary line carries the counts.
        log_event("healthcheck.summary", level, **{k: v for k, v in summary.items() if k != "spaces"})
        if summary["alarming"] and settings.healthcheck_fail_on_unhealthy:
            problems = [r["custSpaceId"] for r in summary["spaces"] if r["verdict"] in ALARMING]
            raise HealthcheckFailed(
                f"{len(problems)} of {summary['total']} customer spaces are unhealthy or in error: "
                + ", ".join(problems[:20])
            )
        return summary


def initialize(context: Any) -> None:
    """FC3 initializer: validate settings and build the CAMS client before the first run."""
    settings = current_settings(HealthcheckSettings)
    gateway_for(settings).client_for(credentials_for(context))


def check_spaces(
    specs: list[SpaceSpec],
    isv_codes: dict[SpaceSpec, str | None],
    settings: HealthcheckSettings,
    context: Any,
    deadline: Deadline,
) -> list[SpaceResult]:
    """Check each space in turn, paced; those the deadline leaves no time for are `unchecked`."""
    gateway = gateway_for(settings)
    pacer = Pacer(settings.healthcheck_rate_per_second)
    credentials = credentials_for(context)
    min_attempt_s = settings.min_attempt_ms / 1000
    results: list[SpaceResult] = []
    for spec in specs:
        if deadline.remaining() - pacer.time_to_next() < min_attempt_s:
            result = SpaceResult(spec.cust_space_id, "unchecked", "The function's deadline came first.")
        else:
            result = _check(spec, isv_codes[spec], gateway, credentials, pacer, deadline)
        log_event(
            "healthcheck.space", logging.INFO if result.verdict == "healthy" else logging.WARNING, **result.to_json()
        )
        results.append(result)
    return results


def verdict_of(spec: SpaceSpec, binding: WabaBinding) -> tuple[Verdict, str]:
    status = binding.account_review_status
    if spec.expected_waba_id is not None and binding.id != spec.expected_waba_id:
        return "unhealthy", f"WABA {binding.id} is bound, not the expected {spec.expected_waba_id}."
    if status == "APPROVED":
        return "healthy", "The WABA is approved."
    if status == "PENDING":
        return "degraded", "The WABA is pending review."
    if status in ("REJECTED", "DISABLED"):
        return "unhealthy", f"The WABA is {status.lower()}."
    return "degraded", f"The WABA's review status is {status or 'missing'}."


def _check(
    spec: SpaceSpec,
    isv_code: str | None,
    gateway: Any,
    credentials: Any,
    pacer: Pacer,
    deadline: Deadline,
) -> SpaceResult:
    try:
        found = gateway.query_bind_waba(
            spec.cust_space_id, isv_code, deadline, credentials, log_retry, lambda: pacer.wait(deadline)
        )
    except ServiceError as failure:
        # No binding, or a space not the account's, is the binding's fault; the rest, CAMS's.
        missing = isinstance(failure, (WabaNotBound, SpaceNotFound))
        return SpaceResult(
            spec.cust_space_id,
            "unhealthy" if missing else "error",
            failure.message,
            error_code=failure.code,
            cams_request_id=failure.cams_request_id,
            attempts=failure.attempts,
        )
    verdict, reason = verdict_of(spec, found.binding)
    return SpaceResult(
        spec.cust_space_id,
        verdict,
        reason,
        waba_id=found.binding.id,
        account_review_status=found.binding.account_review_status,
        cams_request_id=found.cams_request_id,
        attempts=found.attempts,
    )


def _read_event(event: Any, settings: HealthcheckSettings) -> tuple[dict[str, Any], list[SpaceSpec]]:
    """The timer event and the spaces it names: its payload, else HEALTHCHECK_SPACES."""
    if isinstance(event, (bytes, bytearray)):
        event = bytes(event).decode("utf-8", errors="replace")
    if isinstance(event, str):
        try:
            event = json.loads(event) if event.strip() else {}
        except ValueError:
            raise InvalidHealthcheck("The event is not JSON.") from None
    if not isinstance(event, dict):
        raise InvalidHealthcheck("The event is not a timer trigger's event.")
    trigger = {"triggerTime": event.get("triggerTime"), "triggerName": event.get("triggerName")}
    payload = event.get("payload")
    if isinstance(payload, str) and payload.strip():
        return trigger, _parse_spaces(payload, "The timer payload")
    if payload not in (None, ""):
        raise InvalidHealthcheck("The timer payload must be a string of JSON.")
    if settings.healthcheck_spaces:
        return trigger, _parse_spaces(settings.healthcheck_spaces, "HEALTHCHECK_SPACES")
    raise InvalidHealthcheck("Nothing to check: the timer has no payload and HEALTHCHECK_SPACES is not set.")


def _parse_spaces(text: str, source: str) -> list[SpaceSpec]:
    """`{"spaces": [...]}`, a bare list of the same, or (in settings) comma-separated space ids."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            document = json.loads(stripped)
        except ValueError:
            raise InvalidHealthcheck(f"{source} is not valid JSON.") from None
    elif source == "HEALTHCHECK_SPACES":
        ids = split_list(stripped)
        document = [{"custSpaceId": space} for space in ids] if isinstance(ids, tuple) else ids
    else:
        raise InvalidHealthcheck(f"{source} is not JSON.")
    if isinstance(document, list):
        document = {"spaces": document}
    try:
        return CheckList.model_validate(document).spaces
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidHealthcheck(f"{source} is malformed at {where or 'the top'}: {first['msg']}.") from None


def _isv_codes_for(specs: list[SpaceSpec], settings: HealthcheckSettings) -> dict[SpaceSpec, str | None]:
    known = settings.isv_codes
    default = settings.cams_isv_code.get_secret_value() if settings.cams_isv_code else None
    unknown = sorted({s.isv_code_ref for s in specs if s.isv_code_ref and s.isv_code_ref not in known})
    if unknown:
        raise InvalidHealthcheck(f"No IsvCode in HEALTHCHECK_ISV_CODES for: {', '.join(unknown)}.")
    return {spec: known[spec.isv_code_ref] if spec.isv_code_ref else default for spec in specs}


def _checks_deadline(deadline: Deadline, settings: HealthcheckSettings) -> Deadline:
    """Checks stop early enough for the alert to be sent before the function's deadline."""
    if settings.alert_webhook_url is None:
        return deadline
    return Deadline(deadline.expires_at - settings.alert_webhook_timeout_ms / 1000)


def _summary(trigger: dict[str, Any], results: list[SpaceResult], started: float) -> dict[str, Any]:
    counts = Counter(result.verdict for result in results)
    return {
        **trigger,
        "total": len(results),
        "counts": {verdict: counts.get(verdict, 0) for verdict in VERDICTS},
        "alarming": any(result.verdict in ALARMING for result in results),
        "durationMs": round((time.monotonic() - started) * 1000),
        "spaces": [result.to_json() for result in results],
    }


def _alert(summary: dict[str, Any], settings: HealthcheckSettings, deadline: Deadline) -> dict[str, Any]:
    """Send the alert if a webhook is set; a failure is logged and reported, never lost."""
    if settings.alert_webhook_url is None:
        return {"sent": False, "reason": "ALERT_WEBHOOK_URL is not set."}
    body = _alert_body(summary, settings.alert_webhook_format)
    secret = settings.alert_webhook_secret.get_secret_value() if settings.alert_webhook_secret else None
    try:
        delivery = alerts.send(
            settings.alert_webhook_url.get_secret_value(),
            body,
            deadline,
            secret=secret if settings.alert_webhook_format == "dingtalk" else None,
            timeout_s=settings.alert_webhook_timeout_ms / 1000,
            on_retry=retry_logger("alert.retry"),
        )
    except ServiceError as failed:
        log_event("healthcheck.alert_failed", logging.ERROR, errorCode=failed.code, reason=failed.message)
        return {"sent": False, "reason": failed.message, "attempts": failed.attempts}
    return {"sent": True, "status": delivery.status, "attempts": delivery.attempts}


def _alert_body(summary: dict[str, Any], alert_format: alerts.AlertFormat) -> dict[str, Any]:
    problems = [r for r in summary["spaces"] if r["verdict"] in ALARMING]
    if alert_format == "json":
        return {
            "source": "waba-healthcheck",
            "alarming": True,
            **{k: v for k, v in summary.items() if k != "spaces"},
            "problems": problems,
        }
    counts = summary["counts"]
    title = f"WABA health check: {len(problems)} of {summary['total']} spaces need attention"
    lines = [f"- **{r['custSpaceId']}**: {r['verdict']}, {r['reason']}" for r in problems[:30]]
    lines.append("")
    lines.append(", ".join(f"{verdict} {counts[verdict]}" for verdict in VERDICTS))
    return alerts.dingtalk_message(title, lines)


def _secrets(settings: HealthcheckSettings) -> list[str | None]:
    """The IsvCodes, the webhook's URL (its token is a credential) and the signing secret."""
    found: list[str | None] = []
    found.extend(settings.isv_codes.values())
    if settings.alert_webhook_url is not None:
        url = settings.alert_webhook_url.get_secret_value()
        found.append(url)
        found.extend(value for _, value in parse_qsl(urlsplit(url).query))
    if settings.alert_webhook_secret is not None:
        found.append(settings.alert_webhook_secret.get_secret_value())
    return found
