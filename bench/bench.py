"""Benchmark: the lookup handler against the bare SDK, for import time, cold start and warm latency.

    make bench

(a) import time of the handler module / import time of the bare SDK client: medians of fresh
    interpreters, run in turn; with, for the record, what pydantic-settings and pydantic itself cost;
(c) cold start, import plus the first call, each in a fresh interpreter;
(b) warm latency of a handler invocation / a raw SDK call, p50 and p99, in interleaved pairs: an
    uncached answer (every invocation reaches CAMS, as every raw call does), then a cached one
    (the answer from the instance's memory, after the first).
The fake CAMS runs in a process of its own, as CAMS is another machine. Targets: (a) <= 1.15;
(b) at p50, an uncached answer <= 1.10 of a raw call (issue 16), a cached one <= 0.15.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.cams.process import FakeSettings, fake_cams_process, role_credentials  # noqa: E402
from local.tokens import demo_environ, demo_token  # noqa: E402

IMPORT_RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "21"))
# Credentials come from the demo role; the default chain must never look for a cloud's.
NO_CLOUD = {"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
# Every handler invocation goes to CAMS, as the raw SDK call does, and none waits for the account's
# quota (the raw calls do not either): this compares the handler's own cost. bench/load.py measures
# the cache and the quota.
NO_CACHE = {
    "CACHE_TTL_SECONDS": "0",
    "CACHE_NEGATIVE_TTL_SECONDS": "0",
    "CACHE_MAX_STALE_SECONDS": "0",
    "CAMS_RATE_LIMIT_PER_SECOND": "1000",
    "LOOKUP_CAMS_SHARE": "1000",
    "CALLER_RATE_PER_SECOND": "1000",
    "CALLER_BURST": "1000",
    "CALLER_CAMS_SHARE": "100",
    "HEALTH_CACHE_TTL_SECONDS": "0",
    # The caller's token is verified, as deployed, against the demo key.
    **demo_environ(),
    "BENCH_JWT": demo_token(["*"], sub="bench"),
}
CACHED = {
    **NO_CACHE,
    "CACHE_TTL_SECONDS": "300",
    "CACHE_NEGATIVE_TTL_SECONDS": "60",
    "CACHE_MAX_STALE_SECONDS": "86400",
}
"""The same, with the cache as deployed: every answer after the first comes from the instance's memory."""
CALLS = int(os.environ.get("BENCH_CALLS", "2000"))
WARMUP = 200
WARM_TARGETS = {"uncached": 1.10, "cached": 0.15}
"""A handler's answer against a raw SDK call, at p50."""

TIMED = "import sys, time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t, file=sys.__stdout__)"
IMPORTS = {
    "bare SDK client": "from alibabacloud_cams20200606.client import Client",
    "lookup handler": "from functions.lookup.index import handler",
    "SDK + pydantic-settings, one settings class": (
        "from alibabacloud_cams20200606.client import Client; import pydantic_settings\n"
        "class S(pydantic_settings.BaseSettings): x: str = 'a'\nS()"
    ),
    "SDK + pydantic, one model": (
        "from alibabacloud_cams20200606.client import Client; import pydantic\nclass M(pydantic.BaseModel): x: str"
    ),
}
FIRST_CALL = {
    "bare SDK client": (
        "from alibabacloud_cams20200606.client import Client; from alibabacloud_cams20200606 import models;"
        "from alibabacloud_tea_openapi.utils_models import Config; from darabonba.runtime import RuntimeOptions;"
        "import os; c = Client(Config(endpoint=os.environ['CAMS_ENDPOINT'], protocol='http',"
        " access_key_id=os.environ['BENCH_AK'], access_key_secret=os.environ['BENCH_SECRET'],"
        " security_token=os.environ['BENCH_TOKEN']));"
        "c.query_chatapp_bind_waba_with_options(models.QueryChatappBindWabaRequest(cust_space_id='demo-approved'),"
        " RuntimeOptions())"
    ),
    "lookup handler": (
        "import contextlib, io, json, os; from functions.lookup.index import handler;"
        "from local.emulator import Credentials, fc_context, http_event;"
        "ctx = fc_context('lookup', request_id='bench', credentials=Credentials(os.environ['BENCH_AK'],"
        " os.environ['BENCH_SECRET'], os.environ['BENCH_TOKEN']));"
        "out = contextlib.redirect_stdout(io.StringIO()); out.__enter__();"
        "auth = {'Authorization': 'Bearer ' + os.environ['BENCH_JWT']};"
        "handler(json.dumps(http_event('GET', '/waba', 'custSpaceId=demo-approved', auth)).encode(), ctx)"
    ),
}


@contextlib.contextmanager
def fake_cams() -> Iterator[tuple[str, dict[str, str]]]:
    """The fake CAMS in a process of its own; yields its endpoint and the demo role's credentials."""
    with fake_cams_process(FakeSettings()) as fake:
        role = role_credentials()
        names = {"BENCH_AK": "access_key_id", "BENCH_SECRET": "access_key_secret", "BENCH_TOKEN": "security_token"}
        yield fake.endpoint, {variable: role[field] for variable, field in names.items()}


def seconds(statement: str, environ: dict[str, str] | None = None) -> float:
    done = subprocess.run(
        [sys.executable, "-c", TIMED.format(statement=statement)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **NO_CLOUD, **NO_CACHE, **(environ or {})},
    )
    return float(done.stdout.strip().splitlines()[-1])


