"""Redis stopped mid-load: SIGSTOP to redis-server, SIGCONT later, and the load before, during and after.

A stopped server keeps its connections open and answers nothing, as a Tair node does in a network
partition or a long pause: every command waits for REDIS_TIMEOUT_MS, then the store falls back to
its per-instance counterparts. The report splits the run at the two signals: the lookups by their
scheduled arrival, CAMS's arrivals by when they reached it. A sliding second of CAMS arrivals is
taken to end at each arrival, and belongs to that arrival's phase: the call that breaks the limit
counts where it arrived, and "windows over the limit" counts the calls that arrived with more than
the account's limit in the second up to and including them.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from loadlib.instance import Answer
from loadlib.report import ACTION, percentile
from loadlib.schedule import Arrival, Phase

CAMS_THROTTLED = "System.LimitControl"
WINDOW_S = 1.0


class RedisPause:
    """Stops the process `pid` at `stop_at` and resumes it at `resume_at` (wall clock), from a thread."""

    def __init__(self, pid: int, stop_at: float, resume_at: float) -> None:
        self.pid = pid
        self.stop_at = stop_at
        self.resume_at = resume_at
        self.stopped_at: float | None = None
        self.resumed_at: float | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="redis-pause", daemon=True)

    def __enter__(self) -> RedisPause:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._cancel.set()
        self._thread.join()
        self._resume()  # a server left stopped would hold its own shutdown, and the next run's start

    def _run(self) -> None:
        if self._cancel.wait(max(0.0, self.stop_at - time.time())):
            return
        os.kill(self.pid, signal.SIGSTOP)
        self.stopped_at = time.time()
        if self._cancel.wait(max(0.0, self.resume_at - time.time())):
            return
        self._resume()

    def _resume(self) -> None:
        if self.stopped_at is not None and self.resumed_at is None:
            os.kill(self.pid, signal.SIGCONT)
            self.resumed_at = time.time()


@dataclass(frozen=True)
class StopRun:
    instances: int
    phases: list[Phase]
    spaces: str
    """How many, and how they were drawn, in words."""
    arrivals: list[Arrival]
    started_at: float
    answers: dict[int, Answer]
    journal: list[dict[str, Any]]
    cams_limit: int
    stopped_at: float
    resumed_at: float


@dataclass(frozen=True)
class Span:
    name: str
    start: float
    end: float
    """Wall clock, end excluded."""

    def holds(self, moment: float) -> bool:
        return self.start <= moment < self.end


def spans(run: StopRun) -> list[Span]:
    return [
        Span("before", -math.inf, run.stopped_at),
        Span("during", run.stopped_at, run.resumed_at),
        Span("after", run.resumed_at, math.inf),
    ]


def cams_calls(run: StopRun) -> list[dict[str, Any]]:
    return sorted((entry for entry in run.journal if entry.get("action") == ACTION), key=lambda entry: entry["at"])


def windows_to(times: list[float], ends: list[float]) -> list[int]:
    """For each of `ends`, how many of the sorted `times` fall in (end - 1 s, end]."""
    return [bisect_right(times, end) - bisect_right(times, end - WINDOW_S) for end in ends]


def scheduled_at(run: StopRun, arrival: Arrival) -> float:
    return run.started_at + arrival.offset_s


@dataclass(frozen=True)
class PhaseFigures:
    span: Span
    lookups: int
    statuses: Counter[int]
    unanswered: int
    latency_p99_ms: float
    cams_calls: int
    cams_busiest: int
    windows_over: int
    cams_refused: int


def phase_figures(run: StopRun, span: Span) -> PhaseFigures:
    arrivals = [arrival for arrival in run.arrivals if span.holds(scheduled_at(run, arrival))]
    answers = [run.answers[arrival.index] for arrival in arrivals if arrival.index in run.answers]
    latencies = [(answer.completed_at - scheduled_at(run, run.arrivals[answer.index])) * 1000 for answer in answers]
    calls = cams_calls(run)
    times = [entry["at"] for entry in calls]
    mine = [entry for entry in calls if span.holds(entry["at"])]
    windows = windows_to(times, [entry["at"] for entry in mine])
    return PhaseFigures(
        span=span,
        lookups=len(arrivals),
        statuses=Counter(answer.status for answer in answers),
        unanswered=len(arrivals) - len(answers),
        latency_p99_ms=percentile(latencies, 0.99) if latencies else math.nan,
        cams_calls=len(mine),
        cams_busiest=max(windows, default=0),
        windows_over=sum(count > run.cams_limit for count in windows),
        cams_refused=sum(entry.get("code") == CAMS_THROTTLED for entry in mine),
    )


def title(run: StopRun) -> str:
    stop_s, resume_s = run.stopped_at - run.started_at, run.resumed_at - run.started_at
    load = ", then ".join(f"{phase.per_second:g}/s for {phase.seconds:g} s" for phase in run.phases)
    return (
        f"Redis stopped mid-load, lookup handler, {run.instances} instances: {len(run.arrivals)} lookups "
        f"({load}) over {run.spaces}; redis-server stopped "
        f"(SIGSTOP) at {stop_s:.1f} s, resumed (SIGCONT) at {resume_s:.1f} s; CAMS limited to {run.cams_limit} calls/s"
    )


def render(run: StopRun) -> str:
    phases = [phase_figures(run, span) for span in spans(run)]
    statuses = sorted({status for phase in phases for status in phase.statuses})
    names = [
        "phase",
        "lookups",
        *(f"{status}" for status in statuses),
        "none",
        "p99 ms",
        "CAMS",
        "CAMS max 1 s",
        f"windows > {run.cams_limit}",
        "CAMS refused",
    ]
    rows = [_cells(phase, statuses) for phase in phases]
    widths = [max(len(name), *(len(row[number]) for row in rows)) for number, name in enumerate(names)]
    lines = [title(run), "  ".join(f"{name:>{width}}" for name, width in zip(names, widths, strict=True))]
    lines += ["  ".join(f"{cell:>{width}}" for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.append(LEGEND.format(limit=run.cams_limit))
    return "\n".join(lines)


def _cells(phase: PhaseFigures, statuses: list[int]) -> list[str]:
    return [
        phase.span.name,
        str(phase.lookups),
        *(str(phase.statuses[status]) for status in statuses),
        str(phase.unanswered),
        f"{phase.latency_p99_ms:.0f}",
        str(phase.cams_calls),
        str(phase.cams_busiest),
        str(phase.windows_over),
        str(phase.cams_refused),
    ]


LEGEND = """\
Lookups by scheduled arrival, one column per status, none: no answer by the end of the drain; p99 ms:
scheduled arrival to answer. CAMS: calls that reached it in the phase; CAMS max 1 s: the busiest sliding
second ending in the phase; windows > {limit}: such seconds holding more than {limit} calls (one ends at each
call); CAMS refused: calls it answered System.LimitControl."""
