"""The result of one space's check, as the timer reports it: its health, or `unchecked`.

The verdict and its reasons come from `shared.health`, the one place both functions judge a space.

Example:
    >>> from shared.healthcheck.payload import SpaceSpec
    >>> unchecked(SpaceSpec(custSpaceId="s")).to_json()["verdict"]
    'unchecked'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.errors import UpstreamTimeout
from shared.health import Reason, SpaceHealth, Verdict
from shared.healthcheck.payload import SpaceSpec
from shared.operations import QUERY_CHATAPP_BIND_WABA

VERDICTS: tuple[Verdict, ...] = ("healthy", "degraded", "unhealthy", "error", "unchecked")
HEALTHY_REASON = "The WABA can send."
UNCHECKED_REASON = "The function's deadline came first."


@dataclass(frozen=True)
class SpaceResult:
    cust_space_id: str
    verdict: Verdict
    reasons: tuple[Reason, ...] = ()
    attempts: int = 0
    waba_id: str | None = None
    account_review_status: str | None = None
    can_send_message: str | None = None
    phone_numbers: tuple[dict[str, Any], ...] | None = None
    error_code: str | None = None
    cams_request_ids: dict[str, str | None] = field(default_factory=dict, compare=False)

    @property
    def reason(self) -> str:
        """The first reason's message: what a one-line report says of the space."""
        if self.verdict == "unchecked":
            return UNCHECKED_REASON
        return self.reasons[0].message if self.reasons else HEALTHY_REASON

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(sorted({reason.code for reason in self.reasons}))

    def to_json(self) -> dict[str, Any]:
        return {
            "custSpaceId": self.cust_space_id,
            "verdict": self.verdict,
            "reason": self.reason,
            "reasons": [reason.to_json() for reason in self.reasons],
            "attempts": self.attempts,
            "wabaId": self.waba_id,
            "accountReviewStatus": self.account_review_status,
            "canSendMessage": self.can_send_message,
            "phoneNumbers": None if self.phone_numbers is None else list(self.phone_numbers),
            "errorCode": self.error_code,
            "camsRequestId": self.cams_request_ids.get(QUERY_CHATAPP_BIND_WABA.action),
            "camsRequestIds": self.cams_request_ids,
        }


def result_of(spec: SpaceSpec, health: SpaceHealth) -> SpaceResult:
    """The report of one space's health; `unchecked` when the deadline left no time for a call."""
    failures = [got.error for _, got in health.answers if got.error is not None]
    if any(isinstance(got.error, UpstreamTimeout) and got.attempts == 0 for _, got in health.answers):
        return unchecked(spec)
    phones = health.phones_json()
    return SpaceResult(
        spec.cust_space_id,
        health.verdict,
        health.reasons,
        attempts=health.attempts,
        waba_id=health.binding.id if health.binding else None,
        account_review_status=health.binding.account_review_status if health.binding else None,
        can_send_message=health.messaging.can_send_message if health.messaging else None,
        phone_numbers=None if phones is None else tuple(phones),
        error_code=failures[0].code if failures else None,
        cams_request_ids=health.cams_request_ids(),
    )


def unchecked(spec: SpaceSpec) -> SpaceResult:
    return SpaceResult(spec.cust_space_id, "unchecked")