def medians(statements: dict[str, str], environ: dict[str, str] | None = None) -> dict[str, float]:
    for statement in statements.values():
        seconds(statement, environ)  # writes the bytecode caches first, so that every run finds them
    samples: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(IMPORT_RUNS):
        for name, statement in statements.items():
            samples[name].append(seconds(statement, environ))
    return {name: statistics.median(values) for name, values in samples.items()}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def warm_latency(endpoint: str, role: dict[str, str]) -> dict[str, tuple[list[float], list[float]]]:
    """Raw calls and handler invocations in interleaved pairs: uncached answers, then cached ones."""
    from local.emulator import load_function
    from shared.settings import forget_settings

    handler = load_function("lookup").handler
    latencies = {}
    for kind, environ in (("uncached", NO_CACHE), ("cached", CACHED)):
        os.environ |= {"CAMS_ENDPOINT": endpoint, "CAMS_PROTOCOL": "http", **NO_CLOUD, **environ}
        forget_settings()  # as a new instance: settings read again, store and client built anew
        latencies[kind] = interleaved(handler, endpoint, role)
    return latencies


def interleaved(handler: Callable[..., Any], endpoint: str, role: dict[str, str]) -> tuple[list[float], list[float]]:
    from alibabacloud_cams20200606 import models
    from alibabacloud_cams20200606.client import Client
    from alibabacloud_tea_openapi.utils_models import Config
    from darabonba.runtime import RuntimeOptions

    from local.emulator import Credentials, fc_context, http_event

    auth = {"Authorization": f"Bearer {os.environ['BENCH_JWT']}"}
    event = json.dumps(http_event("GET", "/waba", "custSpaceId=demo-approved", auth)).encode()
    context = fc_context(
        "lookup",
        request_id="bench",
        credentials=Credentials(role["BENCH_AK"], role["BENCH_SECRET"], role["BENCH_TOKEN"]),
    )
    client = Client(
        Config(
            endpoint=endpoint,
            protocol="http",
            access_key_id=role["BENCH_AK"],
            access_key_secret=role["BENCH_SECRET"],
            security_token=role["BENCH_TOKEN"],
        )
    )
    request = models.QueryChatappBindWabaRequest(cust_space_id="demo-approved")

    def raw_call() -> None:
        assert client.query_chatapp_bind_waba_with_options(request, RuntimeOptions()).body.code == "OK"

    def handler_call() -> None:
        assert handler(event, context)["statusCode"] == 200

    raw: list[float] = []
    wrapped: list[float] = []
    # The handler's log lines go to a buffer: writing them counts, a terminal's speed does not.
    with contextlib.redirect_stdout(io.StringIO()) as sink:
        for i in range(WARMUP + CALLS):
            order = [(raw_call, raw), (handler_call, wrapped)]
            for run, times in order if i % 2 else reversed(order):
                elapsed = timed(run)
                if i >= WARMUP:
                    times.append(elapsed)
            sink.seek(0)
            sink.truncate()
    return raw, wrapped


def timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


Line = tuple[str, str, str, str]


def target(ratio: float, limit: float) -> str:
    return f"<= {limit:.2f} {'met' if ratio <= limit else 'NOT MET'}"


def warm_rows(kind: str, raw: list[float], wrapped: list[float]) -> list[Line]:
    rows: list[Line] = []
    for name, share in (("p50", 0.50), ("p99", 0.99)):
        base, ours = percentile(raw, share), percentile(wrapped, share)
        verdict = target(ours / base, WARM_TARGETS[kind]) if name == "p50" else "(for the record)"
        rows.append((f"(b) warm {name}, raw SDK call", f"{base * 1000:.3f} ms", "", ""))
        rows.append((f"(b) warm {name}, {kind} answer", f"{ours * 1000:.3f} ms", f"{ours / base:.3f}", verdict))
    return rows


def main() -> None:
    imports = medians(IMPORTS)
    with fake_cams() as (endpoint, role):
        cold = medians(FIRST_CALL, {"CAMS_ENDPOINT": endpoint, "CAMS_PROTOCOL": "http", **role})
        warm = warm_latency(endpoint, role)
    bare = imports["bare SDK client"]
    rows: list[Line] = [("(a) import, bare SDK client", f"{bare * 1000:.1f} ms", "", "")]
    for name in list(IMPORTS)[1:]:
        ratio = imports[name] / bare
        verdict = target(ratio, 1.15) if name == "lookup handler" else "(for the record)"
        rows.append((f"(a) import, {name}", f"{imports[name] * 1000:.1f} ms", f"{ratio:.3f}", verdict))
    base = cold["bare SDK client"]
    rows.append(("(c) cold start, SDK import + first call", f"{base * 1000:.1f} ms", "", ""))
    ratio = cold["lookup handler"] / base
    rows.append(
        ("(c) cold start, handler import + first call", f"{cold['lookup handler'] * 1000:.1f} ms", f"{ratio:.3f}", "")
    )
    for kind, (raw, wrapped) in warm.items():
        rows += warm_rows(kind, raw, wrapped)
    width = max(len(row[0]) for row in rows)
    print(f"{'measure':<{width}}  {'value':>11}  {'ratio':>6}  target")
    for name, value, ratio_text, verdict in rows:
        print(f"{name:<{width}}  {value:>11}  {ratio_text:>6}  {verdict}")
    python = sys.version.split()[0]
    print(f"\n{IMPORT_RUNS} fresh interpreters each; {CALLS} warm pairs of each kind after {WARMUP}; Python {python}")


if __name__ == "__main__":
    main()
