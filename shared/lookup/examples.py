"""The OpenAPI document's examples: real answers of the function on the demo data (`local/demo_data.json`).

Only the ids of each request and the times differ from what `make serve` answers; a test asks the
function for each space below and compares.

Example:
    >>> WABA_ANSWERS["approved"]["value"]["waba"]["name"]
    'Demo Approved WABA'
"""

from __future__ import annotations

from typing import Any

from shared.errors import ERROR_TABLE, ServiceError

REQUEST_ID = "3c19a4a6-7881-49d7-a7ef-9a1c940601a8"
CAMS_REQUEST_ID = "5583B3EC-0FE2-4F8B-A945-C5173042FB67"
AT = "2026-11-26T06:34:05Z"

Example = dict[str, Any]

SPACE_EXAMPLES: dict[str, Example] = {
    "approved": {"summary": "an APPROVED WABA that can send", "value": "demo-approved"},
    "pending": {"summary": "a WABA whose review is pending", "value": "demo-pending"},
    "blocked": {"summary": "a WABA Meta blocks", "value": "demo-blocked"},
    "unbound": {"summary": "no WABA bound: 404 WabaNotBound, a verdict of /waba/health", "value": "demo-unbound"},
}
ISV_CODE_EXAMPLES: dict[str, Example] = {"isv": {"summary": "demo-isv's IsvCode", "value": "demo-isv-code-0001"}}
ORIGIN_EXAMPLES: dict[str, Example] = {
    "local": {"summary": "an origin `make serve` allows", "value": "http://127.0.0.1:3000"},
    "other": {"summary": "an origin it does not: 403", "value": "https://elsewhere.example"},
}
WABA_ETAG = 'W/"6bb01bb56c45b08d8cc1eb59"'
"""The ETag of demo-approved's WABA."""
OWN_WABA_ETAG = 'W/"93f03712580340cfa3e7edaf"'
HEALTH_ETAG = 'W/"1c5d24045325460338815e7f"'
"""The ETag of demo-approved's health."""


def _waba_answer(waba: dict[str, Any], *, stale: bool = False) -> dict[str, Any]:
    return {"waba": waba, "requestId": REQUEST_ID, "camsRequestId": CAMS_REQUEST_ID, "stale": stale, "cachedAt": AT}


APPROVED_WABA = {
    "id": "200000000000101",
    "name": "Demo Approved WABA",
    "businessId": "300000000000101",
    "businessName": "Approved Retail Co.",
    "currency": "USD",
    "accountReviewStatus": "APPROVED",
    "messageTemplateNamespace": "93e6b26e_8a67_4163_a093_ebfe645a66b0",
    "primaryBusinessLocation": '"start_time":1721952000',
    "authInternationalRateEligibility": {"test": "test", "test2": 1},
    "isOnBizApp": False,
    "marketingMessageLiteStatus": "ONBOARDED",
}
PENDING_WABA = {
    "id": "200000000000102",
    "name": "Demo Pending WABA",
    "businessId": "300000000000102",
    "businessName": "Pending Travel Co.",
    "currency": "EUR",
    "accountReviewStatus": "PENDING",
    "messageTemplateNamespace": "5c1d7c6a_0f0e_4c6e_9d7b_2b2b2b2b2b2b",
    "primaryBusinessLocation": None,
    "authInternationalRateEligibility": None,
    "isOnBizApp": None,
    "marketingMessageLiteStatus": None,
}
OWN_WABA = {
    "id": "200000000000001",
    "name": "Demo Shop Main",
    "businessId": "300000000000001",
    "businessName": "Demo Shop Ltd.",
    "currency": "USD",
    "accountReviewStatus": "APPROVED",
    "messageTemplateNamespace": "0a1b2c3d_0000_4000_8000_00000000d001",
    "primaryBusinessLocation": "SG",
    "authInternationalRateEligibility": {"start_time": 1721952000, "exception_countries": []},
    "isOnBizApp": None,
    "marketingMessageLiteStatus": None,
}

WABA_ANSWERS: dict[str, Example] = {
    "approved": {"summary": "custSpaceId=demo-approved", "value": _waba_answer(APPROVED_WABA)},
    "pending": {
        "summary": "custSpaceId=demo-pending: CAMS leaves some fields out",
        "value": _waba_answer(PENDING_WABA),
    },
    "stale": {
        "summary": "custSpaceId=demo-approved, kept while CAMS fails (stale-if-error)",
        "value": _waba_answer(APPROVED_WABA, stale=True),
    },
}
OWN_WABA_ANSWERS: dict[str, Example] = {
    "own": {"summary": "the demo account's own WABA, to a token for every space", "value": _waba_answer(OWN_WABA)},
}


