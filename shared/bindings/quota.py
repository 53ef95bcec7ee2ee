"""The account's quota at CAMS, shared by every instance of both functions.

CAMS allows 10 calls a second per account. Every attempt, retries included, first takes a slot
from the store's sliding-window limiter (one key per account and region), waiting for it while the
deadline allows; without one it makes no call and ends as `Throttled`, with `Retry-After`. The window
is one second plus CAMS_RATE_WINDOW_MARGIN_MS, because a call arrives at CAMS some time after its slot
(longest on a fresh connection), and CAMS counts arrivals. The HTTP function takes at most its own
share (LOOKUP_CAMS_SHARE) of each window, so that the timer always finds the rest. No call waits
more than CAMS_QUOTA_WAIT_MS for its slot.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.clock import Clock
from shared.errors import QuotaExhausted, UpstreamTimeout
from shared.retry import Deadline
from shared.store import MAX_WAIT_MS, KeySpace, RateLimiter


class CamsQuota:
    """`limit` slots in any window of `window_ms`, for one account's calls to CAMS."""

    def __init__(self, limiter: RateLimiter, keys: KeySpace, limit: int, window_ms: int, max_wait_ms: int) -> None:
        self.limiter = limiter
        self.key = keys.rate_limit("cams")
        self.limit = limit
        self.window_ms = window_ms
        self.max_wait_ms = min(max_wait_ms, MAX_WAIT_MS)

    def before_attempt(self, deadline: Deadline, min_attempt_s: float, clock: Clock) -> Callable[[], None]:
        """A hook for the CAMS call: take a slot (waiting for it within the deadline), or raise."""

        def take_slot() -> None:
            budget_ms = (deadline.remaining() - min_attempt_s) * 1000
            if budget_ms < 0:
                raise UpstreamTimeout("No time was left for the call before the function's deadline.")
            slot = self.limiter.reserve(self.key, self.limit, self.window_ms, min(budget_ms, self.max_wait_ms))
            if not slot.granted:
                raise QuotaExhausted(
                    "This account's calls to CAMS are at their limit; try again shortly.",
                    retry_after_s=slot.wait_ms / 1000,
                )
            clock.sleep(slot.wait_ms / 1000)

        return take_slot
