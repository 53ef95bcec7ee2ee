"""Benchmark: the cold start as deployed, on each runtime's own Python, package against package.

    make bench        (after bench/bench.py's table; or .venv/bin/python bench/coldstart.py)

For python3.10 and python3.12, each row is a code package built as `make build` builds it (the
target's own pip and wheels, from the lock), copied to a read-only directory as FC's `/code` is,
and run in a fresh target interpreter (`-I -S -B`: nothing from site-packages, nothing written),
with the context and environment FC gives that runtime, against the fake CAMS in a process of its
own. What is timed, from before the first import to the answer:

- bare SDK: import the CAMS SDK, build a client, one `QueryChatappBindWaba`, from a package that
  holds only the SDK and its dependencies (with bytecode: the reference of every ratio; without,
  for the record);
- lookup: the lookup function's initializer and its first answer, the package built without
  bytecode (as `make build` built it before) and with it (as now);
- naive: the same for `bench/naive_handler.py`, one SDK call per request and nothing else,
  packaged the same way with the SDK alone.

The rows run interleaved, in a rotating order, BENCH_COLD_RUNS times each (default 11) after one
unmeasured run; the table has medians, each row's ratio to the bare SDK with bytecode on the same
Python, the ratio of a build with bytecode to the same build without, peak RSS (the child's
ru_maxrss), and each package's zip size and file count. Targets (issue 6): lookup with bytecode at
most 1.15x the bare SDK, and at most 0.45x the same package without bytecode.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local import build  # noqa: E402
from local.cams.process import FakeSettings, fake_cams_process, role_credentials  # noqa: E402
from local.tokens import demo_environ  # noqa: E402

RUNS = int(os.environ.get("BENCH_COLD_RUNS", "11"))
OUT = ROOT / "build" / ".bench"
SDK = "alibabacloud-cams20200606"
EVENT = ROOT / "events" / "lookup.json"

# Runs in the target interpreter, FC's part: the package on sys.path, then the timed cold start.
DRIVER = """
import json, os, resource, sys, time, types
package, kind, event_path, runtime = sys.argv[1:5]
role = json.loads(os.environ["BENCH_ROLE"])
with open(event_path, "rb") as file:
    event = file.read()
def context(n):
    function = types.SimpleNamespace(name="waba-lookup", handler="index.handler", memory=512, timeout=10,
                                     initializer="index.initialize")
    fields = dict(request_id="bench-%d" % n, function=function, region="ap-southeast-1",
                  account_id="1000000000000001")
    if runtime == "python3.10":  # python3.12 has no credentials (they are in the environment), no service
        fields["credentials"] = types.SimpleNamespace(**role)
        fields["service"] = types.SimpleNamespace(name="waba-binding", log_project="", log_store="",
                                                  qualifier="LATEST", version_id="")
    return types.SimpleNamespace(**fields)
sys.path.insert(0, package)
started = time.perf_counter()
if kind == "sdk":
    from alibabacloud_cams20200606 import models
    from alibabacloud_cams20200606.client import Client
    from alibabacloud_tea_openapi.utils_models import Config
    from darabonba.runtime import RuntimeOptions
    client = Client(Config(endpoint=os.environ["CAMS_ENDPOINT"], protocol="http", **role))
    request = models.QueryChatappBindWabaRequest(cust_space_id="demo-approved")
    ok = client.query_chatapp_bind_waba_with_options(request, RuntimeOptions()).body.code == "OK"
else:
    import index
    index.initialize(context(0))
    ok = index.handler(event, context(1))["statusCode"] == 200
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "ok": ok, "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}),
      file=sys.__stderr__)
"""


@dataclass
class Row:
    python: build.Interpreter
    name: str
    kind: str  # "sdk": the driver calls the SDK itself; "handler": the package's index.initialize and handler
    package: Path
    bytecode: bool
    zip_bytes: int = 0
    files: int = 0
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    @property
    def runtime(self) -> str:
        return f"python{self.python.version}"

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def packages(python: build.Interpreter, out: Path) -> list[Row]:
    """The six packages of one runtime, built as `make build` builds (dependencies cached in out/.deps)."""
    cache = out / ".deps"
    naive = {"index.py": ROOT / "bench" / "naive_handler.py"}
    rows = []
    for bytecode in (True, False):
        suffix = "bytecode" if bytecode else "no-bytecode"
        where = out / f"python{python.version}"
        sdk = build.package(where / f"sdk-{suffix}", {}, python, cache, only=[SDK], bytecode=bytecode)
        rows.append(
            Row(python, f"bare SDK, import + 1 call, {'with' if bytecode else 'no'} bytecode", "sdk", sdk, bytecode)
        )
        lookup = build.package(
            where / f"lookup-{suffix}", build.function_files("lookup"), python, cache, bytecode=bytecode
        )
        label = "with bytecode (new build)" if bytecode else "no bytecode (old build)"
        rows.append(Row(python, f"lookup, init + 1st answer, {label}", "handler", lookup, bytecode))
        handler = build.package(where / f"naive-{suffix}", naive, python, cache, only=[SDK], bytecode=bytecode)
        rows.append(
            Row(
                python,
                f"naive, init + 1st answer, {'with' if bytecode else 'no'} bytecode",
                "handler",
                handler,
                bytecode,
            )
        )
    order = [0, 3, 1, 4, 2, 5]  # bare SDK, lookup and naive; with bytecode first
    return [rows[i] for i in order]


def read_only_copy(row: Row, code: Path) -> None:
    """The package as FC's /code holds it: a copy without write permission; zip size and file count."""
    target = code / row.runtime / row.package.name
    shutil.copytree(row.package, target)
    row.zip_bytes, row.files = build.zip_size(target), len(build.files_in(target))
    for item in [target, *target.rglob("*")]:
        item.chmod(item.stat().st_mode & ~0o222)
    row.package = target


