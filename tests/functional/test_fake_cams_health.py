"""The fake CAMS's health operations, GetWhatsappHealthStatus and QueryChatappPhoneNumbers, through the SDK."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from alibabacloud_cams20200606 import models
from alibabacloud_cams20200606.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions

from local.cams import FakeCams
from local.cams.models import CAMS_RATE_LIMITS
from local.cams.process import FakeSettings, action_rate, fake_cams_process, role_credentials
from local.cams.server import DEMO_DATA
from tests.functional.test_fake_cams import post, query, sdk, signed_headers

ACCOUNT = "1000000000000001"
ISV_CODE = "demo-isv-code-0001"
HEALTH = "GetWhatsappHealthStatus"
PHONES = "QueryChatappPhoneNumbers"


def phones(
    client: Client, space: str | None = "demo-approved", isv: str | None = None, status: str | None = None
) -> Any:
    request = models.QueryChatappPhoneNumbersRequest(cust_space_id=space, isv_code=isv, status=status)
    return client.query_chatapp_phone_numbers_with_options(request, RuntimeOptions()).body


def health(client: Client, space: str | None = "demo-approved", node_type: str | None = "waba", **kw: Any) -> Any:
    request = models.GetWhatsappHealthStatusRequest(cust_space_id=space, node_type=node_type, **kw)
    return client.get_whatsapp_health_status_with_options(request, RuntimeOptions()).body


def code(call: Callable[[], Any]) -> str:
    """The answer's Code, whether the error came as HTTP 400 or in an HTTP 200 body."""
    try:
        return str(call().code)
    except ClientException as error:
        return str(error.code)


def can_send_or_code(client: Client, space: str) -> str:
    """The overall CanSendMessage of the space's WABA, or the Code of the error answered instead."""
    try:
        return str(health(client, space).data.can_send_message)
    except ClientException as error:
        return str(error.code)


def states(body: Any) -> list[tuple[str, str]]:
    return [(entity.entity_type, entity.can_send_message) for entity in body.data.entities]


def raw(cams: FakeCams, action: str, raw_query: str) -> dict[str, Any]:
    """One call signed by hand, to see the answer as sent, fields the SDK's model does not know included."""
    response = post(cams, raw_query, signed_headers(cams, raw_query, nonce=str(uuid.uuid4()), action=action))
    answer: dict[str, Any] = response.json()
    return answer


# --- QueryChatappPhoneNumbers -----------------------------------------------------------------------


def test_phone_numbers_parse_into_the_sdk_model(cams: FakeCams) -> None:
    body = phones(sdk(cams))

    (number,) = body.phone_numbers
    assert (body.code, body.success) == ("OK", True)
    assert (number.phone_number, number.status, number.quality_rating, number.messaging_limit_tier) == (
        "+6500000101",
        "CONNECTED",
        "GREEN",
        "TIER_1000",
    )
    assert (number.code_verification_status, number.name_status, number.verified_name) == (
        "VERIFIED",
        "APPROVED",
        "Approved Retail Co.",
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, ["+6500000119", "+6500001119", "+6500002119"]),
        ("CONNECTED", ["+6500000119", "+6500002119"]),
        ("DELETED", ["+6500001119"]),
        ("OFFLINE", []),
    ],
)
def test_the_status_filters_the_numbers(cams: FakeCams, status: str | None, expected: list[str]) -> None:
    body = phones(sdk(cams), "demo-multi", status=status)

    assert [number.phone_number for number in body.phone_numbers] == expected


def test_a_numbers_fields_are_answered_as_the_seed_has_them(cams: FakeCams) -> None:
    odd = {"PhoneNumber": "+6599990000", "Status": "MIGRATED", "Throughput": {"Level": "HIGH"}}
    cams.backend.set_phone_numbers(ACCOUNT, "demo-approved", [odd, {"PhoneNumber": "+6599990001"}])

    answer = raw(cams, PHONES, "CustSpaceId=demo-approved")

    assert answer["PhoneNumbers"] == [odd, {"PhoneNumber": "+6599990001"}], "absent fields stay absent"
    assert raw(cams, PHONES, "CustSpaceId=demo-multi")["PhoneNumbers"][0]["IsOfficial"] == "Y"


