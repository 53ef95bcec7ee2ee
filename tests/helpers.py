"""Helpers shared by the tests: invoke a handler as FC would, read its answer, and a fake clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from local.emulator import Context312, Credentials, fc_context, http_event
from shared.healthcheck.settings import HealthcheckSettings
from shared.lookup.settings import LookupSettings
from shared.settings import env_names, forget_settings

ROLE = Credentials("STS.DEMO-ROLE-KEY", "demo-role-secret", "demo-role-security-token")
DEVELOPER_KEY = Credentials("DEMO-DEVELOPER-KEY", "demo-developer-secret")
SETTINGS_MODELS = {"lookup": LookupSettings, "healthcheck": HealthcheckSettings}
CREDENTIAL_VARIABLES = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
)


def settings_variables() -> list[str]:
    """Every variable either function reads."""
    return sorted({name for model in SETTINGS_MODELS.values() for name in env_names(model)})


class Env:
    """monkeypatch for the function's environment: a change is seen as by a new FC instance."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def setenv(self, name: str, value: str) -> None:
        self.monkeypatch.setenv(name, value)
        forget_settings()

    def delenv(self, name: str) -> None:
        self.monkeypatch.delenv(name, raising=False)
        forget_settings()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    raw: dict[str, Any]

    @property
    def error_code(self) -> str | None:
        return self.body.get("error", {}).get("code") if isinstance(self.body, dict) else None


def context(
    *,
    function: str = "lookup",
    timeout: float = 10,
    credentials: Credentials | None = ROLE,
    request_id: str = "req-test-1",
) -> Context312:
    return fc_context(function, request_id=request_id, credentials=credentials, timeout=timeout)


def call(handler: Any, event: Any, ctx: Context312 | None = None) -> Answer:
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


def log_lines(text: str) -> list[dict[str, Any]]:
    """The JSON lines of captured output."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


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
