"""The error table: every failure a caller can cause or meet, with one HTTP status and one stable code.

Example:
    >>> err = WabaNotBound()
    >>> (err.status, err.code, err.message)
    (404, 'WabaNotBound', 'No WABA is bound to this customer space.')

Each class declares its status and its default message where it is defined, as moto's exception
classes do; `ERROR_TABLE` is every class so declared, in the order of definition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

_TABLE: list[type[ServiceError]] = []


class ServiceError(Exception):
    """Base of every answerable failure; `message` is safe to show to the caller.

    Each subclass names its HTTP status, its default message (and whether CAMS may be asked again);
    its code is its name unless it answers as another's.
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "InternalError"
    retryable: ClassVar[bool] = False
    default_message: ClassVar[str] = "The function failed unexpectedly."

    def __init_subclass__(
        cls, *, status: int = 500, message: str, retryable: bool = False, code: str | None = None
    ) -> None:
        super().__init_subclass__()
        cls.status, cls.code, cls.retryable, cls.default_message = status, code or cls.__name__, retryable, message
        if code is None:
            _TABLE.append(cls)

    def __init__(
        self,
        message: str | None = None,
        *,
        cams_request_id: str | None = None,
        retry_after_s: float | None = None,
        parameter: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        self.cams_request_id = cams_request_id
        self.retry_after_s = retry_after_s
        self.parameter = parameter
        self.context: Mapping[str, Any] = context or {}
        """Fields for the invocation's request line (the caller's `sub`, why a token failed), never for the answer."""

    def logged_with(self, fields: Mapping[str, Any]) -> ServiceError:
        """This error, with `fields` for the request line too (where a route met it, say)."""
        self.context = {**self.context, **fields}
        return self

    def headers(self) -> dict[str, str]:
        """Headers the answer to this error carries besides the JSON ones."""
        return {}

    def body(self, request_id: str | None) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "requestId": request_id}
        if self.parameter:
            error["parameter"] = self.parameter
        return {"error": error}


class InvalidParameter(ServiceError, status=400, message="A query parameter is not valid."):
    """A query parameter breaks its rules (`parameter` names it), or CAMS refused the parameters."""


class InvalidRequest(ServiceError, status=400, message="The request is not an FC3 HTTP event."):
    """The event is not an FC3 HTTP event: not JSON, or no method."""


class Unauthorized(ServiceError, status=401, message="A bearer token is required."):
    """No bearer token, or one that fails a check; `WWW-Authenticate` says so as RFC 6750 allows, no more.

    >>> Unauthorized.missing().headers(), Unauthorized.invalid("expired").headers()
    ({'www-authenticate': 'Bearer'}, {'www-authenticate': 'Bearer error="invalid_token"'})
    """

    def __init__(self, message: str, *, invalid_token: bool, reason: str) -> None:
        super().__init__(message, context={"authError": reason})
        self.invalid_token = invalid_token

    @classmethod
    def missing(cls, reason: str = "missing") -> Unauthorized:
        """No token, or another scheme than Bearer: the challenge alone (RFC 6750, section 3.1)."""
        return cls("A bearer token is required.", invalid_token=False, reason=reason)

    @classmethod
    def invalid(cls, reason: str) -> Unauthorized:
        """A token that fails any check; `reason` goes to the log line only, never to the caller."""
        return cls("The bearer token is not valid.", invalid_token=True, reason=reason)

    def headers(self) -> dict[str, str]:
        return {"www-authenticate": 'Bearer error="invalid_token"' if self.invalid_token else "Bearer"}


class OriginNotAllowed(ServiceError, status=403, message="This origin may not call this endpoint."):
    """A CORS preflight from an origin not in CORS_ALLOWED_ORIGINS."""


class NotFound(ServiceError, status=404, message="No such route."):
    """No such route."""


class WabaNotBound(ServiceError, status=404, message="No WABA is bound to this customer space."):
    """The space exists but no WABA is bound to it: CAMS answered an empty `Data`."""


class SpaceNotFound(ServiceError, status=404, message="This customer space is not known to this account."):
    """The customer space is not this account's (or the IsvCode does not match it).

    Answered as 404 rather than 403 so that callers cannot probe which spaces exist elsewhere.
    """


class MethodNotAllowed(ServiceError, status=405, message="This method is not allowed here."):
    """A method the route does not take; `Allow` lists those it does."""

    def __init__(self, message: str, *, allow: str) -> None:
        super().__init__(message)
        self.allow = allow

    def headers(self) -> dict[str, str]:
        return {"allow": self.allow}


class TooManyRequests(
    ServiceError, status=429, message="Too many requests from this caller; try again after Retry-After seconds."
):
    """This caller is over CALLER_RATE_PER_SECOND; `Retry-After` says when its next request may go."""

    def headers(self) -> dict[str, str]:
        return {"retry-after": str(max(1, math.ceil(self.retry_after_s or 1)))}


class Throttled(
    ServiceError, status=429, retryable=True, message="CAMS is throttling this account; try again shortly."
):
    """CAMS still throttled after the retries; `Retry-After` says when to come back."""

    def headers(self) -> dict[str, str]:
        return {"retry-after": str(max(1, math.ceil(self.retry_after_s or 1)))}


class QuotaExhausted(
    Throttled,
    status=429,
    code="Throttled",
    message="This account's calls to CAMS are at their limit; try again shortly.",
):
    """The account's quota has no slot soon enough: answered as `Throttled`, and never retried in the
    same invocation, which would only hold its instance while the queue for slots grows."""


class InternalError(ServiceError, status=500, message="The function failed unexpectedly."):
    """A bug: logged with its type, never a traceback in the answer."""


class ConfigurationError(ServiceError, status=500, message="A function setting is not valid."):
    """A setting is invalid; the message names the variable, never its value."""


class UpstreamMisconfigured(ServiceError, status=502, message="The function has no usable credentials for CAMS."):
    """CAMS refused the function itself: its role, subscription, signature or credentials."""


class UpstreamBadResponse(ServiceError, status=502, message="CAMS answered with something this function cannot read."):
    """CAMS answered something unreadable: not JSON, or a WABA without an id."""


class UpstreamError(ServiceError, status=502, message="CAMS answered with an unexpected error."):
    """CAMS answered with an error this package does not know."""


class UpstreamUnavailable(ServiceError, status=503, retryable=True, message="CAMS is unavailable."):
    """CAMS answered 5xx, or could not be reached, after the retries."""


class UpstreamTimeout(ServiceError, status=504, retryable=True, message="CAMS did not answer in time."):
    """CAMS did not answer before the function's deadline."""


ERROR_TABLE: tuple[type[ServiceError], ...] = tuple(_TABLE)
"""Every error a caller can meet, each code once: what the README's error table lists."""
