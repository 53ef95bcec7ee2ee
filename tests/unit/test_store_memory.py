"""The in-memory store on the fake clock: expiry, bounds, locks, the limiter and the buckets."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shared.store import RedisOptions, open_store, poll
from shared.store.memory import MemoryBuckets, MemoryCache, MemoryLimiter, MemoryLocks
from tests.helpers import FakeClock


def test_a_cached_value_lives_its_ttl_and_no_longer() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock)
    cache.set("k", "v", ttl_ms=1000)
    clock.advance(0.999)
    assert cache.get("k") == b"v"
    clock.advance(0.001)
    assert cache.get("k") is None
    assert len(cache) == 0


def test_the_cache_is_bounded_and_drops_expired_entries_before_live_ones() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock, max_entries=3)
    cache.set("short", b"1", ttl_ms=10)
    cache.set("a", b"2", ttl_ms=10_000)
    cache.set("b", b"3", ttl_ms=10_000)
    clock.advance(0.02)
    cache.set("c", b"4", ttl_ms=10_000)
    assert [cache.get(k) for k in ("a", "b", "c")] == [b"2", b"3", b"4"]
    cache.set("d", b"5", ttl_ms=10_000)  # full of live entries: the oldest write goes
    assert cache.get("a") is None
    assert len(cache) == 3


def test_rewriting_a_key_renews_it_and_delete_forgets_it() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock, max_entries=2)
    cache.set("a", b"1", ttl_ms=10_000)
    cache.set("b", b"2", ttl_ms=10_000)
    cache.set("a", b"3", ttl_ms=10_000)
    cache.set("c", b"4", ttl_ms=10_000)
    assert (cache.get("a"), cache.get("b")) == (b"3", None)
    cache.delete("a")
    cache.delete("missing")
    assert cache.get("a") is None


def test_a_lock_has_one_holder_until_unlocked_or_expired() -> None:
    clock = FakeClock()
    locks = MemoryLocks(clock)
    token = locks.try_lock("k", ttl_ms=500)
    assert token is not None
    assert locks.try_lock("k", ttl_ms=500) is None
    assert not locks.unlock("k", "not-the-token")
    assert locks.unlock("k", token)
    second = locks.try_lock("k", ttl_ms=500)
    assert second is not None
    clock.advance(0.5)
    third = locks.try_lock("k", ttl_ms=500)
    assert third is not None
    assert not locks.unlock("k", second), "an expired holder cannot release the next one's lock"
    assert locks.unlock("k", third)


def test_locks_are_bounded() -> None:
    clock = FakeClock()
    locks = MemoryLocks(clock, max_entries=2)
    assert all(locks.try_lock(f"k{i}", ttl_ms=10) for i in range(5))
    clock.advance(0.02)
    assert locks.try_lock("k0", ttl_ms=10)


def test_the_limiter_spaces_a_burst_past_the_closed_window() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(clock)
    answers = [limiter.reserve("cams", limit=10, window_ms=1000, max_wait_ms=0) for _ in range(10)]
    assert all(a.granted and a.wait_ms == 0 for a in answers)
    refused = limiter.reserve("cams", limit=10, window_ms=1000, max_wait_ms=999)
    assert not refused.granted
    assert refused.wait_ms == pytest.approx(1000.001)
    assert limiter.time_to_slot("cams", 10, 1000) == pytest.approx(1000.001)
    waiting = limiter.reserve("cams", limit=10, window_ms=1000, max_wait_ms=1001)
    assert waiting.granted
    assert waiting.wait_ms == pytest.approx(1000.001)
    clock.advance(0.9995)
    assert limiter.time_to_slot("cams", 10, 1000) == pytest.approx(0.501, abs=1e-6)
    clock.advance(0.000501)
    assert limiter.time_to_slot("cams", 10, 1000) == 0
    assert limiter.reserve("other", limit=1, window_ms=1000, max_wait_ms=0).granted


def test_ten_reservations_100_ms_apart_leave_no_room_at_one_second() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(clock)
    for _ in range(10):
        assert limiter.reserve("cams", 10, 1000, 0).granted
        clock.advance(0.1)
    assert not limiter.reserve("cams", 10, 1000, 0).granted  # at 1.000 s: 11 in [0, 1 s]
    clock.advance(0.000_001)
    assert limiter.reserve("cams", 10, 1000, 0).granted


def test_a_caller_with_a_lower_limit_leaves_the_rest_to_the_other() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(clock)
    lookups = [limiter.reserve("cams", limit=7, window_ms=1250, max_wait_ms=5000) for _ in range(20)]
    assert sum(a.wait_ms == 0 for a in lookups) == 7
    timer = [limiter.reserve("cams", limit=10, window_ms=1250, max_wait_ms=0) for _ in range(4)]
    assert [a.granted for a in timer] == [True, True, True, False]


def test_the_limiter_refuses_impossible_limits_and_bounds_its_keys() -> None:
    limiter = MemoryLimiter(FakeClock(), max_entries=2)
    with pytest.raises(ValueError, match="limit"):
        limiter.reserve("k", limit=0, window_ms=1000, max_wait_ms=0)
    with pytest.raises(ValueError, match="limit"):
        limiter.time_to_slot("k", limit=1, window_ms=0)
    for index in range(5):
        assert limiter.reserve(f"k{index}", 1, 1000, 0).granted
    assert len(limiter._entries) == 2


def test_a_token_bucket_per_caller() -> None:
    clock = FakeClock()
    buckets = MemoryBuckets(clock, max_entries=2)
    assert [buckets.take("a", rate_per_s=2.0, burst=2).allowed for _ in range(3)] == [True, True, False]
    refused = buckets.take("a", rate_per_s=2.0, burst=2)
    assert refused.wait_ms == pytest.approx(500.0)
    assert buckets.take("b", rate_per_s=2.0, burst=2).allowed, "each caller has its own bucket"
    clock.advance(0.5)
    assert buckets.take("a", rate_per_s=2.0, burst=2).allowed
    with pytest.raises(ValueError, match="bucket"):
        buckets.take("a", rate_per_s=1.0, burst=1, cost=2)


def test_poll_returns_the_value_or_gives_up_at_the_timeout() -> None:
    clock = FakeClock()
    values = iter([None, None, b"x"])
    assert poll(lambda: next(values), clock, timeout_s=1.0, interval_s=0.1) == b"x"
    assert clock.sleeps == [0.1, 0.1]
    clock.sleeps.clear()
    assert poll(lambda: None, clock, timeout_s=0.25, interval_s=0.1) is None
    assert clock.sleeps == pytest.approx([0.1, 0.1, 0.05])
    with pytest.raises(ValueError, match="interval"):
        poll(lambda: None, clock, timeout_s=1.0, interval_s=0)


def test_without_a_url_the_store_is_in_memory() -> None:
    store = open_store(None, FakeClock(), RedisOptions(memory_max_entries=8))
    assert not store.shared
    store.cache.set("k", "v", 1000)
    assert store.cache.get("k") == b"v"
    assert store.limiter.reserve("k", 1, 1000, 0).shared is False
    store.close()


@pytest.mark.parametrize("url", ["http://cache-7.internal:6379", "redis://", "cache-7.internal:6379", "redis:///0"])
def test_a_malformed_url_is_refused_without_being_repeated(url: str) -> None:
    with pytest.raises(ValueError, match=r"^REDIS_URL must be redis://") as raised:
        open_store(url, FakeClock())
    assert "cache-7" not in str(raised.value)


def test_importing_the_store_does_not_import_redis() -> None:
    code = "import sys, shared.store; assert 'redis' not in sys.modules, 'redis imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
