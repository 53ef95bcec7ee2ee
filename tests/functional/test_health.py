"""Whether a space can send, through the real SDK against the fake CAMS: every reason code, for the
timer and for `GET /waba/health`, the route's caching, and alerts on change."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from pytest_httpserver import HTTPServer

from functions.healthcheck.index import handler as healthcheck_handler
from local.cams import FakeCams
from shared.health import SEVERITY
from tests.helpers import Env, FakeClock, bearer, context, get

HEALTH = "GetWhatsappHealthStatus"
PHONES = "QueryChatappPhoneNumbers"
BIND = "QueryChatappBindWaba"

EXPECTED = {
    "demo-approved": ("healthy", ()),
    "demo-multi": ("healthy", ()),
    "demo-unbound": ("unhealthy", ("WabaNotBound",)),
    "no-such-space": ("unhealthy", ("SpaceNotFound",)),
    "demo-rejected": ("unhealthy", ("ReviewRejected",)),
    "demo-disabled": ("unhealthy", ("ReviewDisabled",)),
    "demo-blocked": ("unhealthy", ("MessagingBlocked",)),
    "demo-phone-blocked": ("unhealthy", ("MessagingBlocked",)),
    "demo-phone-offline": ("unhealthy", ("PhoneOffline",)),
    "demo-phone-red": ("unhealthy", ("QualityRed",)),
    "demo-no-phone": ("unhealthy", ("NoPhoneNumber",)),
    "demo-pending": ("degraded", ("ReviewPending",)),
    "demo-review-odd": ("degraded", ("ReviewUnknown",)),
    "demo-limited": ("degraded", ("MessagingLimited",)),
    "demo-flagged": ("degraded", ("PhoneFlagged",)),
    "demo-rate-limited": ("degraded", ("PhoneRateLimited",)),
    "demo-phone-pending": ("degraded", ("PhonePending",)),
    "demo-paused": ("degraded", ("PhonePaused",)),
    "demo-phone-odd": ("degraded", ("PhoneStatusUnknown",)),
    "demo-yellow": ("degraded", ("QualityYellow",)),
}
"""Each demo space, and what its health must be."""


@pytest.fixture
def cached(env: Env, clock: FakeClock) -> FakeClock:
    """The caches on, with the defaults a deployment gets, on a fake clock."""
    for name in (
        "CACHE_TTL_SECONDS",
        "CACHE_NEGATIVE_TTL_SECONDS",
        "CACHE_MAX_STALE_SECONDS",
        "HEALTH_CACHE_TTL_SECONDS",
    ):
        env.delenv(name)
    return clock


def timer_event(spaces: list[dict[str, Any]], **payload: Any) -> bytes:
    document = json.dumps({"spaces": spaces, **payload})
    return json.dumps({"triggerName": "timer", "payload": document}).encode()


@pytest.fixture
def timer(env: Env) -> Any:
    env.setenv("HEALTHCHECK_RATE_PER_SECOND", "10")
    env.setenv("HEALTHCHECK_FAIL_ON_ALARM", "false")

    def run(spaces: list[dict[str, Any]], **payload: Any) -> dict[str, Any]:
        summary: dict[str, Any] = healthcheck_handler(
            timer_event(spaces, **payload), context(function="healthcheck", request_id="timer-req-1")
        )
        return summary

    return run


def health_of(lookup: Any, space: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return get(lookup, "/waba/health", f"custSpaceId={space}", headers, **kw)


def codes(reasons: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(sorted({reason["code"] for reason in reasons}))


def test_every_reason_code_has_a_demo_space() -> None:
    named = {code for _, found in EXPECTED.values() for code in found}
    assert named | {"UnexpectedWaba", "CamsError"} == set(SEVERITY)


def test_the_timer_judges_every_demo_space(timer: Any, cams: FakeCams) -> None:
    summary = timer([{"custSpaceId": space} for space in EXPECTED])

    found = {space["custSpaceId"]: (space["verdict"], codes(space["reasons"])) for space in summary["spaces"]}
    assert found == EXPECTED
    assert summary["counts"] == {"healthy": 2, "degraded": 9, "unhealthy": 9, "error": 0, "unchecked": 0}


@pytest.mark.parametrize("space", list(EXPECTED))
def test_the_route_judges_every_demo_space(lookup: Any, cams: FakeCams, space: str) -> None:
    answer = health_of(lookup, space)

    assert answer.status == 200
    health = answer.body["health"]
    assert (health["verdict"], codes(health["reasons"])) == EXPECTED[space]
    assert set(answer.body) == {"health", "checkedAt", "stale", "requestId"}


def test_a_blocked_waba_says_why_and_what_to_do(lookup: Any, cams: FakeCams) -> None:
    health = health_of(lookup, "demo-blocked").body["health"]

    [reason] = health["reasons"]
    assert (reason["entity"], reason["id"]) == ("waba", health["wabaId"])
    assert reason["possibleSolution"], "Meta's possible solution, passed through"
    assert health["canSendMessage"] == "BLOCKED"


def test_a_space_is_answered_with_its_phone_numbers(lookup: Any, cams: FakeCams) -> None:
    health = health_of(lookup, "demo-multi").body["health"]

    assert {number["status"] for number in health["phoneNumbers"]} == {"CONNECTED", "DELETED"}
    assert all(
        set(number) == {"phoneNumber", "status", "qualityRating", "messagingLimitTier", "canSendMessage"}
        for number in health["phoneNumbers"]
    )


def test_without_a_waba_the_other_operations_are_not_called(timer: Any, cams: FakeCams) -> None:
    timer([{"custSpaceId": "demo-unbound"}, {"custSpaceId": "no-such-space"}])

    assert [call.action for call in cams.journal] == [BIND, BIND]


def test_an_unexpected_waba_is_unhealthy(timer: Any, cams: FakeCams) -> None:
    [space] = timer([{"custSpaceId": "demo-approved", "expectedWabaId": "299999999999999"}])["spaces"]

    assert (space["verdict"], codes(space["reasons"])) == ("unhealthy", ("UnexpectedWaba",))


def test_the_binding_alone_is_todays_check(timer: Any, cams: FakeCams) -> None:
    [space] = timer([{"custSpaceId": "demo-blocked"}], checks=["binding"])["spaces"]

    assert space["verdict"] == "healthy"
    assert [call.action for call in cams.journal] == [BIND]


def test_an_operation_cams_cannot_answer_is_an_error_naming_it(
    lookup: Any, cams: FakeCams, env: Env, cached: FakeClock
) -> None:
    env.setenv("CAMS_RETRY_MAX_ATTEMPTS", "2")
    assert get(lookup, "/waba", "custSpaceId=demo-approved").status == 200  # the binding, cached
    cams.fail_next(2, code="ServiceUnavailable")  # every attempt of the next call: the messaging health

    health = health_of(lookup, "demo-approved").body["health"]

    [reason] = health["reasons"]
    assert (health["verdict"], reason["code"], reason["entity"]) == ("error", "CamsError", "waba")
    assert HEALTH in reason["message"]
    assert "UpstreamUnavailable" in reason["message"]
    assert health["phoneNumbers"], "the phone numbers were still asked for"


def test_a_second_read_makes_no_cams_call_and_an_etag_revalidates(
    lookup: Any, cams: FakeCams, cached: FakeClock
) -> None:
    first = health_of(lookup, "demo-phone-red")
    calls = len(cams.journal)
    second = health_of(lookup, "demo-phone-red")
    revalidated = health_of(lookup, "demo-phone-red", {"If-None-Match": first.headers["etag"]})

    assert calls == 3
    assert len(cams.journal) == calls, "every answer came from the cache"
    assert second.body["health"] == first.body["health"]
    assert revalidated.status == 304


@pytest.mark.slow
def test_a_timer_run_warms_the_route(
    timer: Any, lookup: Any, cams: FakeCams, env: Env, cached: FakeClock, redis_url: str
) -> None:
    env.setenv("REDIS_URL", redis_url)  # the two functions share only what the store holds
    env.setenv("CACHE_KEY_SECRET", "a-key-secret-for-the-tests-0123456789")
    with redis.Redis.from_url(redis_url) as client:
        client.flushall()
    timer([{"custSpaceId": "demo-limited"}])
    calls = len(cams.journal)

    answer = health_of(lookup, "demo-limited")

    assert answer.body["health"]["verdict"] == "degraded"
    assert len(cams.journal) == calls == 3


def test_a_space_outside_the_token_answers_as_one_the_account_lacks(lookup: Any, cams: FakeCams) -> None:
    token = bearer(["demo-approved"])
    outside = health_of(lookup, "demo-blocked", authorization=token)
    unknown = health_of(lookup, "no-such-space", authorization=bearer(["no-such-space"]))

    assert outside.status == unknown.status == 200
    assert outside.body["health"] == unknown.body["health"]
    assert (outside.body["checkedAt"], outside.body["stale"]) == (unknown.body["checkedAt"], unknown.body["stale"])
    assert outside.headers["etag"] == unknown.headers["etag"]
    assert [call.query["CustSpaceId"] for call in cams.journal] == ["no-such-space"], "the outside space: no call"


def test_the_route_takes_no_unknown_parameter(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/waba/health", "custSpaceId=demo-approved&verbose=1")

    assert (answer.status, answer.body["error"]["parameter"]) == (400, "verbose")
    assert "GET /waba/health" in answer.body["error"]["message"]
    assert cams.journal == []


# --- alerts on change ---------------------------------------------------------------------------


@pytest.fixture
def alerts(env: Env, httpserver: HTTPServer) -> list[dict[str, Any]]:
    """What the webhook received, each message's JSON."""
    env.setenv("ALERT_WEBHOOK_URL", httpserver.url_for("/hook"))
    received: list[dict[str, Any]] = []

    def hook(request: Any) -> Any:
        from werkzeug import Response

        received.append(request.get_json())
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    return received


