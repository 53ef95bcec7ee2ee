"""The frontend example (examples/frontend), in Debian's headless Chromium, against the function on its fake CAMS.

The page is served as `make demo` serves it (a static directory over http.server on loopback) on an
origin the function allows; the function as `make serve` runs it, its trigger anonymous, trusting
the demo key. Each state the page must handle is played and kept as a screenshot under the test's
temporary directory: 200, 304 (the page revalidates with its ETag and keeps its copy), 401 (it asks
for a new token), 429 (it waits Retry-After, saying so) and a stale answer (CAMS failing).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local.cams import FakeCams
from local.emulator import ROOT, Emulator, serve
from local.tokens import demo_claims, demo_environ, demo_kid, demo_private_key, demo_token, sign
from tests.functional.test_browser import chromium
from tests.helpers import ROLE, Env

pytestmark = pytest.mark.slow
FRONTEND = ROOT / "examples" / "frontend"
SETTLES_S = 20_000
"""Milliseconds the page may take to reach a state (a 429 waits Retry-After seconds first)."""


class QuietPages(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def started(server: ThreadingHTTPServer) -> ThreadingHTTPServer:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """examples/frontend, served as `make demo` serves it: its origin."""
    server = started(ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietPages, directory=str(FRONTEND))))
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("frontend-screenshots")


StartFunction = Callable[[], str]


@pytest.fixture
def start_function(env: Env, cams: FakeCams, site: str) -> Iterator[StartFunction]:
    """Starts the lookup function, trusting the demo key and allowing the page's origin, after a
    test's own settings: its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start() -> str:
        for name, value in demo_environ().items():
            env.setenv(name, value)
        env.setenv("CORS_ALLOWED_ORIGINS", site)
        servers.append(started(serve(Emulator("lookup", credentials=ROLE), "127.0.0.1", 0)))
        return f"http://127.0.0.1:{servers[-1].server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class Page:
    """The example's page, opened on a space, with what it asked the function."""

    def __init__(self, browser: Any, site: str, function: str, space: str = "demo-approved") -> None:
        self.page = browser.new_page()
        self.sent: list[dict[str, str]] = []
        self.page.on("request", self._record)
        self.page.goto(f"{site}/index.html?api={function}&space={space}")

    def _record(self, request: Any) -> None:
        if request.method == "GET" and "/waba" in request.url:
            self.sent.append({"url": request.url, **request.headers})

    def look_up(self, token: str | None = None) -> None:
        if token is not None:
            self.page.fill("#token", token)
        self.page.click("button[type=submit]")

    def reaches(self, state: str) -> str:
        self.page.wait_for_selector(f'#status[data-state="{state}"]', timeout=SETTLES_S)
        text: str = self.page.text_content("#status") or ""
        return text

    def text(self, selector: str) -> str:
        return self.page.text_content(selector) or ""

    def keep(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def opened(browser: Any, site: str, start_function: StartFunction) -> Iterator[Page]:
    page = Page(browser, site, start_function())
    yield page
    page.close()


def test_the_page_shows_a_waba_and_its_health_then_keeps_them_on_304(opened: Page, screenshots: Path) -> None:
    opened.look_up(demo_token(["demo-approved"], sub="page-200"))
    assert "200" in opened.reaches("ok")
    assert "Demo Approved WABA" in opened.text("#waba")
    assert opened.text("#verdict") == "healthy"
    opened.keep(screenshots, "200")
    first = len(opened.sent)

    opened.look_up()
    assert "304" in opened.reaches("not-modified")
    opened.keep(screenshots, "304")

    again = opened.sent[first:]
    assert [request["if-none-match"] for request in again] == [
        'W/"6bb01bb56c45b08d8cc1eb59"',  # demo-approved's WABA
        'W/"1c5d24045325460338815e7f"',  # its health
    ]
    assert "Demo Approved WABA" in opened.text("#waba"), "the page kept its copy"
    assert opened.text("#verdict") == "healthy"


def test_a_refused_token_makes_the_page_ask_for_a_new_one(opened: Page, screenshots: Path) -> None:
    expired = sign(
        demo_claims(["demo-approved"], sub="page-401", now=time.time() - 7200, ttl_s=3600),
        demo_private_key(),
        kid=demo_kid(),
    )

    opened.look_up(expired)
    asked = opened.reaches("token-refused")
    opened.keep(screenshots, "401")

    assert "401" in asked
    assert 'Bearer error="invalid_token"' in asked, "WWW-Authenticate is exposed to the page"
    assert opened.page.get_attribute("#token", "aria-invalid") == "true"
    assert opened.page.evaluate("document.activeElement.id") == "token"
    opened.look_up(demo_token(["demo-approved"], sub="page-401"))
    assert "200" in opened.reaches("ok")


def test_the_page_waits_retry_after_on_429_then_asks_again(
    env: Env, browser: Any, site: str, start_function: StartFunction, screenshots: Path
) -> None:
    env.setenv("CALLER_RATE_PER_SECOND", "0.5")
    env.setenv("CALLER_BURST", "2")
    page = Page(browser, site, start_function())
    try:
        page.look_up(demo_token(["demo-approved"], sub="page-429"))
        page.reaches("ok")  # the burst: the WABA and the health
        page.look_up()
        waiting = page.reaches("waiting")
        page.keep(screenshots, "429")
        assert "429" in waiting
        assert "Retry-After: 2" in waiting
        assert "304" in page.reaches("not-modified")
    finally:
        page.close()


def test_a_stale_answer_is_shown_as_stale(
    env: Env, browser: Any, site: str, start_function: StartFunction, screenshots: Path, cams: FakeCams
) -> None:
    for name in ("CACHE_TTL_SECONDS", "HEALTH_CACHE_TTL_SECONDS"):
        env.setenv(name, "1")
    env.setenv("CACHE_MAX_STALE_SECONDS", "3600")
    function = start_function()
    token = demo_token(["demo-pending"], sub="page-stale")
    fresh = Page(browser, site, function, space="demo-pending")
    fresh.look_up(token)
    fresh.reaches("ok")
    fresh.close()
    time.sleep(1.5)  # past the cache's freshness
    cams.fail_next(50)  # and CAMS unavailable: the function serves what it kept

    page = Page(browser, site, function, space="demo-pending")
    try:
        page.look_up(token)
        assert "Stale" in page.reaches("stale")
        page.keep(screenshots, "stale")
        assert page.page.is_visible("#waba-stale")
        assert page.page.is_visible("#health-stale")
        assert "Demo Pending WABA" in page.text("#waba")
    finally:
        page.close()
