"""Every CAMS outcome maps to one documented HTTP status and error code, in both CAMS error styles."""

from __future__ import annotations

from typing import Any

import pytest

from local.cams import FakeCams
from tests.helpers import Env, get

BUSINESS_ERRORS = [
    # CAMS code,               HTTP status,  error code
    ("Ram.PermissionDeny", 502, "UpstreamMisconfigured"),
    ("Product.Unsubscript", 502, "UpstreamMisconfigured"),
    ("Forbidden.RAM", 502, "UpstreamMisconfigured"),
    ("Unknown.ResourceOwnerId", 404, "SpaceNotFound"),
    ("InvalidParameter", 400, "InvalidParameter"),
    ("MissingParameter", 400, "InvalidParameter"),
    ("Some.NewError", 502, "UpstreamError"),
]


@pytest.fixture(params=["http", "body"])
def style(request: pytest.FixtureRequest, cams: FakeCams) -> str:
    """Both ways CAMS may report a business error: HTTP 400, or HTTP 200 with Code != "OK"."""
    cams.use_error_style(request.param)
    return str(request.param)


@pytest.mark.parametrize(("cams_code", "status", "code"), BUSINESS_ERRORS)
def test_business_errors(lookup: Any, cams: FakeCams, style: str, cams_code: str, status: int, code: str) -> None:
    cams.fail_next(1, code=cams_code)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert (answer.status, answer.error_code) == (status, code)
    assert answer.body["error"]["requestId"] == "req-test-1"
    assert len(cams.calls()) == 1, "errors of the caller or of the function itself are never retried"
    assert answer.raw["body"].count("Recommend") == 0


def test_errors_from_the_fakes_own_state(lookup: Any, cams: FakeCams, style: str) -> None:
    account = cams.backend.accounts["1000000000000001"]

    assert get(lookup, "/waba", "custSpaceId=demo-unbound").error_code == "WabaNotBound"
    assert get(lookup, "/waba", "custSpaceId=other-space").error_code == "SpaceNotFound"
    assert get(lookup, "/waba", "custSpaceId=demo-isv").error_code == "SpaceNotFound"
    account.permitted = False
    assert get(lookup, "/waba", "custSpaceId=demo-approved").error_code == "UpstreamMisconfigured"
    account.permitted, account.subscribed = True, False
    assert get(lookup, "/waba", "custSpaceId=demo-approved").error_code == "UpstreamMisconfigured"


def test_no_waba_bound_is_404(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/waba", "custSpaceId=demo-unbound")

    assert (answer.status, answer.error_code) == (404, "WabaNotBound")
    assert answer.body["error"]["message"] == "No WABA is bound to this customer space."


def test_throttled_after_every_retry_is_429_with_retry_after(lookup: Any, cams: FakeCams, style: str) -> None:
    cams.fail_next(10, code="System.LimitControl")

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert (answer.status, answer.error_code) == (429, "Throttled")
    assert answer.headers["retry-after"] == "1"
    assert len(cams.calls()) == 4


@pytest.mark.parametrize("code", ["ServiceUnavailable", "InternalError"])
def test_cams_5xx_after_every_retry_is_503(lookup: Any, cams: FakeCams, code: str) -> None:
    cams.fail_next(10, code=code)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert (answer.status, answer.error_code) == (503, "UpstreamUnavailable")
    assert len(cams.calls()) == 4


def test_garbage_is_502_and_not_retried(lookup: Any, cams: FakeCams) -> None:
    cams.garbage_next(1)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert (answer.status, answer.error_code) == (502, "UpstreamBadResponse")
    assert "html" not in answer.raw["body"].lower()
    assert len(cams.calls()) == 1


@pytest.mark.parametrize("data", [{"Name": "no id"}, {"Id": "1", "AuthInternationalRateEligibility": "not an object"}])
def test_a_waba_the_function_cannot_read_is_502(lookup: Any, cams: FakeCams, data: dict[str, Any]) -> None:
    cams.backend.bind_space("1000000000000001", "odd-space", data)

    answer = get(lookup, "/waba", "custSpaceId=odd-space")

    assert (answer.status, answer.error_code) == (502, "UpstreamBadResponse")


def test_a_dropped_connection_every_time_is_503(lookup: Any, cams: FakeCams) -> None:
    cams.drop_next(10)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert (answer.status, answer.error_code) == (503, "UpstreamUnavailable")


def test_cams_unreachable_is_503(lookup: Any, env: Env) -> None:
    env.setenv("CAMS_ENDPOINT", "127.0.0.1:9")  # discard port: nothing listens on loopback

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert (answer.status, answer.error_code) == (503, "UpstreamUnavailable")
