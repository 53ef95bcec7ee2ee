"""The offered load: arrivals on a fixed schedule, in phases, over spaces of Zipf-like or even popularity."""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

ZIPF_EXPONENT = 1.1
Popularity = Literal["zipf", "uniform"]


@dataclass(frozen=True)
class Phase:
    per_second: float
    seconds: float


@dataclass(frozen=True)
class Arrival:
    index: int
    offset_s: float
    """When the lookup arrives, from the start of the schedule."""
    space: str
    phase: int


def build_schedule(phases: list[Phase], spaces: list[str], seed: int, popularity: Popularity = "zipf") -> list[Arrival]:
    """Evenly spaced arrivals at each phase's rate, each for a space drawn with weight 1/rank^1.1 ("zipf")
    or with the same weight for every space ("uniform")."""
    chooser = random.Random(seed)
    exponent = ZIPF_EXPONENT if popularity == "zipf" else 0.0
    cumulative = list(accumulate(1 / rank**exponent for rank in range(1, len(spaces) + 1)))
    arrivals: list[Arrival] = []
    start = 0.0
    for number, phase in enumerate(phases):
        for step in range(round(phase.per_second * phase.seconds)):
            space = chooser.choices(spaces, cum_weights=cumulative)[0]
            arrivals.append(Arrival(len(arrivals), start + step / phase.per_second, space, number))
        start += phase.seconds
    return arrivals


def phase_starts(phases: list[Phase]) -> list[float]:
    """Each phase's start, from the start of the schedule."""
    return [sum(phase.seconds for phase in phases[:number]) for number in range(len(phases))]
