"""What a run measured, and whether the targets of issue 8 are met."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from loadlib.instance import Answer
from loadlib.schedule import Arrival, Phase, phase_starts

ACTION = "QueryChatappBindWaba"
CACHED_P99_TARGET_MS = 5.0
CALLS_PER_LOOKUP_TARGET = 0.1
SHARES = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))


@dataclass(frozen=True)
class Run:
    handler: str
    instances: int
    phases: list[Phase]
    arrivals: list[Arrival]
    started_at: float
    answers: dict[int, Answer]
    journal: list[dict[str, Any]]
    cams_limit: int
    drain_s: float


@dataclass(frozen=True)
class Row:
    measure: str
    value: str
    target: str = ""
    verdict: str = ""


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def busiest_window(times: list[float], width_s: float = 1.0) -> int:
    """The most times in any window [t, t + width_s): sliding, not aligned to whole seconds."""
    ordered = sorted(times)
    most, left = 0, 0
    for right, time in enumerate(ordered):
        while time - ordered[left] >= width_s:
            left += 1
        most = max(most, right - left + 1)
    return most


def latency_ms(run: Run, answer: Answer) -> float:
    """From the scheduled arrival to the answer: queueing included."""
    scheduled = run.started_at + run.arrivals[answer.index].offset_s
    return (answer.completed_at - scheduled) * 1000


def throttled_after_answered(run: Run) -> int:
    """429s for a space whose binding had already been answered (200) before the lookup arrived."""
    first_answered: dict[str, float] = {}
    for answer in run.answers.values():
        if answer.status == 200:
            space = run.arrivals[answer.index].space
            first_answered[space] = min(first_answered.get(space, math.inf), answer.completed_at)
    count = 0
    for answer in run.answers.values():
        arrival = run.arrivals[answer.index]
        if answer.status == 429 and first_answered.get(arrival.space, math.inf) < run.started_at + arrival.offset_s:
            count += 1
    return count


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def rows(run: Run) -> list[Row]:
    return [*answer_rows(run), *latency_rows(run), *cams_rows(run), *cached_rows(run)]


def answer_rows(run: Run) -> list[Row]:
    statuses = Counter(answer.status for answer in run.answers.values())
    table = [Row(f"answers {status}", str(count)) for status, count in sorted(statuses.items())]
    missing = len(run.arrivals) - len(run.answers)
    table.append(Row(f"no answer {run.drain_s:.0f} s after the schedule", str(missing)))
    stale = sum(answer.stale is True for answer in run.answers.values())
    table.append(Row('answers with "stale": true', str(stale)))
    throttled = throttled_after_answered(run)
    table.append(Row("429 for a space answered before", str(throttled), "0", verdict(throttled == 0)))
    return table


def latency_rows(run: Run) -> list[Row]:
    latencies = [latency_ms(run, answer) for answer in run.answers.values()]
    if not latencies:
        return [Row("latency, incl. queueing", "n/a")]
    return [Row(f"latency {name}, incl. queueing", f"{percentile(latencies, share):.1f} ms") for name, share in SHARES]


def cams_rows(run: Run) -> list[Row]:
    calls = [entry["at"] for entry in run.journal if entry.get("action") == ACTION]
    busiest = busiest_window(calls)
    last = len(run.phases) - 1
    last_start = run.started_at + phase_starts(run.phases)[last]
    last_calls = sum(at >= last_start for at in calls)
    last_lookups = sum(arrival.phase == last for arrival in run.arrivals)
    per_lookup = last_calls / last_lookups if last_lookups else math.nan
    rate, limit = f"{run.phases[last].per_second:g}/s", run.cams_limit
    return [
        Row("CAMS calls", str(len(calls))),
        Row("CAMS calls, busiest 1 s of arrivals", str(busiest), f"<= {limit}", verdict(busiest <= limit)),
        Row("CAMS calls per lookup", f"{len(calls) / max(1, len(run.arrivals)):.2f}"),
        Row(
            f"CAMS calls per lookup at {rate}",
            f"{per_lookup:.2f}",
            f"<= {CALLS_PER_LOOKUP_TARGET}",
            verdict(per_lookup <= CALLS_PER_LOOKUP_TARGET),
        ),
    ]


def cached_answers(run: Run) -> list[Answer]:
    """Fresh answers from the cache: "stale" false, "cachedAt" present, and the CAMS call that gave the
    answer (the journal's entry for its camsRequestId) arrived before the invocation started. The
    last test matters: a body straight from CAMS carries "cachedAt" too."""
    arrived = {entry["request_id"]: entry["at"] for entry in run.journal}
    return [
        answer
        for answer in run.answers.values()
        if answer.status == 200
        and answer.stale is False
        and answer.has_cached_at
        and arrived.get(answer.cams_request_id or "", math.inf) < answer.started_at
    ]


def cached_rows(run: Run) -> list[Row]:
    """Answers that did not reach CAMS (n/a when no body says whether it came from the cache)."""
    cached = cached_answers(run)
    target = f"< {CACHED_P99_TARGET_MS:g} ms"
    if not cached:
        return [Row("cached answers", "0"), Row("cached answers p99, incl. queueing", "n/a", target, "n/a")]
    p99 = percentile([latency_ms(run, answer) for answer in cached], 0.99)
    handler_p99 = percentile([(answer.completed_at - answer.started_at) * 1000 for answer in cached], 0.99)
    return [
        Row("cached answers", str(len(cached))),
        Row("cached answers p99, incl. queueing", f"{p99:.2f} ms", target, verdict(p99 < CACHED_P99_TARGET_MS)),
        Row("cached answers p99, in the handler", f"{handler_p99:.2f} ms"),
    ]


def title(run: Run, spaces: int) -> str:
    load = ", then ".join(f"{phase.per_second:g}/s for {phase.seconds:g} s" for phase in run.phases)
    return (
        f"{run.handler} handler, {run.instances} instances: {len(run.arrivals)} lookups offered "
        f"({load}) over {spaces} spaces; CAMS limited to {run.cams_limit} calls/s"
    )


def render(run: Run, spaces: int) -> str:
    table = rows(run)
    width = max(len(row.measure) for row in table)
    value_width = max(len(row.value) for row in table)
    lines = [title(run, spaces), f"{'measure':<{width}}  {'value':>{value_width}}  {'target':<8}  verdict"]
    for row in table:
        line = f"{row.measure:<{width}}  {row.value:>{value_width}}  {row.target:<8}  {row.verdict}"
        lines.append(line.rstrip())
    return "\n".join(lines)
