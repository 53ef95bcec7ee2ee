"""The README's commands: `make serve` answers real HTTP requests, `python -m local invoke` runs event files,
`make check-deploy` and `make build` refuse an environment `s deploy` would break."""

from __future__ import annotations

import contextlib
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
from local.tokens import demo_claims, demo_kid, demo_private_key, sign
from tests.helpers import auth_environ, signing_keys

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


@contextlib.contextmanager
def make_serve(*options: str) -> Iterator[tuple[str, list[str]]]:
    """`make serve` on a free port, as a newcomer runs it; its stderr is filled in when it stops."""
    port = free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "serve", f"PORT={port}", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base, stderr = f"http://127.0.0.1:{port}", []
    try:
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            try:
                fetch(f"{base}/healthz")
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                time.sleep(0.2)
        yield base, stderr
    finally:
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=20)
        stderr.append(err.decode(errors="replace"))


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """`make serve` as a newcomer runs it: the trigger anonymous, as s.yaml deploys it by default."""
    with make_serve() as (base, _):
        yield base


@pytest.fixture(scope="module")
def served_jwt() -> Iterator[str]:
    """`make serve TRIGGER_AUTH_TYPE=jwt`: FC's JWT check in front, as s.yaml deploys it then."""
    with make_serve("TRIGGER_AUTH_TYPE=jwt") as (base, _):
        yield base


