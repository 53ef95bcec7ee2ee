"""The lookup function's answers, as models: what its OpenAPI document says each route answers.

The routes build their answers as plain dicts (`shared/lookup/answers.py`, `shared/health.py`,
`shared/errors.py`); these models describe them for the document alone, which imports this module
on the first `GET /openapi.json`, never on the cold path. The tests hold every real answer to the
schemas generated from them.

Example:
    >>> schema = HealthReason.model_json_schema(by_alias=True, mode="serialization")
    >>> sorted(schema["required"]), schema["properties"]["id"]["type"]
    (['code', 'entity', 'message'], 'string')
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, SkipJsonSchema

from shared.errors import ERROR_TABLE
from shared.health import SEVERITY, Entity
from shared.models import WabaBinding

RouteVerdict = Literal["healthy", "degraded", "unhealthy", "error"]
"""The verdicts `GET /waba/health` answers (the timer alone also reports `unchecked`)."""
REQUEST_ID = "FC's request id of this invocation, as in the `X-Fc-Request-Id` header."


class Answer(BaseModel):
    """A JSON answer of the function: camelCase fields, none beyond those listed."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


WABA_FIELDS = {
    "id": "The WABA's id: the one field CAMS always gives.",
    "accountReviewStatus": "PENDING, APPROVED, REJECTED or DISABLED, as CAMS passes it (another is passed on too).",
    "authInternationalRateEligibility": "An object, as CAMS passes it.",
}


def _describe_waba(schema: JsonDict) -> None:
    properties = schema["properties"]
    assert isinstance(properties, dict)
    for name, description in WABA_FIELDS.items():
        field = properties[name]
        assert isinstance(field, dict)
        field["description"] = description


class Waba(WabaBinding):
    """The WABA bound to a customer space: CAMS's `Data`, in camelCase.

    Every field listed is always there (`null` when CAMS leaves it out); a field CAMS adds later is
    passed on too, its first letter lowered.
    """

    model_config = ConfigDict(json_schema_serialization_defaults_required=True, json_schema_extra=_describe_waba)


class WabaAnswer(Answer):
    """200 of `GET /waba` and `GET /waba/own`."""

    waba: Waba
    request_id: str | None = Field(description=REQUEST_ID)
    cams_request_id: str | None = Field(description="CAMS's RequestId of the answer this one stands on.")
    stale: bool = Field(description="Whether the answer was kept past its freshness because CAMS failed.")
    cached_at: AwareDatetime = Field(description="When CAMS gave the answer (RFC 3339, UTC).")


class HealthReason(Answer):
    """One thing wrong with a space; its code is stable and part of the API."""

    code: str = Field(json_schema_extra={"enum": list(SEVERITY)})
    entity: Entity = Field(description="What the reason is about: the binding, the WABA or a phone number.")
    message: str
    id: str | SkipJsonSchema[None] = Field(None, description="The WABA id or the phone number, when there is one.")
    possible_solution: str | SkipJsonSchema[None] = Field(
        None, description="Meta's possible solution, passed through, when CAMS gives one."
    )


class HealthPhoneNumber(Answer):
    """One of the WABA's phone numbers, as CAMS names its states (a tier stays CAMS's string)."""

    phone_number: str
    status: str | None = Field(description="CONNECTED, FLAGGED, RATE_LIMITED, PENDING, OFFLINE, PAUSED, DELETED, ...")
    quality_rating: str | None = Field(description="GREEN, YELLOW, RED, NA, UNKNOWN, ...")
    messaging_limit_tier: str | None = Field(description="TIER_10, TIER_1000, UNLIMITED, ...")
    can_send_message: str | None = Field(description="AVAILABLE, LIMITED or BLOCKED, when CAMS names the number.")


class Health(Answer):
    """Whether the space's WABA can send, and why not: the verdict is the worst of the reasons."""

    verdict: RouteVerdict
    reasons: list[HealthReason]
    can_send_message: str | None = Field(description="Meta's CanSendMessage for the WABA: AVAILABLE, LIMITED, BLOCKED.")
    waba_id: str | None = Field(description="The bound WABA's id; null when none is bound or the space is unknown.")
    phone_numbers: list[HealthPhoneNumber] | None = Field(description="null when they could not be asked.")


class HealthAnswer(Answer):
    """200 of `GET /waba/health`."""

    health: Health
    checked_at: AwareDatetime | None = Field(
        description="When CAMS gave the oldest answer this health stands on; null when CAMS was not asked."
    )
    stale: bool = Field(description="Whether any answer it stands on was kept past its freshness because CAMS failed.")
    request_id: str | None = Field(description=REQUEST_ID)


class StatusAnswer(Answer):
    """200 of `GET /healthz`: the function answers, without a token and without calling CAMS."""

    status: Literal["ok"]
    request_id: str | None = Field(description=REQUEST_ID)


class ErrorDetail(Answer):
    """What went wrong, with no internals; the code is stable and part of the API."""

    code: str = Field(json_schema_extra={"enum": [error.code for error in ERROR_TABLE]})
    message: str = Field(description="Safe to show; never a value the caller sent, nor a setting's value.")
    request_id: str | None = Field(description=REQUEST_ID)
    parameter: str | SkipJsonSchema[None] = Field(None, description="The query parameter at fault, for input errors.")


class ErrorAnswer(Answer):
    """Every error the function answers."""

    error: ErrorDetail


ANSWERS: tuple[type[BaseModel], ...] = (WabaAnswer, HealthAnswer, StatusAnswer, ErrorAnswer)


class AnswerSchema(GenerateJsonSchema):
    """The JSON Schema of an answer: titles for models only (a field's would repeat its name), and no
    `default: null`, which says nothing of an answer, and of a field left out, contradicts its type."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> JsonSchemaValue:
        generated = super().default_schema(schema)
        if generated.get("default", ...) is None:
            del generated["default"]
        return generated