def test_a_space_without_a_waba_or_with_no_numbers_has_none(cams: FakeCams) -> None:
    cams.backend.bind_space(ACCOUNT, "emptied", {"Id": "200000000009999"}, phone_numbers=[])

    assert phones(sdk(cams), "demo-unbound").phone_numbers == []
    assert phones(sdk(cams), "emptied").phone_numbers == []


def test_without_a_space_the_accounts_own_numbers_are_listed(cams: FakeCams) -> None:
    assert [number.phone_number for number in phones(sdk(cams), None).phone_numbers] == ["+6500000001"]


@pytest.mark.parametrize("style", ["http", "body"])
def test_phone_numbers_are_owned_as_bindings_are(cams: FakeCams, style: Any) -> None:
    cams.use_error_style(style)
    client = sdk(cams)

    assert code(lambda: phones(client, "other-space")) == "Unknown.ResourceOwnerId"
    assert code(lambda: phones(client, "no-such-space")) == "Unknown.ResourceOwnerId"
    assert code(lambda: phones(client, "demo-isv")) == "Unknown.ResourceOwnerId"
    assert code(lambda: phones(client, "demo-isv", "wrong-isv-code")) == "Unknown.ResourceOwnerId"
    assert code(lambda: phones(client, "demo-isv", ISV_CODE)) == "OK"


@pytest.mark.parametrize(
    ("flag", "expected"), [("subscribed", "Product.Unsubscript"), ("permitted", "Ram.PermissionDeny")]
)
def test_phone_numbers_need_the_product_and_the_permission(cams: FakeCams, flag: str, expected: str) -> None:
    setattr(cams.backend.accounts[ACCOUNT], flag, False)

    with pytest.raises(ClientException) as raised:
        phones(sdk(cams))

    assert (raised.value.status_code, raised.value.code) == (400, expected)
    if flag == "permitted":
        assert raised.value.access_denied_detail["AuthAction"] == "cams:QueryChatappPhoneNumbers"


# --- GetWhatsappHealthStatus -------------------------------------------------------------------------


def test_health_parses_into_the_sdk_model(cams: FakeCams) -> None:
    body = health(sdk(cams), waba_id="200000000000101")

    waba, business, phone = body.data.entities
    assert (body.code, body.success, body.data.can_send_message) == ("OK", True, "AVAILABLE")
    assert (waba.entity_type, waba.can_send_message, waba.waba_id, waba.business_id) == (
        "WABA",
        "AVAILABLE",
        "200000000000101",
        "300000000000101",
    )
    assert (business.entity_type, business.business_id, business.errors) == ("BUSINESS", "300000000000101", [])
    assert (phone.entity_type, phone.phone_number, phone.waba_id) == ("PHONE_NUMBER", "+6500000101", "200000000000101")


def test_errors_carry_metas_code_description_and_solution(cams: FakeCams) -> None:
    body = health(sdk(cams), "demo-blocked", waba_id="200000000000105")

    (error,) = body.data.entities[0].errors
    assert (body.data.can_send_message, body.data.entities[0].can_send_message) == ("BLOCKED", "BLOCKED")
    assert (error.error_code, bool(error.error_description), bool(error.possible_solution)) == ("141006", True, True)


def test_without_a_waba_id_the_bound_waba_is_answered(cams: FakeCams) -> None:
    assert health(sdk(cams)).data.entities[0].waba_id == "200000000000101"


def test_the_phone_node_answers_the_number_with_its_waba(cams: FakeCams) -> None:
    client = sdk(cams)

    body = health(client, "demo-phone-blocked", "phone", phone_number="+6500000118")
    unsigned = health(client, "demo-phone-blocked", "phone", phone_number="6500000118")

    assert body.data.can_send_message == "BLOCKED"
    assert states(body) == [("PHONE_NUMBER", "BLOCKED"), ("WABA", "AVAILABLE"), ("BUSINESS", "AVAILABLE")]
    assert body.data.entities[0].errors[0].possible_solution
    assert states(unsigned) == states(body), "a number is known with or without its +"