def _phone(number: str, *, status: str = "CONNECTED", can_send: str | None = "AVAILABLE") -> dict[str, Any]:
    return {
        "phoneNumber": number,
        "status": status,
        "qualityRating": "GREEN",
        "messagingLimitTier": "TIER_1000",
        "canSendMessage": can_send,
    }


def _health_answer(health: dict[str, Any], *, checked: bool = True) -> dict[str, Any]:
    return {"health": health, "checkedAt": AT if checked else None, "stale": False, "requestId": REQUEST_ID}


BLOCKED_REASON = {
    "code": "MessagingBlocked",
    "entity": "waba",
    "message": "The waba's messaging is BLOCKED: There is an error with the payment method of the WhatsApp "
    "Business Account. This blocks business-initiated conversations.",
    "id": "200000000000105",
    "possibleSolution": "Add a valid payment method to the WhatsApp Business Account in Business Manager.",
}
HEALTH_ANSWERS: dict[str, Example] = {
    "healthy": {
        "summary": "custSpaceId=demo-approved: it can send",
        "value": _health_answer(
            {
                "verdict": "healthy",
                "reasons": [],
                "canSendMessage": "AVAILABLE",
                "wabaId": "200000000000101",
                "phoneNumbers": [_phone("+6500000101")],
            }
        ),
    },
    "degraded": {
        "summary": "custSpaceId=demo-pending: the WABA's review is pending",
        "value": _health_answer(
            {
                "verdict": "degraded",
                "reasons": [
                    {
                        "code": "ReviewPending",
                        "entity": "waba",
                        "message": "The WABA's review status is PENDING.",
                        "id": "200000000000102",
                    }
                ],
                "canSendMessage": "AVAILABLE",
                "wabaId": "200000000000102",
                "phoneNumbers": [_phone("+6500000102")],
            }
        ),
    },
    "blocked": {
        "summary": "custSpaceId=demo-blocked: Meta blocks the WABA, with its possible solution",
        "value": _health_answer(
            {
                "verdict": "unhealthy",
                "reasons": [BLOCKED_REASON],
                "canSendMessage": "BLOCKED",
                "wabaId": "200000000000105",
                "phoneNumbers": [_phone("+6500000105")],
            }
        ),
    },
    "unknown": {
        "summary": "a space the account does not have, or one outside the token: the same answer",
        "value": _health_answer(
            {
                "verdict": "unhealthy",
                "reasons": [
                    {
                        "code": "SpaceNotFound",
                        "entity": "binding",
                        "message": "This customer space is not known to this account.",
                    }
                ],
                "canSendMessage": None,
                "wabaId": None,
                "phoneNumbers": None,
            },
            checked=False,
        ),
    },
}
STATUS_ANSWERS: dict[str, Example] = {"ok": {"value": {"status": "ok", "requestId": REQUEST_ID}}}

MESSAGES: dict[str, tuple[str, ...]] = {
    "InvalidParameter": (
        "custSpaceId is required; GET /waba/own answers the account's own WABA.",
        "custSpaceId must be given once, as 1 to 64 characters from A-Z, a-z, 0-9, '_' and '-'.",
        "isvCode is not accepted by this endpoint.",
    ),
    "Unauthorized": ("A bearer token is required.", "The bearer token is not valid."),
    "TooManyRequests": (
        "Too many requests from this caller; try again after Retry-After seconds.",
        "This caller has spent its share of the account's calls to CAMS; try again after Retry-After.",
    ),
    "MethodNotAllowed": ("POST is not allowed here; use GET, OPTIONS.",),
    "NotFound": ("No route for /wabas.",),
    "ConfigurationError": (
        "Invalid function settings: LookupSettings: Value error, AUTH_JWKS, AUTH_ISSUER and AUTH_AUDIENCE are "
        "required when AUTH_MODE is jwt (the default)",
    ),
}
"""Messages the function really answers, where an error has more than its default one."""
PARAMETERS = {"InvalidParameter": ("custSpaceId", "custSpaceId", "isvCode")}


def error_examples(codes: tuple[str, ...]) -> dict[str, Example]:
    """An example of each answer of these error codes, named after the code (and a number past the first)."""
    examples: dict[str, Example] = {}
    for error in _errors(codes):
        messages = MESSAGES.get(error.code, (error.default_message,))
        parameters = PARAMETERS.get(error.code, (None,) * len(messages))
        for index, (message, parameter) in enumerate(zip(messages, parameters, strict=True)):
            detail = {"code": error.code, "message": message, "requestId": REQUEST_ID}
            if parameter is not None:
                detail["parameter"] = parameter
            examples[error.code + (str(index + 1) if index else "")] = {"value": {"error": detail}}
    return examples


def _errors(codes: tuple[str, ...]) -> list[type[ServiceError]]:
    return [error for error in ERROR_TABLE if error.code in codes]
