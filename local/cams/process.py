"""The fake CAMS in a process of its own, as CAMS is another machine: for the benchmarks.

    python -m local.cams.process [--spaces 100] [--rate 10] [--cams-limits]
                                 [--action-rate GetWhatsappHealthStatus=5 ...] [--new-connection-delay 0.05]

It loads the demo data, binds `--spaces` more spaces (`load-space-000`, ...) to WABAs of their own in
the demo account, limits each action's calls per second per account (`--rate`: every action alike,
each counted on its own; `--cams-limits`: each as CAMS documents it; `--action-rate`: one action,
over both), prints its endpoint on the first line of stdout, answers until stdin closes, then
prints its journal as one line of JSON and exits.

    >>> with fake_cams_process(FakeSettings(spaces=0)) as fake:  # doctest: +SKIP
    ...     fake.endpoint, role_credentials()["access_key_id"]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.cams.models import CAMS_RATE_LIMITS
from local.cams.server import DEMO_DATA, FakeCams

ROOT = Path(__file__).resolve().parent.parent.parent
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class FakeSettings:
    spaces: int = 0
    rate_per_second: int = 0
    """Calls of each action per second per account; 0: no limit."""
    new_connection_delay_s: float = 0.0
    action_rates: Mapping[str, int] = field(default_factory=dict)
    """Each named action's own limit, over the others; 0: none for that action."""
    cams_limits: bool = False
    """Each action limited as CAMS documents it (`CAMS_RATE_LIMITS`), under `action_rates`."""

    def arguments(self) -> list[str]:
        return [
            f"--spaces={self.spaces}",
            f"--rate={self.rate_per_second}",
            f"--new-connection-delay={self.new_connection_delay_s}",
            *(["--cams-limits"] if self.cams_limits else []),
            *(f"--action-rate={action}={rate}" for action, rate in self.action_rates.items()),
        ]


@dataclass
class FakeCamsProcess:
    endpoint: str
    journal: list[dict[str, Any]] = field(default_factory=list)
    """What the fake received, filled in when the process ends."""


def space_names(count: int) -> list[str]:
    """The extra customer spaces, most popular first where popularity matters."""
    return [f"load-space-{rank:03d}" for rank in range(count)]


@contextlib.contextmanager
def fake_cams_process(settings: FakeSettings) -> Iterator[FakeCamsProcess]:
    """The fake CAMS in its own process; its journal is read when the block ends."""
    command = [sys.executable, "-m", "local.cams.process", *settings.arguments()]
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().strip()
        if not endpoint:
            raise RuntimeError("the fake CAMS did not start")
        fake = FakeCamsProcess(endpoint)
        yield fake
        output, _ = process.communicate(timeout=STOP_TIMEOUT_S)
        fake.journal = json.loads(output)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def role_credentials() -> dict[str, str]:
    """The demo role's STS credentials, as FC hands them to the function."""
    role = json.loads(DEMO_DATA.read_text())["accounts"][0]["stsTokens"][0]
    return {"access_key_id": role["id"], "access_key_secret": role["secret"], "security_token": role["token"]}


def _seed_spaces(cams: FakeCams, count: int) -> None:
    demo = cams.load_demo()["accounts"][0]
    template = demo["spaces"][0]["waba"]
    for rank, space in enumerate(space_names(count)):
        waba = {**template, "Id": f"2100000{rank:08d}", "Name": f"Load WABA {rank}"}
        cams.backend.bind_space(demo["accountId"], space, waba)


def action_rate(text: str) -> tuple[str, int]:
    """ACTION=N, as `--action-rate` takes it."""
    action, _, rate = text.partition("=")
    if not action or not rate.isdigit():
        raise argparse.ArgumentTypeError(f"expected ACTION=N, not {text!r}")
    return action, int(rate)


def limit(cams: FakeCams, options: argparse.Namespace) -> None:
    cams.limit_rate(options.rate or None)
    if options.cams_limits:
        cams.limit_rates(CAMS_RATE_LIMITS)
    cams.limit_rates({action: rate or None for action, rate in options.action_rate})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.cams.process", description=__doc__.split("\n\n")[0])
    parser.add_argument("--spaces", type=int, default=0)
    parser.add_argument("--rate", type=int, default=0, help="calls of each action per second per account (0: none)")
    parser.add_argument("--cams-limits", action="store_true", help="each action's limit as CAMS documents it")
    parser.add_argument(
        "--action-rate", type=action_rate, action="append", default=[], help="ACTION=N: one action's (0: none)"
    )
    parser.add_argument("--new-connection-delay", type=float, default=0.0, help="seconds (0: none)")
    options = parser.parse_args()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it closes our stdin
    with FakeCams() as cams:
        _seed_spaces(cams, options.spaces)
        limit(cams, options)
        cams.delay_new_connections(options.new_connection_delay or None)
        print(cams.endpoint, flush=True)
        sys.stdin.read()
        print(json.dumps(cams.journal_records()), flush=True)


if __name__ == "__main__":
    main()
