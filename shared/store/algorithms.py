"""The arithmetic of the rate limiter and the token bucket, in integer microseconds.

The in-memory implementations run these functions; the Redis ones run the same steps in Lua
(`shared/store/scripts.py`), so the two are kept side by side and tested the same way.

Example:
    >>> earliest_slot([0, 100, 200], now=250, limit=3, window=1000)   # 3 in the window already
    1001
    >>> earliest_slot([0, 100, 200], now=250, limit=4, window=1000)
    250
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

MICROS = 1_000_000


def fits(slots: Sequence[int], below: int, slot: int, limit: int, window: int) -> bool:
    """Whether `slot`, placed after the first `below` of the sorted `slots`, keeps every closed window
    of `window` that contains it at `limit` slots or fewer.

    Any limit + 1 consecutive slots (with `slot` among them) must then span more than `window`.

    >>> fits([0, 1000], 2, 1000, 2, 1000)   # 0, 1000 and 1000 fall in [0, 1000]
    False
    >>> fits([0, 1000], 2, 1001, 2, 1000)
    True
    """
    count = len(slots)
    for first in range(max(0, below - limit), below + 1):
        last = first + limit
        if last > count:
            return True
        start = slots[first] if first < below else slot
        end = slot if last == below else slots[last - 1]
        if end - start <= window:
            return False
    return True


def earliest_slot(slots: Sequence[int], now: int, limit: int, window: int) -> int:
    """The earliest time at or after `now` that `fits`, given the sorted `slots` already taken.

    Only `now` and the instants just past a slot's reach (slot + window + 1) can be the answer: a
    window only loses a slot when its start passes that slot. The last candidate always fits.
    """
    below = 0
    slot = now
    for index in range(len(slots) + 1):
        if index:
            slot = max(now, slots[index - 1] + window + 1)
        below = bisect_right(slots, slot, below)  # the slots at or before `slot`: they are sorted
        if fits(slots, below, slot, limit, window):
            return slot
    raise AssertionError("unreachable: the last candidate is past every window")  # pragma: no cover


@dataclass(frozen=True)
class Bucket:
    """A token bucket's state: `tokens` at time `updated` (microseconds)."""

    tokens: float
    updated: int


def take_tokens(bucket: Bucket | None, now: int, rate: float, burst: int, cost: int) -> tuple[Bucket, bool, int]:
    """Refill `bucket` at `rate` per second up to `burst`, then take `cost` tokens if there are enough.

    Returns the new state, whether the tokens were taken, and the microseconds until they would be.

    >>> state, taken, wait = take_tokens(None, now=0, rate=2.0, burst=1, cost=1)
    >>> taken, wait, state.tokens
    (True, 0, 0.0)
    >>> take_tokens(state, now=100_000, rate=2.0, burst=1, cost=1)[1:]   # 0.2 token there, 0.8 missing
    (False, 400000)
    """
    tokens = float(burst) if bucket is None else bucket.tokens
    updated = now if bucket is None else bucket.updated
    if now > updated:
        tokens = min(float(burst), tokens + (now - updated) * rate / MICROS)
        updated = now
    if tokens >= cost:
        return Bucket(tokens - cost, updated), True, 0
    wait = -int(-(cost - tokens) * MICROS // rate)  # ceiling: never promise tokens early
    return Bucket(tokens, updated), False, wait
