"""Each operation's quota at CAMS, shared by every instance of both functions.

CAMS limits each operation per account (10 calls a second for `QueryChatappBindWaba`). Every
attempt, retries included, first takes a slot from the store's sliding-window limiter (one key per
operation, account and region), waiting for it while the deadline allows; without one it makes no
call and ends as `Throttled`, with `Retry-After`. The window is one second plus
CAMS_RATE_WINDOW_MARGIN_MS, because a call arrives at CAMS some time after its slot (longest on a
fresh connection), and CAMS counts arrivals. The HTTP function takes at most its own share of each
window (LOOKUP_CAMS_SHARE of every CAMS_RATE_LIMIT_PER_SECOND), so that the timer always finds the
rest. No call waits more than CAMS_QUOTA_WAIT_MS for its slot.

A call that starts later than its slot by more than half the margin (a late wake-up, a slow answer
from the store, a busy CPU) does not go: its slot is spent, and it takes a new one, since a late
start is a late arrival and the margin is what keeps arrivals inside CAMS's second. The timer's own
pace (HEALTHCHECK_RATE_PER_SECOND) is a quota of the same kind (`pace`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from shared.clock import Clock
from shared.errors import QuotaExhausted, UpstreamTimeout
from shared.retry import Deadline
from shared.store import MAX_WAIT_MS, RateLimiter

LATE_TRIES = 3
"""How many times a call that would start too late takes a new slot before it gives up."""


def share_of(limit: int, share: int | None, of: int) -> int:
    """A function's part of an operation's `limit`: `share` of every `of` calls, at least one.

    >>> share_of(10, 7, of=10), share_of(5, 7, of=10), share_of(10, None, of=10)
    (7, 3, 10)
    """
    if share is None:
        return limit
    return max(1, min(limit, limit * share // of))


def pace(per_second: float, margin_ms: int) -> tuple[int, int]:
    """A rate as (slots, window_ms), judged at arrival as the account's quota is: the window of the
    slots the rate allows in a second, plus the margin.

    >>> pace(5, 250), pace(0.5, 250), pace(2.5, 250)
    ((5, 1250), (1, 2250), (2, 1050))
    """
    slots = max(1, math.floor(per_second))
    return slots, math.ceil(slots * 1000 / per_second) + margin_ms


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

        late_s = max(0, self.window_ms - 1000) / 2000

        def take_slot() -> None:
            for _ in range(LATE_TRIES):
                budget_ms = (deadline.remaining() - min_attempt_s) * 1000
                if budget_ms < 0:
                    raise UpstreamTimeout("No time was left for the call before the function's deadline.")
                asked_at = clock.monotonic()
                slot = self.limiter.reserve(self.key, self.limit, self.window_ms, min(budget_ms, self.max_wait_ms))
                if not slot.granted:
                    raise QuotaExhausted(retry_after_s=slot.wait_ms / 1000)
                clock.sleep(slot.wait_ms / 1000)
                if clock.monotonic() - (asked_at + slot.wait_ms / 1000) <= late_s:
                    return
            raise QuotaExhausted("The calls to CAMS started too late for their slots; try again shortly.")

        return take_slot

    def time_to_slot(self) -> float:
        """Seconds until a slot would be free, without taking one."""
        return self.limiter.time_to_slot(self.key, self.limit, self.window_ms) / 1000

    def throttled(self) -> None:
        """CAMS refused a call for the account's rate: where the store cannot decide, slow down."""
        self.limiter.throttled(self.key, self.limit, self.window_ms)
