"""In a real browser: Debian's headless Chromium, driven by Playwright, against `serve()` playing the trigger.

Two pages on two origins (127.0.0.1 on two ports) ask the function, served on a third port: the
allowed origin with a token reads its WABA and a 404 for a space outside its token, and, where the
function answers it, the 401 JSON without a token or with an expired one, its `WWW-Authenticate`
too; the other origin's page is blocked by the browser's CORS check. Each way the trigger may be
deployed is played:

- `default`: as s.yaml deploys it with no TRIGGER_AUTH_TYPE, anonymous: the function's own check
  alone, whose 401 a page reads;
- `jwt`: TRIGGER_AUTH_TYPE=jwt, FC's JWT check in front (from s.yaml's authConfig), letting
  preflights through; its own 401 is a network error to a page;
- `jwt, preflights blocked`: what a browser meets if FC's check refuses token-less preflights.

Never a browser download: Chromium is Debian's (`apt-get install chromium`; .ci/run installs it).
Where it is missing these tests skip, saying so; with CI=true they fail.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local.cams import FakeCams
from local.emulator import Emulator, serve
from local.fc_trigger import Preflight, trigger_auth
from local.tokens import demo_claims, demo_environ, demo_kid, demo_private_key, demo_token, sign
from tests.helpers import ROLE, Env

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW_TO_RUN = (
    "the browser tests need Debian's Chromium at /usr/bin/chromium: `sudo apt-get update && sudo apt-get install -y "
    "chromium`, then `make test` (CI's .ci/run installs it; never `playwright install`)"
)
PAGE = b"<!doctype html><meta charset=utf-8><title>frontend</title><p>A frontend of the WABA lookup.</p>"
ASK = """async ([url, token]) => {
  try {
    const response = await fetch(url, {headers: token ? {Authorization: "Bearer " + token} : {}});
    return {
      status: response.status,
      challenge: response.headers.get("WWW-Authenticate"),
      body: await response.json(),
    };
  } catch (error) {
    return {blocked: String(error)};
  }
}"""


class PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def started(server: ThreadingHTTPServer) -> ThreadingHTTPServer:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def origins() -> Iterator[tuple[str, str]]:
    """The allowed frontend's origin and another one: the same page on two ports of 127.0.0.1."""
    servers = [started(ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)) for _ in range(2)]
    yield tuple(f"http://127.0.0.1:{server.server_port}" for server in servers)  # type: ignore[misc]
    for server in servers:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright: skipped where it is missing, failed so in CI."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(HOW_TO_RUN)
        pytest.skip(HOW_TO_RUN)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


TRIGGERS: dict[str, tuple[dict[str, str], Preflight]] = {
    "default": ({}, "pass"),
    "jwt": ({"TRIGGER_AUTH_TYPE": "jwt"}, "pass"),
    "jwt, preflights blocked": ({"TRIGGER_AUTH_TYPE": "jwt"}, "block"),
}
"""Each way of deploying the trigger: what the deploying shell adds to the demo keys, and FC's preflights."""


@pytest.fixture(params=list(TRIGGERS))
def function(request: pytest.FixtureRequest, env: Env, cams: FakeCams, origins: tuple[str, str]) -> Iterator[str]:
    """The lookup function behind its trigger, trusting the demo key, allowing the first origin."""
    demo = demo_environ()
    for name in ("AUTH_JWKS", "AUTH_ISSUER", "AUTH_AUDIENCE"):
        env.setenv(name, demo[name])
    env.setenv("CORS_ALLOWED_ORIGINS", origins[0])
    shell, preflight = TRIGGERS[request.param]
    trigger = trigger_auth(environ={**demo, **shell}, preflight=preflight)
    server = started(serve(Emulator("lookup", credentials=ROLE), "127.0.0.1", 0, trigger))
    yield f"{request.param}|http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def ask(browser: Any, origin: str, url: str, token: str | None) -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(origin + "/")
        answer: dict[str, Any] = page.evaluate(ASK, [url, token])
    finally:
        page.close()
    return answer


def test_only_the_allowed_origin_reads_only_its_spaces(
    browser: Any, origins: tuple[str, str], function: str, cams: FakeCams
) -> None:
    mode, base = function.split("|")
    allowed, other = origins
    token = demo_token(["demo-approved"], sub="frontend-user")

    own = ask(browser, allowed, f"{base}/waba?custSpaceId=demo-approved", token)
    outside = ask(browser, allowed, f"{base}/waba?custSpaceId=demo-pending", token)
    without = ask(browser, allowed, f"{base}/waba?custSpaceId=demo-approved", None)
    # Signed by the right key, so FC's check lets it through, but for another audience: the function refuses it.
    elsewhere = sign(demo_claims(["demo-approved"], audience="another-api"), demo_private_key(), kid=demo_kid())
    misdirected = ask(browser, allowed, f"{base}/waba?custSpaceId=demo-approved", elsewhere)
    calls = len(cams.calls())
    foreign = ask(browser, other, f"{base}/waba?custSpaceId=demo-approved", token)

    assert "TypeError" in foreign.get("blocked", ""), f"the other origin read an answer: {foreign}"
    assert len(cams.calls()) == calls, "the other origin's request never ran: its preflight was refused"
    if mode == "jwt, preflights blocked":
        # A token makes the request non-simple: its preflight meets FC's check without one, and fails.
        assert "TypeError" in own.get("blocked", ""), own
        assert "TypeError" in outside.get("blocked", ""), outside
        assert "TypeError" in without.get("blocked", ""), "FC's own 401 carries no CORS headers"
        return
    assert own["status"] == 200, own
    assert own["body"]["waba"]["id"] == "200000000000101"
    assert (outside["status"], outside["body"]["error"]["code"]) == (404, "SpaceNotFound")
    assert (misdirected["status"], misdirected["body"]["error"]["code"]) == (401, "Unauthorized")
    if mode == "default":
        assert (without["status"], without["body"]["error"]["code"]) == (401, "Unauthorized")
    else:
        assert "TypeError" in without.get("blocked", ""), "FC's own 401 carries no CORS headers"


def test_an_expired_token_is_a_401_the_page_reads_by_default(
    browser: Any, origins: tuple[str, str], function: str
) -> None:
    mode, base = function.split("|")
    expired = sign(
        demo_claims(["demo-approved"], sub="frontend-user", now=time.time() - 7200, ttl_s=3600),
        demo_private_key(),
        kid=demo_kid(),
    )

    answer = ask(browser, origins[0], f"{base}/waba?custSpaceId=demo-approved", expired)

    if mode == "default":
        assert answer["status"] == 401, answer
        assert answer["body"]["error"]["code"] == "Unauthorized"
        # Exposed by Access-Control-Expose-Headers: the page can tell "sign in again" from "not allowed".
        assert answer["challenge"] == 'Bearer error="invalid_token"'
    else:
        assert "TypeError" in answer.get("blocked", ""), "FC's own 401 carries no CORS headers: a network error"
