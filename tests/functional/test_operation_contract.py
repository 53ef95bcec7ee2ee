"""Each operation, as this package sends it, reaches CAMS exactly as the official SDK's generated method sends it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from alibabacloud_cams20200606 import models as cams_models
from alibabacloud_cams20200606.client import Client as CamsClient
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions

from local.cams import FakeCams
from shared.cams import CamsGateway
from shared.credentials import StaticCredentials
from shared.operations import (
    GET_WHATSAPP_HEALTH_STATUS,
    QUERY_CHATAPP_BIND_WABA,
    QUERY_CHATAPP_PHONE_NUMBERS,
    Operation,
    SpaceArguments,
    WabaHealthArguments,
)
from shared.retry import Deadline
from shared.settings import FunctionSettings, load_settings
from tests.helpers import ROLE

VARYING = {"Signature", "SignatureNonce", "Timestamp"}
"""Differ between any two signed requests, whoever sends them."""


@dataclass(frozen=True)
class Budget:
    credentials: StaticCredentials
    deadline: Deadline


def sent_by_sdk(cams: FakeCams, method: str, request: Any) -> None:
    config = Config(
        endpoint=cams.endpoint,
        protocol="http",
        access_key_id=ROLE.access_key_id,
        access_key_secret=ROLE.access_key_secret,
        security_token=ROLE.security_token,
    )
    getattr(CamsClient(config), method)(request, RuntimeOptions())


CASES: list[tuple[Operation[Any, Any], SpaceArguments, str, Any]] = [
    (
        QUERY_CHATAPP_BIND_WABA,
        SpaceArguments("demo-isv", isv_code="demo-isv-code-0001"),
        "query_chatapp_bind_waba_with_options",
        cams_models.QueryChatappBindWabaRequest(cust_space_id="demo-isv", isv_code="demo-isv-code-0001"),
    ),
    (
        QUERY_CHATAPP_BIND_WABA,
        SpaceArguments(None),
        "query_chatapp_bind_waba_with_options",
        cams_models.QueryChatappBindWabaRequest(),
    ),
    (
        GET_WHATSAPP_HEALTH_STATUS,
        WabaHealthArguments("demo-blocked", isv_code="an-isv-code-never-sent", waba_id="200000000000105"),
        "get_whatsapp_health_status_with_options",
        cams_models.GetWhatsappHealthStatusRequest(
            cust_space_id="demo-blocked", node_type="waba", waba_id="200000000000105"
        ),
    ),
    (
        QUERY_CHATAPP_PHONE_NUMBERS,
        SpaceArguments("demo-isv", isv_code="demo-isv-code-0001"),
        "query_chatapp_phone_numbers_with_options",
        cams_models.QueryChatappPhoneNumbersRequest(cust_space_id="demo-isv", isv_code="demo-isv-code-0001"),
    ),
]


@pytest.mark.parametrize(("operation", "arguments", "method", "request_model"), CASES)
def test_the_package_sends_what_the_generated_method_sends(
    cams: FakeCams, operation: Operation[Any, Any], arguments: SpaceArguments, method: str, request_model: Any
) -> None:
    settings = load_settings(FunctionSettings, {"CAMS_ENDPOINT": cams.endpoint, "CAMS_PROTOCOL": "http"})
    role = StaticCredentials(ROLE.access_key_id, ROLE.access_key_secret, ROLE.security_token)
    assert CamsGateway(settings).call(operation, arguments, Budget(role, Deadline.after(10.0))).attempts == 1
    sent_by_sdk(cams, method, request_model)

    ours, sdks = cams.journal
    assert ours.action == sdks.action == operation.action
    assert {k: v for k, v in ours.query.items() if k not in VARYING} == {
        k: v for k, v in sdks.query.items() if k not in VARYING
    }
    assert (ours.status, ours.code) == (sdks.status, sdks.code)
