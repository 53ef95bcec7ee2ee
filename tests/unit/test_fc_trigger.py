"""The emulator deploys the trigger as s.yaml does: anonymous by default, and with jwt it plays FC's
JWT check from s.yaml's authConfig, whose jwks is the function's whole AUTH_JWKS."""

from __future__ import annotations

import json

import pytest
import yaml

from local.emulator import ROOT
from local.fc_trigger import TokenLookup, TriggerAuth, TriggerRejected, resolve, trigger_auth
from local.tokens import demo_environ, demo_kid, demo_private_key, demo_token, sign
from shared.auth.keys import key_set
from tests.helpers import EC_KID, RSA_KID, auth_environ, signing_keys, token

JWT = {"TRIGGER_AUTH_TYPE": "jwt"}


@pytest.fixture
def demo() -> dict[str, str]:
    """The demo key, deployed behind FC's JWT check."""
    return {**demo_environ(), **JWT}


def checked(trigger: TriggerAuth, method: str, path: str, headers: dict[str, str]) -> dict[str, str]:
    return trigger.check(method, path, headers, "custSpaceId=demo-approved")


def test_s_yaml_configures_fcs_check_as_documented(demo: dict[str, str]) -> None:
    trigger = trigger_auth(environ=demo)

    assert trigger.auth_type == "jwt"
    assert [(x.position, x.name, x.prefix) for x in trigger.lookups] == [("header", "Authorization", "Bearer ")]
    assert [(x.claim, x.name, x.position) for x in trigger.pass_by] == [("sub", "x-waba-jwt-sub", "header")]
    assert trigger.whitelist == ("/healthz", "/openapi.json")
    assert list(trigger.keys) == [demo_kid()]


@pytest.mark.parametrize("environ", [demo_environ(), {}, {"TRIGGER_AUTH_TYPE": ""}, {"TRIGGER_AUTH_TYPE": "anonymous"}])
def test_the_trigger_is_anonymous_by_default_as_s_yaml_deploys_it(environ: dict[str, str]) -> None:
    trigger = trigger_auth(environ=environ)

    assert trigger.auth_type == "anonymous"
    assert checked(trigger, "GET", "/waba", {}) == {}, "the function answers, with its own 401"


def test_a_trigger_auth_type_s_yaml_does_not_deploy_is_refused() -> None:
    with pytest.raises(ValueError, match="TRIGGER_AUTH_TYPE must be anonymous or jwt"):
        trigger_auth(environ={**demo_environ(), "TRIGGER_AUTH_TYPE": "function"})


def test_the_function_and_the_trigger_trust_the_same_set_of_keys() -> None:
    shell = {**auth_environ(), **JWT}  # an RS256 and an ES256 key, as while a key rotates
    document = yaml.safe_load((ROOT / "s.yaml").read_text())
    environment = resolve(document["resources"]["lookup"]["props"]["environmentVariables"], document, shell)
    function_keys = key_set(environment["AUTH_JWKS"])
    trigger_keys = trigger_auth(environ=shell).keys

    assert environment["AUTH_JWKS"] == shell["AUTH_JWKS"]
    assert list(function_keys) == list(trigger_keys) == [RSA_KID, EC_KID]
    assert {kid: key.algorithm_name for kid, key in trigger_keys.items()} == {RSA_KID: "RS256", EC_KID: "ES256"}
    assert {kid: key.algorithm_name for kid, key in function_keys.items()} == {RSA_KID: "RS256", EC_KID: "ES256"}
    assert environment["AUTH_MODE"] == "jwt"


def test_fcs_check_takes_a_token_of_either_key_of_the_set_and_no_other() -> None:
    trigger = trigger_auth(environ={**auth_environ(), **JWT})

    for signed in (token(algorithm="RS256"), token(algorithm="ES256")):
        assert checked(trigger, "GET", "/waba", {"Authorization": f"Bearer {signed}"})["x-waba-jwt-sub"] == "test-user"
    with pytest.raises(TriggerRejected):
        checked(trigger, "GET", "/waba", {"Authorization": f"Bearer {token(key=signing_keys().other_rsa)}"})


