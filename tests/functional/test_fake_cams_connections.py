"""The fake CAMS's connection set-up delay: a new connection's first request arrives late, as after TLS."""

from __future__ import annotations

import threading
import time
import uuid

import requests

from local.cams import FakeCams
from tests.functional.test_fake_cams import query, sdk, signed_headers

DELAY_S = 0.3
QUERY = "CustSpaceId=demo-approved"


def timed_post(session: requests.Session, cams: FakeCams) -> tuple[float, requests.Response]:
    """One signed lookup on `session`'s connection: how long it took, and its answer."""
    headers = signed_headers(cams, QUERY, nonce=str(uuid.uuid4()))
    started = time.monotonic()
    response = session.post(f"http://{cams.endpoint}/?{QUERY}", headers=headers, timeout=5)
    return time.monotonic() - started, response


def test_only_the_first_request_on_a_connection_waits(cams: FakeCams) -> None:
    cams.delay_new_connections(DELAY_S)

    with requests.Session() as session:
        first, first_answer = timed_post(session, cams)
        second, second_answer = timed_post(session, cams)
    with requests.Session() as another:
        third, _ = timed_post(another, cams)

    assert (first_answer.status_code, second_answer.status_code) == (200, 200)
    assert first >= DELAY_S
    assert second < DELAY_S / 2, "a kept-alive connection pays no set-up"
    assert third >= DELAY_S, "each new connection pays its own"
    assert [call.new_connection for call in cams.calls()] == [True, False, True]


def test_a_delayed_request_arrives_after_its_set_up(cams: FakeCams) -> None:
    cams.delay_new_connections(DELAY_S)
    sent = time.time()

    with requests.Session() as session:
        timed_post(session, cams)

    assert cams.calls()[0].at >= sent + DELAY_S, "the journal and the rate limit see it after the delay"


def test_a_connection_opened_before_the_delay_is_not_new(cams: FakeCams) -> None:
    client = sdk(cams)
    query(client)
    cams.delay_new_connections(DELAY_S)

    started = time.monotonic()
    assert query(client).code == "OK"

    assert time.monotonic() - started < DELAY_S / 2
    assert cams.calls()[-1].new_connection is False


def test_none_turns_the_delay_off(cams: FakeCams) -> None:
    cams.delay_new_connections(DELAY_S)
    cams.delay_new_connections(None)

    with requests.Session() as session:
        elapsed, _ = timed_post(session, cams)

    assert elapsed < DELAY_S / 2
    assert cams.calls()[0].new_connection is True


def test_reset_ends_a_set_up_in_progress(cams: FakeCams) -> None:
    cams.delay_new_connections(30.0)
    answers: list[int] = []
    with requests.Session() as session:
        caller = threading.Thread(target=lambda: answers.append(timed_post(session, cams)[1].status_code))
        caller.start()
        time.sleep(0.1)
        started = time.monotonic()

        cams.reset()
        caller.join(5)

    assert time.monotonic() - started < 2
    assert answers, "the request was answered once the reset cut its delay short"