@pytest.fixture(params=["anonymous", "jwt"])
def trigger(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Each trigger s.yaml can deploy, served: its auth type and base URL."""
    return request.param, request.getfixturevalue("served" if request.param == "anonymous" else "served_jwt")


def demo_token(*spaces: str, sub: str = "demo-user") -> str:
    """`python -m local token --spaces ...`, as the README's curl runs it."""
    command = [sys.executable, "-m", "local", "token", "--spaces", *spaces, "--sub", sub]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_make_serve_answers_a_demo_waba(served: str) -> None:
    status, headers, body = fetch(f"{served}/waba?custSpaceId=demo-approved", headers=auth(demo_token("demo-approved")))

    assert status == 200
    assert body["waba"]["name"] == "Demo Approved WABA"
    assert headers["content-type"].startswith("application/json")
    assert headers["x-fc-request-id"] == body["requestId"]


def test_make_serve_says_a_blocked_waba_cannot_send(served: str) -> None:
    status, _, body = fetch(f"{served}/waba/health?custSpaceId=demo-blocked", headers=auth(demo_token("demo-blocked")))

    assert status == 200
    assert body["health"]["verdict"] == "unhealthy"
    assert [reason["code"] for reason in body["health"]["reasons"]] == ["MessagingBlocked"]


def test_make_serve_answers_bad_input_with_the_documented_error(served: str) -> None:
    status, _, body = fetch(f"{served}/waba?custSpaceId=%3Cscript%3E", headers=auth(demo_token("*")))

    assert (status, body["error"]["code"], body["error"]["parameter"]) == (
        400,
        "InvalidParameter",
        "custSpaceId",
    )


def test_make_serve_answers_every_route(served: str) -> None:
    every = auth(demo_token("*"))
    assert fetch(f"{served}/waba/own", headers=every)[2]["waba"]["id"] == "200000000000001"
    assert fetch(f"{served}/waba", headers=every)[2]["error"]["parameter"] == "custSpaceId"
    assert fetch(f"{served}/waba?custSpaceId=demo-unbound", headers=every)[2]["error"]["code"] == "WabaNotBound"
    assert fetch(f"{served}/nowhere", headers=every)[0] == 404
    assert fetch(f"{served}/waba", "DELETE", every)[0] == 405
    assert fetch(f"{served}/healthz")[0] == 200, "the trigger's whitelist: no token"
    status, headers, _ = fetch(
        f"{served}/waba",
        "OPTIONS",
        {
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert (status, headers["access-control-allow-origin"]) == (204, "http://localhost:3000")
    assert headers["access-control-allow-headers"] == "Authorization"


def test_make_serve_scopes_callers_to_their_spaces(served: str) -> None:
    alice = auth(demo_token("demo-approved", sub="alice"))

    assert fetch(f"{served}/waba?custSpaceId=demo-approved", headers=alice)[0] == 200
    outside = fetch(f"{served}/waba?custSpaceId=demo-pending", headers=alice)
    missing = fetch(f"{served}/waba?custSpaceId=no-such-space", headers=auth(demo_token("no-such-space")))
    assert outside[0] == missing[0] == 404
    assert {**outside[2]["error"], "requestId": ""} == {**missing[2]["error"], "requestId": ""}
    assert fetch(f"{served}/waba/own", headers=alice)[2]["error"]["code"] == "SpaceNotFound"


def demo_signed(**changes: Any) -> str:
    claims = {**demo_claims(["*"], issuer="https://issuer.demo.invalid", audience="waba-lookup-demo"), **changes}
    return sign({k: v for k, v in claims.items() if v is not None}, demo_private_key(), kid=demo_kid())


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    import base64

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return ".".join([part(json.dumps(header).encode()), part(json.dumps(payload).encode()), part(signature)])


# Who refuses each token behind a jwt trigger: FC's JWT check (played from s.yaml's authConfig, JSON
# {"Code", "Message"}), or the function itself (JSON {"error": ...}), when FC's check has nothing
# against it. Behind the anonymous trigger the function refuses them all.
HTTP_ATTACKS = {
    "no token": (None, "FC"),
    "expired": (lambda: demo_signed(exp=1_000_000_000), "FC"),
    "not yet valid": (lambda: demo_signed(nbf=4_000_000_000), "FC"),
    "unknown kid": (lambda: sign(demo_claims(["*"]), demo_private_key(), kid="nobody"), "FC"),
    "another key with the demo kid": (lambda: sign(demo_claims(["*"]), signing_keys().other_rsa, kid=demo_kid()), "FC"),
    "alg none": (lambda: unsigned({"alg": "none", "kid": demo_kid()}, demo_claims(["*"])), "FC"),
    "truncated": (lambda: demo_signed()[:-12], "FC"),
    "oversized": (lambda: demo_signed(padding="x" * 6000), "FC or gateway"),
    "wrong issuer": (lambda: demo_signed(iss="https://evil.example"), "function"),
    "wrong audience": (lambda: demo_signed(aud="another-api"), "function"),
    "spaces a number": (lambda: demo_signed(cams_spaces=42), "function"),
    "sub not a string": (lambda: demo_signed(sub=7), "function"),
    "no expiry": (lambda: demo_signed(exp=None), "function"),
}


@pytest.mark.parametrize("name", list(HTTP_ATTACKS))
def test_make_serve_refuses_every_bad_token(trigger: tuple[str, str], name: str) -> None:
    auth_type, base = trigger
    make, who = HTTP_ATTACKS[name]
    headers = auth(make()) if callable(make) else {}

    status, head, body = fetch(f"{base}/waba?custSpaceId=demo-approved", headers=headers)

    if who == "FC or gateway":
        assert status in (401, 431)
        return
    assert status == 401
    if auth_type == "jwt" and who == "FC":
        assert set(body) == {"Code", "Message"}, "FC's check answered: the function never ran"
        return
    challenge = "Bearer" if make is None else 'Bearer error="invalid_token"'
    assert (body["error"]["code"], head["www-authenticate"]) == ("Unauthorized", challenge)


def test_make_serve_ignores_a_client_sent_pass_by_header(trigger: tuple[str, str]) -> None:
    auth_type, base = trigger
    status, _, body = fetch(
        f"{base}/waba?custSpaceId=demo-approved", headers={"x-waba-jwt-sub": "admin", "X-Forwarded-For": "10.0.0.1"}
    )

    assert status == 401
    assert set(body) == ({"Code", "Message"} if auth_type == "jwt" else {"error"})


def test_make_serve_deploys_the_trigger_anonymous_by_default_so_a_page_reads_its_401() -> None:
    expired = demo_signed(exp=1_000_000_000)
    with make_serve() as (base, stderr):
        status, headers, body = fetch(
            f"{base}/waba?custSpaceId=demo-approved", headers={**auth(expired), "Origin": "http://localhost:3000"}
        )

    assert (status, body["error"]["code"]) == (401, "Unauthorized")
    assert headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "WWW-Authenticate" in headers["access-control-expose-headers"]
    assert "; trigger anonymous)" in stderr[0], stderr[0]


def make_quietly(target: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`make <target>` in a deploying shell of exactly `environ` (with PATH and HOME)."""
    shell = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=ROOT,
        env={**shell, **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_make_check_deploy_refuses_a_shell_without_keys_and_make_build_does_not_build() -> None:
    for target in ("check-deploy", "build"):
        done = make_quietly(target, {"AUTH_ISSUER": "https://login.example.com", "AUTH_AUDIENCE": "waba-lookup"})

        assert done.returncode != 0, done.stdout
        assert "AUTH_JWKS is not set" in done.stderr
        assert "building for" not in done.stdout, "the build never started"


def test_make_check_deploy_accepts_a_set_of_an_rs256_and_an_es256_key() -> None:
    done = make_quietly("check-deploy", {**auth_environ(), "TRIGGER_AUTH_TYPE": "jwt"})

    assert done.returncode == 0, done.stderr
    assert "AUTH_JWKS of 2 key(s): test-rs256 (RS256), test-es256 (ES256)" in done.stdout


@pytest.mark.parametrize(
    ("event_file", "status"),
    [
        ("lookup.json", 200),
        ("lookup-own-waba.json", 200),
        ("lookup-health.json", 200),
        ("lookup-bad-input.json", 400),
        ("lookup-no-token.json", 401),
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
        ("timer-every-verdict.json", 1, "HealthcheckFailed"),
        ("timer-malformed.json", 1, "InvalidHealthcheck"),
    ],
)
def test_invoke_runs_the_health_check(event_file: str, exit_status: int, outcome: str) -> None:
    done = invoke("healthcheck", event_file)

    assert done.returncode == exit_status, done.stderr
    result = json.loads(done.stdout)
    assert outcome in result or result.get("errorType") == outcome


def test_make_serve_with_redis_answers_from_a_real_store() -> None:
    token = demo_token("demo-approved")
    with make_serve("REDIS=1") as (base, stderr):
        first = fetch(f"{base}/waba?custSpaceId=demo-approved", headers=auth(token))
        second = fetch(f"{base}/waba?custSpaceId=demo-approved", headers=auth(token))

    assert (first[0], second[0]) == (200, 200)
    assert second[2]["cachedAt"] == first[2]["cachedAt"]
    assert "store: redis-server at redis://127.0.0.1:" in stderr[0]


def test_token_refuses_a_space_id_the_function_refuses() -> None:
    command = [sys.executable, "-m", "local", "token", "--spaces", "demo-approved", "demo approved"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 2
    assert done.stdout == ""
    assert "the function refuses the space id(s) 'demo approved'" in done.stderr


def test_openapi_prints_the_committed_document() -> None:
    command = [sys.executable, "-m", "local", "openapi"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)

    assert done.stdout == (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")


def test_make_demo_serves_the_frontend_example() -> None:
    port = free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "demo", f"DEMO_PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        page = wait_for_page(f"http://127.0.0.1:{port}/", process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/app.js", timeout=10) as script:
            kind, source = script.headers["content-type"], script.read().decode()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=20)

    assert '<script type="module" src="./app.js">' in page
    assert "javascript" in kind, "a module script must be served as JavaScript"
    assert "export class LookupClient" in source


def wait_for_page(url: str, process: subprocess.Popen[bytes]) -> str:
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")