def test_json_templates_resolve_as_serverless_devs_parses_them() -> None:
    document = {"jwks": "${json(env('AUTH_JWKS'))}"}

    assert resolve(document, {}, {"AUTH_JWKS": '{"keys": [{"kid": "a"}]}'}) == {"jwks": {"keys": [{"kid": "a"}]}}
    assert resolve(document, {}, {}) == document, "unresolved, it stays as written"
    assert resolve(document, {}, {"AUTH_JWKS": "not json"}) == document


def test_a_valid_token_passes_with_its_sub_passed_by_and_a_clients_copy_replaced(demo: dict[str, str]) -> None:
    trigger = trigger_auth(environ=demo)
    headers = {"Authorization": f"Bearer {demo_token(['demo-approved'], sub='alice')}", "X-Waba-Jwt-Sub": "admin"}

    passed = checked(trigger, "GET", "/waba", headers)

    assert passed["x-waba-jwt-sub"] == "alice"
    assert "X-Waba-Jwt-Sub" not in passed
    assert passed["Authorization"] == headers["Authorization"], "the function verifies the token again"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer ",
        "Basic abc",
        "Bearer not.a.token",
        "Bearer " + sign({"sub": "x", "exp": 1}, demo_private_key(), kid=demo_kid()),
        "Bearer " + sign({"sub": "x"}, signing_keys().other_rsa, kid=demo_kid()),
    ],
)
def test_fcs_check_refuses_what_it_can_see_is_wrong(demo: dict[str, str], authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    with pytest.raises(TriggerRejected) as refused:
        checked(trigger_auth(environ=demo), "GET", "/waba", headers)

    assert refused.value.status == 401
    assert set(json.loads(refused.value.body())) == {"Code", "Message"}


def test_the_whitelist_and_the_preflight_behaviours(demo: dict[str, str]) -> None:
    passing, blocking = trigger_auth(environ=demo), trigger_auth(environ=demo, preflight="block")
    preflight = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}

    assert checked(passing, "GET", "/healthz", {}) == {}
    assert checked(blocking, "GET", "/healthz/", {}) == {}
    assert checked(passing, "OPTIONS", "/waba", preflight) == preflight
    with pytest.raises(TriggerRejected):
        checked(blocking, "OPTIONS", "/waba", preflight)


def test_an_anonymous_trigger_checks_nothing(demo: dict[str, str]) -> None:
    for trigger in (
        trigger_auth(environ={**demo, "TRIGGER_AUTH_TYPE": "anonymous"}),
        trigger_auth(auth_type="anonymous"),
    ):
        assert trigger.auth_type == "anonymous"
        assert checked(trigger, "GET", "/waba", {"x-waba-jwt-sub": "admin"}) == {"x-waba-jwt-sub": "admin"}


@pytest.mark.parametrize("auth_jwks", [None, "not json", '{"keys": []}', '{"keys": [{"kty": "RSA", "n": "AQAB"}]}'])
def test_without_usable_keys_a_jwt_trigger_says_what_to_export(auth_jwks: str | None) -> None:
    environ = {**JWT, **({"AUTH_JWKS": auth_jwks} if auth_jwks is not None else {})}

    with pytest.raises(ValueError, match="export AUTH_JWKS"):
        trigger_auth(environ=environ)


def test_other_token_positions() -> None:
    trigger = TriggerAuth(
        "jwt",
        keys=trigger_auth(environ={**demo_environ(), **JWT}).keys,
        lookups=(TokenLookup("query", "jwt"), TokenLookup("cookie", "jwt")),
        blacklist=("/waba*",),
    )
    token = demo_token(["*"])

    assert trigger.check("GET", "/waba", {}, f"jwt={token}") == {}
    assert trigger.check("GET", "/waba", {"Cookie": f"jwt={token}"}, "") == {"Cookie": f"jwt={token}"}
    assert trigger.check("GET", "/healthz", {}, "") == {}, "outside the blacklist"
    with pytest.raises(TriggerRejected):
        trigger.check("GET", "/waba/own", {}, "")
