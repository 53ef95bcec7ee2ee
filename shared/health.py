"""Whether a space's WABA can send: one assessment for the timer and the HTTP route alike.

A space's health comes from up to three operations, in this order: its binding
(`QueryChatappBindWaba`); then, when a WABA is bound, its messaging health
(`GetWhatsappHealthStatus`, NodeType `waba`, the bound WABA's id) and its phone numbers
(`QueryChatappPhoneNumbers`). Without a bound WABA the other two are never asked. Every reason
found is listed; the verdict is the worst of them (unhealthy, then error, then degraded), and
`healthy` when there is none.

Example:
    >>> from shared.models import PhoneNumbers
    >>> numbers = PhoneNumbers.model_validate({"PhoneNumbers": [{"PhoneNumber": "+6580000001", "Status": "FLAGGED"}]})
    >>> [(r.code, r.entity, r.id) for r in phone_reasons(numbers)]
    [('PhoneFlagged', 'phone', '+6580000001')]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol

from shared import errors
from shared.cache.facade import CachedCams
from shared.models import HealthEntity, MessagingHealth, PhoneNumber, PhoneNumbers, WabaBinding
from shared.operations import (
    GET_WHATSAPP_HEALTH_STATUS,
    QUERY_CHATAPP_BIND_WABA,
    QUERY_CHATAPP_PHONE_NUMBERS,
    A,
    Operation,
    R,
    SpaceArguments,
    WabaHealthArguments,
)

AttemptHook = Callable[[], None]
Verdict = Literal["healthy", "degraded", "unhealthy", "error", "unchecked"]
Entity = Literal["binding", "waba", "phone"]
Check = Literal["binding", "messaging", "phones"]
CHECKS: tuple[Check, ...] = ("binding", "messaging", "phones")
"""Every check, in the order they run; the binding is always checked (the others need its WABA id)."""
WORST_FIRST: tuple[Verdict, ...] = ("unhealthy", "error", "degraded")

SEVERITY: dict[str, Verdict] = {
    **dict.fromkeys(
        (
            "WabaNotBound",
            "SpaceNotFound",
            "UnexpectedWaba",
            "ReviewRejected",
            "ReviewDisabled",
            "MessagingBlocked",
            "PhoneOffline",
            "QualityRed",
            "NoPhoneNumber",
        ),
        "unhealthy",
    ),
    **dict.fromkeys(
        (
            "ReviewPending",
            "ReviewUnknown",
            "MessagingLimited",
            "PhoneFlagged",
            "PhoneRateLimited",
            "PhonePending",
            "PhonePaused",
            "PhoneStatusUnknown",
            "QualityYellow",
        ),
        "degraded",
    ),
    "CamsError": "error",
}
"""Every reason code, and the verdict it brings: the codes are stable, part of the API."""

PHONE_STATUS_REASONS = {
    "OFFLINE": "PhoneOffline",
    "FLAGGED": "PhoneFlagged",
    "RATE_LIMITED": "PhoneRateLimited",
    "PENDING": "PhonePending",
    "PAUSED": "PhonePaused",
}
QUALITY_REASONS = {"RED": "QualityRed", "YELLOW": "QualityYellow"}
REVIEW_REASONS = {"PENDING": "ReviewPending", "REJECTED": "ReviewRejected", "DISABLED": "ReviewDisabled"}


@dataclass(frozen=True)
class Reason:
    """One thing wrong with a space, with Meta's possible solution when CAMS passes one on."""

    code: str
    entity: Entity
    message: str
    id: str | None = None
    possible_solution: str | None = None

    @property
    def verdict(self) -> Verdict:
        return SEVERITY[self.code]

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"code": self.code, "entity": self.entity, "message": self.message}
        if self.id is not None:
            document["id"] = self.id
        if self.possible_solution is not None:
            document["possibleSolution"] = self.possible_solution
        return document


@dataclass(frozen=True)
class Got(Generic[R]):
    """What one operation gave the assessment: its result or its error, and when CAMS answered it."""

    result: R | None = None
    error: errors.ServiceError | None = None
    cams_request_id: str | None = None
    at: float | None = None
    stale: bool = False
    attempts: int = 0


class Getter(Protocol):
    """How the assessment asks an operation: through the cache (the route) or of CAMS (the timer)."""

    def __call__(self, operation: Operation[A, R], arguments: A) -> Got[R]: ...


