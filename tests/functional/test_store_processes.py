"""The store across processes (FC instances are processes): single flight, lock exclusivity, and the
account-wide limit as a counter on loopback sees the calls arrive."""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import queue
import random
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.synchronize import Barrier
from typing import Any, cast

import pytest
import redis

from shared.clock import SYSTEM_CLOCK
from shared.store import KeySpace, Store, open_store, poll
from shared.store.redis_store import RedisLimiter
from tests.unit.test_store_algorithms import most_in_a_closed_window

pytestmark = pytest.mark.slow
SPAWN = multiprocessing.get_context("spawn")
MICROS = 1_000_000


def single_flight(store: Store, space: KeySpace, url: str, deadline: float) -> bytes | None:
    """What a lookup does on a cold key: one instance asks "CAMS" (counted in Redis), the rest poll."""
    key, lock = space.cache("binding", "cold"), space.lock("binding", "cold")
    for _ in range(100):
        value = store.cache.get(key)
        if value is not None or time.monotonic() >= deadline:
            return value
        token = store.locks.try_lock(lock, ttl_ms=2000)
        if token is None:
            value = poll(lambda: store.cache.get(key), SYSTEM_CLOCK, deadline - time.monotonic(), 0.02)
            continue
        try:
            if store.cache.get(key) is None:
                redis.Redis.from_url(url).incr(space.key("test", "cams-calls"))
                time.sleep(0.3)  # the call to CAMS
                store.cache.set(key, b"waba-1", ttl_ms=10_000)
        finally:
            store.locks.unlock(lock, token)
    return None


def run_single_flight(url: str, account: str, barrier: Barrier, results: Any) -> None:
    store = open_store(url, SYSTEM_CLOCK)
    barrier.wait(30)
    results.put(single_flight(store, KeySpace(account, "ap-southeast-1"), url, time.monotonic() + 5))


def hold_the_lock(url: str, account: str, seconds: float, barrier: Barrier, results: Any) -> None:
    store = open_store(url, SYSTEM_CLOCK)
    key = KeySpace(account, "ap-southeast-1").lock("exclusive")
    held: list[tuple[float, float]] = []
    barrier.wait(30)
    end = time.monotonic() + seconds
    while time.monotonic() < end and len(held) < 10_000:
        token = store.locks.try_lock(key, ttl_ms=1000)
        if token is None:
            time.sleep(0.001)
            continue
        taken = time.monotonic()
        time.sleep(0.002)
        held.append((taken, time.monotonic()))
        assert store.locks.unlock(key, token)
    results.put(held)


@dataclass(frozen=True)
class Hammer:
    url: str
    account: str
    counter_url: str
    seconds: float
    limit: int
    window_ms: int
    setup_jitter_s: float


def hammer_the_limiter(job: Hammer, barrier: Barrier, results: Any) -> None:
    """Reserve as fast as possible, then make the "call": a fresh connection, some set-up time."""
    limiter = cast(RedisLimiter, open_store(job.url, SYSTEM_CLOCK).limiter)
    key = KeySpace(job.account, "ap-southeast-1").rate_limit()
    slots: list[int] = []
    barrier.wait(30)
    end = time.monotonic() + job.seconds
    while time.monotonic() < end and len(slots) < 1000:
        answer = limiter.reserve_at(key, job.limit, job.window_ms, max_wait_ms=200)
        assert answer is not None, "Redis answered"
        reservation, slot = answer
        if not reservation.granted:
            time.sleep(min(reservation.wait_ms, 50) / 1000)
            continue
        slots.append(slot)
        time.sleep(reservation.wait_ms / 1000 + random.uniform(0, job.setup_jitter_s))
        urllib.request.urlopen(job.counter_url, timeout=5).read()
    results.put(slots)


def run_processes(target: Any, count: int, *args: Any, timeout_s: float = 30) -> list[Any]:
    """`target(*args, barrier, results)` in `count` spawned processes; what they put in `results`.

    A process that dies fails the test at once rather than at the timeout."""
    barrier, results = SPAWN.Barrier(count), SPAWN.Queue()
    processes = [SPAWN.Process(target=target, args=(*args, barrier, results)) for _ in range(count)]
    for process in processes:
        process.start()
    answers: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(answers) < count and time.monotonic() < deadline:
            assert all(process.exitcode in (None, 0) for process in processes), "a process failed"
            with contextlib.suppress(queue.Empty):
                answers.append(results.get(timeout=0.2))
    finally:
        for process in processes:
            process.join(5)
            if process.is_alive():
                process.kill()
    assert len(answers) == count, "every process answered in time"
    return answers


def test_processes_asking_for_one_cold_key_make_one_call(redis_url: str, space: KeySpace) -> None:
    answers = run_processes(run_single_flight, 6, redis_url, space.account)
    assert answers == [b"waba-1"] * 6
    assert redis.Redis.from_url(redis_url).get(space.key("test", "cams-calls")) == b"1"


def test_a_lock_has_one_holder_at_a_time_across_processes(redis_url: str, space: KeySpace) -> None:
    answers = run_processes(hold_the_lock, 4, redis_url, space.account, 1.5)
    held = sorted(interval for intervals in answers for interval in intervals)
    assert len(held) >= 20
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(held))


class Counter:
    """A tiny HTTP server on loopback that notes when each request arrives."""

    def __init__(self) -> None:
        arrivals: list[float] = []
        self.arrivals = arrivals

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                arrivals.append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counter() -> Iterator[Counter]:
    running = Counter()
    yield running
    running.close()


def test_processes_hammering_the_limiter_never_exceed_it_as_calls_arrive(
    redis_url: str, space: KeySpace, counter: Counter
) -> None:
    job = Hammer(redis_url, space.account, counter.url, seconds=3.0, limit=10, window_ms=1250, setup_jitter_s=0.12)
    answers = run_processes(hammer_the_limiter, 4, job)
    slots = sorted(slot for process_slots in answers for slot in process_slots)
    arrivals = sorted(round(arrival * MICROS) for arrival in counter.arrivals)
    assert len(arrivals) == len(slots) >= 20
    assert most_in_a_closed_window(slots, job.window_ms * 1000) <= job.limit
    assert most_in_a_closed_window(arrivals, MICROS) <= job.limit
    assert sum(len(process_slots) > 0 for process_slots in answers) >= 2, "the processes shared the slots"
