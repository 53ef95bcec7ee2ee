"""One emulated FC instance: a process that runs one invocation at a time, pulled from a shared queue.

The parent starts it as a new process (`run` is the target); it reports `Ready` once its function is
imported and initialized, then an `Answer` per `Job`, until it gets None or its parent is gone. The
function's log lines stay in memory, never on the terminal: an answer carries where its request line
says it came from.
"""

from __future__ import annotations

import functools
import importlib
import io
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
    token: str = ""
    """The caller's token for every lookup (signing is the caller's work, not the instance's); empty: the
    instance signs one of the demo key."""
    warm: bool = True
    """Whether the instance answers one GET /healthz before it is ready. Without it, only the initializer
    runs first, as on FC, and the first lookup pays what a first invocation costs."""
    start_delay_s: float = 0.0
    """Seconds the instance sleeps before it loads its function: a cold start's imports, paid in time
    without taking a core, for instances forked with the function's modules already imported."""


class Job(NamedTuple):
    """One arrival handed to an instance."""

    index: int
    scheduled_at: float
    space: str
    if_none_match: str | None = None


@dataclass(frozen=True)
class Ready:
    instance: int
    at: float = 0.0
    """When the function was imported and initialized (wall clock)."""


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
    cache: str | None = None
    """The request line's "cache" field: memory, shared, cams, stale or waited (None: no such field)."""


def run(number: int, spec: InstanceSpec, jobs: Queue[Job | None], answers: Queue[Ready | Answer]) -> None:
    """The instance's life: prepare the function, then answer jobs until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's, which stops every instance
    _silence_stdout()
    log = _tap_stdout()
    time.sleep(spec.start_delay_s)
    invoke = _invoker(spec)
    token = spec.token or _token()
    answers.put(Ready(number, time.time()))
    parent = os.getppid()
    while os.getppid() == parent:
        try:
            job = jobs.get(timeout=POLL_S)
        except queue.Empty:
            continue
        if job is None:
            return
        answers.put(answer(number, job, invoke, token, log))


def answer(number: int, job: Job, invoke: Invoke, token: str, log: io.StringIO) -> Answer:
    from local.emulator import http_event

    headers = {"Authorization": f"Bearer {token}"}
    if job.if_none_match:
        headers["If-None-Match"] = job.if_none_match
    event = http_event("GET", "/waba", f"custSpaceId={job.space}", headers)
    log.seek(0)
    log.truncate()
    started = time.time()
    try:
        response = invoke(event)
    except Exception:  # what FC answers for an unhandled error: 502, UnhandledInvocationError
        response = {"statusCode": 502}
    completed = time.time()
    line = _request_line(log.getvalue())
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
        cache=_text_or_none(line.get("cache")),
    )


def _invoker(spec: InstanceSpec) -> Invoke:
    for name in spec.unset:
        os.environ.pop(name, None)
    sys.path[:0] = [str(ROOT), str(BENCH)]
    from local.emulator import Credentials, Emulator, fc_context, http_event

    credentials = Credentials(**spec.credentials)
    if spec.handler == "lookup":
        emulator = Emulator("lookup", environ=spec.environ, credentials=credentials)
        if spec.warm:
            emulator.invoke(http_event("GET", "/healthz"))  # runs the initializer, without calling CAMS
        else:
            emulator.start()
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


def _tap_stdout() -> io.StringIO:
    """The function writes its log lines to sys.stdout: keep them here, in memory, one invocation's at a time."""
    log = io.StringIO()
    sys.stdout = log
    return log


def _request_line(text: str) -> dict[str, Any]:
    """The invocation's "request" log line (the last one, should there be more), as an object."""
    for line in reversed(text.splitlines()):
        if '"event": "request"' in line:
            return _json_object(line)
    return {}


def _json_object(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


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
