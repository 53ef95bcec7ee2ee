"""The fake CAMS itself: it checks signatures and tokens as CAMS does, limits rates, and obeys scripts."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
import requests
from alibabacloud_cams20200606 import models
from alibabacloud_cams20200606.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions

from local.cams import FakeCams
from local.cams.signature import canonical_query, canonical_request, sign


def sdk(cams: FakeCams, key: str = "DEMO-DEVELOPER-KEY", secret: str = "demo-developer-secret") -> Client:
    return Client(Config(endpoint=cams.endpoint, protocol="http", access_key_id=key, access_key_secret=secret))


def query(client: Client, space: str | None = "demo-approved", isv: str | None = None) -> Any:
    request = models.QueryChatappBindWabaRequest(cust_space_id=space, isv_code=isv)
    return client.query_chatapp_bind_waba_with_options(request, RuntimeOptions()).body


def signed_headers(
    cams: FakeCams,
    raw_query: str,
    *,
    nonce: str = "n-1",
    date: str | None = None,
    action: str = "QueryChatappBindWaba",
) -> dict[str, str]:
    """Headers of a request signed by hand with the developer key, as the V3 document describes."""
    headers = {
        "host": cams.endpoint,
        "x-acs-action": action,
        "x-acs-version": "2020-06-06",
        "x-acs-date": date or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    names = sorted(headers)
    canonical = canonical_request("POST", "/", raw_query, headers, names, headers["x-acs-content-sha256"])
    signature = sign("demo-developer-secret", canonical)
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential=DEMO-DEVELOPER-KEY,SignedHeaders={';'.join(names)},Signature={signature}"
    )
    return headers


def post(cams: FakeCams, raw_query: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"http://{cams.endpoint}/?{raw_query}", headers=headers, timeout=5)


def test_the_sdk_is_answered(cams: FakeCams) -> None:
    body = query(sdk(cams))

    assert (body.code, body.data.id, body.data.account_review_status) == ("OK", "200000000000101", "APPROVED")


def test_values_the_sdk_sends_as_plus_are_checked_as_signed(cams: FakeCams) -> None:
    cams.backend.bind_space("1000000000000001", "a b*c~d", {"Id": "7"})

    assert query(sdk(cams), "a b*c~d").data.id == "7"
    assert canonical_query("b=x+y&a=%2A") == "a=%2A&b=x%20y"


def test_a_request_signed_by_hand_is_accepted(cams: FakeCams) -> None:
    response = post(cams, "CustSpaceId=demo-approved", signed_headers(cams, "CustSpaceId=demo-approved"))

    assert response.status_code == 200
    assert response.json()["Data"]["Id"] == "200000000000101"


@pytest.mark.parametrize(
    ("tamper", "status", "code"),
    [
        (lambda h, q: (h, "CustSpaceId=demo-pending"), 400, "SignatureDoesNotMatch"),
        (lambda h, q: ({**h, "x-acs-extra": "1"}, q), 400, "IncompleteSignature"),
        (lambda h, q: ({k: v for k, v in h.items() if k != "authorization"}, q), 400, "IncompleteSignature"),
        (
            lambda h, q: (
                {**h, "authorization": h["authorization"].replace("DEMO-DEVELOPER-KEY", "NOPE")},
                q,
            ),
            404,
            "InvalidAccessKeyId.NotFound",
        ),
        (lambda h, q: ({**h, "x-acs-content-sha256": "0" * 64}, q), 400, "IncompleteSignature"),
    ],
)
def test_tampered_requests_are_refused(cams: FakeCams, tamper: Any, status: int, code: str) -> None:
    headers, raw_query = tamper(signed_headers(cams, "CustSpaceId=demo-approved"), "CustSpaceId=demo-approved")

    response = post(cams, raw_query, headers)

    assert (response.status_code, response.json()["Code"]) == (status, code)


def test_a_replayed_nonce_is_refused(cams: FakeCams) -> None:
    headers = signed_headers(cams, "CustSpaceId=demo-approved", nonce="once")

    assert post(cams, "CustSpaceId=demo-approved", headers).status_code == 200
    assert post(cams, "CustSpaceId=demo-approved", headers).json()["Code"] == "SignatureNonceUsed"


def test_an_old_date_is_refused(cams: FakeCams) -> None:
    headers = signed_headers(cams, "", date="2020-01-01T00:00:00Z")

    assert post(cams, "", headers).json()["Code"] == "InvalidTimeStamp.Expired"


def test_sdk_errors_carry_the_real_codes(cams: FakeCams) -> None:
    with pytest.raises(ClientException) as raised:
        query(sdk(cams, secret="wrong"))

    assert (raised.value.status_code, raised.value.code) == (400, "SignatureDoesNotMatch")


def test_ten_calls_a_second_per_account_when_asked(cams: FakeCams) -> None:
    cams.limit_rate(10)
    client = sdk(cams)
    other = sdk(cams, "DEMO-OTHER-ACCOUNT-KEY", "demo-other-account-secret")
    codes = []
    for _ in range(15):
        try:
            codes.append(query(client).code)
        except ClientException as error:
            codes.append(error.code)

    assert codes[:10] == ["OK"] * 10
    assert "System.LimitControl" in codes[10:]
    assert query(other, "other-space").code == "OK", "another account has its own limit"


def test_business_errors_in_the_body_style(cams: FakeCams) -> None:
    cams.use_error_style("body")

    body = query(sdk(cams), "nobody-knows-this-space")

    assert (body.code, body.success) == ("Unknown.ResourceOwnerId", False)


def test_scripts_run_in_order_and_the_journal_records_each_call(cams: FakeCams) -> None:
    client = sdk(cams)
    cams.fail_next(1, code="InternalError")
    cams.garbage_next(1)

    with pytest.raises(ServerException, match="InternalError"):
        query(client)
    with pytest.raises(UnretryableException, match="json"):
        query(client)
    assert query(client).code == "OK"

    assert [(c.status, c.code) for c in cams.calls()] == [(500, "InternalError"), (200, None), (200, "OK")]
    assert all(c.access_key_id == "DEMO-DEVELOPER-KEY" for c in cams.calls())


def test_reset_forgets_everything(cams: FakeCams) -> None:
    query(sdk(cams))
    cams.fail_next(3)

    cams.reset()

    assert cams.journal == []
    assert cams.backend.faults == type(cams.backend.faults)()
    assert cams.backend.accounts == {}


def test_a_bug_in_the_fake_fails_the_test_that_met_it(cams: FakeCams, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> dict[str, object]:
        raise RuntimeError("a bug in the fake")

    monkeypatch.setattr(cams.backend, "query_bind_waba", broken)
    with pytest.raises(UnretryableException):  # werkzeug's HTML 500, which the SDK cannot parse
        query(sdk(cams))

    with pytest.raises(RuntimeError, match="a bug in the fake"):
        cams.reset()
    cams.reset()  # raised once, then forgotten
