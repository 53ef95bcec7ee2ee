"""Schema-driven fuzzing: schemathesis, from the OpenAPI document, against `python -m local serve` over HTTP.

Every operation of the document gets its examples, the boundary cases of its parameters (in and out
of their rules) and generated requests, with a fixed seed and a bounded number of examples, each
with a demo token for every space; every answer must be documented: its status, its headers, its
body's schema (errors included), and no 5xx. The function runs as `make serve` runs it, on its fake
CAMS, with the caller's limits lifted (a fuzzer is one caller asking hundreds of spaces at once) and
callers' IsvCodes allowed, so that the `isvCode` the document describes is one the function takes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest

from local.emulator import ROOT
from local.tokens import demo_token
from shared.lookup.openapi import openapi_document
from tests.functional.test_local_cli import free_port

pytestmark = pytest.mark.slow
if sys.version_info < (3, 11) and os.environ.get("CI") != "true":  # in CI, the import below fails the run
    pytest.skip("schemathesis needs Python 3.11 or newer: make the venv with it", allow_module_level=True)
import schemathesis  # noqa: E402

SEED = 17
MAX_EXAMPLES = 100
"""Generated examples per operation, beside the documented ones and the boundary cases."""
FUZZED_ENVIRON = {
    "CALLER_RATE_PER_SECOND": "1000",
    "CALLER_BURST": "1000",
    "CALLER_CAMS_SHARE": "100",
    "ALLOW_CALLER_ISV_CODE": "true",
}

UNDECLARED_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
"""Methods no route takes, which the function answers 405 with `Allow`. FC's gateway refuses TRACE
before any function, as the emulator does (501); s.yaml's trigger takes GET and OPTIONS alone."""

schema = schemathesis.openapi.from_dict(
    openapi_document(),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES},
            "phases": {"coverage": {"unexpected-methods": UNDECLARED_METHODS}},
        }
    ),
)


@dataclass
class Tally:
    """What the fuzzing sent and met, by operation: shown at the end, and held to a minimum."""

    examples: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)

    def count(self, operation: str, status: int) -> None:
        self.examples[operation] += 1
        self.statuses.setdefault(operation, Counter())[status] += 1

    def lines(self) -> list[str]:
        total = sum(self.examples.values())
        head = f"schemathesis: {len(self.examples)} operations, {total} requests (seed {SEED})"
        return [
            head,
            *(f"  {op}: {self.examples[op]} {dict(sorted(self.statuses[op].items()))}" for op in self.examples),
        ]


TALLY = Tally()


@contextlib.contextmanager
def local_serve(environ: dict[str, str]) -> Iterator[str]:
    """`python -m local serve` on a free loopback port, its fake CAMS with the demo data; its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=20)


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        assert process.poll() is None, "python -m local serve stopped"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("python -m local serve did not answer in 60 s")


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    with local_serve(FUZZED_ENVIRON) as base:
        yield base
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for line in TALLY.lines():
            reporter.write_line(line)


@pytest.fixture(scope="module")
def every_space() -> dict[str, str]:
    return {"Authorization": f"Bearer {demo_token(['*'], sub='fuzzer')}"}


@schema.parametrize()
@hypothesis.settings(deadline=None, database=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_answer_is_the_documented_one(case: Any, served: str, every_space: dict[str, str]) -> None:
    response = case.call_and_validate(base_url=served, headers=every_space)
    TALLY.count(case.operation.label, response.status_code)
    assert response.status_code < 500, response.text