def alerted(message: dict[str, Any]) -> dict[str, str]:
    return {problem["custSpaceId"]: problem["why"] for problem in message["problems"]}


def test_a_space_is_alerted_when_it_changes_not_on_every_run(
    timer: Any, cams: FakeCams, env: Env, clock: FakeClock, alerts: list[dict[str, Any]]
) -> None:
    spaces = [{"custSpaceId": "demo-approved"}, {"custSpaceId": "demo-blocked"}]

    first = timer(spaces)
    second = timer(spaces)
    clock.advance(240 * 60)
    third = timer(spaces)
    cams.backend.set_health("1000000000000001", "demo-blocked", can_send_message="AVAILABLE", errors=[])
    fourth = timer(spaces)
    fifth = timer(spaces)

    assert [alerted(message) for message in alerts] == [
        {"demo-blocked": "new"},
        {"demo-blocked": "reminder"},
        {"demo-blocked": "resolved"},
    ]
    assert first["alerts"] == {"alerted": [{"custSpaceId": "demo-blocked", "why": "new"}], "notAlerted": []}
    assert second["alerts"] == {"alerted": [], "notAlerted": [{"custSpaceId": "demo-blocked", "why": "unchanged"}]}
    assert third["alert"]["sent"]
    assert fourth["alert"]["sent"]
    assert "alert" not in fifth
    assert fifth["alerts"] == {"alerted": [], "notAlerted": []}


