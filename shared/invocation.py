"""One invocation of a function: what every route and check needs, built once from FC's context.

Example:
    >>> from types import SimpleNamespace
    >>> from shared.settings import FunctionSettings
    >>> context = SimpleNamespace(request_id="r-1", function=SimpleNamespace(timeout=3))
    >>> with begin(context, FunctionSettings) as invocation:
    ...     invocation.request_id, round(invocation.deadline.remaining(), 1)
    ('r-1', 2.5)

The log scope opens with the invocation: every line carries the request id, and the credentials
and the secrets in the settings are scrubbed from it. An invalid setting is raised where the
settings are used, so that it becomes the function's documented answer rather than a crash.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from contextlib import suppress
from functools import cached_property
from typing import Generic

from shared.clock import SYSTEM_CLOCK, Clock
from shared.credentials import StaticCredentials, resolve_credentials
from shared.errors import ConfigurationError, ServiceError
from shared.logs import add_secrets, log_context, log_event, set_level
from shared.retry import Deadline, RetryLogger
from shared.settings import FunctionSettings, S, current_settings

DEFAULT_TIMEOUT_S = 10.0
"""Assumed when the context does not say how long the function may run."""
MAX_TIMEOUT_S = 86_400.0
"""FC's longest timeout: a context claiming more (or a non-finite one) is read as this."""


class Invocation(Generic[S]):
    """The request id, deadline, credentials and settings of one invocation, and its clock."""

    def __init__(self, context: object, settings_model: type[S], clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self.started = clock.monotonic()
        self.request_id = request_id_of(context)
        self.account_id = _text_of(context, "account_id") or os.environ.get("FC_ACCOUNT_ID") or "local"
        self.region = _text_of(context, "region") or os.environ.get("FC_REGION") or "local"
        self.timeout_s = function_timeout_s(context)
        self.credentials: StaticCredentials | None = resolve_credentials(context, os.environ)
        self._settings_model = settings_model

    @cached_property
    def settings(self) -> S:
        """This instance's settings; raises ConfigurationError while one is invalid."""
        settings = current_settings(self._settings_model)
        secrets = _secrets_of(settings)
        if secrets:
            add_secrets(secrets)
        set_level(settings.log_level)
        return settings

    @cached_property
    def deadline(self) -> Deadline:
        """When the work must end: the start plus FC's timeout, less the margin kept to answer."""
        margin_s = self.settings.deadline_margin_ms / 1000
        return Deadline(self.started + self.timeout_s - margin_s, self.clock)

    def elapsed_ms(self) -> float:
        return round((self.clock.monotonic() - self.started) * 1000, 1)


def begin(
    context: object, settings_model: type[S], clock: Clock = SYSTEM_CLOCK, secrets: Iterable[str | None] = ()
) -> Begun[S]:
    """The invocation of `context`, inside a log scope that carries its request id and scrubs
    its credentials, its settings' secrets and `secrets` (the caller's)."""
    return Begun(Invocation(context, settings_model, clock), secrets)


class Begun(Generic[S]):
    """`with begin(...) as invocation:` the invocation's log scope, open while its work runs."""

    __slots__ = ("_logs", "invocation")

    def __init__(self, invocation: Invocation[S], secrets: Iterable[str | None]) -> None:
        self.invocation = invocation
        credentials = invocation.credentials.secrets() if invocation.credentials else ()
        self._logs = log_context((*credentials, *secrets), requestId=invocation.request_id)

    def __enter__(self) -> Invocation[S]:
        self._logs.__enter__()
        with suppress(ConfigurationError):  # raised again where the settings are used, and answered there
            self.invocation.settings  # noqa: B018 - validated now, so that its secrets are scrubbed from the first line
        return self.invocation

    def __exit__(self, *exc_info: object) -> None:
        self._logs.__exit__(*exc_info)


_last_secrets: tuple[FunctionSettings | None, tuple[str, ...]] = (None, ())


def _secrets_of(settings: FunctionSettings) -> tuple[str, ...]:
    """The secrets of this instance's settings, found once: the same settings come with every invocation."""
    global _last_secrets
    if _last_secrets[0] is not settings:
        _last_secrets = (settings, tuple(settings.secrets()))
    return _last_secrets[1]


def request_id_of(context: object) -> str | None:
    return _text_of(context, "request_id")


def _text_of(context: object, name: str) -> str | None:
    value = getattr(context, name, None)
    return value if isinstance(value, str) and value else None


def function_timeout_s(context: object) -> float:
    timeout = getattr(getattr(context, "function", None), "timeout", None)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
        return DEFAULT_TIMEOUT_S
    return float(timeout) if math.isfinite(timeout) and timeout <= MAX_TIMEOUT_S else MAX_TIMEOUT_S


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
