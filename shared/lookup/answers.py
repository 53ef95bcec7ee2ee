"""The answers of the lookups: the WABA, or the space's health; whether stale and since when; an ETag.

Example:
    >>> from shared.cache.entry import CacheEntry
    >>> from shared.operations import QUERY_CHATAPP_BIND_WABA as BIND
    >>> one = CacheEntry.answered(BIND, {"Data": {"Id": "1"}, "RequestId": "a"}, "a", 0.0)
    >>> other = CacheEntry.answered(BIND, {"Data": {"Id": "1"}}, "b", 5.0)
    >>> etag_of(one.unwrap(BIND).to_json()) == etag_of(other.unwrap(BIND).to_json()) == waba_etag(one.unwrap(BIND))
    True
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from shared.cache.entry import CacheEntry
from shared.cache.facade import Fetched
from shared.health import SpaceHealth
from shared.http import HttpRequest
from shared.models import WabaBinding, digest_of
from shared.operations import QUERY_CHATAPP_BIND_WABA
from shared.resolver import HttpReply

# Browsers may keep the answer but must ask again each time: If-None-Match makes that a 304.
REVALIDATE = {"cache-control": "private, no-cache"}


def waba_reply(
    found: Fetched[WabaBinding],
    entry: CacheEntry[WabaBinding],
    request: HttpRequest,
    request_id: str | None,
    now: float,
    log: Mapping[str, Any],
) -> HttpReply:
    """200 with the entry's WABA, or 304 when the caller's copy (If-None-Match) is still the one.

    `log` holds the route's fields for the request line, which the reply's own join.
    """
    binding = entry.unwrap(QUERY_CHATAPP_BIND_WABA)
    etag = waba_etag(binding)
    headers = {**REVALIDATE, "etag": etag}
    if found.source != "cams":
        headers["age"] = str(math.floor(entry.age_s(now)))
    log = {**log, "camsRequestId": entry.cams_request_id, "stale": found.stale}
    if _matches(etag, request):
        return HttpReply(304, headers=headers, log=log)
    body = {
        "waba": binding.to_json(),
        "requestId": request_id,
        "camsRequestId": entry.cams_request_id,
        "stale": found.stale,
        "cachedAt": entry.cached_at(),
    }
    return HttpReply.json(200, body, log=log, headers=headers)


def health_reply(health: SpaceHealth, request: HttpRequest, request_id: str | None, now: float) -> HttpReply:
    """200 with the space's health, or 304 when the caller's copy (If-None-Match) is still the one."""
    document = health.to_json()
    etag = etag_of(document)
    checked_at = health.checked_at
    headers = {**REVALIDATE, "etag": etag}
    log: dict[str, Any] = {
        "verdict": health.verdict,
        "reasonCodes": list(health.codes),
        "camsRequestIds": health.cams_request_ids(),
        "stale": health.stale,
    }
    if _matches(etag, request):
        return HttpReply(304, headers=headers, log=log)
    body = {
        "health": document,
        "checkedAt": None if checked_at is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(checked_at)),
        "stale": health.stale,
        "requestId": request_id,
    }
    if checked_at is not None:
        headers["age"] = str(max(0, math.floor(now - checked_at)))
    return HttpReply.json(200, body, log=log, headers=headers)


def etag_of(document: Mapping[str, Any]) -> str:
    """A weak validator of the document alone (as answered): the request ids around it change with every answer."""
    return f'W/"{digest_of(document)}"'


def waba_etag(binding: WabaBinding) -> str:
    """`etag_of` the binding's document, whose digest the binding keeps: a cached one is answered again and again."""
    return f'W/"{binding.digest}"'


def _matches(etag: str, request: HttpRequest) -> bool:
    header = request.headers.get("if-none-match")
    return header is not None and etag in _tags(header)


def _tags(header: str) -> set[str]:
    tags = {tag.strip() for tag in header.split(",") if tag.strip()}
    # A weak comparison, as RFC 9110 asks of If-None-Match: W/"x" and "x" match.
    return tags | {tag[2:] if tag.startswith("W/") else f"W/{tag}" for tag in tags}
