"""The cold burst under on-demand scaling: one table row per CAMS_QUOTA_WAIT_MS, and the product's target.

The target: at least 90% of the lookups answered 200, and cached answers' p99 in the handler under
10 ms. An answer is cached when its request line says it came from this instance's memory, the
shared store, or a stale entry; "waited" (another instance's CAMS call) and "cams" are not.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadlib.instance import Answer
from loadlib.report import ACTION, busiest_window, percentile
from loadlib.scaling import AtCap, Scaled
from loadlib.schedule import Arrival, Phase

ANSWERED_TARGET = 0.90
CACHED_P99_TARGET_MS = 10.0
CACHED_SOURCES = ("memory", "shared", "stale")


@dataclass(frozen=True)
class BurstRun:
    quota_wait_ms: int
    arrivals: list[Arrival]
    scaled: Scaled
    journal: list[dict[str, Any]]


@dataclass(frozen=True)
class BurstSetup:
    """What every run of one table shares."""

    phases: list[Phase]
    spaces: int
    popularity: str
    cap: int
    at_cap: AtCap
    cams_limit: int
    cold_start: str
    """How instances start, in words."""


@dataclass(frozen=True)
class Figures:
    offered: int
    statuses: Counter[int]
    refused: int
    refused_known: int
    """429s, the function's or FC's, for a space answered 200 before the lookup arrived."""
    unanswered: int
    started: int
    cold_start_p50_s: float
    busy_s: float
    lifetime_s: float
    latency_p50_ms: float
    latency_p99_ms: float
    cached: int
    cached_p99_ms: float
    cams_calls: int
    cams_busiest: int

    @property
    def answered_share(self) -> float:
        return self.statuses[200] / self.offered if self.offered else math.nan

    @property
    def other(self) -> int:
        return sum(count for status, count in self.statuses.items() if status not in (200, 429))

    @property
    def met(self) -> bool:
        return self.answered_share >= ANSWERED_TARGET and self.cached_p99_ms < CACHED_P99_TARGET_MS


def figures(run: BurstRun) -> Figures:
    scaled = run.scaled
    answers = list(scaled.answers.values())
    latencies = [latency_ms(run, answer) for answer in answers]
    cached = [answer for answer in answers if is_cached(answer)]
    cold_starts = [life.cold_start_s for life in scaled.lives if life.cold_start_s is not None]
    calls = [entry["at"] for entry in run.journal if entry.get("action") == ACTION]
    return Figures(
        offered=len(run.arrivals),
        statuses=Counter(answer.status for answer in answers),
        refused=len(scaled.refused),
        refused_known=refused_known(run),
        unanswered=len(run.arrivals) - len(answers) - len(scaled.refused),
        started=len(scaled.lives),
        cold_start_p50_s=_p(cold_starts, 0.50),
        busy_s=scaled.busy_s(),
        lifetime_s=scaled.lifetime_s(),
        latency_p50_ms=_p(latencies, 0.50),
        latency_p99_ms=_p(latencies, 0.99),
        cached=len(cached),
        cached_p99_ms=_p([handler_ms(answer) for answer in cached], 0.99),
        cams_calls=len(calls),
        cams_busiest=busiest_window(calls),
    )


def refused_known(run: BurstRun) -> int:
    first_answered: dict[str, float] = {}
    for answer in run.scaled.answers.values():
        if answer.status == 200:
            space = run.arrivals[answer.index].space
            first_answered[space] = min(first_answered.get(space, math.inf), answer.completed_at)
    refused = [index for index, answer in run.scaled.answers.items() if answer.status == 429]
    refused += list(run.scaled.refused)
    return sum(first_answered.get(run.arrivals[index].space, math.inf) < scheduled_at(run, index) for index in refused)


def scheduled_at(run: BurstRun, index: int) -> float:
    return run.scaled.started_at + run.arrivals[index].offset_s


def is_cached(answer: Answer) -> bool:
    return answer.status == 200 and answer.cache in CACHED_SOURCES


def handler_ms(answer: Answer) -> float:
    """The invocation as the instance timed it, around the handler call."""
    return (answer.completed_at - answer.started_at) * 1000


def latency_ms(run: BurstRun, answer: Answer) -> float:
    """From the scheduled arrival to the answer: a cold start on the way counts."""
    return (answer.completed_at - scheduled_at(run, answer.index)) * 1000


def _p(values: list[float], share: float) -> float:
    return percentile(values, share) if values else math.nan


Column = tuple[str, Callable[[BurstRun, Figures], str]]
COLUMNS: list[Column] = [
    ("wait ms", lambda run, f: str(run.quota_wait_ms)),
    ("lookups", lambda run, f: str(f.offered)),
    ("200", lambda run, f: str(f.statuses[200])),
    ("200 %", lambda run, f: f"{100 * f.answered_share:.1f}"),
    ("429 fn", lambda run, f: str(f.statuses[429])),
    ("429 FC", lambda run, f: str(f.refused)),
    ("429 known", lambda run, f: str(f.refused_known)),
    ("other", lambda run, f: str(f.other)),
    ("none", lambda run, f: str(f.unanswered)),
    ("started", lambda run, f: str(f.started)),
    ("cold p50 s", lambda run, f: f"{f.cold_start_p50_s:.2f}"),
    ("busy inst-s", lambda run, f: f"{f.busy_s:.1f}"),
    ("alive inst-s", lambda run, f: f"{f.lifetime_s:.1f}"),
    ("p50 ms", lambda run, f: f"{f.latency_p50_ms:.0f}"),
    ("p99 ms", lambda run, f: f"{f.latency_p99_ms:.0f}"),
    ("cached", lambda run, f: str(f.cached)),
    ("cached p99 ms", lambda run, f: f"{f.cached_p99_ms:.2f}"),
    ("CAMS", lambda run, f: str(f.cams_calls)),
    ("CAMS max 1 s", lambda run, f: str(f.cams_busiest)),
    ("target", lambda run, f: "met" if f.met else "MISSED"),
]

LEGEND = """\
200, 200 %: lookups answered 200, and their share of those offered; 429 fn: the function's 429s;
429 FC: refused at the instance cap; 429 known: either, for a space answered 200 before the lookup
arrived; other: any other status; none: no answer by the end of the drain. started: instances
started; cold p50 s: their start to ready (process, imports, initializer). busy inst-s: time in
invocations, summed over instances; alive inst-s: from each start to the end of the run. p50/p99
ms: scheduled arrival to answer, over every lookup an instance answered. cached p99 ms: in the
handler, over the 200s served from memory, the shared store or stale. CAMS max 1 s: CAMS arrivals,
busiest sliding second. target: 200 % >= 90 and cached p99 < 10 ms."""


def title(setup: BurstSetup) -> str:
    load = ", then ".join(f"{phase.per_second:g}/s for {phase.seconds:g} s" for phase in setup.phases)
    at_cap = "FC refuses (429)" if setup.at_cap == "refuse" else "the arrival waits"
    return (
        f"cold burst, lookup handler, on-demand instances (at most {setup.cap}, {setup.cold_start}; at the cap "
        f"{at_cap}): {load} over {setup.spaces} cold spaces ({setup.popularity}); CAMS limited to "
        f"{setup.cams_limit} calls/s"
    )


def render(setup: BurstSetup, runs: list[BurstRun]) -> str:
    cells = [[cell(run, figures(run)) for _, cell in COLUMNS] for run in runs]
    widths = [max(len(name), *(len(row[number]) for row in cells)) for number, (name, _) in enumerate(COLUMNS)]
    lines = [title(setup), "  ".join(f"{name:>{width}}" for (name, _), width in zip(COLUMNS, widths, strict=True))]
    lines += ["  ".join(f"{text:>{width}}" for text, width in zip(row, widths, strict=True)) for row in cells]
    lines += [*_other_statuses(runs), LEGEND]
    return "\n".join(lines)


def _other_statuses(runs: list[BurstRun]) -> list[str]:
    lines = []
    for run in runs:
        other = {status: count for status, count in figures(run).statuses.items() if status not in (200, 429)}
        if other:
            listed = ", ".join(f"{count} x {status}" for status, count in sorted(other.items()))
            lines.append(f"other statuses at {run.quota_wait_ms} ms: {listed}")
    return lines
