"""What CAMS said for one operation's arguments, and when: the unit the cache keeps.

Example:
    >>> from shared.operations import QUERY_CHATAPP_BIND_WABA as BIND
    >>> entry = CacheEntry.answered(BIND, {"Code": "OK", "Data": {"Id": "1"}}, "cams-req-1", at=1_790_000_000.0)
    >>> CacheEntry.decode(BIND, entry.encode()) == entry, entry.result.id
    (True, '1')

Results stay fresh for their operation's TTL (`CACHE_TTL_SECONDS` for a binding), the errors it
keeps (`WabaNotBound` and `SpaceNotFound` for a binding) for its negative TTL; both stay usable
(stale) until CACHE_MAX_STALE_SECONDS. Nothing else is ever kept. A kept value holds the body CAMS
answered, CAMS's RequestId and a time: never an IsvCode, an AccessKey or a token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic

from shared import errors
from shared.cams import Answered
from shared.operations import A, Operation, R
from shared.retry import Attempted
from shared.settings import FunctionSettings

RESULT = "ok"
"""The kind of an entry that holds a result; any other kind is the code of a kept error."""
DECODED = 256
_decoded: dict[tuple[str, object, bytes], Any] = {}


@dataclass(frozen=True)
class CacheEntry(Generic[R]):
    kind: str
    result: R | None = field(compare=False)
    body: Mapping[str, Any] | None
    cams_request_id: str | None
    at: float
    """When CAMS gave this answer, in seconds of wall time."""

    @classmethod
    def answered(
        cls, operation: Operation[A, R], body: Mapping[str, Any], cams_request_id: str | None, at: float
    ) -> CacheEntry[R]:
        return cls(RESULT, operation.read(body), body, cams_request_id, at)

    @classmethod
    def of(cls, operation: Operation[A, R], outcome: Attempted[Answered[R]], now: float) -> CacheEntry[R] | None:
        """The entry worth keeping from a call's outcome, or None (an error that is not the space's)."""
        if outcome.error is None:
            found = outcome.unwrap()
            return cls(RESULT, found.result, found.body, found.cams_request_id, now)
        if operation.cached_error(outcome.error.code) is not None:
            return cls(outcome.error.code, None, None, outcome.error.cams_request_id, now)
        return None

    def age_s(self, now: float) -> float:
        return max(0.0, now - self.at)

    def fresh_s(self, operation: Operation[A, R], settings: FunctionSettings) -> int:
        return operation.fresh_s(settings) if self.kind == RESULT else operation.negative_fresh_s(settings)

    def is_fresh(self, now: float, operation: Operation[A, R], settings: FunctionSettings) -> bool:
        return self.age_s(now) < self.fresh_s(operation, settings)

    def is_usable(self, now: float, operation: Operation[A, R], settings: FunctionSettings) -> bool:
        return self.age_s(now) < max(self.fresh_s(operation, settings), settings.cache_max_stale_seconds)

    def error(self, operation: Operation[A, R]) -> errors.ServiceError | None:
        """The entry's error, for a kept one."""
        kind = operation.cached_error(self.kind)
        return None if kind is None else kind(cams_request_id=self.cams_request_id)

    def unwrap(self, operation: Operation[A, R]) -> R:
        """The result, or the kept error raised."""
        error = self.error(operation)
        if error is not None:
            raise error
        assert self.result is not None
        return self.result

    def cached_at(self) -> str:
        """RFC 3339, in UTC."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.at))

    def encode(self) -> bytes:
        document = {"kind": self.kind, "body": self.body, "camsRequestId": self.cams_request_id, "at": self.at}
        return json.dumps(document, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, operation: Operation[A, R], raw: bytes | None) -> CacheEntry[R] | None:
        """The kept entry, or None for nothing or anything unreadable (another version's, say).

        An entry is immutable and its text says all of it: the last `DECODED` texts read are kept
        with their entry, so that a cached answer is not parsed and validated again on every hit.
        """
        if not raw:
            return None
        question = (operation.action, operation.read, bytes(raw))
        known: CacheEntry[R] | None = _decoded.get(question)
        if known is None:
            known = cls._decode(operation, raw)
            if known is not None:
                if len(_decoded) >= DECODED:
                    _decoded.clear()
                _decoded[question] = known
        return known

    @classmethod
    def _decode(cls, operation: Operation[A, R], raw: bytes) -> CacheEntry[R] | None:
        try:
            document = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(document, dict) or not isinstance(document.get("at"), (int, float)):
            return None
        kind, body, request_id = document.get("kind"), document.get("body"), document.get("camsRequestId")
        if not isinstance(request_id, (str, type(None))):
            return None
        if kind == RESULT and isinstance(body, dict):
            try:
                return cls.answered(operation, body, request_id, float(document["at"]))
            except errors.ServiceError:
                return None
        if isinstance(kind, str) and operation.cached_error(kind) is not None:
            return cls(kind, None, None, request_id, float(document["at"]))
        return None
