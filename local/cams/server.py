"""The fake CAMS as a real HTTP server on 127.0.0.1, built on pytest-httpserver.

Example:
    >>> with FakeCams() as cams:
    ...     seed = cams.load_demo()
    ...     cams.fail_next(2, code="System.LimitControl")
    ...     cams.limit_rates()             # each operation's own limit, as CAMS documents them
    ...     cams.endpoint                  # give the SDK this, with protocol "http"
    '127.0.0.1:...'
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import socket
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from pytest_httpserver import HTTPServer
from pytest_httpserver.httpserver import HTTPServerError
from werkzeug import Request, Response
from werkzeug.serving import WSGIRequestHandler, make_server

from local.cams import exceptions
from local.cams.models import CAMS_RATE_LIMITS, CamsBackend, ErrorStyle, Fault, JournalEntry
from local.cams.responses import CamsResponses

DEMO_DATA = Path(__file__).resolve().parent.parent / "demo_data.json"
NOT_KEPT_ALIVE = ("content-length", "connection", "transfer-encoding")


class KeepAliveHandler(WSGIRequestHandler):
    """Keeps each connection open for the next request, as CAMS's HTTP/1.1 front end does: werkzeug's own
    handler closes every one, so that each SDK call would pay a new connection's set-up."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # The headers and the body go out in two writes: without this, Nagle's algorithm holds the
        # body until the client's delayed ACK, 40 ms a call on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_wsgi(self) -> None:
        length = self.headers.get("Content-Length") or "0"
        if self.request_version != "HTTP/1.1" or not length.isdigit() or self.headers.get("Transfer-Encoding"):
            super().run_wsgi()  # answered by werkzeug, which closes the connection after it
            return
        # The whole body is read first: a next request on the connection must start right after it.
        body = self.rfile.read(int(length))
        environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        response = Response.from_app(self.server.app, environ)
        payload = response.get_data()
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in NOT_KEPT_ALIVE:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()


class KeepAliveHTTPServer(HTTPServer):
    """pytest-httpserver's server, with connections kept alive between requests."""

    def start(self) -> None:
        if self.is_running():
            raise HTTPServerError("Server is already running")
        app = Request.application(self.application)
        self.server = make_server(self.host, self.port, app, threaded=True, request_handler=KeepAliveHandler)
        self.port = self.server.port
        self.server_thread = threading.Thread(target=self.thread_target, daemon=True)
        self.server_thread.start()


class FakeCams:
    """CAMS on loopback: verifies V3 signatures and STS tokens, answers from its state, and obeys scripts."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # One access line per call on stderr is noise here: the journal records every call.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.backend = CamsBackend()
        self.server = KeepAliveHTTPServer(host=host, port=port, threaded=True)
        self.server.expect_request("/", method="POST").respond_with_handler(CamsResponses(self.backend).dispatch)

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeCams:
        if not self.server.is_running():
            self.server.start()
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()

    def __enter__(self) -> FakeCams:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """host:port, as the SDK's `Config.endpoint` wants it."""
        return f"{self.server.host}:{self.server.port}"

    def reset(self) -> None:
        """Forget all state, scripts and the journal; then raise the first error the fake itself
        raised while answering, so that a bug in the fake fails the test that met it."""
        pending = list(self.server.handler_errors)
        self.backend.reset()
        self.server.clear_log()
        self.server.clear_assertions()
        self.server.clear_handler_errors()
        if pending:
            raise pending[0]

    def check(self) -> None:
        """Raise the first error the fake raised while answering (an HTTP 500 to the caller)."""
        self.server.check_handler_errors()

    # --- state ----------------------------------------------------------------------------------

    def load(self, seed: dict[str, Any]) -> None:
        self.backend.load(seed)

    def load_demo(self) -> dict[str, Any]:
        seed: dict[str, Any] = json.loads(DEMO_DATA.read_text())
        self.backend.load(seed)
        return seed

    @property
    def journal(self) -> list[JournalEntry]:
        return list(self.backend.journal)

    def calls(self, action: str = "QueryChatappBindWaba") -> list[JournalEntry]:
        return [entry for entry in self.backend.journal if entry.action == action]

    def journal_records(self) -> list[dict[str, Any]]:
        """The journal as JSON-ready objects, for a process that runs the fake on behalf of another."""
        return [dataclasses.asdict(entry) for entry in self.journal]

    # --- behaviour ------------------------------------------------------------------------------

    def use_error_style(self, style: ErrorStyle) -> None:
        """ "http": business errors are HTTP 400; "body": HTTP 200 with Code != "OK" and Success false."""
        self.backend.error_style = style

    def limit_rate(self, per_second: int | None = 10, action: str | None = None) -> None:
        """Throttle each account past `per_second` calls of `action` in any one second (None: no limit).
        Without `action`, every action has that limit, and each action's calls count against its own only."""
        self.backend.limit_rate(per_second, action)

    def limit_rates(self, limits: Mapping[str, int | None] = CAMS_RATE_LIMITS) -> None:
        """Each action named its own limit, CAMS's documented ones by default; the others keep theirs."""
        for action, per_second in limits.items():
            self.backend.limit_rate(per_second, action)

    def delay_new_connections(self, seconds: float | None) -> None:
        """The first request on each new TCP connection arrives `seconds` late, as a TLS handshake would
        make it (None: no delay); later requests on a kept-alive connection are not delayed. The journal's
        `at` and the rate limit see it when it arrives, after the delay, as CAMS would."""
        self.backend.new_connection_delay = seconds

    def fail_next(
        self,
        count: int = 1,
        *,
        code: str = "ServiceUnavailable",
        status: int | None = None,
        retry_after_ms: int | None = None,
    ) -> None:
        """The next `count` calls fail with `code`, as HTTP `status` (default: 503 for ServiceUnavailable,
        500 for InternalError, else 400)."""
        status = status or {"ServiceUnavailable": 503, "InternalError": 500}.get(code, 400)
        for _ in range(count):
            self.backend.faults.append(Fault("error", exceptions.coded(code, status), retry_after_ms=retry_after_ms))

    def delay_next(self, count: int = 1, *, seconds: float) -> None:
        """The next `count` calls answer normally, but only after `seconds`."""
        self.backend.faults.extend(Fault("delay", seconds=seconds) for _ in range(count))

    def garbage_next(self, count: int = 1) -> None:
        """The next `count` calls answer HTTP 200 with an HTML page instead of JSON."""
        self.backend.faults.extend(Fault("garbage") for _ in range(count))

    def drop_next(self, count: int = 1) -> None:
        """The next `count` calls have their connection closed without an answer."""
        self.backend.faults.extend(Fault("drop") for _ in range(count))
