"""`python -m local check-deploy`: what the deploying shell's environment lacks, named, never a value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jwt.algorithms import RSAAlgorithm

from local import check_deploy
from local.check_deploy import function_environment, problems, s_yaml, summary
from tests.helpers import EC_KID, RSA_KID, auth_environ, signing_keys


def ready() -> dict[str, str]:
    """A deploying shell's environment that s.yaml takes: the tests' RS256 and ES256 keys, an issuer, an audience."""
    return auth_environ()


def rsa_jwk(**extra: Any) -> dict[str, Any]:
    return {**json.loads(RSAAlgorithm.to_jwk(signing_keys().rsa.public_key())), "kid": RSA_KID, **extra}


def jwks(*keys: dict[str, Any]) -> str:
    return json.dumps({"keys": list(keys)})


def found(**changes: str | None) -> list[str]:
    environ = {**ready(), **changes}
    return problems({name: value for name, value in environ.items() if value is not None}, s_yaml())


def test_a_set_of_an_rs256_and_an_es256_key_is_ready_to_deploy() -> None:
    assert found() == []
    assert found(TRIGGER_AUTH_TYPE="jwt") == []
    assert summary(ready()) == (
        f"ready to deploy: trigger anonymous (the function's own check alone); "
        f"AUTH_JWKS of 2 key(s): {RSA_KID} (RS256), {EC_KID} (ES256)"
    )


def test_the_function_gets_the_set_exactly_as_the_shell_holds_it() -> None:
    environment = function_environment("lookup", ready(), s_yaml())

    assert environment["AUTH_JWKS"] == ready()["AUTH_JWKS"]
    assert (environment["AUTH_ISSUER"], environment["AUTH_AUDIENCE"]) == (
        ready()["AUTH_ISSUER"],
        ready()["AUTH_AUDIENCE"],
    )


@pytest.mark.parametrize("name", ["AUTH_JWKS", "AUTH_ISSUER", "AUTH_AUDIENCE"])
@pytest.mark.parametrize("value", [None, ""])
def test_each_variable_without_a_default_must_be_set(name: str, value: str | None) -> None:
    assert found(**{name: value}) == [f"{name} is not set: s.yaml takes it from the deploying shell, with no default"]


@pytest.mark.parametrize(
    ("auth_jwks", "rule"),
    [
        ("not json", "AUTH_JWKS is not JSON"),
        ('{"keys": []}', "AUTH_JWKS must be a JSON Web Key Set"),
        (jwks(rsa_jwk(kid=None)), "AUTH_JWKS key 0 needs a kid"),
        (jwks(rsa_jwk(), rsa_jwk()), "AUTH_JWKS key 1 repeats the kid of another key"),
        (jwks(rsa_jwk(alg="HS256")), "AUTH_JWKS key 0 is not an RS256 (RSA) or ES256 (EC P-256) key"),
        (jwks(rsa_jwk(alg="RS512")), "AUTH_JWKS key 0 is not an RS256 (RSA) or ES256 (EC P-256) key"),
        (
            jwks({"kty": "oct", "kid": "shared", "k": "c2VjcmV0LW9mLXRoZS1pc3N1ZXI"}),
            "AUTH_JWKS key 0 holds private or symmetric key material",
        ),
    ],
)
def test_a_bad_key_set_is_refused_naming_the_rule(auth_jwks: str, rule: str) -> None:
    [problem] = found(AUTH_JWKS=auth_jwks)

    assert problem.startswith(rule)


def test_a_private_key_is_refused_and_never_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    private = {**json.loads(RSAAlgorithm.to_jwk(signing_keys().rsa)), "kid": "leaked"}  # holds "d", "p", "q"...

    assert check_deploy.main([], {**ready(), "AUTH_JWKS": jwks(private)}) == 1

    err = capsys.readouterr().err
    assert "AUTH_JWKS key 0 holds private or symmetric key material" in err
    assert private["d"][:16] not in err
    assert private["n"][:16] not in err


@pytest.mark.parametrize("value", ["function", "JWT", "none"])
def test_the_trigger_auth_type_is_anonymous_or_jwt(value: str) -> None:
    assert found(TRIGGER_AUTH_TYPE=value) == [
        "TRIGGER_AUTH_TYPE must be anonymous or jwt (unset: anonymous, the function's own check alone)"
    ]


def test_an_empty_trigger_auth_type_is_the_default_as_serverless_devs_takes_it() -> None:
    assert found(TRIGGER_AUTH_TYPE="") == []
    assert summary({**ready(), "TRIGGER_AUTH_TYPE": ""}).startswith("ready to deploy: trigger anonymous")


def test_the_runtime_is_one_the_build_makes() -> None:
    assert found(FC_RUNTIME="python3.12") == []
    assert found(FC_RUNTIME="python3.9") == ["FC_RUNTIME must be python3.10 or python3.12 (unset: python3.10)"]


def test_every_problem_is_named_at_once() -> None:
    assert len(found(AUTH_ISSUER=None, TRIGGER_AUTH_TYPE="function", AUTH_JWKS="{")) == 3


def test_a_setting_the_function_would_refuse_at_start_is_named_without_its_value() -> None:
    [problem] = found(ALERT_WEBHOOK_URL="ftp://hooks.example.com/secret-path-0001")

    assert problem.startswith("the healthcheck function would not start: ")
    assert "ALERT_WEBHOOK_URL" in problem
    assert "secret-path-0001" not in problem


def test_a_set_too_large_for_fcs_environment_is_refused() -> None:
    # The same public key under ten kids: about 4.3 KB of AUTH_JWKS alone.
    many = jwks(*(rsa_jwk(kid=f"key-{number}", alg="RS256", use="sig") for number in range(10)))

    [problem] = found(AUTH_JWKS=many)

    assert problem.startswith("the lookup function's environment variables take ")
    assert f"over the 4096 FC allows (AUTH_JWKS: {len(many)} bytes" in problem


def test_ready_prints_what_will_be_deployed(capsys: pytest.CaptureFixture[str]) -> None:
    environ = {**ready(), "TRIGGER_AUTH_TYPE": "jwt", "CORS_ALLOWED_ORIGINS": "https://app.example.com"}

    assert check_deploy.main([], environ) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "check-deploy: ready to deploy: trigger jwt (FC's JWT check, then the function's); "
        f"AUTH_JWKS of 2 key(s): {RSA_KID} (RS256), {EC_KID} (ES256)"
    )
    assert out[1].startswith("check-deploy: note: with TRIGGER_AUTH_TYPE=jwt, pages on CORS_ALLOWED_ORIGINS cannot")
