"""The HTTP function end to end: FC3 event in, the official SDK against the fake CAMS, JSON out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.lookup.index import initialize
from local.cams import FakeCams
from local.emulator import http_event
from shared.cams import CamsGateway
from shared.lookup.app import runtime as lookup_runtime
from tests.helpers import Env, call, context, get


def test_lookup_answers_the_bound_waba_in_camel_case(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert answer.status == 200
    assert answer.body["waba"] == {
        "id": "200000000000101",
        "name": "Demo Approved WABA",
        "businessId": "300000000000101",
        "businessName": "Approved Retail Co.",
        "currency": "USD",
        "accountReviewStatus": "APPROVED",
        "messageTemplateNamespace": "93e6b26e_8a67_4163_a093_ebfe645a66b0",
        "primaryBusinessLocation": '"start_time":1721952000',
        "authInternationalRateEligibility": {"test": "test", "test2": 1},
        "isOnBizApp": False,
        "marketingMessageLiteStatus": "ONBOARDED",
    }
    assert answer.body["requestId"] == "req-test-1"
    assert answer.headers["content-type"].startswith("application/json")
    [call_made] = cams.calls()
    assert answer.body["camsRequestId"] == call_made.request_id
    assert call_made.query == {"CustSpaceId": "demo-approved"}
    assert call_made.access_key_id == "STS.DEMO-ROLE-KEY"


def test_the_accounts_own_waba_is_asked_for_by_its_own_route(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/waba/own")

    assert answer.status == 200
    assert answer.body["waba"]["id"] == "200000000000001"
    assert cams.calls()[0].query == {}


def test_leaving_the_space_out_is_a_400_never_the_accounts_own_waba(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/waba")

    assert (answer.status, answer.error_code, answer.body["error"]["parameter"]) == (
        400,
        "InvalidParameter",
        "custSpaceId",
    )
    assert "/waba/own" in answer.body["error"]["message"]
    assert cams.journal == []


def test_fields_cams_adds_later_are_passed_on(lookup: Any, cams: FakeCams) -> None:
    cams.backend.bind_space(
        "1000000000000001",
        "space-new",
        {"Id": "42", "TimezoneId": "Asia/Singapore", "HealthStatus": {"CanSend": True}},
    )

    waba = get(lookup, "/waba", "custSpaceId=space-new").body["waba"]

    assert waba["timezoneId"] == "Asia/Singapore"
    assert waba["healthStatus"] == {"CanSend": True}
    assert waba["name"] is None


def test_healthz_answers_without_calling_cams(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/healthz")

    assert (answer.status, answer.body["status"]) == (200, "ok")
    assert cams.journal == []


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "NotFound"),
        ("GET", "/", 404, "NotFound"),
        ("POST", "/waba", 405, "MethodNotAllowed"),
        ("DELETE", "/healthz", 405, "MethodNotAllowed"),
    ],
)
def test_unknown_paths_and_methods_are_json_errors(lookup: Any, method: str, path: str, status: int, code: str) -> None:
    answer = call(lookup, http_event(method, path))

    assert (answer.status, answer.error_code) == (status, code)
    if status == 405:
        assert answer.headers["allow"] == "GET, OPTIONS"


def test_a_trailing_slash_reaches_the_same_route(lookup: Any, cams: FakeCams) -> None:
    assert get(lookup, "/waba/", "custSpaceId=demo-approved").status == 200
    assert [c.query for c in cams.calls()] == [{"CustSpaceId": "demo-approved"}]


@pytest.mark.parametrize(
    "query",
    [
        "custSpaceId=",
        "custSpaceId=" + "a" * 65,
        "custSpaceId=has%20space",
        "custSpaceId=%3Cscript%3E",
        "custSpaceId=a,b",
        "custSpaceId=a&custSpaceId=b",
        "custSpaceId=%E4%B8%AD%E6%96%87",
        "custSpaceId=..%2F..%2Fetc",
    ],
)
def test_bad_space_ids_are_400_naming_the_parameter(lookup: Any, cams: FakeCams, query: str) -> None:
    answer = get(lookup, "/waba", query)

    assert answer.status == 400
    assert answer.body["error"]["code"] == "InvalidParameter"
    assert answer.body["error"]["parameter"] == "custSpaceId"
    assert "1 to 64 characters" in answer.body["error"]["message"]
    assert "script" not in answer.raw["body"]
    assert cams.journal == []


def test_isv_code_from_the_caller_is_refused_unless_allowed(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/waba", "custSpaceId=demo-isv&isvCode=demo-isv-code-0001")

    assert (answer.status, answer.body["error"]["parameter"]) == (400, "isvCode")
    assert cams.journal == []


def test_isv_code_from_the_caller_is_used_when_allowed(lookup: Any, cams: FakeCams, env: Env) -> None:
    env.setenv("ALLOW_CALLER_ISV_CODE", "true")

    assert get(lookup, "/waba", "custSpaceId=demo-isv&isvCode=demo-isv-code-0001").status == 200
    assert cams.calls()[0].query == {"CustSpaceId": "demo-isv", "IsvCode": "demo-isv-code-0001"}
    for bad_code in ("x" * 129, "abc", "1234567"):
        bad = get(lookup, "/waba", "custSpaceId=demo-isv&isvCode=" + bad_code)
        assert (bad.status, bad.body["error"]["parameter"]) == (400, "isvCode")
        assert "8 to 128 characters" in bad.body["error"]["message"]
    assert len(cams.calls()) == 1, "IsvCodes too short to scrub from logs are refused before CAMS"


def test_the_server_side_isv_code_is_sent(lookup: Any, cams: FakeCams, env: Env) -> None:
    env.setenv("CAMS_ISV_CODE", "demo-isv-code-0001")

    assert get(lookup, "/waba", "custSpaceId=demo-isv").status == 200
    assert cams.calls()[0].query["IsvCode"] == "demo-isv-code-0001"


def test_the_cache_buster_is_taken_and_ignored(lookup: Any, cams: FakeCams) -> None:
    assert get(lookup, "/waba", "custSpaceId=demo-approved&_=1732600000").status == 200
    assert get(lookup, "/waba/own", "_=").status == 200
    assert [c.query for c in cams.calls()] == [{"CustSpaceId": "demo-approved"}, {}]


@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    [
        ("/waba", "custSpaceID=demo-approved", "custSpaceID"),
        ("/waba", "cust_space_id=demo-approved", "cust_space_id"),
        ("/waba", "custSpaceId[]=demo-approved", "custSpaceId[]"),
        ("/waba", "custSpaceId=demo-approved&callback=x", "callback"),
        ("/waba", "custSpaceId=demo-approved&%3Cscript%3E=1", "(unknown)"),
        ("/waba/own", "custSpaceId=demo-approved", "custSpaceId"),
        ("/waba", "custSpaceId=demo-approved&_=1&_=2", "_"),
        ("/waba", "custSpaceId=demo-approved&_=a.b", "_"),
        ("/waba", "custSpaceId=demo-approved&custSpaceId=demo-approved", "custSpaceId"),
    ],
)
def test_unknown_and_repeated_parameters_are_400s_naming_them(
    lookup: Any, cams: FakeCams, path: str, query: str, parameter: str
) -> None:
    answer = get(lookup, path, query)

    assert (answer.status, answer.error_code) == (400, "InvalidParameter")
    assert answer.body["error"]["parameter"] == parameter
    assert "script" not in answer.raw["body"]
    assert cams.journal == []


def test_event_as_str_and_as_dict_are_accepted(lookup: Any, cams: FakeCams) -> None:
    event = http_event("GET", "/healthz")
    assert lookup(json.dumps(event), context())["statusCode"] == 200
    assert lookup(event, context())["statusCode"] == 200


def test_initializer_builds_the_client_before_the_first_request(env: Env) -> None:
    initialize(context())

    assert built_gateway()._client is not None


def built_gateway() -> CamsGateway:
    """The lookup instance's gateway, as its first invocation or initializer built it."""
    assert lookup_runtime.current is not None
    return lookup_runtime.current.gateway
