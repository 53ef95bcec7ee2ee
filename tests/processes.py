"""What separate FC instances do in the multi-process tests: each process is one instance of one function.

The functions here run in processes started with "spawn", so they take plain arguments and report
through a queue.
"""

from __future__ import annotations

import json
import os
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from local.emulator import Credentials, Emulator, http_event
from local.tokens import demo_environ, demo_token

ROLE = ("STS.DEMO-ROLE-KEY", "demo-role-secret", "demo-role-security-token")
READY = ("ready", None)
CALLERS = {"CALLER_RATE_PER_SECOND": "1000", "CALLER_BURST": "1000", "CALLER_CAMS_SHARE": "100"}
"""Every lookup here comes from one caller, as fast as it can: its own limit is not what these tests measure."""


def _lookup_event(space: str, path: str = "/waba") -> dict[str, Any]:
    """A lookup as a frontend sends it: with a demo token for every space."""
    return http_event("GET", path, f"custSpaceId={space}", {"Authorization": f"Bearer {demo_token(['*'])}"})


def lookups(
    environ: dict[str, str], spaces: list[str], start: Event, until_s: float, out: Queue[Any], path: str = "/waba"
) -> None:
    """Look the spaces up in turn (at `path`), one invocation at a time, from `start` until `until_s` have passed."""
    emulator = _instance("lookup", environ)
    _ready(out, start)
    ends = time.monotonic() + until_s
    statuses: list[int] = []
    turn = 0
    while time.monotonic() < ends:
        event = _lookup_event(spaces[turn % len(spaces)], path)
        statuses.append(int(emulator.invoke(event)["statusCode"]))
        turn += 1
    out.put(("lookup", statuses))


def one_lookup(environ: dict[str, str], space: str, start: Event, out: Queue[Any]) -> None:
    """One lookup, as soon as `start` is set: the body of the answer, and how long it took."""
    emulator = _instance("lookup", environ)
    _ready(out, start)
    started = time.monotonic()
    answer = emulator.invoke(_lookup_event(space))
    out.put((int(answer["statusCode"]), json.loads(answer["body"]), time.monotonic() - started))


def timer_runs(environ: dict[str, str], spaces: list[str], start: Event, until_s: float, out: Queue[Any]) -> None:
    """Timer runs over the spaces, back to back, until `until_s` have passed."""
    emulator = _instance("healthcheck", environ)
    _ready(out, start)
    ends = time.monotonic() + until_s
    payload = json.dumps({"spaces": [{"custSpaceId": space} for space in spaces]})
    counts: list[dict[str, int]] = []
    while time.monotonic() < ends:
        try:
            counts.append(emulator.invoke({"triggerName": "timer", "payload": payload})["counts"])
        except Exception as failed:  # an alarming run fails the invocation; its lines tell why
            counts.append({"failed": 1, type(failed).__name__: 1})
    out.put(("healthcheck", counts))


def _ready(out: Queue[Any], start: Event) -> None:
    """Say this instance is imported and initialised, then wait for the test's start."""
    out.put(READY)
    start.wait(30)


def _instance(function: str, environ: dict[str, str]) -> Emulator:
    with open(os.devnull, "w") as quiet:  # the function's log lines are not the test's
        os.dup2(quiet.fileno(), 1)
    emulator = Emulator(function, environ={**demo_environ(), **CALLERS, **environ}, credentials=Credentials(*ROLE))
    emulator.start()
    return emulator
