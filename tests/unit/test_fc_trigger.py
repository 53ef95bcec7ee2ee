"""The emulator plays FC's JWT check from s.yaml's authConfig, and s.yaml gives function and trigger one key."""

from __future__ import annotations

import json

import pytest
import yaml

from local.emulator import ROOT
from local.fc_trigger import TokenLookup, TriggerAuth, TriggerRejected, resolve, trigger_auth
from local.tokens import demo_environ, demo_kid, demo_private_key, demo_token, sign
from shared.auth.keys import key_set
from tests.helpers import signing_keys


@pytest.fixture
def demo() -> dict[str, str]:
    return demo_environ()


def checked(trigger: TriggerAuth, method: str, path: str, headers: dict[str, str]) -> dict[str, str]:
    return trigger.check(method, path, headers, "custSpaceId=demo-approved")


def test_s_yaml_configures_fcs_check_as_documented(demo: dict[str, str]) -> None:
    trigger = trigger_auth(environ=demo)

    assert trigger.auth_type == "jwt"
    assert [(x.position, x.name, x.prefix) for x in trigger.lookups] == [("header", "Authorization", "Bearer ")]
    assert [(x.claim, x.name, x.position) for x in trigger.pass_by] == [("sub", "x-waba-jwt-sub", "header")]
    assert trigger.whitelist == ("/healthz",)
    assert list(trigger.keys) == [demo_kid()]


def test_the_function_and_the_trigger_trust_the_same_key(demo: dict[str, str]) -> None:
    document = yaml.safe_load((ROOT / "s.yaml").read_text())
    environment = resolve(document["resources"]["lookup"]["props"]["environmentVariables"], document, demo)
    function_keys = key_set(environment["AUTH_JWKS"])
    trigger_keys = trigger_auth(environ=demo).keys

    assert list(function_keys) == list(trigger_keys) == [demo_kid()]
    assert json.loads(environment["AUTH_JWKS"])["keys"][0]["n"] == demo["AUTH_JWK_N"]
    assert function_keys[demo_kid()].algorithm_name == trigger_keys[demo_kid()].algorithm_name == "RS256"
    assert environment["AUTH_MODE"] == "jwt"


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


def test_without_keys_the_trigger_says_what_to_export() -> None:
    with pytest.raises(ValueError, match="AUTH_JWK_KID and AUTH_JWK_N"):
        trigger_auth(environ={})


def test_other_token_positions() -> None:
    trigger = TriggerAuth(
        "jwt",
        keys=trigger_auth(environ=demo_environ()).keys,
        lookups=(TokenLookup("query", "jwt"), TokenLookup("cookie", "jwt")),
        blacklist=("/waba*",),
    )
    token = demo_token(["*"])

    assert trigger.check("GET", "/waba", {}, f"jwt={token}") == {}
    assert trigger.check("GET", "/waba", {"Cookie": f"jwt={token}"}, "") == {"Cookie": f"jwt={token}"}
    assert trigger.check("GET", "/healthz", {}, "") == {}, "outside the blacklist"
    with pytest.raises(TriggerRejected):
        trigger.check("GET", "/waba/own", {}, "")
