"""The Redis store against a real redis-server: expiry, locks, the limiter's Lua and the buckets."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import cast

import pytest
import redis

from shared.clock import SYSTEM_CLOCK
from shared.store import KeySpace, Store, open_store
from shared.store.redis_store import RedisLimiter
from tests.helpers import EmittedLines
from tests.unit.test_store_algorithms import most_in_a_closed_window

pytestmark = pytest.mark.slow


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    opened = open_store(redis_url, SYSTEM_CLOCK)
    yield opened
    opened.close()


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    direct = redis.Redis.from_url(redis_url, protocol=2)
    yield direct
    direct.close()


def test_a_value_lives_its_ttl_in_redis(store: Store, space: KeySpace, client: redis.Redis) -> None:
    key = space.cache("binding", "space-1")
    store.cache.set(key, '{"id": "1"}', ttl_ms=300)
    assert store.cache.get(key) == b'{"id": "1"}'
    assert 0 < int(client.pttl(key)) <= 300
    time.sleep(0.35)
    assert store.cache.get(key) is None


def test_a_value_written_by_one_instance_is_read_by_another(redis_url: str, space: KeySpace) -> None:
    first, second = open_store(redis_url, SYSTEM_CLOCK), open_store(redis_url, SYSTEM_CLOCK)
    key = space.cache("binding", "space-2")
    first.cache.set(key, b"\x00binary", ttl_ms=5000)
    assert second.cache.get(key) == b"\x00binary"
    second.cache.delete(key)
    assert first.cache.get(key) is None
    first.close()
    second.close()


def test_a_lock_has_one_holder_across_instances(redis_url: str, space: KeySpace, client: redis.Redis) -> None:
    first, second = open_store(redis_url, SYSTEM_CLOCK), open_store(redis_url, SYSTEM_CLOCK)
    key = space.lock("binding", "space-1")
    token = first.locks.try_lock(key, ttl_ms=200)
    assert token is not None
    assert second.locks.try_lock(key, ttl_ms=200) is None
    assert not second.locks.unlock(key, "someone-else")
    assert first.locks.unlock(key, token)
    assert not first.locks.unlock(key, token)
    again = second.locks.try_lock(key, ttl_ms=100)
    assert again is not None
    time.sleep(0.15)
    assert first.locks.try_lock(key, ttl_ms=100) is not None, "an expired lock is free"
    assert not second.locks.unlock(key, again), "and its former holder cannot release the new one"
    first.close()
    second.close()


def test_scripts_survive_a_script_cache_flush(store: Store, space: KeySpace, client: redis.Redis) -> None:
    key = space.rate_limit()
    assert store.limiter.reserve(key, 5, 1000, 0).granted
    client.script_flush()
    assert store.limiter.reserve(key, 5, 1000, 0).granted, "NOSCRIPT falls back to EVAL"
    assert store.buckets.take(space.bucket("a"), 1.0, 1).allowed


def test_the_limiter_fills_the_window_then_says_when_the_next_slot_is(store: Store, space: KeySpace) -> None:
    key = space.rate_limit()
    started = time.monotonic()
    assert all(store.limiter.reserve(key, 3, 1000, 0).granted for _ in range(3))
    refused = store.limiter.reserve(key, 3, 1000, max_wait_ms=100)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert not refused.granted
    assert refused.shared
    assert 1000 - elapsed_ms - 20 <= refused.wait_ms <= 1000.001
    assert store.limiter.time_to_slot(key, 3, 1000) == pytest.approx(refused.wait_ms, abs=20)
    waiting = store.limiter.reserve(key, 3, 1000, max_wait_ms=1500)
    assert waiting.granted
    assert waiting.wait_ms == pytest.approx(refused.wait_ms, abs=20)
    assert store.limiter.time_to_slot(space.rate_limit("other"), 3, 1000) == 0


def test_queued_slots_are_spaced_just_past_the_closed_window(store: Store, space: KeySpace) -> None:
    limiter = cast(RedisLimiter, store.limiter)
    key = space.rate_limit()
    slots = []
    for _ in range(9):
        answer = limiter.reserve_at(key, 2, 200, max_wait_ms=5000)
        assert answer is not None
        assert answer[0].granted
        slots.append(answer[1])
    assert most_in_a_closed_window(slots, 200_000) == 2
    gaps = [later - earlier for earlier, later in zip(slots, slots[2:], strict=False)]  # two apart
    assert all(gap > 200_000 for gap in gaps)
    assert 200_001 in gaps, "a queued slot lands one microsecond past the window of the slot two back"


def test_a_lower_limit_leaves_the_rest_of_the_window_to_a_higher_one(store: Store, space: KeySpace) -> None:
    key = space.rate_limit()
    lookups = [store.limiter.reserve(key, 7, 1250, max_wait_ms=5000) for _ in range(14)]
    assert sum(answer.wait_ms == 0 for answer in lookups) == 7
    assert all(answer.granted for answer in lookups), "the rest are queued in the next windows"
    timer = [store.limiter.reserve(key, 10, 1250, max_wait_ms=0) for _ in range(4)]
    assert [answer.granted for answer in timer] == [True, True, True, False], "not behind the lookups' queue"


def test_idle_limiter_and_bucket_keys_expire(store: Store, space: KeySpace, client: redis.Redis) -> None:
    store.limiter.reserve(space.rate_limit(), 10, 1250, 0)
    store.buckets.take(space.bucket("caller"), rate_per_s=5.0, burst=10)
    assert 0 < int(client.pttl(space.rate_limit())) <= 1250 + 1000
    assert 0 < int(client.pttl(space.bucket("caller"))) <= 200 + 1000


def test_a_token_bucket_in_redis(store: Store, space: KeySpace) -> None:
    key = space.bucket("caller", "203.0.113.7")
    answers = [store.buckets.take(key, rate_per_s=10.0, burst=3) for _ in range(4)]
    assert [answer.allowed for answer in answers] == [True, True, True, False]
    assert 80 <= answers[-1].wait_ms <= 100
    assert answers[-1].shared
    time.sleep(answers[-1].wait_ms / 1000 + 0.01)
    assert store.buckets.take(key, rate_per_s=10.0, burst=3).allowed
    assert store.buckets.take(space.bucket("another"), rate_per_s=10.0, burst=3).tokens == pytest.approx(2.0)


def test_a_password_in_the_url_is_used(
    redis_url: str, client: redis.Redis, space: KeySpace, emitted: EmittedLines
) -> None:
    if "@" in redis_url:
        pytest.skip("REDIS_URL already carries credentials")
    client.acl_setuser("store-test", enabled=True, passwords=["+s3cret-pw"], commands=["+@all"], keys=["*"])
    try:
        url = redis_url.replace("redis://", "redis://store-test:s3cret-pw@")
        store = open_store(url, SYSTEM_CLOCK)
        store.cache.set(space.cache("auth"), "ok", 1000)
        assert client.get(space.cache("auth")) == b"ok"
        store.close()
        # REDIS_PASSWORD: the password given beside a URL that has none
        beside = open_store(redis_url.replace("redis://", "redis://store-test@"), SYSTEM_CLOCK, password="s3cret-pw")
        assert beside.cache.get(space.cache("auth")) == b"ok"
        assert beside.limiter.reserve(space.rate_limit(), 1, 1000, 0).shared
        beside.close()
        wrong = open_store(redis_url.replace("redis://", "redis://store-test:wrong-pw@"), SYSTEM_CLOCK)
        assert not wrong.limiter.reserve(space.rate_limit(), 1, 1000, 0).shared, "refused: the fallback answers"
        assert "wrong-pw" not in json.dumps(emitted())
        assert len(emitted("cache.unavailable")) == 1
        wrong.close()
    finally:
        client.acl_deluser("store-test")
