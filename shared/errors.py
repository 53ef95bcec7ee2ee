"""The error table: every failure a caller can cause or meet, with one HTTP status and one stable code.

Example:
    >>> err = WabaNotBound("No WABA is bound to this customer space.")
    >>> (err.status, err.code)
    (404, 'WabaNotBound')
"""

from __future__ import annotations

import math
from typing import Any, ClassVar


class ServiceError(Exception):
    """Base of every answerable failure; `message` is safe to show to the caller."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "InternalError"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        cams_request_id: str | None = None,
        retry_after_s: float | None = None,
        parameter: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.cams_request_id = cams_request_id
        self.retry_after_s = retry_after_s
        self.parameter = parameter

    def headers(self) -> dict[str, str]:
        """Headers the answer to this error carries besides the JSON ones."""
        return {}

    def body(self, request_id: str | None) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "requestId": request_id}
        if self.parameter:
            error["parameter"] = self.parameter
        return {"error": error}


class InvalidParameter(ServiceError):
    status, code = 400, "InvalidParameter"


class InvalidRequest(ServiceError):
    status, code = 400, "InvalidRequest"


class OriginNotAllowed(ServiceError):
    status, code = 403, "OriginNotAllowed"


class NotFound(ServiceError):
    status, code = 404, "NotFound"


class WabaNotBound(ServiceError):
    status, code = 404, "WabaNotBound"


class SpaceNotFound(ServiceError):
    """The customer space is not this account's (or the IsvCode does not match it).

    Answered as 404 rather than 403 so that callers cannot probe which spaces exist elsewhere.
    """

    status, code = 404, "SpaceNotFound"


class MethodNotAllowed(ServiceError):
    status, code = 405, "MethodNotAllowed"

    def __init__(self, message: str, *, allow: str) -> None:
        super().__init__(message)
        self.allow = allow

    def headers(self) -> dict[str, str]:
        return {"allow": self.allow}


class Throttled(ServiceError):
    status, code, retryable = 429, "Throttled", True

    def headers(self) -> dict[str, str]:
        return {"retry-after": str(max(1, math.ceil(self.retry_after_s or 1)))}


class InternalError(ServiceError):
    status, code = 500, "InternalError"


class ConfigurationError(ServiceError):
    status, code = 500, "ConfigurationError"


class UpstreamMisconfigured(ServiceError):
    """CAMS refused the function itself: its role, subscription, signature or credentials."""

    status, code = 502, "UpstreamMisconfigured"


class UpstreamBadResponse(ServiceError):
    status, code = 502, "UpstreamBadResponse"


class UpstreamError(ServiceError):
    """CAMS answered with an error this package does not know."""

    status, code = 502, "UpstreamError"


class UpstreamUnavailable(ServiceError):
    status, code, retryable = 503, "UpstreamUnavailable", True


class UpstreamTimeout(ServiceError):
    status, code, retryable = 504, "UpstreamTimeout", True


ERROR_TABLE: tuple[type[ServiceError], ...] = (
    InvalidParameter,
    InvalidRequest,
    OriginNotAllowed,
    NotFound,
    WabaNotBound,
    SpaceNotFound,
    MethodNotAllowed,
    Throttled,
    InternalError,
    ConfigurationError,
    UpstreamMisconfigured,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamUnavailable,
    UpstreamTimeout,
)
