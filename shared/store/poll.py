"""Waiting for another instance's answer by polling, within a bounded time.

Example:
    >>> from shared.clock import SYSTEM_CLOCK
    >>> answers = iter([None, None, b"ready"])
    >>> poll(lambda: next(answers), SYSTEM_CLOCK, timeout_s=1.0, interval_s=0.001)
    b'ready'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from shared.clock import Clock

T = TypeVar("T")


def poll(fetch: Callable[[], T | None], clock: Clock, timeout_s: float, interval_s: float = 0.05) -> T | None:
    """Call `fetch` until it answers something other than None, for at most `timeout_s`.

    It fetches once at once, then every `interval_s`; the last wait is cut short at the timeout, and
    None means the time ran out. The loop is bounded in count as well as in time.
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be > 0")
    expires_at = clock.monotonic() + max(0.0, timeout_s)
    for _ in range(math.ceil(max(0.0, timeout_s) / interval_s) + 1):
        value = fetch()
        if value is not None:
            return value
        left = expires_at - clock.monotonic()
        if left <= 0:
            return None
        clock.sleep(min(interval_s, left))
    return fetch()
