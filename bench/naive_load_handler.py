"""The naive handler (`bench/naive_handler.py`) with the least error handling a load test needs.

`naive_handler` lets the SDK's exception escape, which FC answers as a bare 502; here CAMS's own
error becomes the answer: 429 when CAMS throttles, else CAMS's HTTP status. Still one SDK call a
request, no cache, no retries.
"""

from __future__ import annotations

import json
from typing import Any

from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from naive_handler import handler as naive_handler
from naive_handler import initialize

__all__ = ["handler", "initialize"]

THROTTLING_CODES = ("System.LimitControl", "Throttling")


def handler(event: bytes, context: Any) -> dict[str, Any]:
    try:
        return naive_handler(event, context)
    except AlibabaCloudException as error:
        code = str(error.code or "")
        status = 429 if code.startswith(THROTTLING_CODES) else int(error.status_code or 502)
        return {
            "statusCode": status,
            "headers": {"content-type": "application/json"},
            "isBase64Encoded": False,
            "body": json.dumps({"Code": code, "Message": str(error.message)}),
        }
