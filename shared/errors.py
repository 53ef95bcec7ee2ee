"""The error table: every failure a caller can cause or meet, with one HTTP status and one stable code.

Example:
    >>> err = WabaNotBound("No WABA is bound to this customer space.")
    >>> (err.status, err.code)
    (404, 'WabaNotBound')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar


class ServiceError(Exception):
    """Base of every answerable failure; `message` is safe to show to the caller.

    Each subclass names its HTTP status (and whether CAMS may be asked again); its code is its name.
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "InternalError"
    retryable: ClassVar[bool] = False

    def __init_subclass__(cls, *, status: int = 500, retryable: bool = False, code: str | None = None) -> None:
        super().__init_subclass__()
        cls.status, cls.code, cls.retryable = status, code or cls.__name__, retryable

    def __init__(
        self,
        message: str,
        *,
        cams_request_id: str | None = None,
        retry_after_s: float | None = None,
        parameter: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.cams_request_id = cams_request_id
        self.retry_after_s = retry_after_s
        self.parameter = parameter
        self.context: Mapping[str, Any] = context or {}
        """Fields for the invocation's request line (the caller's `sub`, why a token failed), never for the answer."""

    def headers(self) -> dict[str, str]:
        """Headers the answer to this error carries besides the JSON ones."""
        return {}

    def body(self, request_id: str | None) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "requestId": request_id}
        if self.parameter:
            error["parameter"] = self.parameter
        return {"error": error}


class InvalidParameter(ServiceError, status=400):
    """A query parameter breaks its rules (`parameter` names it), or CAMS refused the parameters."""


class InvalidRequest(ServiceError, status=400):
    """The event is not an FC3 HTTP event: not JSON, or no method."""


class Unauthorized(ServiceError, status=401):
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


class OriginNotAllowed(ServiceError, status=403):
    """A CORS preflight from an origin not in CORS_ALLOWED_ORIGINS."""


class NotFound(ServiceError, status=404):
    """No such route."""


class WabaNotBound(ServiceError, status=404):
    """The space exists but no WABA is bound to it: CAMS answered an empty `Data`."""


class SpaceNotFound(ServiceError, status=404):
    """The customer space is not this account's (or the IsvCode does not match it).

    Answered as 404 rather than 403 so that callers cannot probe which spaces exist elsewhere.
    """


class MethodNotAllowed(ServiceError, status=405):
    """A method the route does not take; `Allow` lists those it does."""

    def __init__(self, message: str, *, allow: str) -> None:
        super().__init__(message)
        self.allow = allow

    def headers(self) -> dict[str, str]:
        return {"allow": self.allow}


class TooManyRequests(ServiceError, status=429):
    """This caller is over CALLER_RATE_PER_SECOND; `Retry-After` says when its next request may go."""

    def headers(self) -> dict[str, str]:
        return {"retry-after": str(max(1, math.ceil(self.retry_after_s or 1)))}


class Throttled(ServiceError, status=429, retryable=True):
    """CAMS still throttled after the retries; `Retry-After` says when to come back."""

    def headers(self) -> dict[str, str]:
        return {"retry-after": str(max(1, math.ceil(self.retry_after_s or 1)))}


class QuotaExhausted(Throttled, status=429, code="Throttled"):
    """The account's quota has no slot soon enough: answered as `Throttled`, and never retried in the
    same invocation, which would only hold its instance while the queue for slots grows."""


class InternalError(ServiceError, status=500):
    """A bug: logged with its type, never a traceback in the answer."""


class ConfigurationError(ServiceError, status=500):
    """A setting is invalid; the message names the variable, never its value."""


class UpstreamMisconfigured(ServiceError, status=502):
    """CAMS refused the function itself: its role, subscription, signature or credentials."""


class UpstreamBadResponse(ServiceError, status=502):
    """CAMS answered something unreadable: not JSON, or a WABA without an id."""


class UpstreamError(ServiceError, status=502):
    """CAMS answered with an error this package does not know."""


class UpstreamUnavailable(ServiceError, status=503, retryable=True):
    """CAMS answered 5xx, or could not be reached, after the retries."""


class UpstreamTimeout(ServiceError, status=504, retryable=True):
    """CAMS did not answer before the function's deadline."""


ERROR_TABLE: tuple[type[ServiceError], ...] = (
    InvalidParameter,
    InvalidRequest,
    Unauthorized,
    OriginNotAllowed,
    NotFound,
    WabaNotBound,
    SpaceNotFound,
    MethodNotAllowed,
    TooManyRequests,
    Throttled,
    InternalError,
    ConfigurationError,
    UpstreamMisconfigured,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamUnavailable,
    UpstreamTimeout,
)
