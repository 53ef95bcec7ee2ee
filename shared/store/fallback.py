"""One instance's own rate for a limiter key while the shared store cannot be reached.

An instance cannot know how many others there are, so it starts modestly, at a `divisor`th of
the limit's rate (with 10 per 1.25 s and a divisor of 10, 0.8 calls a second), and listens to
CAMS: each throttling answer halves its rate (down to FLOOR_PER_S), which then climbs back to the
start over RECOVERY_S. Its calls are spaced one interval apart, never in bursts, and its first
one waits a random part of an interval: instances that lose Redis at the same moment (a stopped
server, a network cut) would otherwise all call at once. More instances than the divisor together
still go past the account's limit, until CAMS's answers slow each of them down.

Example, on a clock whose hands only move when told:
    >>> class Hands:
    ...     now = 0.0
    ...     def monotonic(self): return self.now
    >>> hands = Hands()
    >>> rates = FallbackRates(hands, divisor=10)
    >>> rates.per_second("k", limit=10, window_ms=1250)
    0.8
    >>> rates.throttled("k", limit=10, window_ms=1250); rates.per_second("k", limit=10, window_ms=1250)
    0.4
    >>> hands.now = 15.0; round(rates.per_second("k", limit=10, window_ms=1250), 3)   # halfway back
    0.6
"""

from __future__ import annotations

import math
import random
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

    def __init__(self, clock: _Monotonic, divisor: int, rng: random.Random | None = None) -> None:
        self._clock = clock
        self._divisor = divisor
        self._rng = rng or random.Random()  # noqa: S311 - a phase, not a secret
        self._rates: dict[str, tuple[float, float]] = {}
        self._last_used: dict[str, float] = {}
        self._phase_ends: dict[str, float] = {}
        self._guard = threading.Lock()

    def per_second(self, key: str, limit: int, window_ms: int) -> float:
        """The calls a second this instance may make for `key` now."""
        with self._guard:
            return self._now(key, limit, window_ms)

    def interval_ms(self, key: str, limit: int, window_ms: int) -> int:
        """The spacing of this instance's calls for `key`: one slot per interval."""
        return math.ceil(1000 / self.per_second(key, limit, window_ms))

    def entry_delay_ms(self, key: str, interval_ms: int) -> float:
        """How long this instance's first call for `key` of a fallback episode waits: a random part of
        an interval, drawn when the episode starts (no fallback use for two intervals); 0 after it."""
        now = self._clock.monotonic()
        with self._guard:
            last = self._last_used.get(key)
            if last is None or now - last > 2 * interval_ms / 1000:
                self._phase_ends[key] = now + self._rng.uniform(0, interval_ms / 1000)
            self._last_used[key] = now
            return max(0.0, (self._phase_ends[key] - now) * 1000)

    def throttled(self, key: str, limit: int, window_ms: int) -> None:
        """CAMS refused a call for its rate: halve this instance's own."""
        with self._guard:
            self._rates[key] = (max(FLOOR_PER_S, self._now(key, limit, window_ms) / 2), self._clock.monotonic())

    def _now(self, key: str, limit: int, window_ms: int) -> float:
        start = max(FLOOR_PER_S, limit * 1000 / window_ms / self._divisor)
        kept = self._rates.get(key)
        if kept is None:
            return start
        rate, since = kept
        return min(start, rate + start * (self._clock.monotonic() - since) / RECOVERY_S)
