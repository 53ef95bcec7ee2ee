"""Logs as one JSON object per line, so that Log Service can query every field.

Example:
    >>> with log_context(requestId="req-1", secrets=["s3cr3t"]):
    ...     log_event("lookup", outcome="ok", note="s3cr3t is scrubbed")
    {"time": "...", "level": "INFO", "event": "lookup", "requestId": "req-1", ..., "note": "*** is scrubbed"}

Every line carries the fields bound by `log_context` (the FC request id, and later the CAMS
RequestId). Secrets registered there, and any field whose name looks like a credential, are
replaced by `***` in the finished line, whatever path they took into it. This package's lines are
written to stdout directly rather than through `logging`, whose records cost more than the whole
line here; the records of every library (the SDK, its credentials chain, urllib3, redis, whatever
name their loggers have) reach the same lines through one handler, which replaces the plain-text
handlers some of them attach to stderr themselves.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

REDACTED = "***"
_SENSITIVE_NAME = re.compile(r"secret|token|password|authorization|isv_?code|access_?key", re.IGNORECASE)
_MIN_SECRET_LENGTH = 4


Secrets = tuple[tuple[str, str], ...]
"""Secrets to scrub, each with its JSON-escaped form, longest first."""


class _Scope:
    """The fields and secrets of one invocation (or of a nested `log_context`)."""

    __slots__ = ("fields", "secrets")

    def __init__(self, fields: dict[str, Any], secrets: Secrets) -> None:
        self.fields = _redact_names(fields)  # bound once, so redacted once rather than on every line
        self.secrets = secrets

    def add_secrets(self, secrets: Iterable[str | None]) -> None:
        self.secrets = _with_secrets(self.secrets, tuple(secrets))


@lru_cache(maxsize=256)
def _with_secrets(known: Secrets, secrets: tuple[str | None, ...]) -> Secrets:
    """`known` and `secrets`, in scrubbing order; found once for the credentials and settings that
    come with invocation after invocation."""
    kept = dict(known)
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LENGTH and secret not in kept:
            kept[secret] = json.dumps(secret, ensure_ascii=False)[1:-1]
    return tuple(sorted(kept.items(), key=lambda pair: len(pair[0]), reverse=True))


_scope: ContextVar[_Scope | None] = ContextVar("log_scope", default=None)


def scrub(text: str) -> str:
    """Replace every registered secret in `text`."""
    scope = _scope.get()
    for secret, escaped in scope.secrets if scope else ():
        text = text.replace(secret, REDACTED)
        if escaped != secret:
            text = text.replace(escaped, REDACTED)
    return text


def _timestamp(now: float) -> str:
    """RFC 3339 in UTC, to the millisecond; the part to the second is formatted once a second."""
    global _last_second
    second, text = _last_second
    if second != int(now):
        second, text = int(now), time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        _last_second = (second, text)
    return f"{text}.{int(now % 1 * 1000):03d}Z"


_last_second: tuple[int, str] = (-1, "")


def _redact_names(document: dict[str, Any]) -> dict[str, Any]:
    return {
        key: REDACTED if _is_sensitive(key) else _redact_names(value) if isinstance(value, dict) else value
        for key, value in document.items()
    }


@lru_cache(maxsize=256)
def _is_sensitive(name: str) -> bool:
    return _SENSITIVE_NAME.search(str(name)) is not None


_level = logging.INFO
_installed_level: int | None = None
_routed_loggers = -1
"""How many loggers the process had when they were last routed: a new one is routed too."""
KNOWN_LOGGERS = (
    "alibabacloud_credentials",
    "alibabacloud_tea_openapi",
    "darabonba",
    "urllib3",
    "shared",
    "credentials",
    "darabonba-core",
    "alibabacloud-tea",
    "aiohttp",
    "apscheduler",
    "redis",
    "asyncio",
)
"""The loggers of the SDK and its libraries, made and routed before they exist: a child made later
(`urllib3.connectionpool`) reaches the stream through them."""
NOT_THE_FUNCTIONS = ("werkzeug", "pytest_httpserver")
"""Loggers of the local fake CAMS's HTTP server, which the tests and `make serve` run in the
function's process: their lines are the fake's, not the function's, and are left as they are."""


