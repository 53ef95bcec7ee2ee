"""Pacing of calls to CAMS, so that a batch of them leaves room for other callers of the account.

Example, on a clock whose sleep only moves its hands:
    >>> class Hands:
    ...     now = 0.0
    ...     def monotonic(self): return self.now
    ...     def time(self): return self.now
    ...     def sleep(self, seconds): self.now += seconds
    >>> hands = Hands()
    >>> pacer = Pacer(per_second=5, clock=hands)
    >>> pacer.wait(Deadline.after(5.0, hands)); pacer.wait(Deadline.after(5.0, hands))
    >>> round(hands.now, 2)   # the second call started one interval (0.2 s and the guard) after the first
    0.21
"""

from __future__ import annotations

from shared.clock import SYSTEM_CLOCK, Clock
from shared.errors import UpstreamTimeout
from shared.retry import Deadline

GUARD_S = 0.01
"""Added to each interval: arrivals at CAMS jitter, and an exact 1/rate spacing can put rate + 1
calls in one second as CAMS counts it."""


class Pacer:
    """Starts calls at least 1/`per_second` apart: no second ever holds more than `per_second` of them."""

    def __init__(self, per_second: float, clock: Clock = SYSTEM_CLOCK) -> None:
        self.interval = 1.0 / per_second + GUARD_S
        self.clock = clock
        self._next_at = float("-inf")

    def time_to_next(self) -> float:
        """Seconds until the next call may start (0 when it may start now)."""
        return max(0.0, self._next_at - self.clock.monotonic())

    def wait(self, deadline: Deadline) -> None:
        """Sleep until the next call may start; raise UpstreamTimeout when that is past `deadline`."""
        now = self.clock.monotonic()
        start_at = max(now, self._next_at)
        if start_at >= deadline.expires_at:
            raise UpstreamTimeout("The next paced call would start after the deadline.")
        self.clock.sleep(start_at - now)
        self._next_at = start_at + self.interval
