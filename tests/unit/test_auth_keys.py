"""AUTH_JWKS: public RS256 and ES256 keys with a kid, or a configuration error naming the rule, never a value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared.auth.keys import key_set
from shared.auth.settings import AuthSettings
from shared.errors import ConfigurationError
from shared.settings import load_settings
from tests.helpers import RSA_KID, auth_environ, signing_keys


def rsa_jwk(**extra: Any) -> dict[str, Any]:
    return {**json.loads(RSAAlgorithm.to_jwk(signing_keys().rsa.public_key())), "kid": RSA_KID, **extra}


def jwks(*keys: dict[str, Any]) -> str:
    return json.dumps({"keys": list(keys)})


def test_the_tests_keys_are_taken_with_their_algorithms() -> None:
    keys = key_set(auth_environ()["AUTH_JWKS"])

    assert {kid: key.algorithm_name for kid, key in keys.items()} == {"test-rs256": "RS256", "test-es256": "ES256"}


def test_an_rsa_key_without_alg_is_rs256() -> None:
    assert key_set(jwks(rsa_jwk()))[RSA_KID].algorithm_name == "RS256"


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        ("not json", "is not JSON"),
        ("[]", "JSON Web Key Set"),
        ('{"keys": []}', "at least one key"),
        (jwks(rsa_jwk(kid=None)), "needs a kid"),
        (jwks(rsa_jwk(), rsa_jwk()), "repeats the kid"),
        (jwks(rsa_jwk(alg="HS256")), "not an RS256"),
        (jwks(rsa_jwk(alg="none")), "not an RS256"),
        (jwks(rsa_jwk(alg="RS384")), "not an RS256"),
        (jwks(rsa_jwk(alg="ES256")), "not an RS256"),
        (jwks(rsa_jwk(use="enc")), "not published for signatures"),
        (jwks(rsa_jwk(key_ops=["encrypt"])), "not published for signatures"),
        (
            jwks({"kty": "oct", "kid": "h", "k": "c2VjcmV0LWtleS1vZi10aGUtaXNzdWVy", "alg": "HS256"}),
            "private or symmetric",
        ),
        (jwks(rsa_jwk(n="AQAB")), "not a valid RS256"),
        (jwks(rsa_jwk(n="***")), "not a valid RS256"),
        (jwks({"kty": "EC", "kid": "e", "crv": "P-384", "x": "AA", "y": "AA"}), "another curve"),
        ("[" * 5000, "is not JSON"),
    ],
)
def test_a_bad_key_set_names_the_rule(document: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        key_set(document)


def test_a_private_key_is_refused_and_never_echoed() -> None:
    private = json.loads(RSAAlgorithm.to_jwk(signing_keys().rsa))  # holds "d", "p", "q"...
    environ = {**auth_environ(), "AUTH_JWKS": jwks({**private, "kid": "leaked"})}

    with pytest.raises(ConfigurationError) as raised:
        load_settings(AuthSettings, environ)

    assert "private" in raised.value.message
    assert private["d"][:16] not in raised.value.message
    assert private["n"][:16] not in raised.value.message


def test_ec_and_small_rsa_keys() -> None:
    small = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 1024).public_key()))  # noqa: S505 - refused, as it must be
    p384 = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP384R1()).public_key()))

    with pytest.raises(ValueError, match="shorter than 2048"):
        key_set(jwks({**small, "kid": "small"}))
    with pytest.raises(ValueError, match="another curve"):
        key_set(jwks({**p384, "kid": "p384"}))


@pytest.mark.parametrize("missing", ["AUTH_JWKS", "AUTH_ISSUER", "AUTH_AUDIENCE"])
def test_jwt_mode_needs_keys_issuer_and_audience(missing: str) -> None:
    environ = {name: value for name, value in auth_environ().items() if name != missing}

    with pytest.raises(ConfigurationError, match=missing):
        load_settings(AuthSettings, environ)


def test_no_authentication_is_an_explicit_choice() -> None:
    assert load_settings(AuthSettings, {"AUTH_MODE": "NONE"}).auth_mode == "none"
    with pytest.raises(ConfigurationError, match="AUTH_MODE"):
        load_settings(AuthSettings, {"AUTH_MODE": "off"})