def test_the_template_node_answers_the_template_with_its_waba(cams: FakeCams) -> None:
    body = health(sdk(cams), node_type="template", template_code="744c4b5c79c9432497a075bdfca3****", language="en")

    template = body.data.entities[0]
    assert (template.entity_type, template.template_code, template.language) == (
        "MESSAGE_TEMPLATE",
        "744c4b5c79c9432497a075bdfca3****",
        "en",
    )


def test_health_takes_no_isv_code_and_no_ram_permission(cams: FakeCams) -> None:
    cams.backend.accounts[ACCOUNT].permitted = False

    assert health(sdk(cams), "demo-isv").data.can_send_message == "AVAILABLE"
    assert "IsvCode" not in cams.calls(HEALTH)[0].query


@pytest.mark.parametrize("style", ["http", "body"])
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"space": None}, "MissingParameter"),
        ({"space": ""}, "MissingParameter"),
        ({"node_type": None}, "MissingParameter"),
        ({"node_type": "business"}, "InvalidParameter"),
        ({"node_type": "WABA"}, "InvalidParameter"),
        ({"node_type": "phone"}, "MissingParameter"),
        ({"node_type": "template"}, "MissingParameter"),
        ({"node_type": "phone", "phone_number": "+6500000102"}, "ERR-OPERATION-MAAP-0065"),
        ({"space": "demo-no-phone", "node_type": "phone", "phone_number": "+6500000115"}, "ERR-OPERATION-MAAP-0065"),
        ({"waba_id": "200000000000102"}, "ERR-FB-001"),
        ({"space": "demo-unbound"}, "ERR-OPERATION-MAAP-0060"),
        ({"space": "other-space"}, "Unknown.ResourceOwnerId"),
        ({"space": "no-such-space"}, "Unknown.ResourceOwnerId"),
    ],
)
def test_health_errors_in_both_styles(cams: FakeCams, style: Any, arguments: dict[str, Any], expected: str) -> None:
    cams.use_error_style(style)
    client = sdk(cams)

    if style == "http":
        with pytest.raises(ClientException) as raised:
            health(client, **arguments)
        assert (raised.value.status_code, raised.value.code) == (400, expected)
    else:
        body = health(client, **arguments)
        assert (body.code, body.success, body.data) == (expected, False, None)


def test_health_needs_the_product(cams: FakeCams) -> None:
    cams.backend.accounts[ACCOUNT].subscribed = False

    assert code(lambda: health(sdk(cams))) == "Product.Unsubscript"


def test_set_health_changes_an_entity_and_the_overall_follows(cams: FakeCams) -> None:
    client = sdk(cams)
    cams.backend.set_health(ACCOUNT, "demo-approved", "LIMITED")
    limited = health(client)
    cams.backend.set_health(ACCOUNT, "demo-approved", phone_number="+6500000101", can_send_message="BLOCKED")
    blocked = health(client)

    assert (limited.data.can_send_message, limited.data.entities[0].errors) == ("LIMITED", [])
    assert blocked.data.can_send_message == "BLOCKED"
    assert states(blocked)[-1] == ("PHONE_NUMBER", "BLOCKED")
    assert phones(client).phone_numbers[0].status == "CONNECTED", "the default number kept, health and all"


def test_a_seed_may_override_the_answer(cams: FakeCams) -> None:
    seed = {
        "business": {"CanSendMessage": "LIMITED"},
        "data": {"CanSendMessage": "AVAILABLE", "Entities": [{"EntityType": "APP", "CanSendMessage": "AVAILABLE"}]},
    }
    cams.backend.bind_space(ACCOUNT, "overridden", {"Id": "200000000009998", "BusinessId": "3"}, health=seed)
    cams.backend.bind_space(ACCOUNT, "business-limited", {"Id": "200000000009997", "BusinessId": "3"}, health=seed)
    cams.backend.accounts[ACCOUNT].spaces["business-limited"].health.data = {}

    overridden = health(sdk(cams), "overridden")
    computed = health(sdk(cams), "business-limited")

    assert (overridden.data.can_send_message, states(overridden)) == ("AVAILABLE", [("APP", "AVAILABLE")])
    assert (computed.data.can_send_message, states(computed)[1]) == ("LIMITED", ("BUSINESS", "LIMITED"))


# --- limits, faults ----------------------------------------------------------------------------------


