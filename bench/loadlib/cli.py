"""`bench/load.py`'s options, its three kinds of run, and what each prints."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import time
from typing import Any

from loadlib import burst, redis_stop, report, services
from loadlib.instance import HANDLERS, InstanceSpec
from loadlib.pool import START_DELAY_S, InstancePool, offer
from loadlib.scaling import OnDemandFleet, offer_on_demand
from loadlib.schedule import Arrival, Phase, build_schedule
from local.cams.process import space_names
from local.tokens import demo_environ, demo_token

DEFAULTS: dict[str, dict[str, Any]] = {
    "pool": {"rates": [50.0, 100.0], "seconds": [20.0, 10.0], "spaces": 100, "drain": 30.0, "popularity": "zipf"},
    "on-demand": {"rates": [60.0], "seconds": [8.0], "spaces": 40, "drain": 15.0, "popularity": "uniform"},
    "redis-stop": {"rates": [40.0], "seconds": [15.0], "spaces": 200, "drain": 15.0, "popularity": "uniform"},
}
MODE_DEFAULTS: dict[str, dict[str, Any]] = {
    "pool": {"instances": [8, 32]},
    "on-demand": {"max_instances": 16, "quota_wait_ms": [250, 1000, 2000]},
    "redis-stop": {"instances": [16], "stop_at": 5.0, "resume_at": 10.0},
}
QUICK: dict[str, dict[str, Any]] = {
    "pool": {"rates": [20.0, 40.0], "seconds": [5.0, 3.0], "drain": 10.0},
    "on-demand": {"rates": [30.0], "seconds": [3.0], "spaces": 12, "drain": 10.0, "max_instances": 4},
    "redis-stop": {"rates": [30.0], "seconds": [6.0], "spaces": 60, "drain": 10.0, "instances": [4]},
}
QUICK_MODE: dict[str, dict[str, Any]] = {
    "on-demand": {"quota_wait_ms": [250, 1000]},
    "redis-stop": {"stop_at": 2.0, "resume_at": 4.0},
}
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
    "CALLER_CAMS_SHARE": "100",
    # The shared store's keys are keyed hashes of the space: a deployment sets its own secret.
    "CACHE_KEY_SECRET": "load-bench-cache-key-secret-not-for-production",
}


def options(argv: list[str] | None = None, description: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, nargs="+", help="instance counts of the fixed pool (8 32; 16)")
    parser.add_argument("--handler", nargs="+", choices=HANDLERS, default=list(HANDLERS), help="handlers to run")
    parser.add_argument("--rates", type=float, nargs="+", help="lookups/s of each phase")
    parser.add_argument("--seconds", type=float, nargs="+", help="length of each phase")
    parser.add_argument("--spaces", type=int, help="customer spaces (100; 40 on demand; 200 with Redis stopped)")
    parser.add_argument("--popularity", choices=("zipf", "uniform"), help="how spaces are drawn (zipf; uniform)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drain", type=float, help="seconds to wait for stragglers")
    parser.add_argument("--cams-rate", type=int, default=10, help="the fake's limit, calls/s per account")
    parser.add_argument("--connection-delay", type=float, default=0.05, help="seconds a new connection costs")
    parser.add_argument("--revalidate", type=float, default=0.0, help="share of lookups sending If-None-Match")
    parser.add_argument("--no-redis", action="store_true", help="no REDIS_URL: each instance on its own")
    parser.add_argument("--scaling", choices=("pool", "on-demand"), default="pool", help="fixed pool, or FC's")
    parser.add_argument("--max-instances", type=int, help="on demand: FC's instance limit (16)")
    parser.add_argument("--at-cap", choices=("refuse", "queue"), default="refuse", help="on demand, at the limit")
    parser.add_argument("--quota-wait-ms", type=int, nargs="+", help="on demand: CAMS_QUOTA_WAIT_MS of each row")
    parser.add_argument(
        "--cold-start",
        choices=("spawn", "preloaded"),
        default="spawn",
        help="on demand: a fresh interpreter per instance, or forked with the function's modules imported",
    )
    parser.add_argument(
        "--cold-start-ms",
        type=float,
        default=300.0,
        help="with --cold-start preloaded: what the imports would take, slept (make bench's deployed cold start)",
    )
    parser.add_argument("--redis-stop", action="store_true", help="SIGSTOP redis-server mid-load, SIGCONT later")
    parser.add_argument("--stop-at", type=float, help="with --redis-stop: seconds into the schedule (5)")
    parser.add_argument("--resume-at", type=float, help="with --redis-stop: seconds into the schedule (10)")
    parser.add_argument("--repeat", type=int, default=1, help="on demand or Redis stopped: runs of each setting")
    parser.add_argument("--quick", action="store_true", help="a smoke run of some seconds")
    parsed = parser.parse_args(argv)
    parsed.mode = "redis-stop" if parsed.redis_stop else parsed.scaling
    _fill_defaults(parsed)
    _check(parser, parsed)
    return parsed


def _fill_defaults(parsed: argparse.Namespace) -> None:
    """The mode's values (the quick ones with --quick) for every option left out."""
    mode = parsed.mode
    chosen = {**DEFAULTS[mode], **MODE_DEFAULTS.get(mode, {})}
    if parsed.quick:
        chosen.update({**QUICK[mode], **QUICK_MODE.get(mode, {})})
    for name, value in chosen.items():
        if getattr(parsed, name, None) is None:
            setattr(parsed, name, value)


