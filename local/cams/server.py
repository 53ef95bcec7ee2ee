"""The fake CAMS as a real HTTP server on 127.0.0.1, built on pytest-httpserver.

Example:
    >>> with FakeCams() as cams:
    ...     seed = cams.load_demo()
    ...     cams.fail_next(2, code="System.LimitControl")
    ...     cams.endpoint                  # give the SDK this, with protocol "http"
    '127.0.0.1:...'
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import TracebackType
from typing import Any

from pytest_httpserver import HTTPServer

from local.cams import exceptions
from local.cams.models import CamsBackend, ErrorStyle, Fault, JournalEntry
from local.cams.responses import CamsResponses

DEMO_DATA = Path(__file__).resolve().parent.parent / "demo_data.json"


class FakeCams:
    """CAMS on loopback: verifies V3 signatures and STS tokens, answers from its state, and obeys scripts."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # One access line per call on stderr is noise here: the journal records every call.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.backend = CamsBackend()
        self.server = HTTPServer(host=host, port=port, threaded=True)
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

    # --- behaviour ------------------------------------------------------------------------------

    def use_error_style(self, style: ErrorStyle) -> None:
        """ "http": business errors are HTTP 400; "body": HTTP 200 with Code != "OK" and Success false."""
        self.backend.error_style = style

    def limit_rate(self, per_second: int | None = 10) -> None:
        """Throttle each account past `per_second` calls in any one second (None: no limit)."""
        self.backend.rate_limit = per_second

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
