"""One value per CAMS operation: what the gateway sends, what the answer means, how it is cached and limited.

Example:
    >>> QUERY_CHATAPP_BIND_WABA.query(SpaceArguments("space-1", isv_code="isv-code-1"))
    {'CustSpaceId': 'space-1', 'IsvCode': 'isv-code-1'}
    >>> QUERY_CHATAPP_BIND_WABA.read({"Code": "OK", "Data": {"Id": "1029"}}).id
    '1029'

An operation's `Params` are those the official SDK's generated `*_with_options` method builds (a
contract test compares both at the fake CAMS); `read` turns a body CAMS answered with `Code` "OK"
into the operation's typed result, or raises what the body means (for `QueryChatappBindWaba`, an
empty `Data` is `WabaNotBound`); the gateway adds the body's RequestId to what it raises. The cache
keeps the body as answered, and reads it again with the same `read`, so that a kept answer and a
new one are the same value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ValidationError

from shared import errors
from shared.models import MessagingHealth, PhoneNumbers, WabaBinding

if TYPE_CHECKING:
    from alibabacloud_tea_openapi.utils_models import Params

    from shared.settings import FunctionSettings

API_VERSION = "2020-06-06"


@dataclass(frozen=True)
class SpaceArguments:
    """Which customer space an operation asks about; None is the account's own (`QueryChatappBindWaba`)."""

    cust_space_id: str | None
    isv_code: str | None = field(default=None, repr=False)

    def detail(self) -> dict[str, str]:
        """The arguments besides the space and the IsvCode (none here), by their CAMS names."""
        return {}


@dataclass(frozen=True)
class WabaHealthArguments(SpaceArguments):
    """A space's bound WABA, whose messaging health `GetWhatsappHealthStatus` answers (NodeType `waba`)."""

    waba_id: str = ""

    def detail(self) -> dict[str, str]:
        return {"NodeType": "waba", "WabaId": self.waba_id}


A = TypeVar("A", bound=SpaceArguments)
R = TypeVar("R")


@dataclass(frozen=True)
class Operation(Generic[A, R]):
    """A CAMS operation as this package calls it."""

    action: str
    read: Callable[[Mapping[str, Any]], R]
    """An OK body as the operation's result; raises the ServiceError the body means."""
    cached_errors: tuple[type[errors.ServiceError], ...]
    """Errors that are an answer about the space, kept like a result (for a shorter time)."""
    namespace: str
    """The kind of its cache and lock keys."""
    limit_per_second: int
    """CAMS's own limit for the account, across every caller."""
    fresh_s: Callable[[FunctionSettings], int]
    negative_fresh_s: Callable[[FunctionSettings], int]
    limit: Callable[[FunctionSettings], int] | None = None
    """The limit in force when a setting names it; else `limit_per_second`."""
    sends_isv_code: bool = True
    """Whether the operation takes an IsvCode (`GetWhatsappHealthStatus` has none)."""
    version: str = API_VERSION

    @cached_property
    def params(self) -> Params:
        from alibabacloud_tea_openapi.utils_models import Params

        return Params(
            action=self.action,
            version=self.version,
            protocol="HTTPS",
            pathname="/",
            method="POST",
            auth_type="AK",
            style="RPC",
            req_body_type="formData",
            body_type="json",
        )

    def query(self, arguments: A) -> dict[str, str]:
        """The request's query, as the generated method builds it: unset arguments are left out."""
        isv_code = arguments.isv_code if self.sends_isv_code else None
        named = {"CustSpaceId": arguments.cust_space_id, "IsvCode": isv_code, **arguments.detail()}
        return {name: value for name, value in named.items() if value is not None}

    def limit_in_force(self, settings: FunctionSettings) -> int:
        return self.limit(settings) if self.limit is not None else self.limit_per_second

    def cached_error(self, code: str) -> type[errors.ServiceError] | None:
        return next((kind for kind in self.cached_errors if kind.code == code), None)


def read_binding(body: Mapping[str, Any]) -> WabaBinding:
    data = body.get("Data")
    if data in (None, {}):
        raise errors.WabaNotBound()
    try:
        return WabaBinding.model_validate(data)
    except ValidationError:
        raise errors.UpstreamBadResponse("CAMS answered with a WABA this function cannot read.") from None


QUERY_CHATAPP_BIND_WABA: Operation[SpaceArguments, WabaBinding] = Operation(
    action="QueryChatappBindWaba",
    read=read_binding,
    cached_errors=(errors.WabaNotBound, errors.SpaceNotFound),
    namespace="waba",
    limit_per_second=10,
    fresh_s=lambda settings: settings.cache_ttl_seconds,
    negative_fresh_s=lambda settings: settings.cache_negative_ttl_seconds,
    limit=lambda settings: settings.cams_rate_limit_per_second,
)
"""The WABA bound to a space. CAMS allows 10 calls a second per account (CAMS_RATE_LIMIT_PER_SECOND)."""


def read_messaging_health(body: Mapping[str, Any]) -> MessagingHealth:
    data = body.get("Data")
    if not isinstance(data, dict):
        raise errors.UpstreamBadResponse("CAMS answered a messaging health without its Data.")
    try:
        return MessagingHealth.model_validate(data)
    except ValidationError:
        raise errors.UpstreamBadResponse("CAMS answered a messaging health this function cannot read.") from None


def read_phone_numbers(body: Mapping[str, Any]) -> PhoneNumbers:
    try:
        return PhoneNumbers.model_validate({"PhoneNumbers": body.get("PhoneNumbers") or []})
    except ValidationError:
        raise errors.UpstreamBadResponse("CAMS answered phone numbers this function cannot read.") from None


GET_WHATSAPP_HEALTH_STATUS: Operation[WabaHealthArguments, MessagingHealth] = Operation(
    action="GetWhatsappHealthStatus",
    read=read_messaging_health,
    cached_errors=(errors.SpaceNotFound,),
    namespace="health",
    limit_per_second=5,
    fresh_s=lambda settings: settings.health_cache_ttl_seconds,
    negative_fresh_s=lambda settings: settings.cache_negative_ttl_seconds,
    sends_isv_code=False,
)
"""Whether a WABA can send (Meta's messaging health, through CAMS). CAMS allows 5 calls a second per account."""

QUERY_CHATAPP_PHONE_NUMBERS: Operation[SpaceArguments, PhoneNumbers] = Operation(
    action="QueryChatappPhoneNumbers",
    read=read_phone_numbers,
    cached_errors=(errors.SpaceNotFound,),
    namespace="phones",
    limit_per_second=10,
    fresh_s=lambda settings: settings.health_cache_ttl_seconds,
    negative_fresh_s=lambda settings: settings.cache_negative_ttl_seconds,
)
"""A space's phone numbers, their status, quality rating and tier. CAMS allows 10 calls a second per account."""
