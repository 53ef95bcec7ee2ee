"""The limiter's and the bucket's arithmetic, on their own: the boundary cases and the invariants."""

from __future__ import annotations

import bisect

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.store.algorithms import Bucket, earliest_slot, fits, take_tokens

SECOND = 1_000_000


def most_in_a_closed_window(slots: list[int], window: int) -> int:
    """The largest number of `slots` in any closed interval [t, t + window]."""
    ordered = sorted(slots)
    return max((bisect.bisect_right(ordered, start + window) - i for i, start in enumerate(ordered)), default=0)


def test_ten_slots_100_ms_apart_make_the_eleventh_wait_past_the_closed_second() -> None:
    slots = [i * 100_000 for i in range(10)]
    assert most_in_a_closed_window([*slots, SECOND], SECOND) == 11  # the trap: [0, 1 s] holds 11
    assert earliest_slot(slots, now=SECOND, limit=10, window=SECOND) == SECOND + 1
    assert earliest_slot(slots, now=SECOND + 1, limit=10, window=SECOND) == SECOND + 1


def test_a_burst_fills_the_window_then_waits_for_its_first_slot_to_leave() -> None:
    slots: list[int] = []
    for _ in range(10):
        slots.append(earliest_slot(slots, now=0, limit=10, window=SECOND))
    assert slots == [0] * 10
    assert earliest_slot(slots, now=5, limit=10, window=SECOND) == SECOND + 1


def test_a_lower_limit_counts_every_slot_and_leaves_the_rest_to_a_higher_one() -> None:
    slots = [0] * 7
    assert earliest_slot(slots, now=0, limit=7, window=SECOND) == SECOND + 1
    assert earliest_slot(slots, now=0, limit=10, window=SECOND) == 0


def test_a_slot_goes_into_a_gap_before_later_slots_when_it_fits() -> None:
    slots = [0, 3 * SECOND, 3 * SECOND]  # two slots far ahead, as a queue of reservations would leave
    assert earliest_slot(slots, now=SECOND, limit=2, window=SECOND) == SECOND
    assert not fits(slots, 1, 2 * SECOND, 2, 2 * SECOND), "later slots bound it too"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3 * SECOND), st.integers(1, 5)),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 2 * SECOND),
)
def test_no_closed_window_ever_holds_more_than_the_largest_limit(requests: list[tuple[int, int]], window: int) -> None:
    slots: list[int] = []
    for now, limit in sorted(requests):
        live = [s for s in slots if s >= now - window]
        slot = earliest_slot(live, now, limit, window)
        assert slot >= now
        # the earliest: one microsecond sooner would not fit, unless it is now
        if slot > now:
            earlier = slot - 1
            assert not fits(live, bisect.bisect_right(live, earlier), earlier, limit, window)
        bisect.insort(slots, slot)
        assert most_in_a_closed_window(slots, window) <= max(limit for _, limit in requests)
        around = [s for s in slots if slot - window <= s <= slot + window]
        assert all(
            most_in_a_closed_window([s for s in around if start <= s <= start + window], window) <= limit
            for start in range(slot - window, slot + 1, max(1, window // 7))
            if start <= slot <= start + window
        )


def test_a_bucket_starts_full_then_refills_at_its_rate() -> None:
    bucket, allowed, _ = take_tokens(None, now=0, rate=10.0, burst=3, cost=3)
    assert allowed
    assert bucket.tokens == 0.0
    _, allowed, wait = take_tokens(bucket, now=0, rate=10.0, burst=3, cost=1)
    assert (allowed, wait) == (False, 100_000)
    bucket, allowed, _ = take_tokens(bucket, now=100_000, rate=10.0, burst=3, cost=1)
    assert allowed
    assert abs(bucket.tokens) < 1e-9


def test_a_bucket_never_holds_more_than_its_burst_and_ignores_a_clock_going_back() -> None:
    bucket, _, _ = take_tokens(Bucket(0.0, 0), now=3600 * SECOND, rate=5.0, burst=4, cost=1)
    assert bucket.tokens == 3.0
    later, allowed, _ = take_tokens(bucket, now=3600 * SECOND - SECOND, rate=5.0, burst=4, cost=1)
    assert allowed
    assert later.updated == bucket.updated


@given(st.lists(st.integers(0, 2 * SECOND), min_size=1, max_size=60), st.integers(1, 5), st.integers(1, 20))
def test_a_bucket_allows_at_most_burst_plus_rate_times_time(times: list[int], burst: int, rate: int) -> None:
    bucket = None
    allowed = 0
    for now in sorted(times):
        bucket, taken, wait = take_tokens(bucket, now, float(rate), burst, 1)
        allowed += taken
        assert taken or wait > 0
    span = max(times) - min(times)
    assert allowed <= burst + rate * span / SECOND + 1e-9
