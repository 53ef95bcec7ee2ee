"""The typed WABA binding and the lookup's query parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.cams import classify, parse_body
from shared.errors import ERROR_TABLE, InvalidParameter, UpstreamBadResponse, UpstreamError, WabaNotBound
from shared.lookup.query import LookupQuery, parse_lookup_query
from shared.models import WabaBinding
from shared.operations import QUERY_CHATAPP_BIND_WABA


def test_ids_that_arrive_as_numbers_are_read_as_strings() -> None:
    assert WabaBinding.model_validate({"Id": 20393988393993}).id == "20393988393993"


def test_unknown_fields_survive_in_camel_case() -> None:
    binding = WabaBinding.model_validate({"Id": "1", "BusinessVerificationStatus": "verified"})

    assert binding.to_json()["businessVerificationStatus"] == "verified"


def test_isv_codes_never_show_in_reprs() -> None:
    query = parse_lookup_query({"isvCode": "secret-isv-code"}, allow_isv_code=True, own=True)

    assert query == LookupQuery(isvCode="secret-isv-code")
    assert "secret-isv-code" not in repr(query)


def test_the_first_bad_parameter_is_named() -> None:
    with pytest.raises(InvalidParameter) as raised:
        parse_lookup_query({"custSpaceId": "ok", "isvCode": "not ok!"}, allow_isv_code=True)

    assert raised.value.parameter == "isvCode"


@pytest.mark.parametrize("body", [[], "text", None, {"Code": "OK", "Data": ["x"]}])
def test_bodies_that_are_not_cams_answers_are_bad_responses(body: object) -> None:
    with pytest.raises(UpstreamBadResponse):
        parse_body(QUERY_CHATAPP_BIND_WABA, body)


@pytest.mark.parametrize("data", [None, {}])
def test_empty_data_means_no_waba_bound(data: object) -> None:
    with pytest.raises(WabaNotBound):
        parse_body(QUERY_CHATAPP_BIND_WABA, {"Code": "OK", "RequestId": "r", "Data": data})


def test_success_false_is_an_error_even_without_a_code() -> None:
    assert classify(None, 500, None).code == "UpstreamUnavailable"
    with pytest.raises(UpstreamError) as raised:
        parse_body(QUERY_CHATAPP_BIND_WABA, {"Success": False, "RequestId": "r"})
    assert raised.value.cams_request_id == "r"


def test_error_codes_are_unique_and_statuses_documented() -> None:
    codes = [error.code for error in ERROR_TABLE]

    assert len(codes) == len(set(codes))
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for error in ERROR_TABLE:
        assert f"| {error.status} | `{error.code}` |" in readme, f"{error.code} is missing from the README"
