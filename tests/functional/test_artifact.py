"""The deployable artifact, run the way FC runs it: built for each runtime, by and on that runtime's Python.

For python3.10 and python3.12 this builds both packages (`make build`), copies them to a read-only
directory as FC's `/code` is, and runs each in a fresh target interpreter (`-I -S -B`: nothing from
this machine's site-packages, nothing written), with the context and environment FC gives that
runtime: the initializer, then the events/ files against the fake CAMS. It also checks that every
module of the package was loaded from the bytecode the build shipped, never compiled from source,
that the SDK's deferred libraries never ran, and that what the build leaves out was never imported.

A missing target interpreter skips these tests on a laptop, with how to get one, and fails them in
CI (`CI=true`): there they must run.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from local import build
from local.build import ROOT, BuildError, Interpreter, find_python
from local.cams import FakeCams
from local.tokens import demo_environ
from tests.helpers import ROLE

FUNCTIONS = ("lookup", "healthcheck")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Runs in the target interpreter: FC's part, loading the handler s.yaml names and invoking it. It
# records every module compiled from source (SourceLoader.source_to_code runs only then).
DRIVER = """
import importlib, importlib._bootstrap_external as external, json, os, sys, types
package, spec = sys.argv[1], json.loads(sys.argv[2])
compiled = []
_source_to_code = external.SourceLoader.source_to_code
def source_to_code(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return _source_to_code(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = source_to_code
sys.path.insert(0, package)

def context(n):
    function = types.SimpleNamespace(name=spec["name"], handler=spec["handler"], memory=512,
                                     timeout=spec["timeout"], initializer=spec["initializer"])
    fields = dict(request_id="req-%d" % n, function=function, region="ap-southeast-1",
                  account_id="1000000000000001")
    if spec["credentials"]:  # python3.10 only: STS credentials of the function's role, and the service
        fields["credentials"] = types.SimpleNamespace(**spec["credentials"])
        fields["service"] = types.SimpleNamespace(name="waba-binding", log_project="", log_store="",
                                                  qualifier="LATEST", version_id="")
    return types.SimpleNamespace(**fields)

module = importlib.import_module(spec["handler"].rpartition(".")[0])
getattr(module, spec["initializer"].rpartition(".")[2])(context(0))
handler = getattr(module, spec["handler"].rpartition(".")[2])
results = []
for n, path in enumerate(spec["events"], 1):
    with open(path, "rb") as event:
        try:
            results.append({"result": handler(event.read(), context(n))})
        except Exception as failure:
            results.append({"errorType": type(failure).__name__})
ours = {name: m for name, m in list(sys.modules.items())
        if (getattr(m, "__file__", None) or "").startswith(package + os.sep)}
from shared import deferred
report = {
    "results": results,
    "paths": sys.path,
    "modules": sorted(sys.modules),
    "deferred": sorted(name for name, m in sys.modules.items() if deferred.is_deferred(m)),
    "executed_deferred": sorted(name for name, m in sys.modules.items()
                                if name.partition(".")[0] in deferred.DEFERRED and not deferred.is_deferred(m)),
    "from_package": len(ours),
    "compiled": [p for p in compiled if p.startswith(package + os.sep)],
    "no_bytecode": sorted(name for name, m in ours.items()
                          if m.__file__.endswith(".py") and not os.path.isfile(m.__cached__ or "")),
    "dont_write_bytecode": sys.dont_write_bytecode,
    "version": "%d.%d" % sys.version_info[:2],
}
print(json.dumps(report), file=sys.__stderr__)
"""


def target_python(version: str) -> Interpreter:
    """The runtime's own Python on this machine; without it, a skip on a laptop and a failure in CI."""
    try:
        return find_python(version)
    except BuildError as missing:
        message = f"the python{version} package is tested with python{version}: {missing}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def set_writable(path: Path, writable: bool) -> None:
    for item in [path, *path.rglob("*")]:
        mode = item.stat().st_mode
        write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        item.chmod(mode | stat.S_IWUSR if writable else mode & ~write)


@pytest.fixture(scope="module", params=build.SUPPORTED, ids=lambda version: f"python{version}")
def python(request: pytest.FixtureRequest) -> Interpreter:
    return target_python(request.param)


@pytest.fixture(scope="module")
def packages(
    python: Interpreter, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[Path]:
    """Both functions' packages, as `make build` writes them, in a read-only copy (chmod -R a-w)."""
    out = tmp_path_factory.mktemp(f"build-python{python.version}")
    # The installed dependencies are cached across runs, keyed by the lock, the interpreter and build.py.
    cache = pytestconfig.cache.mkdir("artifact-dependencies") if getattr(pytestconfig, "cache", None) else out / ".deps"
    code = tmp_path_factory.mktemp(f"code-python{python.version}")
    for function in FUNCTIONS:
        shutil.copytree(build.build(function, out, python, cache=cache), code / function)
    set_writable(code, False)
    yield code
    set_writable(code, True)


def props(function: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "s.yaml").read_text())["resources"][function]["props"])


def run_package(
    python: Interpreter, package: Path, function: str, events: list[str], cams: FakeCams, **environ: str
) -> dict[str, Any]:
    """Run `function`'s package as FC's runtime would; the driver's report."""
    spec = props(function)
    python310 = python.version == "3.10"
    role = {
        "access_key_id": ROLE.access_key_id,
        "access_key_secret": ROLE.access_key_secret,
        "security_token": ROLE.security_token,
    }
    driver_spec = {
        "name": spec["functionName"],
        "handler": spec["handler"],
        "initializer": spec["instanceLifecycleConfig"]["initializer"]["handler"],
        "timeout": spec["timeout"],
        "events": [str(ROOT / "events" / e) for e in events],
        "credentials": role if python310 else None,
    }
    fc_environ = {
        "PATH": os.environ.get("PATH", ""),
        "FC_FUNCTION_NAME": spec["functionName"],
        "FC_FUNCTION_HANDLER": spec["handler"],
        "FC_FUNCTION_MEMORY_SIZE": "512",
        "FC_REGION": "ap-southeast-1",
        "FC_ACCOUNT_ID": "1000000000000001",
        "FC_INSTANCE_ID": "c-test-instance",
        "CAMS_ENDPOINT": cams.endpoint,
        "CAMS_PROTOCOL": "http",
        # Should the credentials be missed, the default chain must fail here, never ask ECS metadata.
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        **environ,
    }
    if not python310:  # python3.12: the role's credentials are in the environment only
        fc_environ |= {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": ROLE.access_key_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ROLE.access_key_secret,
            "ALIBABA_CLOUD_SECURITY_TOKEN": str(ROLE.security_token),
        }
    before = sorted(package.rglob("*"))
    done = subprocess.run(
        [str(python.executable), "-I", "-S", "-B", "-c", DRIVER, str(package), json.dumps(driver_spec)],
        cwd=package,
        env=fc_environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert sorted(package.rglob("*")) == before, "running the package wrote into it"
    report = dict(json.loads(done.stderr.strip().splitlines()[-1]))
    assert report["version"] == python.version
    assert report["dont_write_bytecode"] is True
    assert report["from_package"] > 100, "the package's own modules and dependencies were imported"
    assert report["compiled"] == [], "modules compiled from source at import: the bytecode is missing or stale"
    assert report["no_bytecode"] == []
    assert report["executed_deferred"] == [], "a synchronous function ran the SDK's asynchronous libraries"
    assert {"aiohttp", "apscheduler", "websocket"} <= set(report["deferred"])
    # What the package leaves out was never needed: the generated CAMS client, the cffi package and
    # pycparser; cryptography's Rust bindings load cffi's `_cffi_backend` extension alone.
    modules = set(report["modules"])
    assert not {"alibabacloud_cams20200606", "cffi", "pycparser", "alibabacloud_tea_util"} & modules
    assert "_cffi_backend" in modules
    return report


@pytest.mark.slow
def test_packages_hold_the_function_shared_dependencies_and_their_bytecode(python: Interpreter, packages: Path) -> None:
    for function in FUNCTIONS:
        package = packages / function
        assert (package / "index.py").is_file()
        assert (package / "shared" / "cams.py").is_file()
        assert (package / "shared" / function).is_dir()
        assert not (package / "shared" / next(f for f in FUNCTIONS if f != function)).exists()
        assert (package / "alibabacloud_tea_openapi").is_dir()
        assert (package / "pydantic_core").is_dir()
        assert list(package.glob("_cffi_backend.*.so")), "cryptography's Rust bindings load it"
        for left_out in ("alibabacloud_cams20200606", "cffi", "pycparser", "alibabacloud_tea_util"):
            assert not (package / left_out).exists(), f"{left_out} is never imported"
        assert not list(package.rglob("*.pyi")), "type stubs are never imported"
        assert not list(package.glob("*.dist-info/RECORD")), "pip's records are pip's alone"
        assert not (package / "charset_normalizer" / "md.py").exists(), "shadowed by md.*.so"
        assert not (package / "pydantic" / "mypy.py").exists(), "imports mypy, which is not shipped"
        if python.version == "3.10":
            assert (package / "async_timeout").is_dir(), "aiohttp needs it below 3.11 (pypa/pip#11664)"
        assert not (package / "local").exists()
        assert not (package / "tests").exists()
        assert not (package / "bin").exists()
        assert not (package / "pytest_httpserver").exists(), "development dependencies stay out"
        assert not list(package.glob("pytest*")), "development dependencies stay out"
        unreadable = [p for p in [package, *package.rglob("*")] if not p.stat().st_mode & stat.S_IROTH]
        assert unreadable == [], "FC's runtime user must read every file"
        sources = list(package.rglob("*.py"))
        assert len(sources) > 500
        for source in sources:
            cached = source.parent / "__pycache__" / f"{source.stem}.{python.tag}.pyc"
            assert cached.is_file(), f"{source.relative_to(package)} has no bytecode"
        for cached in (package / "__pycache__" / f"index.{python.tag}.pyc", *package.glob("shared/**/*.pyc")):
            flags = int.from_bytes(cached.read_bytes()[4:8], "little")
            assert flags == 0b01, f"{cached.name}: not unchecked-hash bytecode (flags {flags:#b})"
        assert not list(package.rglob(f"*.{'cpython-311'}.pyc")), "bytecode of another Python"


@pytest.mark.slow
def test_the_lookup_package_answers_its_events(python: Interpreter, packages: Path, cams: FakeCams) -> None:
    events = [
        "lookup.json",
        "lookup-own-waba.json",
        "lookup-bad-input.json",
        "lookup-no-token.json",
        "preflight.json",
        "healthz.json",
    ]
    # The events' tokens are signed by the demo key: PyJWT and cryptography verify them in the package.
    auth = {name: value for name, value in demo_environ().items() if name.startswith("AUTH_") and "JWK_" not in name}

    run = run_package(
        python, packages / "lookup", "lookup", events, cams, CORS_ALLOWED_ORIGINS="http://localhost:3000", **auth
    )

    assert [r["result"]["statusCode"] for r in run["results"]] == [200, 200, 400, 401, 204, 200]
    assert json.loads(run["results"][0]["result"]["body"])["waba"]["id"] == "200000000000101"
    assert [c.access_key_id for c in cams.calls()] == ["STS.DEMO-ROLE-KEY"] * 2
    assert all(p.startswith(str(packages)) or "site-packages" not in p for p in run["paths"])
    assert not {"local", "tests", "pytest", "yaml"} & set(run["modules"])


@pytest.mark.slow
def test_the_healthcheck_package_runs_its_events(python: Interpreter, packages: Path, cams: FakeCams) -> None:
    events = ["timer.json", "timer-no-payload.json", "timer-alarming.json", "timer-malformed.json"]

    run = run_package(
        python,
        packages / "healthcheck",
        "healthcheck",
        events,
        cams,
        HEALTHCHECK_SPACES="demo-approved,demo-pending",
    )

    first, second, alarming, malformed = run["results"]
    assert first["result"]["counts"] == {"healthy": 1, "degraded": 1, "unhealthy": 0, "error": 0, "unchecked": 0}
    assert second["result"]["total"] == 2
    assert alarming == {"errorType": "HealthcheckFailed"}
    assert malformed == {"errorType": "InvalidHealthcheck"}
    assert {c.access_key_id for c in cams.calls()} == {"STS.DEMO-ROLE-KEY"}
    assert not {"local", "tests", "pytest", "yaml"} & set(run["modules"])


@pytest.mark.parametrize("version", build.SUPPORTED)
def test_each_lock_is_resolved_for_its_python(version: str) -> None:
    pinned = build.pins(build.lock_path(version))
    bare_sdk = build.pins(build.sdk_lock_path(version))

    assert {"alibabacloud-tea-openapi", "pydantic", "pydantic-core", "redis"} <= set(pinned)
    assert "alibabacloud-cams20200606" not in pinned, "the functions never import the generated client"
    # aiohttp requires async-timeout below Python 3.11 only: the markers were evaluated for the target.
    assert ("async-timeout" in pinned) is (version == "3.10")
    sdk = build.needed_by(build.read_lock(build.sdk_lock_path(version)), ["alibabacloud-cams20200606"])
    assert "aiohttp" in sdk
    assert not {"pydantic", "redis"} & sdk
    # The benchmark's bare SDK runs the very versions the functions ship.
    assert {name: bare_sdk[name] for name in bare_sdk.keys() & pinned.keys()} == {
        name: pinned[name] for name in bare_sdk.keys() & pinned.keys()
    }


@pytest.mark.slow
@pytest.mark.network
@pytest.mark.parametrize("version", build.SUPPORTED)
def test_the_locks_agree_with_pyproject(version: str) -> None:
    assert build.stale_lock(version) is None


def test_a_missing_interpreter_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    monkeypatch.delenv("TARGET_PYTHON", raising=False)

    with pytest.raises(BuildError, match=r"python3\.12 not found") as missing:
        find_python("3.12")

    assert "pyenv install 3.12" in str(missing.value)
    assert "TARGET_PYTHON=" in str(missing.value)


def test_an_explicit_interpreter_must_be_the_runtime_version(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"holds no working Python 3\.10"):
        find_python("3.10", str(tmp_path / "python3.10"))


def test_the_runtime_setting_and_the_build_must_agree() -> None:
    build.check_runtime("3.12", {"FC_RUNTIME": "python3.12"})
    build.check_runtime("3.10", {})
    with pytest.raises(BuildError, match=r"FC_RUNTIME=python3\.12"):
        build.check_runtime("3.10", {"FC_RUNTIME": "python3.12"})
    with pytest.raises(BuildError, match="not a runtime"):
        build.check_version("3.11")


def test_s_yaml_takes_the_runtime_from_the_deploying_shell() -> None:
    for function in FUNCTIONS:
        assert props(function)["runtime"] == "${env('FC_RUNTIME', 'python3.10')}"
