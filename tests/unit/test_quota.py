"""The account's quota, judged at arrival: a call that would start late for its slot takes a new one."""

from __future__ import annotations

import itertools

import pytest

from shared.cache.quota import AccountQuota
from shared.errors import QuotaExhausted
from shared.retry import Deadline
from shared.store.memory import MemoryLimiter
from tests.helpers import FakeClock


class LateClock(FakeClock):
    """Wakes `late_s` after each of the next `times` sleeps: a busy CPU, a paused process."""

    def __init__(self, late_s: float, times: int) -> None:
        super().__init__()
        self.late_s, self.times = late_s, times

    def sleep(self, seconds: float) -> None:
        late = self.late_s if self.times > 0 and seconds > 0 else 0.0
        self.times -= bool(late)
        super().sleep(seconds + late)


def test_a_late_start_takes_a_new_slot_so_no_window_of_arrivals_holds_more_than_the_limit() -> None:
    clock = LateClock(late_s=0.5, times=1)
    quota = AccountQuota(MemoryLimiter(clock), "k", limit=1, window_ms=1250, max_wait_ms=5000)
    take_slot = quota.before_attempt(Deadline.after(10, clock), 0.3, clock)

    starts = []
    for _ in range(3):
        take_slot()
        starts.append(clock.monotonic())

    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= 1.25, "the late second call went in a slot of its own, not 0.75 s before the third"
    assert starts[1] - starts[0] == pytest.approx(2.5, abs=0.01)


def test_a_start_within_half_the_margin_goes() -> None:
    clock = LateClock(late_s=0.1, times=5)
    quota = AccountQuota(MemoryLimiter(clock), "k", limit=1, window_ms=1250, max_wait_ms=5000)
    take_slot = quota.before_attempt(Deadline.after(10, clock), 0.3, clock)

    take_slot()
    take_slot()

    assert clock.monotonic() - 1000.0 == pytest.approx(1.35, abs=0.01)


def test_a_call_late_every_time_gives_up() -> None:
    clock = LateClock(late_s=0.5, times=10)
    quota = AccountQuota(MemoryLimiter(clock), "k", limit=1, window_ms=1250, max_wait_ms=60_000)
    take_slot = quota.before_attempt(Deadline.after(30, clock), 0.3, clock)
    take_slot()

    with pytest.raises(QuotaExhausted, match="too late"):
        take_slot()