def test_each_operation_has_its_own_limit(cams: FakeCams) -> None:
    cams.limit_rates()
    client = sdk(cams)

    first = [health(client).code for _ in range(5)]
    bindings = [query(client).code for _ in range(10)]
    listed = [phones(client).code for _ in range(10)]
    sixth = code(lambda: health(client))

    assert first == ["OK"] * 5
    assert bindings == listed == ["OK"] * 10, "other operations' calls are not counted against it"
    assert sixth == "System.LimitControl"
    assert code(lambda: query(client)) == code(lambda: phones(client)) == "System.LimitControl"


def test_one_operations_limit_leaves_the_others_unlimited(cams: FakeCams) -> None:
    cams.limit_rate(5, action=HEALTH)
    client = sdk(cams)

    assert [query(client).code for _ in range(15)] == ["OK"] * 15
    assert [code(lambda: health(client)) for _ in range(6)] == ["OK"] * 5 + ["System.LimitControl"]


def test_one_limit_for_all_still_counts_each_operation_apart(cams: FakeCams) -> None:
    cams.limit_rate(2)
    client = sdk(cams)

    assert [code(lambda: query(client)) for _ in range(3)] == ["OK", "OK", "System.LimitControl"]
    assert [code(lambda: phones(client)) for _ in range(3)] == ["OK", "OK", "System.LimitControl"]
    cams.limit_rate(None)
    assert query(client).code == "OK", "None lifts every limit"


def test_the_fault_script_applies_to_any_action(cams: FakeCams) -> None:
    client = sdk(cams)
    cams.fail_next(1, code="Throttling.User", retry_after_ms=0)
    cams.garbage_next(1)
    cams.fail_next(1, code="InternalError")
    cams.drop_next(1)
    cams.delay_next(1, seconds=0.2)

    assert code(lambda: health(client)) == "Throttling.User"
    with pytest.raises(UnretryableException, match="json"):
        phones(client)
    with pytest.raises(ServerException, match="InternalError"):
        health(client)
    with pytest.raises(UnretryableException):
        phones(client)
    started = time.monotonic()
    assert health(client).code == "OK"

    assert time.monotonic() - started >= 0.2
    assert [(c.action, c.status) for c in cams.journal] == [
        (HEALTH, 400),
        (PHONES, 200),
        (HEALTH, 500),
        (PHONES, 500),
        (HEALTH, 200),
    ]


def test_a_scripted_ram_denial_names_the_action_it_met(cams: FakeCams) -> None:
    cams.fail_next(1, code="Forbidden.RAM", status=403)

    with pytest.raises(ClientException) as raised:
        phones(sdk(cams))

    assert raised.value.access_denied_detail["AuthAction"] == "cams:QueryChatappPhoneNumbers"


def test_the_process_settings_name_every_limit() -> None:
    settings = FakeSettings(1, 10, 0.0, {HEALTH: 3, PHONES: 0}, cams_limits=True)

    assert settings.arguments()[3:] == ["--cams-limits", f"--action-rate={HEALTH}=3", f"--action-rate={PHONES}=0"]
    assert action_rate(f"{HEALTH}=5") == (HEALTH, 5)
    assert CAMS_RATE_LIMITS == {"QueryChatappBindWaba": 10, HEALTH: 5, PHONES: 10}


@pytest.mark.slow
def test_the_fake_in_its_own_process_keeps_camss_limits() -> None:
    with fake_cams_process(FakeSettings(cams_limits=True)) as fake:
        role = role_credentials()
        client = Client(Config(endpoint=fake.endpoint, protocol="http", **role))
        answers = [code(lambda: health(client)) for _ in range(6)] + [query(client).code]

    assert answers == ["OK"] * 5 + ["System.LimitControl", "OK"]
    assert [entry["action"] for entry in fake.journal] == [HEALTH] * 6 + ["QueryChatappBindWaba"]


# --- the demo spaces ---------------------------------------------------------------------------------

