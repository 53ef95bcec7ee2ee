"""What every function needs of its FC context: ids, time left, credentials, and retry logs.

Example:
    >>> from types import SimpleNamespace
    >>> context = SimpleNamespace(request_id="r-1", function=SimpleNamespace(timeout=3))
    >>> request_id_of(context), function_timeout_s(context)
    ('r-1', 3.0)
"""

from __future__ import annotations

import logging
import os

from shared.credentials import StaticCredentials, resolve_credentials
from shared.errors import ServiceError
from shared.logs import log_event
from shared.retry import Deadline, RetryLogger
from shared.settings import CamsSettings

DEFAULT_TIMEOUT_S = 10.0
"""Assumed when the context does not say how long the function may run."""


def request_id_of(context: object) -> str | None:
    request_id = getattr(context, "request_id", None)
    return request_id if isinstance(request_id, str) else None


def function_timeout_s(context: object) -> float:
    timeout = getattr(getattr(context, "function", None), "timeout", None)
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return float(timeout)
    return DEFAULT_TIMEOUT_S


def deadline_for(context: object, started: float, settings: CamsSettings) -> Deadline:
    """When the work must end: the invocation's start plus FC's timeout, less the margin to answer."""
    return Deadline(started + function_timeout_s(context) - settings.deadline_margin_ms / 1000)


def credentials_for(context: object) -> StaticCredentials | None:
    return resolve_credentials(context, os.environ)


def secrets_of(context: object) -> list[str]:
    """Every secret this invocation holds before it reads a request: credentials and the IsvCode."""
    credentials = credentials_for(context)
    return [*(credentials.secrets() if credentials else ()), os.environ.get("CAMS_ISV_CODE", "")]


def retry_logger(event: str) -> RetryLogger:
    """A retry logger writing `event` lines with the reason, the attempt that failed and the delay."""

    def log(error: ServiceError, attempt: int, delay_s: float) -> None:
        log_event(
            event,
            logging.WARNING,
            reason=error.code,
            camsRequestId=error.cams_request_id,
            attempt=attempt,
            delayMs=round(delay_s * 1000),
        )

    return log


log_retry = retry_logger("cams.retry")