@dataclass(frozen=True)
class SpaceHealth:
    """A space's verdict, its reasons, and what CAMS said of its WABA and phone numbers."""

    verdict: Verdict
    reasons: tuple[Reason, ...]
    binding: WabaBinding | None = None
    messaging: MessagingHealth | None = None
    phone_numbers: tuple[PhoneNumber, ...] | None = None
    answers: tuple[tuple[str, Got[Any]], ...] = field(default=(), compare=False)
    """Each operation asked, by action, with what it gave: RequestIds, times, staleness, attempts."""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(sorted({reason.code for reason in self.reasons}))

    @property
    def stale(self) -> bool:
        return any(got.stale for _, got in self.answers)

    @property
    def checked_at(self) -> float | None:
        """When CAMS gave the oldest of the answers this health stands on."""
        times = [got.at for _, got in self.answers if got.at is not None]
        return min(times) if times else None

    @property
    def attempts(self) -> int:
        return sum(got.attempts for _, got in self.answers)

    def cams_request_ids(self) -> dict[str, str | None]:
        return {action: got.cams_request_id for action, got in self.answers}

    def phones_json(self) -> list[dict[str, Any]] | None:
        if self.phone_numbers is None:
            return None
        can_send = _phone_can_send(self.messaging)
        return [
            {
                "phoneNumber": number.phone_number,
                "status": number.status,
                "qualityRating": number.quality_rating,
                "messagingLimitTier": number.messaging_limit_tier,
                "canSendMessage": can_send.get(number.phone_number),
            }
            for number in self.phone_numbers
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reasons": [reason.to_json() for reason in self.reasons],
            "canSendMessage": self.messaging.can_send_message if self.messaging else None,
            "wabaId": self.binding.id if self.binding else None,
            "phoneNumbers": self.phones_json(),
        }


def assess(
    arguments: SpaceArguments,
    get: Getter,
    *,
    expected_waba_id: str | None = None,
    checks: Iterable[Check] = CHECKS,
) -> SpaceHealth:
    """The health of the space `arguments` name, asking each operation through `get`."""
    wanted = set(checks)
    answers: list[tuple[str, Got[Any]]] = []
    found = get(QUERY_CHATAPP_BIND_WABA, arguments)
    answers.append((QUERY_CHATAPP_BIND_WABA.action, found))
    if found.result is None:
        return _health([binding_failure(found.error)], answers)
    binding = found.result
    reasons = binding_reasons(binding, expected_waba_id)
    messaging: MessagingHealth | None = None
    numbers: tuple[PhoneNumber, ...] | None = None
    if "messaging" in wanted:
        health_arguments = WabaHealthArguments(arguments.cust_space_id, arguments.isv_code, waba_id=binding.id)
        asked = get(GET_WHATSAPP_HEALTH_STATUS, health_arguments)
        answers.append((GET_WHATSAPP_HEALTH_STATUS.action, asked))
        messaging = asked.result
        reasons += messaging_reasons(messaging, binding.id) if messaging else [cams_failure(asked, "waba", binding.id)]
    if "phones" in wanted:
        listed = get(QUERY_CHATAPP_PHONE_NUMBERS, arguments)
        answers.append((QUERY_CHATAPP_PHONE_NUMBERS.action, listed))
        numbers = listed.result.phone_numbers if listed.result else None
        reasons += phone_reasons(listed.result) if listed.result else [cams_failure(listed, "phone", None)]
    return _health(reasons, answers, binding, messaging, numbers)


def _health(
    reasons: list[Reason],
    answers: list[tuple[str, Got[Any]]],
    binding: WabaBinding | None = None,
    messaging: MessagingHealth | None = None,
    numbers: tuple[PhoneNumber, ...] | None = None,
) -> SpaceHealth:
    return SpaceHealth(verdict_of(reasons), tuple(reasons), binding, messaging, numbers, tuple(answers))


def verdict_of(reasons: Iterable[Reason]) -> Verdict:
    """The worst verdict among the reasons: unhealthy, then error, then degraded; else healthy."""
    found = {reason.verdict for reason in reasons}
    return next((verdict for verdict in WORST_FIRST if verdict in found), "healthy")


def binding_failure(error: errors.ServiceError | None) -> Reason:
    """No WABA to check: none bound, a space the account does not have, or CAMS could not say."""
    if isinstance(error, (errors.WabaNotBound, errors.SpaceNotFound)):
        return Reason(error.code, "binding", error.message)
    return _cams_error(QUERY_CHATAPP_BIND_WABA.action, error, "binding", None)


