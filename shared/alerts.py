"""Alerts to a webhook: a DingTalk custom robot (optionally signed), or generic JSON.

Example:
    >>> signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "SEC1", timestamp_ms=1700000000000)
    'https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign=ukR4%2BWoOOBTGaOauYqugxVrMSFyr92q4hPxJxuOkiio%3D'
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any, Literal

from shared.errors import UpstreamError, UpstreamUnavailable
from shared.retry import Attempted, Deadline, RetryLogger, RetryPolicy, call_with_retry

AlertFormat = Literal["json", "dingtalk"]
WEBHOOK_POLICY = RetryPolicy(max_attempts=3, base_delay_s=0.2, max_delay_s=1.0, min_attempt_s=0.3)
DINGTALK_SEND_TOO_FAST = 130101
JSON_CONTENT = {"content-type": "application/json; charset=utf-8"}
MAX_ANSWER_BYTES = 64 * 1024


def signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """DingTalk's signature: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, base64, URL-encoded."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def dingtalk_message(title: str, lines: list[str]) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": title, "text": "\n".join([f"### {title}", "", *lines])}}


def send(
    url: str,
    body: Mapping[str, Any],
    deadline: Deadline,
    *,
    secret: str | None = None,
    timeout_s: float = 3.0,
    on_retry: RetryLogger | None = None,
) -> Attempted[int]:
    """POST `body` as JSON, retried a little within `deadline`; the outcome is the HTTP status, or the error.

    Retried: network errors, timeouts, 429, 5xx and DingTalk's "send too fast" (errcode 130101). Not
    retried: any other 4xx, a redirect (following one would re-send the POST as a body-less GET) and
    any other DingTalk errcode. Each attempt, connection to the last byte of the answer, takes at most
    `timeout_s`. With a `secret` the URL is signed the DingTalk way, anew for each attempt.
    """
    data = json.dumps(body, ensure_ascii=False).encode()

    def attempt(budget_s: float) -> int:
        target = signed_url(url, secret, int(deadline.clock.time() * 1000)) if secret else url
        status, answer = _post(target, data, max(0.1, min(timeout_s, budget_s)))
        return _accepted(status, answer)

    return call_with_retry(attempt, WEBHOOK_POLICY, deadline, on_retry)


def _post(url: str, data: bytes, timeout_s: float) -> tuple[int, bytes]:
    """One POST, bounded in total: the connection is cut when `timeout_s` is up, whatever it waits on."""
    parts = urllib.parse.urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout_s)
    cut = threading.Event()
    started = time.monotonic()
    try:
        connection.connect()
        # http.client may drop its own reference to the socket once the answer is under way.
        cutoff = threading.Timer(max(0.0, timeout_s - (time.monotonic() - started)), _cut, (connection.sock, cut))
        cutoff.daemon = True
        cutoff.start()
        try:
            target = parts.path or "/"
            connection.request("POST", f"{target}?{parts.query}" if parts.query else target, data, JSON_CONTENT)
            response = connection.getresponse()
            answer = response.read(MAX_ANSWER_BYTES)
        finally:
            cutoff.cancel()
    except (OSError, http.client.HTTPException) as error:
        why = "timed out" if cut.is_set() or isinstance(error, TimeoutError) else type(error).__name__
        raise UpstreamUnavailable(f"The webhook could not be reached ({why}).") from None
    finally:
        connection.close()
    if cut.is_set():  # the answer was cut short, however it looked
        raise UpstreamUnavailable("The webhook could not be reached (timed out).")
    return _status(response.status), answer


def _cut(sock: socket.socket, cut: threading.Event) -> None:
    cut.set()
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _status(status: int) -> int:
    if 300 <= status < 400:
        raise UpstreamError(f"The webhook answered HTTP {status}, a redirect, which is not followed.")
    if status == 429 or status >= 500:
        raise UpstreamUnavailable(f"The webhook answered HTTP {status}.")
    if status >= 400:
        raise UpstreamError(f"The webhook refused the alert with HTTP {status}.")
    return status


def _accepted(status: int, payload: bytes) -> int:
    try:
        answer = json.loads(payload) if payload else {}
    except ValueError:
        answer = {}
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode in (None, 0):
        return status
    if errcode == DINGTALK_SEND_TOO_FAST:
        raise UpstreamUnavailable(f"The webhook asked to slow down (errcode {errcode}).")
    raise UpstreamError(f"The webhook refused the alert (errcode {errcode}).")