def _check(parser: argparse.ArgumentParser, parsed: argparse.Namespace) -> None:
    if len(parsed.rates) != len(parsed.seconds):
        parser.error("--rates and --seconds need one value per phase")
    if parsed.redis_stop and parsed.scaling != "pool":
        parser.error("--redis-stop runs a fixed pool: leave out --scaling")
    if parsed.mode != "pool" and parsed.no_redis:
        parser.error("--no-redis is for the fixed pool only: these modes measure the shared store")
    if parsed.mode == "redis-stop" and not 0 <= parsed.stop_at < parsed.resume_at:
        parser.error("--stop-at must come before --resume-at")
    if parsed.mode == "redis-stop" and parsed.resume_at >= sum(parsed.seconds):
        parser.error("--resume-at must fall within the schedule, so that some load comes after it")
    if parsed.mode == "on-demand" and parsed.max_instances < 1:
        parser.error("--max-instances must be at least 1")


def schedule(settings: argparse.Namespace) -> tuple[list[Phase], list[Arrival]]:
    phases = [Phase(rate, seconds) for rate, seconds in zip(settings.rates, settings.seconds, strict=True)]
    return phases, build_schedule(phases, space_names(settings.spaces), settings.seed, settings.popularity)


def fake_settings(settings: argparse.Namespace) -> services.FakeSettings:
    return services.FakeSettings(settings.spaces, settings.cams_rate, settings.connection_delay)


def instance_spec(handler: str, environ: dict[str, str], use_redis: bool, warm: bool = True) -> InstanceSpec:
    unset = () if use_redis else ("REDIS_URL",)
    token = demo_token(["*"], sub="load-bench")
    return InstanceSpec(handler, environ, unset, services.role_credentials(), token, warm)


def run_once(handler: str, instances: int, settings: argparse.Namespace) -> report.Run:
    """One handler at one instance count, on a fresh fake CAMS (and Redis): nothing carries over."""
    phases, arrivals = schedule(settings)
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(services.fake_cams_process(fake_settings(settings)))
        environ = {**LOOKUP_SETTINGS, "CAMS_ENDPOINT": fake.endpoint}
        use_redis = handler == "lookup" and not settings.no_redis
        if use_redis:
            environ["REDIS_URL"] = stack.enter_context(services.redis_server())
        with InstancePool(instances, instance_spec(handler, environ, use_redis)) as pool:
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


def run_pools(settings: argparse.Namespace) -> None:
    for handler in settings.handler:
        for instances in settings.instances:
            run = run_once(handler, instances, settings)
            print(report.render(run, settings.spaces), end="\n\n", flush=True)


