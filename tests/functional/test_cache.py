"""The binding cache: fresh, negative and stale answers, no cached errors, ETag and 304 (in one instance)."""

from __future__ import annotations

from typing import Any

import pytest

from local.cams import FakeCams
from tests.helpers import Env, FakeClock, get


@pytest.fixture
def cached(env: Env, clock: FakeClock) -> FakeClock:
    """The cache on, with the defaults a deployment gets, on a fake clock."""
    for name in ("CACHE_TTL_SECONDS", "CACHE_NEGATIVE_TTL_SECONDS", "CACHE_MAX_STALE_SECONDS"):
        env.delenv(name)
    return clock


def test_a_binding_is_asked_of_cams_once_then_served_from_memory(
    lookup: Any, cams: FakeCams, cached: FakeClock
) -> None:
    first = get(lookup, "/waba", "custSpaceId=demo-approved")
    cached.advance(120)
    second = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert len(cams.calls()) == 1
    assert first.body["waba"] == second.body["waba"]
    assert (first.body["stale"], second.body["stale"]) == (False, False)
    assert first.body["cachedAt"] == second.body["cachedAt"] == "2026-09-21T14:13:20Z"
    assert "age" not in first.headers
    assert second.headers["age"] == "120"
    assert second.body["camsRequestId"] == cams.calls()[0].request_id


def test_an_expired_binding_is_asked_again(lookup: Any, cams: FakeCams, cached: FakeClock) -> None:
    get(lookup, "/waba", "custSpaceId=demo-approved")
    cached.advance(301)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert len(cams.calls()) == 2
    assert (answer.body["stale"], "age" in answer.headers) == (False, False)


@pytest.mark.parametrize(("space", "code"), [("demo-unbound", "WabaNotBound"), ("other-space", "SpaceNotFound")])
def test_negative_answers_are_kept_a_shorter_time(
    lookup: Any, cams: FakeCams, cached: FakeClock, space: str, code: str
) -> None:
    answers = [get(lookup, "/waba", f"custSpaceId={space}")]
    cached.advance(59)
    answers.append(get(lookup, "/waba", f"custSpaceId={space}"))
    cached.advance(2)
    answers.append(get(lookup, "/waba", f"custSpaceId={space}"))

    assert [(a.status, a.error_code) for a in answers] == [(404, code)] * 3
    assert len(cams.calls()) == 2


@pytest.mark.parametrize(
    "failure", ["System.LimitControl", "ServiceUnavailable", "InternalError"], ids=["throttled", "503", "500"]
)
def test_a_stale_binding_beats_an_error(lookup: Any, cams: FakeCams, cached: FakeClock, failure: str) -> None:
    fresh = get(lookup, "/waba", "custSpaceId=demo-approved")
    cached.advance(3600)
    cams.fail_next(10, code=failure)

    stale = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert stale.status == 200
    assert stale.body["stale"] is True
    assert stale.body["waba"] == fresh.body["waba"]
    assert stale.body["cachedAt"] == fresh.body["cachedAt"]
    assert stale.headers["age"] == "3600"
    assert len(cams.calls()) > 1, "CAMS was asked before the stale answer was given"


def test_a_stale_binding_beats_a_timeout(lookup: Any, cams: FakeCams, env: Env, cached: FakeClock) -> None:
    env.setenv("CAMS_READ_TIMEOUT_MS", "200")
    env.setenv("CAMS_RETRY_MAX_ATTEMPTS", "1")
    get(lookup, "/waba", "custSpaceId=demo-approved")
    cached.advance(3600)
    cams.delay_next(1, seconds=1.0)

    assert get(lookup, "/waba", "custSpaceId=demo-approved").body["stale"] is True


def test_too_old_is_never_served(lookup: Any, cams: FakeCams, cached: FakeClock) -> None:
    get(lookup, "/waba", "custSpaceId=demo-approved")
    cached.advance(86_401)
    cams.fail_next(10, code="System.LimitControl")

    assert get(lookup, "/waba", "custSpaceId=demo-approved").status == 429


def test_errors_are_never_cached(lookup: Any, cams: FakeCams, env: Env, cached: FakeClock) -> None:
    env.setenv("CAMS_RETRY_MAX_ATTEMPTS", "1")
    cams.fail_next(1, code="System.LimitControl")
    throttled = get(lookup, "/waba", "custSpaceId=demo-approved")
    answered = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert (throttled.status, answered.status) == (429, 200)
    assert answered.body["stale"] is False


def test_the_isv_code_is_part_of_the_key(lookup: Any, cams: FakeCams, env: Env, cached: FakeClock) -> None:
    env.setenv("ALLOW_CALLER_ISV_CODE", "true")

    right = get(lookup, "/waba", "custSpaceId=demo-isv&isvCode=demo-isv-code-0001")
    wrong = get(lookup, "/waba", "custSpaceId=demo-isv&isvCode=not-the-code")
    none = get(lookup, "/waba", "custSpaceId=demo-isv")

    assert (right.status, wrong.status, none.status) == (200, 404, 404)
    assert len(cams.calls()) == 3


def test_an_unchanged_binding_is_a_304(lookup: Any, cams: FakeCams, cached: FakeClock) -> None:
    first = get(lookup, "/waba", "custSpaceId=demo-approved")
    etag = first.headers["etag"]

    again = get(
        lookup, "/waba", "custSpaceId=demo-approved", {"If-None-Match": etag, "Origin": "https://app.example.com"}
    )
    other = get(lookup, "/waba", "custSpaceId=demo-pending", {"If-None-Match": etag})

    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == "private, no-cache"
    assert (again.status, again.raw["body"], again.headers["etag"]) == (304, "", etag)
    assert again.headers["access-control-allow-origin"] == "https://app.example.com"
    assert other.status == 200
    assert get(lookup, "/waba", "custSpaceId=demo-approved", {"If-None-Match": etag[2:]}).status == 304


def test_without_a_slot_soon_enough_a_lookup_is_a_quick_429(
    lookup: Any, cams: FakeCams, env: Env, cached: FakeClock
) -> None:
    env.setenv("LOOKUP_CAMS_SHARE", "1")

    first = get(lookup, "/waba", "custSpaceId=demo-approved")
    refused = get(lookup, "/waba", "custSpaceId=demo-pending")

    assert (first.status, refused.status, refused.error_code) == (200, 429, "Throttled")
    assert refused.headers["retry-after"] == "2", "the next slot is 1.25 s away"
    assert len(cams.calls()) == 1, "no call without a slot, and no retry of the refusal"
    assert sum(cached.sleeps) == 0


def test_a_slot_within_the_wait_is_waited_for(lookup: Any, cams: FakeCams, env: Env, cached: FakeClock) -> None:
    env.setenv("LOOKUP_CAMS_SHARE", "1")
    env.setenv("CAMS_QUOTA_WAIT_MS", "2000")

    answers = [get(lookup, "/waba", f"custSpaceId={space}") for space in ("demo-approved", "demo-pending")]

    assert [a.status for a in answers] == [200, 200]
    assert len(cams.calls()) == 2
    assert sum(cached.sleeps) == pytest.approx(1.25, abs=0.01)
