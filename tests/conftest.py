from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from types import ModuleType
from typing import Any

import pytest

from local.cams import FakeCams
from local.emulator import load_function
from shared.settings import env_names, forget_settings

CREDENTIAL_VARIABLES = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
)


@pytest.fixture(scope="session")
def cams_server() -> Iterator[FakeCams]:
    with FakeCams() as cams:
        yield cams


@pytest.fixture
def cams(cams_server: FakeCams) -> Iterator[FakeCams]:
    """The fake CAMS, reset and seeded with the demo data for each test."""
    cams_server.reset()
    cams_server.load_demo()
    yield cams_server
    cams_server.reset()


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

    def setitem(self, mapping: Any, name: str, value: Any) -> None:
        self.monkeypatch.setitem(mapping, name, value)


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    forget_settings()
    yield
    forget_settings()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, cams: FakeCams) -> Env:
    """Function settings pointing at the fake CAMS, with short backoffs; no credentials in the environment."""
    environment = Env(monkeypatch)
    read = {name for function in FUNCTIONS for name in env_names(settings_class(function))}
    for name in (*sorted(read), *CREDENTIAL_VARIABLES):
        environment.delenv(name)
    environment.setenv("CAMS_ENDPOINT", cams.endpoint)
    environment.setenv("CAMS_PROTOCOL", "http")
    environment.setenv("CAMS_RETRY_BASE_DELAY_MS", "10")
    environment.setenv("CAMS_RETRY_MAX_DELAY_MS", "50")
    environment.setenv("CAMS_READ_TIMEOUT_MS", "2000")
    environment.setenv("CORS_ALLOWED_ORIGINS", "https://app.example.com")
    return environment


FUNCTIONS = ("lookup", "healthcheck")


@cache
def function_module(name: str) -> ModuleType:
    """A function's index module, loaded once for the whole test session, as FC loads it per instance."""
    return load_function(name)


def settings_class(function: str) -> Any:
    module = function_module(function)
    return next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "CamsSettings")


@pytest.fixture(scope="session")
def lookup_module() -> ModuleType:
    return function_module("lookup")


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver's own server (a webhook receiver, say) on loopback only."""
    return ("127.0.0.1", 0)


@pytest.fixture(scope="session")
def healthcheck_module() -> ModuleType:
    return function_module("healthcheck")


@pytest.fixture
def lookup(lookup_module: ModuleType, env: Env) -> Any:
    """The lookup function's handler, with its settings pointing at the fake CAMS."""
    return lookup_module.handler
