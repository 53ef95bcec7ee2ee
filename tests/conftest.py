"""Fixtures: the fake CAMS, the functions' environment pointing at it, and the handlers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.healthcheck import index as healthcheck_index
from functions.lookup import index as lookup_index
from local.cams import FakeCams
from shared.settings import forget_settings
from tests.helpers import CREDENTIAL_VARIABLES, EmittedLines, Env, FakeClock, auth_environ, settings_variables

Handler = Callable[[Any, Any], Any]


@pytest.fixture(scope="session")
def cams_server() -> Iterator[FakeCams]:
    with FakeCams() as cams:
        yield cams


@pytest.fixture
def cams(cams_server: FakeCams) -> Iterator[FakeCams]:
    """The fake CAMS, reset and seeded with the demo data for each test; its own errors fail the test."""
    cams_server.reset()
    cams_server.load_demo()
    yield cams_server
    cams_server.reset()


@pytest.fixture(autouse=True, scope="session")
def no_cloud() -> Iterator[None]:
    """The credential chain never asks a cloud's metadata service, whatever a test forgets."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        yield


@pytest.fixture(autouse=True)
def fresh_instance() -> Iterator[None]:
    """Each test meets the functions as a new FC instance would: settings and caches built anew."""
    forget_settings()
    yield
    forget_settings()


@pytest.fixture
def emitted(capsys: pytest.CaptureFixture[str]) -> EmittedLines:
    """The JSON lines the functions wrote, as Log Service receives them."""
    return EmittedLines(capsys)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, cams: FakeCams) -> Env:
    """Function settings pointing at the fake CAMS, with short backoffs; no credentials in the environment."""
    environment = Env(monkeypatch)
    for name in (*settings_variables(), *CREDENTIAL_VARIABLES):
        environment.delenv(name)
    environment.setenv("CAMS_ENDPOINT", cams.endpoint)
    environment.setenv("CAMS_PROTOCOL", "http")
    environment.setenv("CAMS_RETRY_BASE_DELAY_MS", "10")
    environment.setenv("CAMS_RETRY_MAX_DELAY_MS", "50")
    environment.setenv("CAMS_READ_TIMEOUT_MS", "2000")
    environment.setenv("CORS_ALLOWED_ORIGINS", "https://app.example.com")
    # Callers authenticate as deployed (AUTH_MODE=jwt, the default) with the tests' keys; `get` and
    # `call` send a token for every space. The per-caller limits are lifted unless a test sets them.
    for name, value in auth_environ().items():
        environment.setenv(name, value)
    environment.setenv("CALLER_RATE_PER_SECOND", "1000")
    environment.setenv("CALLER_BURST", "1000")
    environment.setenv("CALLER_CAMS_SHARE", "100")
    # Every lookup reaches the fake unless a test turns the cache on (tests/functional/test_cache.py).
    for name in (
        "CACHE_TTL_SECONDS",
        "CACHE_NEGATIVE_TTL_SECONDS",
        "CACHE_MAX_STALE_SECONDS",
        "HEALTH_CACHE_TTL_SECONDS",
    ):
        environment.setenv(name, "0")
    return environment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A fake clock for both functions: their pacing, deadlines and backoff take no real time."""
    fake = FakeClock()
    monkeypatch.setattr(lookup_index.app, "clock", fake)
    monkeypatch.setattr(healthcheck_index.app, "clock", fake)
    return fake


@pytest.fixture
def lookup(env: Env) -> Handler:
    """The lookup function's handler, with its settings pointing at the fake CAMS."""
    return lookup_index.handler


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver's own server (a webhook receiver, say) on loopback only."""
    return ("127.0.0.1", 0)
