"""The emulator at its edges answers as FC's gateway would: JSON, no traceback, no secret in its log."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local.cams import FakeCams
from local.emulator import Emulator, http_event, serve
from shared.errors import ConfigurationError
from tests.helpers import ROLE, Env, bearer, log_lines

ALLOWED = "https://app.example.com"


@pytest.fixture
def trigger(env: Env, cams: FakeCams) -> Iterator[tuple[str, int]]:
    env.setenv("ALLOW_CALLER_ISV_CODE", "true")
    server = serve(Emulator("lookup", credentials=ROLE), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_port
    server.shutdown()
    server.server_close()


def raw(address: tuple[str, int], request: bytes) -> tuple[int, dict[str, Any]]:
    """Send `request` as bytes and read the status and JSON body of the answer."""
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /waba?x=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /waba?x=" + b"a" * 5_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"BREW /waba HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (b"GET /waba HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9_000 + b"\r\n\r\n", 431),
        (b"GET /waba HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"b" * 70_000 + b"\r\n\r\n", 431),
        (b"POST /waba HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
    ],
)
def test_requests_the_function_never_sees_get_json_answers(
    trigger: tuple[str, int], capfd: pytest.CaptureFixture[str], request_bytes: bytes, status: int
) -> None:
    answered, body = raw(trigger, request_bytes)

    assert answered == status
    assert set(body) == {"Code", "Message"}
    assert "Traceback" not in capfd.readouterr().err


def test_the_access_log_names_parameters_never_their_values(
    trigger: tuple[str, int], capfd: pytest.CaptureFixture[str]
) -> None:
    request = (
        b"GET /waba?custSpaceId=demo-isv&isvCode=demo-isv-code-0001 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        + f"Authorization: {bearer(['demo-isv'])}\r\n\r\n".encode()
    )

    status, body = raw(trigger, request)

    assert (status, body["waba"]["id"]) == (200, "200000000000104")
    err = capfd.readouterr().err
    assert "GET /waba ?custSpaceId,isvCode 200" in err
    assert "demo-isv-code-0001" not in err
    assert "Bearer" not in err, "the emulator never echoes an Authorization header"


# --- a bad setting, the way FC meets it: the initializer first, then the handler -----------------


def test_a_bad_setting_reaches_the_lookups_documented_answer(
    env: Env, cams: FakeCams, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("CAMS_RETRY_MAX_ATTEMPTS", "0")
    emulator = Emulator("lookup", credentials=ROLE)

    answer = emulator.invoke(http_event("GET", "/waba", "custSpaceId=demo-approved", {"Origin": ALLOWED}))

    assert answer["statusCode"] == 500
    assert json.loads(answer["body"])["error"]["code"] == "ConfigurationError"
    assert answer["headers"]["access-control-allow-origin"] == ALLOWED
    invalid, request = log_lines(capsys.readouterr().out)
    assert (invalid["event"], invalid["level"]) == ("lookup.invalid", "ERROR")
    assert "CAMS_RETRY_MAX_ATTEMPTS" in invalid["reason"]
    assert (request["outcome"], request["level"]) == ("ConfigurationError", "ERROR")
    assert cams.journal == []


def test_a_bad_setting_fails_the_timer_with_its_invalid_line(
    env: Env, cams: FakeCams, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("HEALTHCHECK_RATE_PER_SECOND", "50")
    emulator = Emulator("healthcheck", credentials=ROLE)

    with pytest.raises(ConfigurationError, match="HEALTHCHECK_RATE_PER_SECOND"):
        emulator.invoke(b'{"triggerName": "timer", "payload": "demo-approved"}')

    lines = log_lines(capsys.readouterr().out)
    assert [line["event"] for line in lines] == ["healthcheck.invalid", "healthcheck.invalid"]
    assert all("HEALTHCHECK_RATE_PER_SECOND" in line["reason"] and "50" not in line["reason"] for line in lines)
