"""Alerts to a webhook: a DingTalk custom robot (optionally signed), or generic JSON.

Example:
    >>> signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "SEC1", timestamp_ms=1700000000000)
    'https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign=ukR4%2BWoOOBTGaOauYqugxVrMSFyr92q4hPxJxuOkiio%3D'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Literal

from shared.errors import UpstreamError, UpstreamUnavailable
from shared.retry import Attempted, Deadline, RetryLogger, RetryPolicy, call_with_retry

AlertFormat = Literal["json", "dingtalk"]
WEBHOOK_POLICY = RetryPolicy(max_attempts=3, base_delay_s=0.2, max_delay_s=1.0, min_attempt_s=0.3)


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
    """POST `body` as JSON, retried a little on network errors, 429 and 5xx, within `deadline`.

    With a `secret` the URL is signed the DingTalk way, anew for each attempt; a DingTalk answer of
    HTTP 200 with a non-zero `errcode` is a failure. The outcome is the HTTP status, or the error.
    """
    data = json.dumps(body, ensure_ascii=False).encode()

    def attempt(budget_s: float) -> int:
        target = signed_url(url, secret, int(deadline.clock.time() * 1000)) if secret else url
        # The URL comes from settings, which accept http(s) URLs only.
        request = urllib.request.Request(  # noqa: S310
            target, data=data, method="POST", headers={"content-type": "application/json; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=max(0.1, min(timeout_s, budget_s))) as answer:  # noqa: S310
                return _accepted(answer.status, answer.read())
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                raise UpstreamUnavailable(f"The webhook answered HTTP {error.code}.") from None
            raise UpstreamError(f"The webhook refused the alert with HTTP {error.code}.") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise UpstreamUnavailable(f"The webhook could not be reached ({type(error).__name__}).") from None

    return call_with_retry(attempt, WEBHOOK_POLICY, deadline, on_retry)


def _accepted(status: int, payload: bytes) -> int:
    try:
        answer = json.loads(payload) if payload else {}
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        raise UpstreamError(f"The webhook refused the alert (errcode {answer.get('errcode')}).")
    return status
