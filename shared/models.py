"""The WABA binding CAMS answers, typed, and the character set of every id this package takes in.

Example:
    >>> binding = WabaBinding.model_validate({"Id": "1029", "AccountReviewStatus": "APPROVED", "Extra": 1})
    >>> binding.to_json()["accountReviewStatus"], binding.to_json()["extra"]
    ('APPROVED', 1)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel, to_pascal

SAFE_ID_PATTERN = r"^[A-Za-z0-9_-]+$"
"""Every id this package takes from outside (space ids, IsvCodes, references) keeps to this set."""
SAFE_CHARACTERS = "A-Z, a-z, 0-9, '_' and '-'"


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
        """The binding as answered (camelCase): a copy of the document the model builds once."""
        return dict(self.json_document)

    @cached_property
    def json_document(self) -> dict[str, Any]:
        """The answer's document, built once: a cached binding is answered again and again."""
        known = self.model_dump(by_alias=True, exclude=set(self.model_extra or {}))
        extra = {_lower_first(key): value for key, value in (self.model_extra or {}).items()}
        return {**extra, **known}

    @cached_property
    def digest(self) -> str:
        """`digest_of` the answer's document, found once."""
        return digest_of(self.json_document)


def digest_of(document: Mapping[str, Any]) -> str:
    """A short digest of a JSON document that does not depend on the order of its keys."""
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:24]


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


class _CamsModel(BaseModel):
    """A part of a CAMS answer: PascalCase in, camelCase out, unknown fields kept.

    A space's health reads these; a lookup does not: each validator is built when first used.
    """

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        defer_build=True,
        coerce_numbers_to_str=True,
        alias_generator=AliasGenerator(validation_alias=to_pascal, serialization_alias=to_camel),
    )

    def to_json(self) -> dict[str, Any]:
        known = self.model_dump(by_alias=True, exclude=set(self.model_extra or {}))
        extra = {_lower_first(key): value for key, value in (self.model_extra or {}).items()}
        return {**extra, **known}


class HealthError(_CamsModel):
    """Why Meta limits or blocks an entity: its code, description and possible solution."""

    error_code: str | None = None
    error_description: str | None = None
    possible_solution: str | None = None


class HealthEntity(_CamsModel):
    """One entity of a messaging health answer: a WABA, a business, a phone number or a template."""

    entity_type: str | None = None
    can_send_message: str | None = None
    waba_id: str | None = None
    business_id: str | None = None
    phone_number: str | None = None
    errors: tuple[HealthError, ...] = ()


class MessagingHealth(_CamsModel):
    """`GetWhatsappHealthStatus`'s `Data`: whether messages can be sent (AVAILABLE, LIMITED, BLOCKED), and why."""

    can_send_message: str | None = None
    entities: tuple[HealthEntity, ...] = ()


class PhoneNumber(_CamsModel):
    """One of `QueryChatappPhoneNumbers`'s `PhoneNumbers`; its tier stays a string (CAMS's names are not Meta's)."""

    phone_number: str = Field(min_length=1)
    status: str | None = None
    quality_rating: str | None = None
    messaging_limit_tier: str | None = None
    code_verification_status: str | None = None
    name_status: str | None = None
    verified_name: str | None = None


class PhoneNumbers(_CamsModel):
    """The phone numbers of a space, as `QueryChatappPhoneNumbers` lists them."""

    phone_numbers: tuple[PhoneNumber, ...] = ()
