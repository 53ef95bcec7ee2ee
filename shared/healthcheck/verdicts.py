"""The verdict on one space, from what CAMS answered for it.

Example:
    >>> from shared.healthcheck.payload import SpaceSpec
    >>> binding = WabaBinding.model_validate({"Id": "1", "AccountReviewStatus": "PENDING"})
    >>> verdict_of(SpaceSpec(custSpaceId="s"), binding)
    ('degraded', 'The WABA is pending review.')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic.alias_generators import to_camel

from shared.cams import Answered
from shared.errors import SpaceNotFound, WabaNotBound
from shared.healthcheck.payload import SpaceSpec
from shared.models import WabaBinding
from shared.retry import Attempted

Verdict = Literal["healthy", "degraded", "unhealthy", "error", "unchecked"]
VERDICTS: tuple[Verdict, ...] = ("healthy", "degraded", "unhealthy", "error", "unchecked")


@dataclass(frozen=True)
class SpaceResult:
    cust_space_id: str
    verdict: Verdict
    reason: str
    attempts: int = 0
    waba_id: str | None = None
    account_review_status: str | None = None
    error_code: str | None = None
    cams_request_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {to_camel(name): value for name, value in asdict(self).items()}


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


def result_of(spec: SpaceSpec, outcome: Attempted[Answered[WabaBinding]]) -> SpaceResult:
    """The result of one check from CAMS's outcome: no binding, or a space not the account's, is the
    binding's fault (unhealthy); any other failure is CAMS's (error)."""
    if outcome.error is not None:
        failure = outcome.error
        missing = isinstance(failure, (WabaNotBound, SpaceNotFound))
        return SpaceResult(
            spec.cust_space_id,
            "unhealthy" if missing else "error",
            failure.message,
            error_code=failure.code,
            cams_request_id=failure.cams_request_id,
            attempts=outcome.attempts,
        )
    found = outcome.unwrap()
    verdict, reason = verdict_of(spec, found.result)
    return SpaceResult(
        spec.cust_space_id,
        verdict,
        reason,
        waba_id=found.result.id,
        account_review_status=found.result.account_review_status,
        cams_request_id=found.cams_request_id,
        attempts=outcome.attempts,
    )


def unchecked(spec: SpaceSpec) -> SpaceResult:
    return SpaceResult(spec.cust_space_id, "unchecked", "The function's deadline came first.")