class JsonLogHandler(logging.Handler):
    """Writes a library's log record as one JSON line, scrubbed like every other line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        # Scrubbed in the record itself, so that any handler after this one sees no secret either.
        record.msg, record.args = scrub(message), ()
        error = record.exc_info[1] if record.exc_info else None
        record.exc_info = record.exc_text = None
        extra = {name: value for name, value in record.__dict__.items() if name not in _RECORD_ATTRIBUTES}
        emit("library", record.levelno, error, {**extra, "logger": record.name, "message": record.msg[:2000]})


_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
"""What every record has: the rest of a record's attributes are the `extra` fields it was logged with."""
_handler = JsonLogHandler()


def set_level(level: str) -> None:
    """The level of this package's lines and of every library logger routed into them.

    Called by every invocation with its settings; only a change of level, or a logger created since
    the last call, touches the loggers, since `Logger.setLevel` clears the cache of every logger in
    the process.
    """
    global _level, _installed_level, _routed_loggers
    _level = logging.getLevelName(level)
    loggers = logging.Logger.manager.loggerDict
    if _level == _installed_level and len(loggers) == _routed_loggers:
        return
    for name in KNOWN_LOGGERS:
        logging.getLogger(name)
    _installed_level, _routed_loggers = _level, len(loggers)
    for name, logger in list(loggers.items()):
        if isinstance(logger, logging.Logger) and name.partition(".")[0] not in NOT_THE_FUNCTIONS:
            _route(logger)


def _route(logger: logging.Logger) -> None:
    """Send a logger's records to the JSON stream alone, at this package's level.

    The SDK's `credentials` and `darabonba-core` loggers bring a plain-text handler of their own on
    stderr; the runtime's root handler would print a record again, in another format.
    """
    for handler in list(logger.handlers):
        if handler is not _handler and type(handler) is logging.StreamHandler:
            logger.removeHandler(handler)
    if _handler not in logger.handlers:
        logger.addHandler(_handler)
    logger.propagate = False
    logger.setLevel(_level)


class log_context:
    """Bind `fields` to every line logged inside, and scrub `secrets` from them.

    A class rather than a generator (and named as one): it opens and closes on every invocation.
    """

    __slots__ = ("_scope", "_token")

    def __init__(self, secrets: Iterable[str | None] = (), **fields: Any) -> None:
        parent = _scope.get()
        if parent is None:
            self._scope = _Scope(fields, _with_secrets((), tuple(secrets)))
        else:
            self._scope = _Scope({**parent.fields, **fields}, _with_secrets(parent.secrets, tuple(secrets)))

    def __enter__(self) -> None:
        self._token = _scope.set(self._scope)

    def __exit__(self, *exc_info: object) -> None:
        _scope.reset(self._token)


def add_secrets(secrets: Iterable[str | None]) -> None:
    """Scrub these too from every line of the current `log_context`: secrets found in settings, say."""
    scope = _scope.get()
    if scope is not None:
        scope.add_secrets(secrets)


def log_event(event: str, level: int = logging.INFO, error: BaseException | None = None, **fields: Any) -> None:
    """Write one line to stdout, which FC sends to Log Service.

    An `error` is logged as its type and scrubbed message, never as a traceback: the frames and
    message of a traceback can hold anything.
    """
    emit(event, level, error, fields)


def emit(event: str, level: int, error: BaseException | None, fields: dict[str, Any]) -> None:
    """`log_event` for fields of any name (a library record's `extra` may hold an `error`)."""
    if level < _level:
        return
    if error is not None:
        fields["exception"] = f"{type(error).__name__}: {error}"[:500]
    scope = _scope.get()
    document = {
        "time": _timestamp(time.time()),
        "level": logging.getLevelName(level),
        "event": event,
        **(scope.fields if scope else {}),
        **_redact_names(fields),
    }
    line = scrub(json.dumps(document, default=str, ensure_ascii=False))
    try:
        sys.stdout.write(line + "\n")
    except UnicodeEncodeError:  # a lone surrogate that no check caught must not lose the line
        sys.stdout.write(line.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")
    sys.stdout.flush()


set_level("INFO")
