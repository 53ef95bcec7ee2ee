"""A caller's budget of the account's calls to CAMS: within its request rate, it still cannot take the
quota every other caller shares (CALLER_CAMS_SHARE)."""

from __future__ import annotations

from typing import Any

import pytest

from local.cams import FakeCams
from tests.helpers import Answer, Env, FakeClock, bearer, get

LEGITIMATE = 4
SECONDS = 30


@pytest.fixture
def deployed(env: Env, clock: FakeClock) -> FakeClock:
    """The cache and the per-caller limits as s.yaml deploys them."""
    for name in ("CACHE_TTL_SECONDS", "CACHE_NEGATIVE_TTL_SECONDS", "CACHE_MAX_STALE_SECONDS", "CALLER_CAMS_SHARE"):
        env.delenv(name)
    env.setenv("CALLER_RATE_PER_SECOND", "2")
    env.setenv("CALLER_BURST", "5")
    return clock


def lookup_as(lookup: Any, sub: str, space: str) -> Answer:
    return get(lookup, "/waba", f"custSpaceId={space}", authorization=bearer(["*"], sub=sub))


def test_past_its_budget_a_caller_gets_429_before_any_cams_call(
    lookup: Any, cams: FakeCams, deployed: FakeClock
) -> None:
    answers = [lookup_as(lookup, "mallory", f"cold-{n}") for n in range(3)]
    calls = len(cams.calls())

    assert [a.status for a in answers] == [404, 404, 429], "7 slots x 20%: bursts of 2"
    assert answers[-1].error_code == "TooManyRequests"
    assert answers[-1].headers["retry-after"] == "1"
    assert calls == 2, "the refused lookup never reached CAMS"
    assert lookup_as(lookup, "mallory", "cold-0").status == 404, "a cached answer costs nothing"
    assert lookup_as(lookup, "alice", "cold-9").status == 404, "alice has her own budget"
    deployed.advance(1.0)
    assert lookup_as(lookup, "mallory", "cold-3").status == 404


def test_retries_are_part_of_the_one_call(lookup: Any, cams: FakeCams, deployed: FakeClock) -> None:
    cams.fail_next(2, code="System.LimitControl")

    assert lookup_as(lookup, "mallory", "cold-0").status == 404
    assert lookup_as(lookup, "mallory", "cold-1").status == 404
    assert len(cams.calls()) == 4


def offered_load() -> list[tuple[float, str, str]]:
    """4 callers at one cold lookup a second each; one at its request limit (2/s, bursts of 5) over
    distinct cold spaces, with a `*` token: (time, sub, space), in time order."""
    arrivals = [
        (second + caller / LEGITIMATE, f"legitimate-{caller}", f"space-{caller}-{second}")
        for caller in range(LEGITIMATE)
        for second in range(SECONDS)
    ]
    arrivals += [(0.0, "abuser", f"abuse-burst-{n}") for n in range(5)]
    arrivals += [(0.1 + n / 2, "abuser", f"abuse-{n}") for n in range(2 * SECONDS)]
    return sorted(arrivals)


@pytest.mark.parametrize(("share", "most_refused"), [("20", 0), ("100", None)])
def test_legitimate_callers_are_not_refused_beside_an_abusive_one(
    lookup: Any, cams: FakeCams, env: Env, deployed: FakeClock, share: str, most_refused: int | None
) -> None:
    env.setenv("CALLER_CAMS_SHARE", share)
    start = deployed.monotonic()
    refused = 0
    for at, sub, space in offered_load():
        deployed.advance(start + at - deployed.monotonic())
        answer = lookup_as(lookup, sub, space)
        assert answer.status in (404, 429)
        refused += sub != "abuser" and answer.status == 429

    if most_refused is not None:
        assert refused <= most_refused
    else:
        assert refused > 0, "without a budget, the abuser's calls push the others into 429"