def binding_reasons(binding: WabaBinding, expected_waba_id: str | None) -> list[Reason]:
    reasons = []
    if expected_waba_id is not None and binding.id != expected_waba_id:
        message = f"WABA {binding.id} is bound, not the expected {expected_waba_id}."
        reasons.append(Reason("UnexpectedWaba", "binding", message, binding.id))
    status = binding.account_review_status
    if status != "APPROVED":
        code = REVIEW_REASONS.get(status or "", "ReviewUnknown")
        message = f"The WABA's review status is {status or 'missing'}."
        reasons.append(Reason(code, "waba", message, binding.id))
    return reasons


def messaging_reasons(health: MessagingHealth, waba_id: str) -> list[Reason]:
    """BLOCKED or LIMITED, for the WABA as a whole or any entity, each error with its solution."""
    reasons: list[Reason] = []
    for entity in health.entities:
        reasons += _entity_reasons(entity, waba_id)
    overall = health.can_send_message
    if overall in ("BLOCKED", "LIMITED") and not any(reason.code == _code_of(overall) for reason in reasons):
        reasons.append(Reason(_code_of(overall), "waba", f"The WABA's messaging is {overall}.", waba_id))
    return reasons


def _entity_reasons(entity: HealthEntity, waba_id: str) -> list[Reason]:
    state = entity.can_send_message
    if state not in ("BLOCKED", "LIMITED"):
        return []
    is_phone = (entity.entity_type or "").upper() == "PHONE_NUMBER" or (entity.phone_number and not entity.waba_id)
    kind: Entity = "phone" if is_phone else "waba"
    named = entity.phone_number if kind == "phone" else entity.waba_id or waba_id
    what = f"{(entity.entity_type or 'entity').lower().replace('_', ' ')}'s messaging is {state}"
    if not entity.errors:
        return [Reason(_code_of(state), kind, f"The {what}.", named)]
    return [
        Reason(
            _code_of(state),
            kind,
            f"The {what}: {(error.error_description or error.error_code or 'no reason given').rstrip('.')}.",
            named,
            error.possible_solution,
        )
        for error in entity.errors
    ]


def _code_of(state: str) -> str:
    return "MessagingBlocked" if state == "BLOCKED" else "MessagingLimited"


def phone_reasons(numbers: PhoneNumbers) -> list[Reason]:
    """Each number's status and quality rating; DELETED numbers count for nothing, not even as a number."""
    live = [number for number in numbers.phone_numbers if number.status != "DELETED"]
    if not live:
        return [Reason("NoPhoneNumber", "phone", "The WABA has no phone number that is not deleted.")]
    reasons = []
    for number in live:
        status = number.status or "missing"
        if status != "CONNECTED":
            code = PHONE_STATUS_REASONS.get(status, "PhoneStatusUnknown")
            reasons.append(Reason(code, "phone", f"The phone number's status is {status}.", number.phone_number))
        quality = QUALITY_REASONS.get(number.quality_rating or "")
        if quality is not None:
            message = f"The phone number's quality rating is {number.quality_rating}."
            reasons.append(Reason(quality, "phone", message, number.phone_number))
    return reasons


def cams_failure(got: Got[Any], entity: Entity, named: str | None) -> Reason:
    action = GET_WHATSAPP_HEALTH_STATUS.action if entity == "waba" else QUERY_CHATAPP_PHONE_NUMBERS.action
    return _cams_error(action, got.error, entity, named)


def _cams_error(action: str, error: errors.ServiceError | None, entity: Entity, named: str | None) -> Reason:
    code = error.code if error is not None else "UpstreamError"
    message = f"{action} could not be answered ({code}): {error.message if error else 'no answer'}"
    return Reason("CamsError", entity, message, named)


def _phone_can_send(health: MessagingHealth | None) -> dict[str, str | None]:
    if health is None:
        return {}
    return {entity.phone_number: entity.can_send_message for entity in health.entities if entity.phone_number}


class ThroughCache:
    """The route's getter: each operation read through the cache (fresh, stale, or asked once)."""

    def __init__(
        self, cams: CachedCams[Any], spend: Callable[[Operation[Any, Any]], Callable[[], None] | None]
    ) -> None:
        self.cams = cams
        self.spend = spend

    def __call__(self, operation: Operation[A, R], arguments: A) -> Got[R]:
        found = self.cams.fetch(operation, arguments, before_attempt=self.spend(operation))
        entry = found.entry
        if entry is None:
            return Got(error=found.error, attempts=found.attempts)
        kept_error = entry.error(operation)
        if kept_error is not None:
            return Got(error=kept_error, cams_request_id=entry.cams_request_id, at=entry.at, stale=found.stale)
        return Got(entry.result, None, entry.cams_request_id, entry.at, found.stale, found.attempts)