def run_cold_burst(quota_wait_ms: int, settings: argparse.Namespace) -> burst.BurstRun:
    """The lookup function scaled on demand from no instance, on a fresh fake CAMS and Redis."""
    phases, arrivals = schedule(settings)
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(services.fake_cams_process(fake_settings(settings)))
        redis_url = stack.enter_context(services.redis_server())
        environ = {
            **LOOKUP_SETTINGS,
            "CAMS_ENDPOINT": fake.endpoint,
            "REDIS_URL": redis_url,
            "CAMS_QUOTA_WAIT_MS": str(quota_wait_ms),
        }
        spec = instance_spec("lookup", environ, use_redis=True, warm=False)
        if settings.cold_start == "preloaded":
            spec = dataclasses.replace(spec, start_delay_s=settings.cold_start_ms / 1000)
        with OnDemandFleet(settings.max_instances, spec, settings.cold_start) as fleet:
            length = sum(phase.seconds for phase in phases)
            scaled = offer_on_demand(fleet, arrivals, length, settings.drain, settings.at_cap)
    return burst.BurstRun(quota_wait_ms, arrivals, scaled, fake.journal)


def run_bursts(settings: argparse.Namespace) -> None:
    phases, _ = schedule(settings)
    cold_start = "a fresh interpreter each"
    if settings.cold_start == "preloaded":
        cold_start = f"forked with the function imported, {settings.cold_start_ms:g} ms slept for the imports"
    setup = burst.BurstSetup(
        phases,
        settings.spaces,
        settings.popularity,
        settings.max_instances,
        settings.at_cap,
        settings.cams_rate,
        cold_start,
    )
    runs = []
    for _ in range(settings.repeat):
        for quota_wait_ms in settings.quota_wait_ms:
            runs.append(run_cold_burst(quota_wait_ms, settings))
            print(f"... CAMS_QUOTA_WAIT_MS={quota_wait_ms}: done", file=sys.stderr, flush=True)
    print(burst.render(setup, runs), end="\n\n", flush=True)


def run_redis_stop(instances: int, settings: argparse.Namespace) -> redis_stop.StopRun:
    """The lookup function on a fixed pool, its redis-server stopped and resumed during the schedule."""
    phases, arrivals = schedule(settings)
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(services.fake_cams_process(fake_settings(settings)))
        redis_url = stack.enter_context(services.redis_server())
        environ = {**LOOKUP_SETTINGS, "CAMS_ENDPOINT": fake.endpoint, "REDIS_URL": redis_url}
        with InstancePool(instances, instance_spec("lookup", environ, use_redis=True)) as pool:
            start = time.time() + START_DELAY_S
            pid = services.redis_pid(redis_url)
            with redis_stop.RedisPause(pid, start + settings.stop_at, start + settings.resume_at) as pause:
                length = sum(phase.seconds for phase in phases)
                offered = offer(pool, arrivals, length, settings.drain, 0.0, settings.seed, started_at=start)
    if pause.stopped_at is None or pause.resumed_at is None:
        raise RuntimeError("the run ended before redis-server was stopped and resumed")
    return redis_stop.StopRun(
        instances,
        phases,
        f"{settings.spaces} spaces ({settings.popularity})",
        arrivals,
        offered.started_at,
        offered.answers,
        fake.journal,
        settings.cams_rate,
        pause.stopped_at,
        pause.resumed_at,
    )


def run_redis_stops(settings: argparse.Namespace) -> None:
    for _ in range(settings.repeat):
        for instances in settings.instances:
            print(redis_stop.render(run_redis_stop(instances, settings)), end="\n\n", flush=True)


RUNNERS = {"pool": run_pools, "on-demand": run_bursts, "redis-stop": run_redis_stops}


def main(argv: list[str] | None = None, description: str | None = None) -> None:
    settings = options(argv, description)
    began = time.monotonic()
    RUNNERS[settings.mode](settings)
    python = sys.version.split()[0]
    print(f"{time.monotonic() - began:.0f} s in all; Python {python}; seed {settings.seed}")
