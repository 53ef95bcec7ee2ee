"""Benchmark: the cold start as deployed, on each runtime's own Python, package against package.

    make bench        (after bench/bench.py's table; or .venv/bin/python bench/coldstart.py)

For python3.10 and python3.12, each row is a code package built as `make build` builds it (the
target's own pip and wheels, from the lock), copied to a read-only directory as FC's `/code` is,
and run in a fresh target interpreter (`-I -S -B`: nothing from site-packages, nothing written),
with the context and environment FC gives that runtime, against the fake CAMS in a process of its
own. What is timed, from before the first import to the answer, the process then left as it is
(FC keeps it after the answer: no teardown is counted):

- bare SDK: import the CAMS SDK, build a client, one `QueryChatappBindWaba`, from a package that
  holds the SDK as pip installs it (`locks/sdk-python3.X.txt`), with bytecode: the reference of
  every ratio;
- lookup: the lookup function's initializer and its first answer, from its package as `make build`
  writes it;
- naive: the same for `bench/naive_handler.py`, one SDK call per request and nothing else,
  packaged the same way as the bare SDK.

The rows run interleaved, in a rotating order, BENCH_COLD_RUNS times each (default 11) after one
unmeasured run; the table has medians, each row's ratio to the bare SDK on the same Python, peak
RSS (the child's VmHWM), and each package's zip size and file count. BENCH_COLD_NO_BYTECODE=1
adds each package built without bytecode, and its ratio to the same package with it (issue 6).

Then the same cold starts under callgrind (`valgrind --tool=callgrind`), BENCH_CALLGRIND_RUNS times
(default 2, two at a time; 0 leaves them out): the instructions of the bare SDK's and the lookup's
cold start, each less those of an interpreter that runs the same driver up to the timed part. They
do not depend on what else the machine runs, as the wall time does.

Targets (issue 16): the lookup at most 0.80x the bare SDK on python3.10 and 0.85x on python3.12,
in wall time and in instructions; each function's package at most 12 MiB zipped on python3.10.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local import build  # noqa: E402
from local.cams.process import FakeSettings, fake_cams_process, role_credentials  # noqa: E402
from local.tokens import demo_environ  # noqa: E402

RUNS = int(os.environ.get("BENCH_COLD_RUNS", "11"))
CALLGRIND_RUNS = int(os.environ.get("BENCH_CALLGRIND_RUNS", "2"))
NO_BYTECODE = os.environ.get("BENCH_COLD_NO_BYTECODE", "") not in ("", "0")
OUT = ROOT / "build" / ".bench"
EVENT = ROOT / "events" / "lookup.json"
TARGETS = {"3.10": 0.80, "3.12": 0.85}
"""The lookup's cold start against the bare SDK's, per runtime, in wall time and in instructions."""
MAX_ZIP_MIB = {"3.10": 12.0}
"""Each function's package, zipped."""
NO_BYTECODE_TARGET = 0.45

# Runs in the target interpreter, FC's part: the package on sys.path, then the timed cold start.
# Kind "none" stops before it: what an interpreter costs that runs no cold start at all.
DRIVER = """
import json, os, sys, time, types
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
if kind == "none":
    ok = True
elif kind == "sdk":
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
with open("/proc/self/status") as status:  # the peak of this image: ru_maxrss keeps the parent's across exec
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "ok": ok, "rss_kib": peak}), file=sys.__stderr__, flush=True)
os._exit(0)  # as FC keeps the process: no teardown
"""


@dataclass
class Row:
    python: build.Interpreter
    name: str
    kind: str  # "sdk": the driver calls the SDK itself; "handler": the package's index.initialize and handler
    package: Path
    bytecode: bool = True
    zip_bytes: int = 0
    files: int = 0
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    instructions: list[int] = field(default_factory=list)

    @property
    def runtime(self) -> str:
        return f"python{self.python.version}"

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def packages(python: build.Interpreter, out: Path) -> list[Row]:
    """One runtime's packages, built as `make build` builds them (dependencies cached in out/.deps)."""
    cache, where = out / ".deps", out / f"python{python.version}"
    sdk_lock = build.sdk_lock_path(python.version)
    naive = {"index.py": ROOT / "bench" / "naive_handler.py"}
    rows = []
    for bytecode in (True, False) if NO_BYTECODE else (True,):
        suffix, label = ("", "") if bytecode else ("-no-bytecode", ", no bytecode")
        sdk = build.package(where / f"sdk{suffix}", {}, python, cache, lock=sdk_lock, bytecode=bytecode)
        lookup = where / "functions" / "lookup"  # built by function_zips, as `make build` builds it
        if not bytecode:
            lookup = build.build("lookup", where / f"functions{suffix}", python, bytecode=False, cache=cache)
        handler = build.package(where / f"naive{suffix}", naive, python, cache, lock=sdk_lock, bytecode=bytecode)
        rows += [
            Row(python, f"bare SDK, import + 1 call{label}", "sdk", sdk, bytecode),
            Row(python, f"lookup, init + 1st answer{label}", "handler", lookup, bytecode),
            Row(python, f"naive, init + 1st answer{label}", "handler", handler, bytecode),
        ]
    return rows


