"""Callers authenticate with a JWT the function verifies itself, read only their own spaces, at their own rate.

Every attack here is answered 401 `Unauthorized` (or 404 `SpaceNotFound` for a space outside the
token), before any call to CAMS: the fake's journal stays empty.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from local.cams import FakeCams
from tests.helpers import (
    EC_KID,
    RSA_KID,
    TEST_AUDIENCE,
    Answer,
    Env,
    FakeClock,
    bearer,
    claims,
    get,
    log_lines,
    signing_keys,
    token,
)

INVALID = 'Bearer error="invalid_token"'


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64(header)}.{b64(payload)}.{b64(signature) if signature else ''}"


def hs256_with(secret: bytes, kid: str = RSA_KID) -> str:
    """The classic confusion: HS256, keyed with what the server publishes as a public key."""
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64(claims(['*']))}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def public_pem() -> bytes:
    return (
        signing_keys()
        .rsa.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def lookup_as(lookup: Any, authorization: str | None, space: str = "demo-approved", **kw: Any) -> Answer:
    return get(lookup, "/waba", f"custSpaceId={space}", authorization=authorization, **kw)


def assert_refused(answer: Answer, challenge: str = INVALID) -> None:
    assert (answer.status, answer.error_code) == (401, "Unauthorized")
    assert answer.headers["www-authenticate"] == challenge
    assert set(answer.body["error"]) == {"code", "message", "requestId"}


# --- the valid path ---------------------------------------------------------------------------------


def test_a_valid_token_reads_a_space_in_its_claim(lookup: Any, cams: FakeCams) -> None:
    answer = lookup_as(lookup, bearer(["demo-approved"]))

    assert (answer.status, answer.body["waba"]["id"]) == (200, "200000000000101")


def test_an_es256_token_is_taken_too(lookup: Any, cams: FakeCams) -> None:
    assert lookup_as(lookup, f"Bearer {token(['demo-approved'], algorithm='ES256')}").status == 200


def test_the_scheme_is_case_insensitive_and_a_space_separated_claim_works(lookup: Any, cams: FakeCams) -> None:
    value = f"bearer {token(cams_spaces='demo-pending demo-approved')}"

    assert lookup_as(lookup, value).status == 200
    assert lookup_as(lookup, value, "demo-pending").status == 200


def test_an_audience_list_holding_ours_is_taken(lookup: Any, cams: FakeCams) -> None:
    assert lookup_as(lookup, f"Bearer {token(aud=['someone-else', TEST_AUDIENCE])}").status == 200


# --- scoping ------------------------------------------------------------------------------------------


def test_a_space_outside_the_claim_answers_exactly_as_a_space_that_does_not_exist(lookup: Any, cams: FakeCams) -> None:
    # other-space exists (in another account) for CAMS; demo-pending exists in this one; no-such-space nowhere.
    in_scope_missing = lookup_as(lookup, bearer(["demo-approved", "no-such-space"]), "no-such-space")
    calls = len(cams.calls())
    out_of_scope = [lookup_as(lookup, bearer(["demo-approved"]), space) for space in ("demo-pending", "zz-nothing")]

    assert len(cams.calls()) == calls, "a space outside the claim never reaches CAMS"
    for answer in out_of_scope:
        assert (answer.status, answer.body, answer.headers) == (
            in_scope_missing.status,
            in_scope_missing.body,
            in_scope_missing.headers,
        )
    assert in_scope_missing.error_code == "SpaceNotFound"


def test_the_accounts_own_waba_needs_a_token_for_every_space(lookup: Any, cams: FakeCams) -> None:
    scoped = get(lookup, "/waba/own", authorization=bearer(["demo-approved"]))

    assert (scoped.status, scoped.error_code) == (404, "SpaceNotFound")
    assert cams.journal == []
    assert get(lookup, "/waba/own", authorization=bearer(["*"])).status == 200


def test_an_empty_claim_reads_nothing(lookup: Any, cams: FakeCams) -> None:
    assert lookup_as(lookup, bearer([])).error_code == "SpaceNotFound"
    assert cams.journal == []


# --- no token, and tokens that must fail --------------------------------------------------------


def test_no_token_is_401_with_the_bare_challenge(lookup: Any, cams: FakeCams) -> None:
    answer = lookup_as(lookup, None)

    assert_refused(answer, "Bearer")
    assert answer.body["error"]["message"] == "A bearer token is required."
    assert cams.journal == []


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Token abc.def.ghi", "Bearer", "  "])
def test_another_scheme_or_an_empty_header_is_401(lookup: Any, cams: FakeCams, value: str) -> None:
    answer = lookup_as(lookup, value)

    assert answer.status == 401
    assert answer.headers["www-authenticate"] in ("Bearer", INVALID)
    assert cams.journal == []


def attacks() -> dict[str, str]:
    keys = signing_keys()
    valid = token(["*"])
    header, payload, signature = valid.split(".")
    rsa_jwk = json.loads(keys.jwks())["keys"][0]
    return {
        "expired": token(exp=1_000_000_000),
        "wrong issuer": token(iss="https://evil.example"),
        "wrong audience": token(aud="another-api"),
        "unknown kid": token(kid="nobody"),
        "no kid": token(kid=None),
        "alg none, no signature": unsigned({"alg": "none", "kid": RSA_KID}, claims(["*"])),
        "alg none, with a signature": unsigned({"alg": "none", "kid": RSA_KID}, claims(["*"]), b"x"),
        "alg none, upper case": unsigned({"alg": "NONE", "kid": RSA_KID}, claims(["*"]), b"x"),
        "HS256 keyed with the public PEM": hs256_with(public_pem()),
        "HS256 keyed with the public JWK": hs256_with(json.dumps(rsa_jwk).encode()),
        "HS256 keyed with n": hs256_with(rsa_jwk["n"].encode()),
        "HS256 keyed with the EC kid": hs256_with(public_pem(), EC_KID),
        "RS384 with our RSA key": token(algorithm="RS384"),
        "RS256 naming the EC key": token(kid=EC_KID),
        "ES256 naming the RSA key": token(algorithm="ES256", kid=RSA_KID),
        "another key with our kid": token(key=keys.other_rsa),
        "a payload swapped under a valid signature": f"{header}.{b64(claims(['*'], sub='admin'))}.{signature}",
        "truncated": valid[:-10],
        "truncated to two parts": f"{header}.{payload}",
        "oversized": token(padding="x" * 9000),
        "crit header": jwt.encode(
            claims(["*"]), keys.rsa, algorithm="RS256", headers={"kid": RSA_KID, "crit": ["b64"]}
        ),
        "not base64": "a.b.c!",
        "two tokens": f"{valid}, Bearer {valid}",
        "sub not a string": token(sub=123),  # type: ignore[arg-type]
        "sub empty": token(sub=""),
        "spaces a number": token(cams_spaces=42),
        "spaces an object": token(cams_spaces={"demo-approved": True}),
        "spaces of numbers": token(cams_spaces=[1, 2]),
        "spaces with bad characters": token(cams_spaces=["demo-approved", "../etc"]),
        "spaces missing": token(cams_spaces=None),
        "exp a string": token(exp="tomorrow"),
        "exp a boolean": token(exp=True),
        "exp missing": token(exp=None),
        "nbf a string": token(nbf="now"),
        "exp 10**400": token(exp=10**400),
        "nbf 10**400": token(nbf=10**400),
        "iat -10**400": token(iat=-(10**400)),
        "exp past year 9999": token(exp=1e300),
        "iss missing": token(iss=None),
        "aud missing": token(aud=None),
        "aud a number": token(aud=5),
    }


REASONS = {
    "expired": "expired",
    "wrong issuer": "issuer_or_audience",
    "wrong audience": "issuer_or_audience",
    "unknown kid": "unknown_kid",
    "no kid": "no_kid",
    "alg none, no signature": "malformed",
    "alg none, with a signature": "algorithm",
    "alg none, upper case": "algorithm",
    "HS256 keyed with the public PEM": "algorithm",
    "HS256 keyed with the public JWK": "algorithm",
    "HS256 keyed with n": "algorithm",
    "HS256 keyed with the EC kid": "algorithm",
    "RS384 with our RSA key": "algorithm",
    "RS256 naming the EC key": "algorithm",
    "ES256 naming the RSA key": "algorithm",
    "another key with our kid": "signature",
    "a payload swapped under a valid signature": "signature",
    "truncated": "signature",
    "truncated to two parts": "malformed",
    "oversized": "too_large",
    "crit header": "malformed",
    "not base64": "malformed",
    "two tokens": "malformed",
    "sub not a string": "claims",
    "sub empty": "claims",
    "spaces a number": "claims",
    "spaces an object": "claims",
    "spaces of numbers": "claims",
    "spaces with bad characters": "claims",
    "spaces missing": "claims",
    "exp a string": "claims",
    "exp a boolean": "claims",
    "exp missing": "claims",
    "nbf a string": "claims",
    "exp 10**400": "claims",
    "nbf 10**400": "claims",
    "iat -10**400": "claims",
    "exp past year 9999": "claims",
    "iss missing": "claims",
    "aud missing": "claims",
    "aud a number": "issuer_or_audience",
}
"""Why each attack fails, as the request line logs it (the caller is told none of it)."""


@pytest.mark.parametrize("name", list(REASONS))
def test_every_attack_is_a_401_before_cams(
    lookup: Any, cams: FakeCams, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    answer = lookup_as(lookup, f"Bearer {attacks()[name]}")

    assert_refused(answer)
    assert answer.body["error"]["message"] == "The bearer token is not valid.", "never which check failed"
    assert cams.journal == []
    assert log_lines(capsys.readouterr().out)[-1]["authError"] == REASONS[name]


def test_every_attack_is_listed_with_its_reason() -> None:
    assert set(attacks()) == set(REASONS)


def test_the_clock_skew_allowed_is_thirty_seconds(lookup: Any, cams: FakeCams, clock: FakeClock) -> None:
    now = int(clock.time())

    assert lookup_as(lookup, f"Bearer {token(exp=now - 29)}").status == 200
    assert_refused(lookup_as(lookup, f"Bearer {token(exp=now - 31)}"))
    assert lookup_as(lookup, f"Bearer {token(nbf=now + 29)}").status == 200
    assert_refused(lookup_as(lookup, f"Bearer {token(nbf=now + 31)}"))
    assert_refused(lookup_as(lookup, f"Bearer {token(iat=now + 31)}"))


def test_the_log_line_says_why_and_carries_the_sub_never_the_token(
    lookup: Any, cams: FakeCams, capsys: pytest.CaptureFixture[str]
) -> None:
    expired = token(exp=1_000_000_000)
    lookup_as(lookup, f"Bearer {expired}")
    lookup_as(lookup, bearer(["demo-approved"], sub="alice"))
    lookup_as(lookup, None)

    out = capsys.readouterr().out
    refused, allowed, missing = log_lines(out)
    assert (refused["outcome"], refused["authError"], refused["status"]) == ("Unauthorized", "expired", 401)
    assert "sub" not in refused
    assert (allowed["outcome"], allowed["sub"]) == ("ok", "alice")
    assert missing["authError"] == "missing"
    assert expired not in out
    assert expired.split(".")[1] not in out


# --- per-caller limits --------------------------------------------------------------------------------


@pytest.fixture
def limited(env: Env, clock: FakeClock) -> FakeClock:
    env.setenv("CALLER_RATE_PER_SECOND", "1")
    env.setenv("CALLER_BURST", "2")
    return clock


def test_a_caller_over_its_rate_gets_429_before_any_cams_call(lookup: Any, cams: FakeCams, limited: FakeClock) -> None:
    alice = bearer(["demo-approved"], sub="alice")

    assert [lookup_as(lookup, alice).status for _ in range(2)] == [200, 200]
    over = lookup_as(lookup, alice)

    assert (over.status, over.error_code) == (429, "TooManyRequests")
    assert over.headers["retry-after"] == "1"
    assert len(cams.calls()) == 2, "the refused request never reached CAMS"
    assert lookup_as(lookup, bearer(["demo-approved"], sub="bob")).status == 200, "bob has his own bucket"
    limited.advance(1.0)
    assert lookup_as(lookup, alice).status == 200


def test_a_client_sent_pass_by_header_is_ignored(
    lookup: Any, cams: FakeCams, limited: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    alice = bearer(["demo-approved"], sub="alice")
    for _ in range(2):
        lookup_as(lookup, alice)
    forged = get(
        lookup,
        "/waba",
        "custSpaceId=demo-approved",
        {"x-waba-jwt-sub": "bob", "X-Waba-Jwt-Sub": "bob"},
        authorization=alice,
    )

    assert forged.status == 429, "still alice's bucket: the header is not who is calling"
    assert log_lines(capsys.readouterr().out)[-1]["sub"] == "alice"
    assert (
        get(lookup, "/waba", "custSpaceId=demo-approved", {"x-waba-jwt-sub": "alice"}, authorization=None).status == 401
    )


def test_without_authentication_callers_are_counted_by_address(
    lookup: Any, cams: FakeCams, env: Env, limited: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("AUTH_MODE", "none")

    statuses = [lookup_as(lookup, None, source_ip="203.0.113.9").status for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert lookup_as(lookup, None, source_ip="203.0.113.10").status == 200
    assert get(lookup, "/waba/own", authorization=None).status == 200, "every space, without tokens"
    warnings = [line for line in log_lines(capsys.readouterr().out) if line["event"] == "auth.disabled"]
    assert len(warnings) == 1, "once per instance"


def test_jwt_mode_without_keys_is_a_configuration_error(lookup: Any, cams: FakeCams, env: Env) -> None:
    env.delenv("AUTH_JWKS")

    answer = lookup_as(lookup, bearer())

    assert (answer.status, answer.error_code) == (500, "ConfigurationError")
    assert "AUTH_JWKS" in answer.body["error"]["message"]
    assert get(lookup, "/healthz", authorization=None).status == 200


def test_healthz_needs_no_token(lookup: Any, cams: FakeCams) -> None:
    assert get(lookup, "/healthz", authorization=None).status == 200
    assert get(lookup, "/healthz", authorization="Bearer garbage").status == 200
