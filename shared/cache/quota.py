"""Each operation's quota at CAMS, shared by every instance of both functions.

CAMS limits each operation per account (10 calls a second for `QueryChatappBindWaba`). Every
attempt, retries included, first takes a slot from the store's sliding-window limiter (one key per
operation, account and region), waiting for it while the deadline allows; without one it makes no
call and ends as `Throttled`, with `Retry-After`. The window is one second plus
CAMS_RATE_WINDOW_MARGIN_MS, because a call arrives at CAMS some time after its slot (longest on a
fresh connection), and CAMS counts arrivals. The HTTP function takes at most its own share of each
window (LOOKUP_CAMS_SHARE of every CAMS_RATE_LIMIT_PER_SECOND), so that the timer always finds the
rest. No call waits more than CAMS_QUOTA_WAIT_MS for its slot.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.clock import Clock
from shared.errors import QuotaExhausted, UpstreamTimeout
from shared.retry import Deadline
from shared.store import MAX_WAIT_MS, RateLimiter


def share_of(limit: int, share: int | None, of: int) -> int:
    """A function's part of an operation's `limit`: `share` of every `of` calls, at least one.

    >>> share_of(10, 7, of=10), share_of(5, 7, of=10), share_of(10, None, of=10)
    (7, 3, 10)
    """
    if share is None:
        return limit
    return max(1, min(limit, limit * share // of))


class AccountQuota:
    """`limit` slots in any window of `window_ms`, for one operation's calls to CAMS by one account."""

    def __init__(self, limiter: RateLimiter, key: str, limit: int, window_ms: int, max_wait_ms: int) -> None:
        self.limiter = limiter
        self.key = key
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
                raise QuotaExhausted(retry_after_s=slot.wait_ms / 1000)
            clock.sleep(slot.wait_ms / 1000)

        return take_slot
