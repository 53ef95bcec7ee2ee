"""Time, injected: one clock for deadlines, pacing, retry waits and cache ages.

Tests pass a fake clock whose `sleep` only moves its hands, so that pacing, deadlines and backoff
are checked in milliseconds rather than seconds.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic time for intervals, wall time for timestamps, and sleep."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: the `time` module's own functions, read on every invocation's path."""

    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()
