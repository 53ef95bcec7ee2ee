"""The README's commands: `make serve` answers real HTTP requests, `python -m local invoke` runs event files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.emulator import ROOT

EVENTS = ROOT / "events"
pytestmark = pytest.mark.slow  # each test starts `make serve` or `python -m local` in a process of its own


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, head, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, dict(error.headers), error.read()
    return status, {k.lower(): v for k, v in head.items()}, json.loads(raw) if raw else None


def invoke(function: str, event_file: str) -> subprocess.CompletedProcess[str]:
    """`python -m local invoke`, as the README shows it."""
    command = [sys.executable, "-m", "local", "invoke", function, "--event-file", str(EVENTS / event_file)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """`make serve` on a free port, as a newcomer runs it."""
    port = free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "serve", f"PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            try:
                fetch(f"{base}/healthz")
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=10)


def test_make_serve_answers_a_demo_waba(served: str) -> None:
    status, headers, body = fetch(f"{served}/waba?custSpaceId=demo-approved")

    assert status == 200
    assert body["waba"]["name"] == "Demo Approved WABA"
    assert headers["content-type"].startswith("application/json")
    assert headers["x-fc-request-id"] == body["requestId"]


def test_make_serve_answers_bad_input_with_the_documented_error(served: str) -> None:
    status, _, body = fetch(f"{served}/waba?custSpaceId=%3Cscript%3E")

    assert (status, body["error"]["code"], body["error"]["parameter"]) == (
        400,
        "InvalidParameter",
        "custSpaceId",
    )


def test_make_serve_answers_every_route(served: str) -> None:
    assert fetch(f"{served}/waba")[2]["waba"]["id"] == "200000000000001"
    assert fetch(f"{served}/waba?custSpaceId=demo-unbound")[2]["error"]["code"] == "WabaNotBound"
    assert fetch(f"{served}/nowhere")[0] == 404
    assert fetch(f"{served}/waba", "DELETE")[0] == 405
    status, headers, _ = fetch(
        f"{served}/waba",
        "OPTIONS",
        {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert (status, headers["access-control-allow-origin"]) == (204, "http://localhost:3000")


@pytest.mark.parametrize(
    ("event_file", "status"),
    [
        ("lookup.json", 200),
        ("lookup-own-waba.json", 200),
        ("lookup-bad-input.json", 400),
        ("preflight.json", 204),
        ("healthz.json", 200),
    ],
)
def test_invoke_runs_each_event_file(event_file: str, status: int) -> None:
    done = invoke("lookup", event_file)
    assert done.returncode == 0, done.stderr

    result = json.loads(done.stdout)
    assert result["statusCode"] == status
    event = json.loads(Path(EVENTS / event_file).read_text())
    logged = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert logged[-1]["requestId"] == event["requestContext"]["requestId"]


@pytest.mark.parametrize(
    ("event_file", "exit_status", "outcome"),
    [
        ("timer.json", 0, "counts"),
        ("timer-no-payload.json", 0, "counts"),
        ("timer-alarming.json", 1, "HealthcheckFailed"),
        ("timer-malformed.json", 1, "InvalidHealthcheck"),
    ],
)
def test_invoke_runs_the_health_check(event_file: str, exit_status: int, outcome: str) -> None:
    done = invoke("healthcheck", event_file)

    assert done.returncode == exit_status, done.stderr
    result = json.loads(done.stdout)
    assert outcome in result or result.get("errorType") == outcome
