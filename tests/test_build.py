"""The deployable artifact: build each package, then run its handler as FC would, from the package alone.

This proves that s.yaml's handlers, the build and the dependency list agree: a fresh interpreter
with no site-packages and only the package directory on sys.path imports `index` and invokes it
with the events/ files against the fake CAMS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from local.build import build, runtime_requirements
from local.cams import FakeCams
from local.emulator import ROOT
from tests.helpers import ROLE

PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)

# Runs in the fresh interpreter: FC's part, loading the handler s.yaml names and invoking it.
DRIVER = """
import importlib, json, sys, types
package, handler_name, initializer_name, events, timeout, key, secret, token = sys.argv[1:9]
sys.path.insert(0, package)
credentials = types.SimpleNamespace(access_key_id=key, access_key_secret=secret, security_token=token)
def context(n):
    function = types.SimpleNamespace(name="f", handler=handler_name, memory=512, timeout=int(timeout))
    return types.SimpleNamespace(request_id="req-%d" % n, credentials=credentials, function=function,
                                 region="ap-southeast-1", account_id="1000000000000001")
module = importlib.import_module(handler_name.rpartition(".")[0])
getattr(module, initializer_name.rpartition(".")[2])(context(0))
handler = getattr(module, handler_name.rpartition(".")[2])
results = []
for n, path in enumerate(json.loads(events), 1):
    with open(path, "rb") as event:
        try:
            results.append({"result": handler(event.read(), context(n))})
        except Exception as failure:
            results.append({"errorType": type(failure).__name__})
print(json.dumps({"results": results, "paths": sys.path, "modules": sorted(sys.modules)}), file=sys.__stderr__)
"""


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    requirements = runtime_requirements()
    for function in ("lookup", "healthcheck"):
        build(function, out, PYTHON_VERSION, requirements)
    return out


def props(function: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "s.yaml").read_text())["resources"][function]["props"])


def run_package(package: Path, function: str, events: list[str], cams: FakeCams, **environ: str) -> dict[str, Any]:
    spec = props(function)
    done = subprocess.run(
        [
            BASE_PYTHON, "-I", "-S", "-c", DRIVER,
            str(package), spec["handler"], spec["instanceLifecycleConfig"]["initializer"]["handler"],
            json.dumps([str(ROOT / "events" / e) for e in events]), str(spec["timeout"]),
            ROLE.access_key_id, ROLE.access_key_secret, str(ROLE.security_token),
        ],
        env={"PATH": os.environ.get("PATH", ""), "CAMS_ENDPOINT": cams.endpoint, "CAMS_PROTOCOL": "http", **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )  # fmt: skip
    return dict(json.loads(done.stderr.strip().splitlines()[-1]))


def test_packages_hold_the_function_shared_and_dependencies_only(packages: Path) -> None:
    for function in ("lookup", "healthcheck"):
        package = packages / function
        assert (package / "index.py").is_file()
        assert (package / "shared" / "cams.py").is_file()
        assert (package / "alibabacloud_cams20200606").is_dir()
        assert (package / "pydantic_core").is_dir()
        assert not (package / "local").exists()
        assert not (package / "tests").exists()
        assert not list(package.rglob("__pycache__"))
        assert not (package / "pytest_httpserver").exists(), "development dependencies stay out"


def test_the_lookup_package_answers_its_events(packages: Path, cams: FakeCams) -> None:
    events = ["lookup.json", "lookup-own-waba.json", "lookup-bad-input.json", "preflight.json", "healthz.json"]

    run = run_package(packages / "lookup", "lookup", events, cams, CORS_ALLOWED_ORIGINS="http://localhost:3000")

    assert [r["result"]["statusCode"] for r in run["results"]] == [200, 200, 400, 204, 200]
    assert json.loads(run["results"][0]["result"]["body"])["waba"]["id"] == "200000000000101"
    assert [c.access_key_id for c in cams.calls()] == ["STS.DEMO-ROLE-KEY"] * 2
    assert all(p.startswith(str(packages)) or "site-packages" not in p for p in run["paths"])
    assert "local" not in run["modules"]
    assert "pytest" not in run["modules"]


def test_the_healthcheck_package_runs_its_events(packages: Path, cams: FakeCams) -> None:
    events = ["timer.json", "timer-no-payload.json", "timer-alarming.json", "timer-malformed.json"]

    run = run_package(
        packages / "healthcheck", "healthcheck", events, cams, HEALTHCHECK_SPACES="demo-approved,demo-pending"
    )

    first, second, alarming, malformed = run["results"]
    assert first["result"]["counts"] == {"healthy": 1, "degraded": 1, "unhealthy": 0, "error": 0, "unchecked": 0}
    assert second["result"]["total"] == 2
    assert alarming == {"errorType": "HealthcheckFailed"}
    assert malformed == {"errorType": "InvalidHealthcheck"}