DEMO_SPACES: dict[str, tuple[str | None, list[tuple[str, str | None]], str]] = {
    # space: (AccountReviewStatus, [(phone Status, QualityRating)], overall CanSendMessage or the error's Code)
    "demo-approved": ("APPROVED", [("CONNECTED", "GREEN")], "AVAILABLE"),
    "demo-pending": ("PENDING", [("CONNECTED", "GREEN")], "AVAILABLE"),
    "demo-rejected": ("REJECTED", [("CONNECTED", "GREEN")], "AVAILABLE"),
    "demo-unbound": (None, [], "ERR-OPERATION-MAAP-0060"),
    "demo-isv": ("APPROVED", [("CONNECTED", "GREEN")], "AVAILABLE"),
    "demo-blocked": ("APPROVED", [("CONNECTED", "GREEN")], "BLOCKED"),
    "demo-limited": ("APPROVED", [("CONNECTED", "GREEN")], "LIMITED"),
    "demo-phone-offline": ("APPROVED", [("OFFLINE", "GREEN")], "AVAILABLE"),
    "demo-phone-red": ("APPROVED", [("CONNECTED", "RED")], "AVAILABLE"),
    "demo-flagged": ("APPROVED", [("FLAGGED", "GREEN")], "AVAILABLE"),
    "demo-rate-limited": ("APPROVED", [("RATE_LIMITED", "GREEN")], "AVAILABLE"),
    "demo-phone-pending": ("APPROVED", [("PENDING", "GREEN")], "AVAILABLE"),
    "demo-paused": ("APPROVED", [("PAUSED", "GREEN")], "AVAILABLE"),
    "demo-phone-odd": ("APPROVED", [("MIGRATED", "GREEN")], "AVAILABLE"),
    "demo-yellow": ("APPROVED", [("CONNECTED", "YELLOW")], "AVAILABLE"),
    "demo-no-phone": ("APPROVED", [("DELETED", None)], "AVAILABLE"),
    "demo-disabled": ("DISABLED", [("CONNECTED", "GREEN")], "AVAILABLE"),
    "demo-review-odd": ("IN_APPEAL", [("CONNECTED", "GREEN")], "AVAILABLE"),
    "demo-phone-blocked": ("APPROVED", [("CONNECTED", "GREEN")], "BLOCKED"),
    "demo-multi": ("APPROVED", [("CONNECTED", "GREEN"), ("DELETED", None), ("CONNECTED", "NA")], "AVAILABLE"),
}
ISV_CODES = {"demo-isv": ISV_CODE}


def test_every_demo_space_is_described() -> None:
    seed = json.loads(DEMO_DATA.read_text())

    assert [space["custSpaceId"] for space in seed["accounts"][0]["spaces"]] == list(DEMO_SPACES)


@pytest.mark.parametrize(("space", "expected"), DEMO_SPACES.items())
def test_each_demo_space_answers_what_its_name_says(
    cams: FakeCams, space: str, expected: tuple[str | None, list[tuple[str, str | None]], str]
) -> None:
    client = sdk(cams)
    review, numbers, can_send = expected

    binding = query(client, space, ISV_CODES.get(space)).data
    listed = phones(client, space, ISV_CODES.get(space)).phone_numbers

    assert binding.account_review_status == review
    assert [(number.status, number.quality_rating) for number in listed] == numbers
    assert can_send_or_code(client, space) == can_send


def test_the_demo_waba_entities_say_why(cams: FakeCams) -> None:
    client = sdk(cams)

    blocked, limited, phone_blocked = (
        health(client, space) for space in ("demo-blocked", "demo-limited", "demo-phone-blocked")
    )

    assert states(blocked)[0] == ("WABA", "BLOCKED")
    assert (states(limited)[0], limited.data.entities[0].errors) == (("WABA", "LIMITED"), [])
    assert states(phone_blocked) == [("WABA", "AVAILABLE"), ("BUSINESS", "AVAILABLE"), ("PHONE_NUMBER", "BLOCKED")]
    assert phone_blocked.data.entities[2].errors[0].error_code


def test_the_demo_multi_space_is_healthy_with_its_deleted_number_left_out(cams: FakeCams) -> None:
    client = sdk(cams)

    body = health(client, "demo-multi")
    tiers = [number.messaging_limit_tier for number in phones(client, "demo-multi").phone_numbers]

    assert body.data.can_send_message == "AVAILABLE"
    assert [entity.phone_number for entity in body.data.entities[2:]] == ["+6500000119", "+6500002119"]
    assert tiers == ["TIER_1000", None, "UNLIMITED"]
