"""FC instances as processes, and the dispatcher that offers them the load on schedule (open loop)."""

from __future__ import annotations

import multiprocessing
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from types import TracebackType

from loadlib import instance
from loadlib.instance import Answer, InstanceSpec, Job, Ready
from loadlib.schedule import Arrival

READY_TIMEOUT_S = 180.0
START_DELAY_S = 0.5
STOP_TIMEOUT_S = 5.0


class InstancePool:
    """`count` instances of one function, each its own process, pulling jobs from one queue."""

    def __init__(self, count: int, spec: InstanceSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self.jobs: Queue[Job | None] = context.Queue()
        self.answers: Queue[Ready | Answer] = context.Queue()
        self.processes: list[BaseProcess] = [
            context.Process(
                target=instance.run,
                args=(number, spec, self.jobs, self.answers),
                name=f"fc-instance-{number}",
                daemon=True,
            )
            for number in range(count)
        ]

    def __enter__(self) -> InstancePool:
        try:
            for process in self.processes:
                process.start()
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        waiting = len(self.processes)
        while waiting:
            if any(process.exitcode is not None for process in self.processes):
                raise RuntimeError("an instance died while starting (its error is above)")
            try:
                self.answers.get(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
                waiting -= 1
            except queue.Empty:
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"{waiting} instances not ready after {READY_TIMEOUT_S:.0f} s") from None

    def stop(self) -> None:
        """Stop every instance now, busy or not: what is left of the load is abandoned."""
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            if process.pid is not None:
                process.join(STOP_TIMEOUT_S)
                if process.is_alive():
                    process.kill()
                    process.join()
        for channel in (self.jobs, self.answers):
            channel.cancel_join_thread()  # jobs nobody will take must not hold this process at exit
            channel.close()


@dataclass
class Offered:
    """What happened to the offered load: when it started (wall clock) and each arrival's answer."""

    started_at: float
    answers: dict[int, Answer] = field(default_factory=dict)


def offer(
    pool: InstancePool,
    arrivals: list[Arrival],
    length_s: float,
    drain_s: float,
    revalidate: float,
    seed: int,
    started_at: float | None = None,
) -> Offered:
    """Offer `arrivals` on schedule and collect the answers, waiting at most `drain_s` after the schedule.

    The schedule starts at `started_at` (wall clock), by default a moment from now."""
    offered = Offered(started_at if started_at is not None else time.time() + START_DELAY_S)
    etags: dict[str, str] = {}
    stop = threading.Event()
    dispatcher = threading.Thread(
        target=_dispatch,
        args=(pool, arrivals, offered.started_at, etags, revalidate, seed, stop),
        name="dispatcher",
        daemon=True,
    )
    dispatcher.start()
    try:
        _collect(pool, arrivals, offered, etags, offered.started_at + length_s + drain_s)
    finally:
        stop.set()
        dispatcher.join()
    return offered


def _dispatch(
    pool: InstancePool,
    arrivals: list[Arrival],
    start: float,
    etags: dict[str, str],
    revalidate: float,
    seed: int,
    stop: threading.Event,
) -> None:
    """Each arrival joins the queue at its time, whether or not an instance is free (open loop)."""
    coin = random.Random(seed)
    for arrival in arrivals:
        scheduled = start + arrival.offset_s
        if stop.wait(max(0.0, scheduled - time.time())):
            return
        etag = etags.get(arrival.space) if coin.random() < revalidate else None
        pool.jobs.put(Job(arrival.index, scheduled, arrival.space, etag))


def _collect(
    pool: InstancePool, arrivals: list[Arrival], offered: Offered, etags: dict[str, str], deadline: float
) -> None:
    while len(offered.answers) < len(arrivals):
        left = deadline - time.time()
        if left <= 0:
            return
        try:
            message = pool.answers.get(timeout=min(left, 0.5))
        except queue.Empty:
            continue
        if isinstance(message, Answer):
            offered.answers[message.index] = message
            if message.etag:
                etags[arrivals[message.index].space] = message.etag