def test_new_reasons_are_alerted_again(timer: Any, cams: FakeCams, alerts: list[dict[str, Any]]) -> None:
    spaces = [{"custSpaceId": "demo-phone-red"}]
    timer(spaces)
    cams.backend.set_phone_numbers(
        "1000000000000001",
        "demo-phone-red",
        [{"PhoneNumber": "+6580000001", "Status": "OFFLINE", "QualityRating": "RED", "MessagingLimitTier": "TIER_10"}],
    )
    timer(spaces)

    assert [alerted(message) for message in alerts] == [{"demo-phone-red": "new"}, {"demo-phone-red": "changed"}]


def test_an_alert_the_webhook_lost_is_sent_again(timer: Any, cams: FakeCams, env: Env, httpserver: HTTPServer) -> None:
    env.setenv("ALERT_WEBHOOK_URL", httpserver.url_for("/hook"))
    down = {"now": True}

    def hook(request: Any) -> Any:
        from werkzeug import Response

        return Response("down", status=503) if down["now"] else Response("{}", content_type="application/json")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)

    lost = timer([{"custSpaceId": "demo-blocked"}])
    down["now"] = False
    again = timer([{"custSpaceId": "demo-blocked"}])

    assert lost["alert"]["sent"] is False
    assert again["alerts"]["alerted"] == [{"custSpaceId": "demo-blocked", "why": "new"}]
    assert again["alert"]["sent"] is True


def test_the_run_still_fails_while_a_space_is_alarming(
    timer: Any, cams: FakeCams, env: Env, alerts: list[dict[str, Any]]
) -> None:
    from shared.healthcheck.app import HealthcheckFailed

    env.setenv("HEALTHCHECK_FAIL_ON_ALARM", "true")
    for _ in range(2):
        with pytest.raises(HealthcheckFailed, match="demo-no-phone"):
            timer([{"custSpaceId": "demo-no-phone"}])

    assert len(alerts) == 1, "failing, but alerted once"
