"""FC's on-demand scaling, emulated: an arrival that finds every instance busy starts a new one, up to a cap.

Each instance is a process of its own (`loadlib.instance.run`) with a job queue of its own, so that
an arrival is handed to one instance and waits for that instance only: a new one's arrival waits
through its whole cold start (process start, imports, initializer), then its first invocation. An
instance that answers takes the next job left waiting at the cap, else it waits idle for the next
arrival (the last one freed goes first). At the cap an arrival is refused at once, as FC refuses an
invocation over the function's instance limit (HTTP 429), or waits for the first instance to be
free (`at_cap="queue"`).

One thread runs it all, in order: arrivals as they fall due, then whatever the instances sent.

An instance is a fresh interpreter ("spawn"): its cold start is real, and on a machine with fewer
cores than starting instances they share the cores, which FC's instances do not. "preloaded" forks
them from a server that imported the function's modules once; the spec's `start_delay_s` then
stands in for the imports.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from types import TracebackType
from typing import Any, Literal

from loadlib import instance
from loadlib.instance import Answer, InstanceSpec, Job, Ready
from loadlib.pool import START_DELAY_S, STOP_TIMEOUT_S
from loadlib.schedule import Arrival

AtCap = Literal["refuse", "queue"]
ColdStart = Literal["spawn", "preloaded"]
# The function's modules, the Redis client its initializer imports late, and the emulator's own (yaml
# reads s.yaml): what is left to a forked instance is its initializer and its first invocation.
PRELOADED = ["loadlib.instance", "local.emulator", "yaml", "shared.lookup.app", "shared.store.redis_store"]


@dataclass
class InstanceLife:
    """One instance's life in the run: when it was started and ready (wall clock), and its work."""

    number: int
    spawned_at: float
    ready_at: float | None = None
    busy_s: float = 0.0
    """Time spent in invocations, as the instance measured it around the handler."""

    @property
    def cold_start_s(self) -> float | None:
        return None if self.ready_at is None else self.ready_at - self.spawned_at


@dataclass
class Scaled:
    """What happened to the offered load under on-demand scaling."""

    started_at: float
    ended_at: float = 0.0
    answers: dict[int, Answer] = field(default_factory=dict)
    refused: dict[int, float] = field(default_factory=dict)
    """Arrivals FC turned away at the cap, and when."""
    lives: list[InstanceLife] = field(default_factory=list)

    def lifetime_s(self) -> float:
        """Instance-seconds from each start to the end of the run (FC keeps idle instances longer still)."""
        return sum(self.ended_at - life.spawned_at for life in self.lives)

    def busy_s(self) -> float:
        return sum(life.busy_s for life in self.lives)


class OnDemandFleet:
    """Up to `cap` instances of one function, started as arrivals need them."""

    def __init__(self, cap: int, spec: InstanceSpec, cold_start: ColdStart = "spawn") -> None:
        self.cap = cap
        self.spec = spec
        self.cold_start = cold_start
        self.context: SpawnContext | ForkServerContext = multiprocessing.get_context("spawn")
        if cold_start == "preloaded":
            self.context = multiprocessing.get_context("forkserver")
            self.context.set_forkserver_preload(PRELOADED)
        self.answers: Queue[Ready | Answer] = self.context.Queue()
        self.processes: list[BaseProcess] = []
        self.jobs: list[Queue[Job | None]] = []
        self.lives: list[InstanceLife] = []
        self.idle: list[int] = []

    def __enter__(self) -> OnDemandFleet:
        if self.cold_start == "preloaded":
            # The server imports the modules once it runs: the first fork waits for that, before the load.
            first = self.context.Process(target=_nothing, name="fc-forkserver-warm-up", daemon=True)
            first.start()
            first.join()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def take(self, job: Job) -> bool:
        """Hand `job` to an idle instance, else to a new one if the cap allows; False when neither can."""
        if self.idle:
            self.jobs[self.idle.pop()].put(job)
            return True
        if len(self.processes) < self.cap:
            self._start_with(job)
            return True
        return False

    def release(self, number: int) -> None:
        self.idle.append(number)

    def next_message(self, timeout_s: float) -> Ready | Answer | None:
        try:
            return self.answers.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            return None

    def check_alive(self) -> None:
        for process in self.processes:
            if process.exitcode is not None:
                raise RuntimeError(f"{process.name} died (its error is above)")

    def _start_with(self, job: Job) -> None:
        number = len(self.processes)
        jobs: Queue[Job | None] = self.context.Queue()
        jobs.put(job)
        process = self.context.Process(
            target=instance.run,
            args=(number, self.spec, jobs, self.answers),
            name=f"fc-instance-{number}",
            daemon=True,
        )
        self.jobs.append(jobs)
        self.processes.append(process)
        self.lives.append(InstanceLife(number, time.time()))
        process.start()

    def stop(self) -> None:
        """Stop every instance now, busy or not."""
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
        channels: list[Queue[Any]] = [*self.jobs, self.answers]
        for channel in channels:
            channel.cancel_join_thread()
            channel.close()


def _nothing() -> None:
    return None


def offer_on_demand(
    fleet: OnDemandFleet, arrivals: list[Arrival], length_s: float, drain_s: float, at_cap: AtCap
) -> Scaled:
    """Offer `arrivals` on schedule, scaling `fleet` as they need, and wait at most `drain_s` after it."""
    scaled = Scaled(time.time() + START_DELAY_S, lives=fleet.lives)
    due: deque[Arrival] = deque(arrivals)
    waiting: deque[Job] = deque()
    deadline = scaled.started_at + length_s + drain_s
    while len(scaled.answers) + len(scaled.refused) < len(arrivals) and time.time() < deadline:
        _hand_out_due(fleet, due, waiting, scaled, at_cap)
        next_due = scaled.started_at + due[0].offset_s if due else deadline
        message = fleet.next_message(min(next_due, deadline) - time.time())
        if message is None:
            fleet.check_alive()
        else:
            _receive(fleet, message, waiting, scaled)
    scaled.ended_at = time.time()
    return scaled


def _hand_out_due(
    fleet: OnDemandFleet, due: deque[Arrival], waiting: deque[Job], scaled: Scaled, at_cap: AtCap
) -> None:
    now = time.time()
    while due and scaled.started_at + due[0].offset_s <= now:
        arrival = due.popleft()
        job = Job(arrival.index, scaled.started_at + arrival.offset_s, arrival.space)
        if fleet.take(job):
            continue
        if at_cap == "queue":
            waiting.append(job)
        else:
            scaled.refused[arrival.index] = now


def _receive(fleet: OnDemandFleet, message: Ready | Answer, waiting: deque[Job], scaled: Scaled) -> None:
    life = fleet.lives[message.instance]
    if isinstance(message, Ready):
        life.ready_at = message.at
        return
    scaled.answers[message.index] = message
    life.busy_s += message.completed_at - message.started_at
    fleet.release(message.instance)
    if waiting:
        fleet.take(waiting.popleft())