def function_zips(python: build.Interpreter, out: Path) -> dict[str, tuple[int, int]]:
    """Each function's package as `make build` writes it (the lookup's is the one timed): zip bytes, files."""
    built = {}
    for function in build.functions():
        package = build.build(function, out / f"python{python.version}" / "functions", python, cache=out / ".deps")
        built[function] = (build.zip_size(package), len(build.files_in(package)))
    return built


def read_only_copy(row: Row, code: Path) -> None:
    """The package as FC's /code holds it: a copy without write permission; zip size and file count."""
    target = code / row.runtime / f"{row.package.parent.name}-{row.package.name}"
    shutil.copytree(row.package, target)
    row.zip_bytes, row.files = build.zip_size(target), len(build.files_in(target))
    for item in [target, *target.rglob("*")]:
        item.chmod(item.stat().st_mode & ~0o222)
    row.package = target


def environment(row: Row, endpoint: str, role: dict[str, str]) -> dict[str, str]:
    """What FC gives the runtime, pointed at the fake CAMS."""
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
    return environ


def execute(
    row: Row, endpoint: str, role: dict[str, str], kind: str, prefix: list[str]
) -> tuple[dict[str, float], str]:
    """The driver's report and its stderr, for `row`'s package run as `kind` (under `prefix`, valgrind say)."""
    command = [*prefix, str(row.python.executable), "-I", "-S", "-B", "-c", DRIVER]
    done = subprocess.run(
        [*command, str(row.package), kind, str(EVENT), row.runtime],
        cwd=row.package,
        env=environment(row, endpoint, role),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    reports = [line for line in done.stderr.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not reports:
        raise SystemExit(f"{row.runtime} {row.name} failed:\n{done.stderr[-3000:]}")
    report = json.loads(reports[-1])
    if not report["ok"]:
        raise SystemExit(f"{row.runtime} {row.name}: the call did not succeed")
    return report, done.stderr


def run(row: Row, endpoint: str, role: dict[str, str]) -> None:
    report, _ = execute(row, endpoint, role, row.kind, [])
    row.seconds.append(report["seconds"])
    row.rss_kib.append(int(report["rss_kib"]))


def instructions(row: Row, endpoint: str, role: dict[str, str], kind: str) -> int:
    """The instructions callgrind counts for the whole process of `row` run as `kind`."""
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    _, stderr = execute(row, endpoint, role, kind, valgrind)
    collected = re.search(r"Collected\s*:\s*(\d+)", stderr)
    if collected is None:
        raise SystemExit(f"{row.runtime} {row.name}: callgrind counted nothing:\n{stderr[-2000:]}")
    return int(collected[1])


def count_instructions(rows: list[Row], endpoint: str, role: dict[str, str]) -> None:
    """Each measured row's instructions less an idle driver's (interpreter and driver alone), CALLGRIND_RUNS times."""
    measured = [row for row in rows if row.bytecode and not row.name.startswith("naive")]
    jobs = [(row, kind) for _ in range(CALLGRIND_RUNS) for row in measured for kind in ("none", row.kind)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(lambda job: instructions(job[0], endpoint, role, job[1]), jobs))
    for index in range(0, len(jobs), 2):
        row = jobs[index][0]
        row.instructions.append(counts[index + 1] - counts[index])


def table(rows: list[Row]) -> str:
    header = ("runtime", "package: what is timed", "cold start", "/bare SDK", "instructions", "/bare SDK")
    header += ("/no bytecode", "peak RSS", "zip", "files")
    lines = [header]
    for row in rows:
        base = reference(rows, row)
        twin = next(
            (
                r
                for r in rows
                if r.python == row.python and r.name.split(",")[0] == row.name.split(",")[0] and not r.bytecode
            ),
            None,
        )
        counted = statistics.median(row.instructions) if row.instructions else None
        lines.append(
            (
                row.runtime,
                row.name,
                f"{row.median * 1000:.1f} ms",
                f"{row.median / base.median:.3f}",
                f"{counted / 1e6:.0f} M" if counted else "",
                f"{counted / statistics.median(base.instructions):.3f}" if counted and base.instructions else "",
                f"{row.median / twin.median:.3f}" if row.bytecode and twin else "",
                f"{max(row.rss_kib) / 1024:.1f} MiB",
                f"{row.zip_bytes / 2**20:.1f} MiB",
                str(row.files),
            )
        )
    return aligned(lines, left=2)


def aligned(lines: list[tuple[str, ...]], left: int) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i < left else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def reference(rows: list[Row], row: Row) -> Row:
    return next(r for r in rows if r.python == row.python and r.kind == "sdk" and r.bytecode)


def verdicts(rows: list[Row], zips: dict[str, dict[str, tuple[int, int]]]) -> list[str]:
    """One line per target: the measure, the target, met or not."""
    lines = []
    for row in rows:
        version = row.python.version
        if not row.bytecode or not row.name.startswith("lookup"):
            continue
        base = reference(rows, row)
        measures = [("wall time", row.median / base.median)]
        if row.instructions and base.instructions:
            measures.append(
                ("instructions", statistics.median(row.instructions) / statistics.median(base.instructions))
            )
        for what, ratio in measures:
            lines.append(verdict(f"{row.runtime} cold start, lookup / bare SDK, {what}", ratio, TARGETS[version]))
        twin = next(
            (r for r in rows if r.python == row.python and r.name.startswith("lookup") and not r.bytecode), None
        )
        if twin is not None:
            lines.append(
                verdict(f"{row.runtime} lookup with bytecode / without", row.median / twin.median, NO_BYTECODE_TARGET)
            )
    for version, built in zips.items():
        for function, (size, files) in built.items():
            if version in MAX_ZIP_MIB:
                what = f"python{version} {function} package zipped, MiB ({files} files)"
                lines.append(verdict(what, size / 2**20, MAX_ZIP_MIB[version], digits=2))
    return lines


def verdict(what: str, value: float, target: float, digits: int = 3) -> str:
    met = "met" if value <= target else "NOT MET"
    return f"{what}: {value:.{digits}f} (target <= {target:.2f}) {met}"


@contextmanager
def read_only(rows: list[Row]) -> Iterator[None]:
    with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
        code = Path(scratch)
        try:
            for row in rows:
                read_only_copy(row, code)
            yield
        finally:
            for item in [code, *code.rglob("*")]:
                item.chmod(item.stat().st_mode | 0o200)


def main() -> None:
    pythons = []
    for version in build.SUPPORTED:
        try:
            pythons.append(build.find_python(version))
        except build.BuildError as missing:
            print(f"python{version} left out: {missing}", file=sys.stderr)
    if not pythons:
        raise SystemExit("no target interpreter: see make pythons")
    zips = {python.version: function_zips(python, OUT) for python in pythons}
    rows = [row for python in pythons for row in packages(python, OUT)]
    callgrind = CALLGRIND_RUNS > 0 and shutil.which("valgrind") is not None
    with read_only(rows), fake_cams_process(FakeSettings()) as fake:
        endpoint, role = fake.endpoint, role_credentials()
        for row in rows:  # one unmeasured run each: the files in the page cache, as for every later run
            run(row, endpoint, role)
            row.seconds.clear()
            row.rss_kib.clear()
        for n in range(RUNS):
            for row in rows[n % len(rows) :] + rows[: n % len(rows)]:
                run(row, endpoint, role)
        if callgrind:
            count_instructions(rows, endpoint, role)
    print(table(rows))
    versions = ", ".join(f"{p.version}: {p.full_version}" for p in pythons)
    counted = f"; instructions: medians of {CALLGRIND_RUNS} callgrind runs" if callgrind else ""
    if CALLGRIND_RUNS > 0 and not callgrind:
        counted = "; instructions left out: valgrind is not on PATH"
    runs = f"medians of {RUNS} fresh interpreters per row, interleaved (Python {versions})"
    print(f"\nCold start as deployed: {runs}{counted}")
    print("\n".join(verdicts(rows, zips)))


if __name__ == "__main__":
    main()
