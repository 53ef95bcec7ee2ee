"""Helpers shared by the tests: invoke a handler as FC would and read its answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from local.emulator import Context, Credentials, FunctionMeta, http_event

ROLE = Credentials("STS.DEMO-ROLE-KEY", "demo-role-secret", "demo-role-security-token")
DEVELOPER_KEY = Credentials("DEMO-DEVELOPER-KEY", "demo-developer-secret")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    raw: dict[str, Any]

    @property
    def error_code(self) -> str | None:
        return self.body.get("error", {}).get("code") if isinstance(self.body, dict) else None


def context(*, timeout: int = 10, credentials: Credentials | None = ROLE, request_id: str = "req-test-1") -> Context:
    return Context(request_id, FunctionMeta("lookup", timeout=timeout), credentials)


def call(handler: Any, event: Any, ctx: Context | None = None) -> Answer:
    """Invoke `handler` with `event` (a dict is sent as bytes, as FC sends it) and check the answer's shape."""
    raw = handler(json.dumps(event).encode() if isinstance(event, dict) else event, ctx or context())
    assert set(raw) == {"statusCode", "headers", "isBase64Encoded", "body"}
    assert isinstance(raw["statusCode"], int)
    assert raw["isBase64Encoded"] is False
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in raw["headers"].items())
    body = json.loads(raw["body"]) if raw["body"] else None
    return Answer(raw["statusCode"], raw["headers"], body, raw)


def get(handler: Any, path: str, query: str = "", headers: dict[str, str] | None = None, **kw: Any) -> Answer:
    return call(handler, http_event("GET", path, query, headers), context(**kw) if kw else None)


class FakeClock:
    """A clock whose `sleep` only moves its hands: pacing, deadlines and backoff run in no time."""

    def __init__(self, monotonic: float = 1000.0, wall: float = 1_790_000_000.0) -> None:
        self.now = monotonic
        self.wall_offset = wall - monotonic
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now + self.wall_offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
