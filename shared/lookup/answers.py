"""The answer to a lookup: the WABA, whether it is stale and since when, with an ETag for revalidation.

Example:
    >>> from shared.bindings.entry import Answer
    >>> etag_of(Answer("bound", {"id": "1"}, None, 0.0)) == etag_of(Answer("bound", {"id": "1"}, "other", 5.0))
    True
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from shared.bindings.entry import Answer
from shared.bindings.service import Lookup
from shared.http import HttpRequest
from shared.resolver import Reply

# Browsers may keep the answer but must ask again each time: If-None-Match makes that a 304.
REVALIDATE = {"cache-control": "private, no-cache"}


def waba_reply(found: Lookup, answer: Answer, request: HttpRequest, request_id: str | None, now: float) -> Reply:
    """200 with the WABA, or 304 when the caller's copy (If-None-Match) is still the one."""
    etag = etag_of(answer)
    headers = {**REVALIDATE, "etag": etag}
    if found.source != "cams":
        headers["age"] = str(math.floor(answer.age_s(now)))
    log: dict[str, Any] = {"camsRequestId": answer.cams_request_id, "stale": found.stale}
    if etag in _tags(request.headers.get("if-none-match", "")):
        return Reply(304, headers=headers, log=log)
    body = {
        "waba": answer.waba,
        "requestId": request_id,
        "camsRequestId": answer.cams_request_id,
        "stale": found.stale,
        "cachedAt": answer.cached_at(),
    }
    return Reply.json(200, body, log=log, headers=headers)


def etag_of(answer: Answer) -> str:
    """A weak validator of the WABA alone: the request ids around it change with every answer."""
    digest = hashlib.sha256(json.dumps(answer.waba, sort_keys=True).encode()).hexdigest()[:24]
    return f'W/"{digest}"'


def _tags(header: str) -> set[str]:
    tags = {tag.strip() for tag in header.split(",") if tag.strip()}
    # A weak comparison, as RFC 9110 asks of If-None-Match: W/"x" and "x" match.
    return tags | {tag[2:] if tag.startswith("W/") else f"W/{tag}" for tag in tags}
