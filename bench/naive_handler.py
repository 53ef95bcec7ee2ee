"""The naive handler, for the cold-start benchmark only: one SDK call per request, nothing else.

What a first version of the lookup would be: no settings, validation, retries, pacing or logs; a
client built per request from the runtime's credentials (`context.credentials` on python3.10, the
`ALIBABA_CLOUD_*` variables on python3.12), one `QueryChatappBindWaba`, its body as JSON. The
benchmark packages it as `index.py` with the SDK alone, as the lookup function is packaged.
"""

from __future__ import annotations

import json
import os
from typing import Any

from alibabacloud_cams20200606 import models
from alibabacloud_cams20200606.client import Client
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions


def initialize(context: Any) -> None:
    """Nothing to prepare: the client is built per request."""


def handler(event: bytes, context: Any) -> dict[str, Any]:
    query = json.loads(event).get("queryParameters") or {}
    credentials = getattr(context, "credentials", None)
    if credentials is not None:
        key_id, secret, token = credentials.access_key_id, credentials.access_key_secret, credentials.security_token
    else:
        key_id = os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"]
        secret = os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
        token = os.environ.get("ALIBABA_CLOUD_SECURITY_TOKEN")
    client = Client(
        Config(
            endpoint=os.environ.get("CAMS_ENDPOINT", "cams.ap-southeast-1.aliyuncs.com"),
            protocol=os.environ.get("CAMS_PROTOCOL", "https"),
            access_key_id=key_id,
            access_key_secret=secret,
            security_token=token,
        )
    )
    request = models.QueryChatappBindWabaRequest(cust_space_id=query.get("custSpaceId"))
    response = client.query_chatapp_bind_waba_with_options(request, RuntimeOptions())
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "isBase64Encoded": False,
        "body": json.dumps(response.body.to_map()),
    }