def run(row: Row, endpoint: str, role: dict[str, str]) -> None:
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "FC_FUNCTION_NAME": "waba-lookup",
        "FC_REGION": "ap-southeast-1",
        "CAMS_ENDPOINT": endpoint,
        "CAMS_PROTOCOL": "http",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",  # never the default chain's ECS metadata
        "BENCH_ROLE": json.dumps(role),
        **demo_environ(),  # events/lookup.json carries a token of the demo key: verified as deployed
    }
    if row.runtime != "python3.10":
        environ |= {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": role["access_key_id"],
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": role["access_key_secret"],
            "ALIBABA_CLOUD_SECURITY_TOKEN": role["security_token"],
        }
    done = subprocess.run(
        [
            str(row.python.executable),
            "-I",
            "-S",
            "-B",
            "-c",
            DRIVER,
            str(row.package),
            row.kind,
            str(EVENT),
            row.runtime,
        ],
        cwd=row.package,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{row.runtime} {row.name} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stderr.strip().splitlines()[-1])
    if not report["ok"]:
        raise SystemExit(f"{row.runtime} {row.name}: the call did not succeed")
    row.seconds.append(report["seconds"])
    row.rss_kib.append(report["rss_kib"])


def table(rows: list[Row]) -> str:
    header = (
        "runtime",
        "package: what is timed",
        "cold start",
        "/bare SDK",
        "/no bytecode",
        "peak RSS",
        "zip",
        "files",
    )
    lines = [header]
    for row in rows:
        base = next(r for r in rows if r.python == row.python and r.kind == "sdk" and r.bytecode)
        twin = next(
            (
                r
                for r in rows
                if r.python == row.python and r.name.split(",")[0] == row.name.split(",")[0] and not r.bytecode
            ),
            None,
        )
        against_twin = f"{row.median / twin.median:.3f}" if row.bytecode and twin else ""
        lines.append(
            (
                row.runtime,
                row.name,
                f"{row.median * 1000:.1f} ms",
                f"{row.median / base.median:.3f}",
                against_twin,
                f"{max(row.rss_kib) / 1024:.1f} MiB",
                f"{row.zip_bytes / 2**20:.1f} MiB",
                str(row.files),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    left = {0, 1}
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i in left else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def main() -> None:
    pythons = []
    for version in build.SUPPORTED:
        try:
            pythons.append(build.find_python(version))
        except build.BuildError as missing:
            print(f"python{version} left out: {missing}", file=sys.stderr)
    if not pythons:
        raise SystemExit("no target interpreter: see make pythons")
    rows = [row for python in pythons for row in packages(python, OUT)]
    with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
        code = Path(scratch)
        try:
            for row in rows:
                read_only_copy(row, code)
            with fake_cams_process(FakeSettings()) as fake:
                endpoint, role = fake.endpoint, role_credentials()
                for row in rows:  # one unmeasured run each: the files in the page cache, as for every later run
                    run(row, endpoint, role)
                    row.seconds.clear()
                    row.rss_kib.clear()
                for n in range(RUNS):
                    for row in rows[n % len(rows) :] + rows[: n % len(rows)]:
                        run(row, endpoint, role)
        finally:
            for item in [code, *code.rglob("*")]:
                item.chmod(item.stat().st_mode | 0o200)
    print(table(rows))
    versions = ", ".join(f"{p.version}: {p.full_version}" for p in pythons)
    print(
        f"\nCold start as deployed: medians of {RUNS} fresh interpreters per row, interleaved (Python {versions}); "
        "targets: lookup with bytecode <= 1.15 of the bare SDK, <= 0.45 of itself without bytecode"
    )


if __name__ == "__main__":
    main()
