"""Redis trouble never fails an operation: down at start, killed mid-run, slow; each operation is
bounded by the timeouts, the warning is rate-limited, and the store comes back to Redis."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from local.redis_server import RedisServer, free_port, redis_server_binary
from shared.clock import SYSTEM_CLOCK
from shared.store import KeySpace, RedisOptions, Store, open_store
from shared.store.redis_link import RedisLink, Unavailable
from tests.helpers import EmittedLines, FakeClock

T = TypeVar("T")
OPTIONS = RedisOptions(connect_timeout_ms=50, command_timeout_ms=50, skip_ms=200, warn_interval_s=60)
BOUND_S = 0.25
"""An operation's bound in these tests: connect plus command timeouts, with room for a busy CI."""


def timed(operation: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = operation()
    return result, time.monotonic() - started


def warnings_in(emitted: EmittedLines, event: str = "cache.unavailable") -> int:
    return len(emitted(event))


@pytest.fixture
def server() -> Iterator[RedisServer]:
    """A server of this test's own, to stop and restart."""
    if redis_server_binary() is None:
        pytest.skip("no redis-server binary")
    with RedisServer() as own:
        yield own


def exercise(store: Store, space: KeySpace) -> list[float]:
    """One of each operation, each timed."""
    key = space.cache("binding", "x")
    durations = [
        timed(lambda: store.cache.set(key, "v", 10_000))[1],
        timed(lambda: store.cache.get(key))[1],
        timed(lambda: store.locks.try_lock(space.lock("x"), 100))[1],
        timed(lambda: store.limiter.reserve(space.rate_limit(), 10, 1250, 0))[1],
        timed(lambda: store.limiter.time_to_slot(space.rate_limit(), 10, 1250))[1],
        timed(lambda: store.buckets.take(space.bucket("c"), 100.0, 100))[1],
    ]
    assert store.cache.get(key) == b"v", "a value written through is read back, from memory if need be"
    return durations


def test_redis_down_at_start_degrades_to_memory(emitted: EmittedLines, space: KeySpace) -> None:
    store = open_store(f"redis://127.0.0.1:{free_port()}/0", SYSTEM_CLOCK, OPTIONS)
    durations = [duration for _ in range(10) for duration in exercise(store, space)]
    assert max(durations) < BOUND_S
    limiter = [store.limiter.reserve(space.rate_limit("fallback"), 10, 1250, max_wait) for max_wait in (1250, 0)]
    assert [(r.granted, r.shared) for r in limiter] == [(True, False), (False, False)], (
        "the per-instance fallback allows a tenth of the rate, spaced out"
    )
    assert limiter[0].wait_ms <= 1250, "the first slot of an episode at a random phase of the interval"
    assert 0 < limiter[1].wait_ms <= 1250
    assert warnings_in(emitted) == 1
    store.close()


def test_without_redis_each_throttling_answer_halves_the_instances_rate_and_it_recovers(space: KeySpace) -> None:
    clock = FakeClock()
    store = open_store(f"redis://127.0.0.1:{free_port()}/0", clock, OPTIONS)
    key = space.rate_limit("fallback")

    def next_slot_ms() -> float:
        return store.limiter.time_to_slot(key, 10, 1250)

    assert store.limiter.reserve(key, 10, 1250, 1250).granted
    clock.advance(1.25)  # past the random phase of the episode's first call
    assert store.limiter.reserve(key, 10, 1250, 1250).granted
    spacing = [next_slot_ms()]
    for _ in range(2):
        store.limiter.throttled(key, 10, 1250)
        spacing.append(next_slot_ms())
    clock.advance(60)  # a new episode: a new phase, then the recovered rate
    assert store.limiter.reserve(key, 10, 1250, 1250).granted
    clock.advance(1.25)
    assert store.limiter.reserve(key, 10, 1250, 1250).granted
    spacing.append(next_slot_ms())
    store.close()

    assert spacing == pytest.approx([1250, 2500, 5000, 1250], abs=1), "halved twice, then back within a minute"


def test_the_breaker_skips_redis_then_tries_again_and_warns_once_a_minute(emitted: EmittedLines) -> None:
    clock = FakeClock()
    link = RedisLink(f"redis://127.0.0.1:{free_port()}/0", OPTIONS, clock)
    attempts: list[int] = []

    def ping() -> None:
        attempts.append(1)
        link.client.ping()

    for step_s in (0.0, 0.1, 0.05, 0.1, 30.0, 31.0):  # at 0, 0.1, 0.15, 0.25, 30.25, 61.25 s
        clock.advance(step_s)
        with pytest.raises(Unavailable):
            link.run(lambda client: ping())
    assert len(attempts) == 4, "skipped for 200 ms after each failure"
    assert warnings_in(emitted) == 2, "one warning, then one more after 60 s"
    last = emitted("cache.unavailable")[-1]
    assert (last["level"], last["errorType"], last["failures"], last["skipMs"]) == (
        "WARNING",
        "ConnectionError",
        3,
        200,
    )
    assert "127.0.0.1" not in json.dumps(emitted())
    link.close()


@pytest.mark.slow
def test_redis_killed_mid_run_and_brought_back(server: RedisServer, emitted: EmittedLines, space: KeySpace) -> None:
    store = open_store(server.url, SYSTEM_CLOCK, OPTIONS)
    assert store.limiter.reserve(space.rate_limit(), 10, 1250, 0).shared
    exercise(store, space)
    server.stop(crash=True)
    durations: list[float] = []
    for _ in range(100):
        durations.extend(exercise(store, space))
        time.sleep(0.01)
    assert max(durations) < BOUND_S
    assert not store.limiter.reserve(space.rate_limit("x"), 10, 1250, 0).shared
    assert warnings_in(emitted) == 1, "one warning for a second of failures"
    server.start()
    back_after = None
    started = time.monotonic()
    while back_after is None and time.monotonic() - started < 3:
        if store.limiter.reserve(space.rate_limit("y"), 10, 1250, 0).shared:
            back_after = time.monotonic() - started
        time.sleep(0.01)
    assert back_after is not None
    assert back_after < OPTIONS.skip_ms / 1000 + BOUND_S
    assert warnings_in(emitted, "cache.recovered") == 1
    store.close()


@pytest.mark.slow
def test_a_slow_redis_costs_at_most_the_command_timeout(
    server: RedisServer, emitted: EmittedLines, space: KeySpace
) -> None:
    store = open_store(server.url, SYSTEM_CLOCK, OPTIONS)
    key = space.cache("binding", "slow")
    store.cache.set(key, "cached", 10_000)
    busy = server.block(1.0)
    value, duration = timed(lambda: store.cache.get(key))
    assert value == b"cached", "answered from the instance's memory"
    assert OPTIONS.command_timeout_ms / 1000 <= duration < OPTIONS.command_timeout_ms / 1000 + 0.1
    reservation, duration = timed(lambda: store.limiter.reserve(space.rate_limit(), 10, 1250, 0))
    assert not reservation.shared
    assert duration < 0.01, "skipped: no second wait for the same slow server"
    busy.join(5)
    time.sleep(OPTIONS.skip_ms / 1000)
    assert store.limiter.reserve(space.rate_limit(), 10, 1250, 0).shared
    assert warnings_in(emitted) == 1
    store.close()


@contextlib.contextmanager
def unreachable_port() -> Iterator[int]:
    """A loopback port whose listener's backlog is full: new SYNs are dropped, as by a blackholed
    address, and a connect hangs until its timeout."""
    with socket.socket() as listener, contextlib.ExitStack() as fillers:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(8):
            filler = fillers.enter_context(socket.socket())
            filler.settimeout(0.2)
            try:
                filler.connect(("127.0.0.1", port))
            except OSError:
                break
        yield port


def test_an_unreachable_redis_costs_at_most_the_connect_timeout(space: KeySpace) -> None:
    with unreachable_port() as port:
        store = open_store(f"redis://127.0.0.1:{port}/0", SYSTEM_CLOCK, dataclasses.replace(OPTIONS, skip_ms=0))
        durations = [timed(lambda: store.cache.get(space.cache("x")))[1] for _ in range(5)]
        store.close()
    assert OPTIONS.connect_timeout_ms / 1000 <= min(durations)
    assert max(durations) < OPTIONS.connect_timeout_ms / 1000 + 0.1


@pytest.mark.slow
def test_a_connection_the_server_closed_while_idle_is_replaced_at_once(
    server: RedisServer, emitted: EmittedLines, space: KeySpace
) -> None:
    store = open_store(server.url, SYSTEM_CLOCK, OPTIONS)
    assert store.limiter.reserve(space.rate_limit(), 10, 1250, 0).shared
    server.stop()
    server.start()  # as when a frozen instance thaws and its pooled connection is gone
    assert store.limiter.reserve(space.rate_limit(), 10, 1250, 0).shared
    assert warnings_in(emitted) == 0
    store.close()
