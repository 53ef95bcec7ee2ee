"""One emulated FC instance: a process that runs one invocation at a time, pulled from a shared queue.

The parent starts it with the "spawn" context (`run` is the target); it reports `Ready` once its
function is imported and initialized, then an `Answer` per `Job`, until it gets None or its parent
is gone. Its stdout (the function's log lines) goes to /dev/null: only the answers matter here.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import queue
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any, NamedTuple

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
POLL_S = 1.0
HANDLERS = ("lookup", "naive")

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class InstanceSpec:
    handler: str
    """"lookup" (the lookup function, through the emulator) or "naive" (bench/naive_load_handler.py)."""
    environ: dict[str, str]
    unset: tuple[str, ...]
    credentials: dict[str, str]


class Job(NamedTuple):
    """One arrival handed to an instance."""

    index: int
    scheduled_at: float
    space: str
    if_none_match: str | None = None


@dataclass(frozen=True)
class Ready:
    instance: int


@dataclass(frozen=True)
class Answer:
    index: int
    instance: int
    started_at: float
    completed_at: float
    status: int
    stale: bool | None
    """The body's "stale" field, None when it has none."""
    has_cached_at: bool
    cams_request_id: str | None
    etag: str | None


def run(number: int, spec: InstanceSpec, jobs: Queue[Job | None], answers: Queue[Ready | Answer]) -> None:
    """The instance's life: prepare the function, then answer jobs until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's, which stops every instance
    _silence_stdout()
    invoke = _invoker(spec)
    answers.put(Ready(number))
    parent = os.getppid()
    while os.getppid() == parent:
        try:
            job = jobs.get(timeout=POLL_S)
        except queue.Empty:
            continue
        if job is None:
            return
        answers.put(answer(number, job, invoke))


def answer(number: int, job: Job, invoke: Invoke) -> Answer:
    from local.emulator import http_event

    headers = {"Authorization": f"Bearer {_token()}"}
    if job.if_none_match:
        headers["If-None-Match"] = job.if_none_match
    event = http_event("GET", "/waba", f"custSpaceId={job.space}", headers)
    started = time.time()
    try:
        response = invoke(event)
    except Exception:  # what FC answers for an unhandled error: 502, UnhandledInvocationError
        response = {"statusCode": 502}
    completed = time.time()
    body = _json_body(response)
    stale, cams_request_id = body.get("stale"), body.get("camsRequestId")
    return Answer(
        index=job.index,
        instance=number,
        started_at=started,
        completed_at=completed,
        status=int(response.get("statusCode") or 0),
        stale=stale if isinstance(stale, bool) else None,
        has_cached_at="cachedAt" in body,
        cams_request_id=cams_request_id if isinstance(cams_request_id, str) else None,
        etag=_header(response, "etag"),
    )


def _invoker(spec: InstanceSpec) -> Invoke:
    for name in spec.unset:
        os.environ.pop(name, None)
    sys.path[:0] = [str(ROOT), str(BENCH)]
    from local.emulator import Credentials, Emulator, fc_context, http_event

    credentials = Credentials(**spec.credentials)
    if spec.handler == "lookup":
        emulator = Emulator("lookup", environ=spec.environ, credentials=credentials)
        emulator.invoke(http_event("GET", "/healthz"))  # runs the initializer, without calling CAMS
        return emulator.invoke
    os.environ.update(spec.environ)
    handler = importlib.import_module("naive_load_handler").handler

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        context = fc_context("lookup", credentials=credentials)
        return handler(json.dumps(event).encode(), context)  # type: ignore[no-any-return]

    return invoke


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _json_body(response: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(response.get("body") or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _header(response: dict[str, Any], name: str) -> str | None:
    headers = response.get("headers") or {}
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value)
    return None


@functools.cache
def _token() -> str:
    """A token of the demo key for every space, signed once per instance (the naive handler ignores it)."""
    from local.tokens import demo_token

    return demo_token(["*"], sub="load-bench")
