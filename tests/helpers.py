"""Helpers shared by the tests: invoke a handler as FC would, read its answer, and a fake clock."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from local.emulator import Context312, Credentials, fc_context, http_event
from local.tokens import sign
from shared.healthcheck.settings import HealthcheckSettings
from shared.lookup.settings import LookupSettings
from shared.settings import RENAMED, env_names, forget_settings

ROLE = Credentials("STS.DEMO-ROLE-KEY", "demo-role-secret", "demo-role-security-token")
DEVELOPER_KEY = Credentials("DEMO-DEVELOPER-KEY", "demo-developer-secret")
SETTINGS_MODELS = {"lookup": LookupSettings, "healthcheck": HealthcheckSettings}
CREDENTIAL_VARIABLES = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
)


TEST_ISSUER = "https://issuer.test.invalid"
TEST_AUDIENCE = "waba-lookup-test"
TEST_SUB = "test-user"
RSA_KID = "test-rs256"
EC_KID = "test-es256"
ISSUED_AT = 1_789_000_000
"""Before the fake clock's wall time (1_790_000_000) and the real one: a default token is valid on both."""
DEFAULT = object()
"""`call` and `get` send a valid token for every space unless told otherwise (None: no Authorization)."""


@dataclass(frozen=True)
class SigningKeys:
    """The tests' signing keys: their public halves are AUTH_JWKS; `other_rsa` is trusted by no one."""

    rsa: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey
    other_rsa: rsa.RSAPrivateKey

    def jwks(self) -> str:
        rsa_jwk = {**json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key())), "kid": RSA_KID, "alg": "RS256"}
        ec_jwk = {**json.loads(ECAlgorithm.to_jwk(self.ec.public_key())), "kid": EC_KID, "alg": "ES256", "use": "sig"}
        return json.dumps({"keys": [rsa_jwk, ec_jwk]})


@lru_cache(maxsize=1)
def signing_keys() -> SigningKeys:
    """Made once per test session: no private key of the tests is ever written down."""
    return SigningKeys(
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP256R1()),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


def auth_environ() -> dict[str, str]:
    """What makes the lookup function trust the tests' keys."""
    return {"AUTH_JWKS": signing_keys().jwks(), "AUTH_ISSUER": TEST_ISSUER, "AUTH_AUDIENCE": TEST_AUDIENCE}


def claims(
    spaces: Sequence[str] = ("*",), *, sub: str = TEST_SUB, ttl_s: float | None = None, **extra: Any
) -> dict[str, Any]:
    """Valid claims: `ttl_s` counts from the real clock; by default they last a day past it."""
    expires = int(time.time() + (ttl_s if ttl_s is not None else 86_400))
    document: dict[str, Any] = {
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "sub": sub,
        "iat": ISSUED_AT,
        "nbf": ISSUED_AT,
        "exp": expires,
        "cams_spaces": list(spaces),
    }
    document.update(extra)
    return {name: value for name, value in document.items() if value is not None}


def token(
    spaces: Sequence[str] = ("*",),
    *,
    sub: str = TEST_SUB,
    algorithm: str = "RS256",
    kid: str | None = DEFAULT,  # type: ignore[assignment]
    key: Any = None,
    **extra: Any,
) -> str:
    """A token signed by the tests' RSA key (or the EC one for ES256), with `extra` claims on top."""
    keys = signing_keys()
    signer = key if key is not None else keys.ec if algorithm == "ES256" else keys.rsa
    chosen_kid = (EC_KID if algorithm == "ES256" else RSA_KID) if kid is DEFAULT else kid
    return sign(claims(spaces, sub=sub, **extra), signer, algorithm=algorithm, kid=chosen_kid)


@lru_cache(maxsize=64)
def _cached_token(spaces: tuple[str, ...], sub: str) -> str:
    return token(spaces, sub=sub)


def bearer(spaces: Sequence[str] = ("*",), *, sub: str = TEST_SUB) -> str:
    """An Authorization header's value: a valid token for `spaces` (cached: signing takes a millisecond)."""
    return f"Bearer {_cached_token(tuple(spaces), sub)}"


def with_authorization(event: Any, authorization: object) -> Any:
    """`event` with an Authorization header, unless it is not an HTTP event or already has one."""
    if authorization is None or not isinstance(event, dict):
        return event
    http = (event.get("requestContext") or {}).get("http") if isinstance(event.get("requestContext"), dict) else None
    headers = event.get("headers")
    if not isinstance(http, dict) or not isinstance(headers, dict):
        return event
    if any(isinstance(name, str) and name.lower() == "authorization" for name in headers):
        return event
    value = bearer() if authorization is DEFAULT else authorization
    return {**event, "headers": {**headers, "Authorization": value}}


def settings_variables() -> list[str]:
    """Every variable either function reads, old names included."""
    return sorted({name for model in SETTINGS_MODELS.values() for name in env_names(model)} | set(RENAMED))


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


def call(handler: Any, event: Any, ctx: Context312 | None = None, *, authorization: object = DEFAULT) -> Answer:
    """Invoke `handler` with `event` (a dict is sent as bytes, as FC sends it) and check the answer's shape.

    An HTTP event without an Authorization header gets a valid token for every space, unless
    `authorization` is None (no header) or another value (that header).
    """
    event = with_authorization(event, authorization)
    raw = handler(json.dumps(event).encode() if isinstance(event, dict) else event, ctx or context())
    assert set(raw) == {"statusCode", "headers", "isBase64Encoded", "body"}
    assert isinstance(raw["statusCode"], int)
    assert raw["isBase64Encoded"] is False
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in raw["headers"].items())
    body = json.loads(raw["body"]) if raw["body"] else None
    return Answer(raw["statusCode"], raw["headers"], body, raw)


def get(
    handler: Any,
    path: str,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    *,
    authorization: object = DEFAULT,
    source_ip: str = "127.0.0.1",
    **kw: Any,
) -> Answer:
    """GET `path`, as a caller with a valid token for every space unless `authorization` says otherwise."""
    event = http_event("GET", path, query, headers, source_ip=source_ip)
    return call(handler, event, context(**kw) if kw else None, authorization=authorization)


def log_lines(text: str) -> list[dict[str, Any]]:
    """The JSON lines of captured output."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


class EmittedLines:
    """Every JSON line written on stdout so far (what FC sends to Log Service), read as it went out."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self.lines: list[dict[str, Any]] = []

    def __call__(self, event: str | None = None) -> list[dict[str, Any]]:
        """The lines so far, or those of one `event`."""
        self.lines.extend(log_lines(self._capsys.readouterr().out))
        return [line for line in self.lines if event is None or line.get("event") == event]


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
