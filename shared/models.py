"""Typed input and output: the lookup's query parameters and the WABA binding CAMS answers.

Example:
    >>> binding = WabaBinding.model_validate({"Id": "1029", "AccountReviewStatus": "APPROVED", "Extra": 1})
    >>> binding.to_json()["accountReviewStatus"], binding.to_json()["extra"]
    ('APPROVED', 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel, to_pascal

from shared.errors import InvalidParameter

SAFE_CHARACTERS = "A-Z, a-z, 0-9, '_' and '-'"
CUST_SPACE_ID_MAX = 64
ISV_CODE_MAX = 128
_SAFE_PATTERN = r"^[A-Za-z0-9_-]+$"


class LookupQuery(BaseModel):
    """The query string of `GET /waba`; parameters it does not know are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    cust_space_id: str | None = Field(
        None, alias="custSpaceId", min_length=1, max_length=CUST_SPACE_ID_MAX, pattern=_SAFE_PATTERN
    )
    isv_code: str | None = Field(
        None, alias="isvCode", min_length=1, max_length=ISV_CODE_MAX, pattern=_SAFE_PATTERN, repr=False
    )


_LIMITS = {"custSpaceId": CUST_SPACE_ID_MAX, "isvCode": ISV_CODE_MAX}


def parse_lookup_query(query: Mapping[str, str], *, allow_isv_code: bool) -> LookupQuery:
    """Validate the query parameters; a bad one raises InvalidParameter naming it, never echoing it."""
    if "isvCode" in query and not allow_isv_code:
        raise InvalidParameter("isvCode is not accepted by this endpoint.", parameter="isvCode")
    try:
        return LookupQuery.model_validate(dict(query))
    except ValidationError as exc:
        name = str(exc.errors()[0]["loc"][0])
        raise InvalidParameter(
            f"{name} must be 1 to {_LIMITS.get(name, 64)} characters from {SAFE_CHARACTERS}.", parameter=name
        ) from None


class WabaBinding(BaseModel):
    """The WABA bound to a customer space, as CAMS's `Data` (PascalCase in, camelCase out).

    Fields CAMS adds later are kept and passed on.
    """

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        coerce_numbers_to_str=True,
        alias_generator=AliasGenerator(validation_alias=to_pascal, serialization_alias=to_camel),
    )

    id: str = Field(min_length=1)
    name: str | None = None
    business_id: str | None = None
    business_name: str | None = None
    currency: str | None = None
    account_review_status: str | None = None
    message_template_namespace: str | None = None
    primary_business_location: str | None = None
    auth_international_rate_eligibility: dict[str, Any] | None = None
    is_on_biz_app: bool | None = None
    marketing_message_lite_status: str | None = None

    def to_json(self) -> dict[str, Any]:
        known = self.model_dump(by_alias=True, exclude=set(self.model_extra or {}))
        extra = {_lower_first(key): value for key, value in (self.model_extra or {}).items()}
        return {**extra, **known}


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]
