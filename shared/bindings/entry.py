"""What CAMS said about one space, and when: the unit the cache keeps.

Example:
    >>> answer = Answer("bound", {"id": "1"}, "cams-req-1", at=1_790_000_000.0)
    >>> Answer.decode(answer.encode()) == answer
    True

Positive answers stay fresh CACHE_TTL_SECONDS, `WabaNotBound` and `SpaceNotFound` for
CACHE_NEGATIVE_TTL_SECONDS; both stay usable (stale) until CACHE_MAX_STALE_SECONDS. Nothing else
is ever kept. A kept value holds the WABA as answered, CAMS's RequestId and a time: never an
IsvCode, an AccessKey or a token.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

from shared import errors
from shared.cams import BindingResult
from shared.retry import Attempted
from shared.settings import CamsSettings

Kind = Literal["bound", "WabaNotBound", "SpaceNotFound"]
NEGATIVE: dict[str, type[errors.ServiceError]] = {
    "WabaNotBound": errors.WabaNotBound,
    "SpaceNotFound": errors.SpaceNotFound,
}
NEGATIVE_MESSAGES = {
    "WabaNotBound": "No WABA is bound to this customer space.",
    "SpaceNotFound": "This customer space is not known to this account.",
}


@dataclass(frozen=True)
class Answer:
    kind: Kind
    waba: dict[str, Any] | None
    cams_request_id: str | None
    at: float
    """When CAMS gave this answer, in seconds of wall time."""

    @classmethod
    def of(cls, outcome: Attempted[BindingResult], now: float) -> Answer | None:
        """The answer worth keeping from a call's outcome, or None (an error that is not the space's)."""
        if outcome.error is None:
            found = outcome.unwrap()
            return cls("bound", found.binding.to_json(), found.cams_request_id, now)
        if outcome.error.code in NEGATIVE:
            return cls(outcome.error.code, None, outcome.error.cams_request_id, now)  # type: ignore[arg-type]
        return None

    def age_s(self, now: float) -> float:
        return max(0.0, now - self.at)

    def fresh_s(self, settings: CamsSettings) -> int:
        return settings.cache_ttl_seconds if self.kind == "bound" else settings.cache_negative_ttl_seconds

    def is_fresh(self, now: float, settings: CamsSettings) -> bool:
        return self.age_s(now) < self.fresh_s(settings)

    def is_usable(self, now: float, settings: CamsSettings) -> bool:
        return self.age_s(now) < max(self.fresh_s(settings), settings.cache_max_stale_seconds)

    def error(self) -> errors.ServiceError | None:
        """The answer's error, for a negative one."""
        if self.kind == "bound":
            return None
        return NEGATIVE[self.kind](NEGATIVE_MESSAGES[self.kind], cams_request_id=self.cams_request_id)

    def cached_at(self) -> str:
        """RFC 3339, in UTC."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.at))

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes | None) -> Answer | None:
        """The kept answer, or None for nothing or anything unreadable (another version's, say)."""
        try:
            document = json.loads(raw) if raw else None
            answer = cls(**document) if isinstance(document, dict) else None
        except (ValueError, TypeError):
            return None
        if answer is None or answer.kind not in ("bound", *NEGATIVE) or not isinstance(answer.at, (int, float)):
            return None
        return answer
