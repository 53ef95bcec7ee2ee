"""One instance's own rate for a limiter key while the shared store cannot be reached.

An instance cannot know how many others there are, so it starts modestly, at `limit //
divisor` slots per window, and listens to CAMS: each throttling answer halves its rate (down to
FLOOR_PER_S), which then climbs back to the start over RECOVERY_S. Its calls are spaced one
interval apart, never in bursts. Many instances together may still go past the account's limit
for the first window or two, until CAMS's answers slow each of them down.

Example, on a clock whose hands only move when told:
    >>> class Hands:
    ...     now = 0.0
    ...     def monotonic(self): return self.now
    >>> hands = Hands()
    >>> rates = FallbackRates(hands, divisor=5)
    >>> rates.per_second("k", limit=10, window_ms=1250)
    1.6
    >>> rates.throttled("k", limit=10, window_ms=1250); rates.per_second("k", limit=10, window_ms=1250)
    0.8
    >>> hands.now = 15.0; round(rates.per_second("k", limit=10, window_ms=1250), 3)   # halfway back
    1.2
"""

from __future__ import annotations

import math
import threading
from typing import Protocol

FLOOR_PER_S = 0.1
"""The slowest an instance goes: one call in ten seconds."""
RECOVERY_S = 60.0
"""How long a rate takes to climb back from zero to its start."""


class _Monotonic(Protocol):
    def monotonic(self) -> float: ...


class FallbackRates:
    """Each key's rate in this instance, halved by throttling and recovering with time."""

    def __init__(self, clock: _Monotonic, divisor: int) -> None:
        self._clock = clock
        self._divisor = divisor
        self._rates: dict[str, tuple[float, float]] = {}
        self._guard = threading.Lock()

    def per_second(self, key: str, limit: int, window_ms: int) -> float:
        """The calls a second this instance may make for `key` now."""
        with self._guard:
            return self._now(key, limit, window_ms)

    def interval_ms(self, key: str, limit: int, window_ms: int) -> int:
        """The spacing of this instance's calls for `key`: one slot per interval."""
        return math.ceil(1000 / self.per_second(key, limit, window_ms))

    def throttled(self, key: str, limit: int, window_ms: int) -> None:
        """CAMS refused a call for its rate: halve this instance's own."""
        with self._guard:
            self._rates[key] = (max(FLOOR_PER_S, self._now(key, limit, window_ms) / 2), self._clock.monotonic())

    def _now(self, key: str, limit: int, window_ms: int) -> float:
        start = max(1, limit // self._divisor) * 1000 / window_ms
        kept = self._rates.get(key)
        if kept is None:
            return start
        rate, since = kept
        return min(start, rate + start * (self._clock.monotonic() - since) / RECOVERY_S)
