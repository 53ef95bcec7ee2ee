"""Load benchmark: FC instances as processes under an open-loop offered load, against the fake CAMS.

    make bench-load                     (or .venv/bin/python bench/load.py [--quick] [--instances 8 32] ...)

For each handler (the lookup function, and the naive one of `bench/naive_handler.py`) and each
instance count: the fake CAMS in a process of its own, limited to 10 calls per second per account
and charging 50 ms to the first request on each new connection (as a TLS handshake does), with 100
spaces bound in the demo account; a fresh redis-server for the lookup handler (`REDIS_URL`); then N
instance processes, each running one invocation at a time, pulling from one queue that a dispatcher
fills on schedule (50 lookups/s for 20 s, then 100/s for 10 s, spaces drawn with weight 1/rank^1.1,
seeded), whether or not an instance is free. Latency runs from the scheduled arrival to the answer,
so queueing counts. After the schedule, stragglers get at most --drain seconds; then every process
stops. The table's targets are issue 8's, for the lookup handler: no 429 for a space already
answered in the run, CAMS never above its limit in any one-second window of arrivals, at most 0.1
CAMS calls per lookup in the last (100/s) phase, and cached answers' p99 under 5 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from loadlib import report, services  # noqa: E402
from loadlib.instance import HANDLERS, InstanceSpec  # noqa: E402
from loadlib.pool import InstancePool, offer  # noqa: E402
from loadlib.schedule import Phase, build_schedule  # noqa: E402

from local.cams.process import space_names  # noqa: E402
from local.tokens import demo_environ  # noqa: E402

QUICK = {"rates": [20.0, 40.0], "seconds": [5.0, 3.0], "drain": 10.0}
# Short backoffs, as the tests use: the run measures the calls, not the waiting.
LOOKUP_SETTINGS = {
    "CAMS_PROTOCOL": "http",
    "CAMS_RETRY_BASE_DELAY_MS": "10",
    "CAMS_RETRY_MAX_DELAY_MS": "50",
    "CAMS_READ_TIMEOUT_MS": "2000",
    # Tokens of the demo key, verified as deployed; the frontends' many callers are one caller here,
    # so the per-caller limit is lifted: this measures the cache and the account's quota.
    **demo_environ(),
    "CALLER_RATE_PER_SECOND": "1000",
    "CALLER_BURST": "1000",
}


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, nargs="+", default=[8, 32], help="instance counts to run")
    parser.add_argument("--handler", nargs="+", choices=HANDLERS, default=list(HANDLERS), help="handlers to run")
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 100.0], help="lookups/s of each phase")
    parser.add_argument("--seconds", type=float, nargs="+", default=[20.0, 10.0], help="length of each phase")
    parser.add_argument("--spaces", type=int, default=100, help="customer spaces, Zipf-like popularity")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait for stragglers")
    parser.add_argument("--cams-rate", type=int, default=10, help="the fake's limit, calls/s per account")
    parser.add_argument("--connection-delay", type=float, default=0.05, help="seconds a new connection costs")
    parser.add_argument("--revalidate", type=float, default=0.0, help="share of lookups sending If-None-Match")
    parser.add_argument("--no-redis", action="store_true", help="no REDIS_URL: each instance on its own")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20/s for 5 s, then 40/s for 3 s")
    parsed = parser.parse_args(argv)
    if parsed.quick:
        parsed.rates, parsed.seconds, parsed.drain = QUICK["rates"], QUICK["seconds"], QUICK["drain"]
    if len(parsed.rates) != len(parsed.seconds):
        parser.error("--rates and --seconds need one value per phase")
    return parsed


def run_once(handler: str, instances: int, settings: argparse.Namespace) -> report.Run:
    """One handler at one instance count, on a fresh fake CAMS (and Redis): nothing carries over."""
    phases = [Phase(rate, seconds) for rate, seconds in zip(settings.rates, settings.seconds, strict=True)]
    arrivals = build_schedule(phases, space_names(settings.spaces), settings.seed)
    fake_settings = services.FakeSettings(settings.spaces, settings.cams_rate, settings.connection_delay)
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(services.fake_cams_process(fake_settings))
        environ = {**LOOKUP_SETTINGS, "CAMS_ENDPOINT": fake.endpoint}
        use_redis = handler == "lookup" and not settings.no_redis
        if use_redis:
            environ["REDIS_URL"] = stack.enter_context(services.redis_server())
        spec = InstanceSpec(handler, environ, () if use_redis else ("REDIS_URL",), services.role_credentials())
        with InstancePool(instances, spec) as pool:
            length = sum(phase.seconds for phase in phases)
            offered = offer(pool, arrivals, length, settings.drain, settings.revalidate, settings.seed)
    return report.Run(
        handler,
        instances,
        phases,
        arrivals,
        offered.started_at,
        offered.answers,
        fake.journal,
        settings.cams_rate,
        settings.drain,
    )


def main(argv: list[str] | None = None) -> None:
    settings = options(argv)
    began = time.monotonic()
    for handler in settings.handler:
        for instances in settings.instances:
            run = run_once(handler, instances, settings)
            print(report.render(run, settings.spaces), end="\n\n", flush=True)
    python = sys.version.split()[0]
    print(f"{time.monotonic() - began:.0f} s in all; Python {python}; seed {settings.seed}")


def stop_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # unwinds like Ctrl-C does: every process and server of the run is stopped


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
