"""s.yaml agrees with the code: its handlers, code paths and environment variables, and the schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.healthcheck import index as healthcheck_index
from functions.lookup import index as lookup_index
from local.emulator import ROOT
from shared.settings import env_names
from tests.helpers import SETTINGS_MODELS

FUNCTIONS = ("lookup", "healthcheck")
MODULES = {"lookup": lookup_index, "healthcheck": healthcheck_index}

CHECKER = ROOT.parent / "shared" / "bin" / "check-s-yaml"


def resources() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "s.yaml").read_text())["resources"])


def test_every_function_folder_is_deployed_and_every_resource_has_a_folder() -> None:
    assert set(resources()) == set(FUNCTIONS) == {p.parent.name for p in (ROOT / "functions").glob("*/index.py")}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_handlers_and_code_paths_exist(function: str) -> None:
    props = resources()[function]["props"]
    module = MODULES[function]

    assert props["code"] == f"./build/{function}"
    for entry in (props["handler"], props["instanceLifecycleConfig"]["initializer"]["handler"]):
        file_name, _, name = entry.rpartition(".")
        assert (ROOT / "functions" / function / f"{file_name}.py").is_file()
        assert callable(getattr(module, name))
    assert props["runtime"] == "${env('FC_RUNTIME', 'python3.10')}", "python3.10 by default, python3.12 by choice"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_setting_a_function_reads_is_set_for_it(function: str) -> None:
    declared = set(resources()[function]["props"]["environmentVariables"])

    assert set(env_names(SETTINGS_MODELS[function])) <= declared
    assert not {name for name in declared if name.startswith("FC_")}, "FC_* is reserved for FC"


SECRET_SETTINGS = (
    "CAMS_ISV_CODE",
    "HEALTHCHECK_ISV_CODES",
    "ALERT_WEBHOOK_URL",
    "ALERT_WEBHOOK_SECRET",
    "REDIS_URL",
    "REDIS_PASSWORD",
    "CACHE_KEY_SECRET",
)


def test_no_secret_is_written_in_s_yaml() -> None:
    for props in (r["props"] for r in resources().values()):
        for name, value in props["environmentVariables"].items():
            if name in SECRET_SETTINGS:
                assert str(value).startswith("${env("), f"{name} must come from the deploying environment"


def test_the_triggers() -> None:
    lookup, healthcheck = resources()["lookup"]["props"], resources()["healthcheck"]["props"]
    [http] = lookup["triggers"]
    [timer] = healthcheck["triggers"]

    assert (http["triggerType"], http["triggerConfig"]["methods"]) == ("http", ["GET", "OPTIONS"])
    assert http["triggerConfig"]["authType"] == "${env('TRIGGER_AUTH_TYPE', 'anonymous')}", (
        "the function's own check by default, whose 401 a page can read; FC's JWT check with TRIGGER_AUTH_TYPE=jwt"
    )
    assert timer["triggerType"] == "timer"
    assert timer["triggerConfig"]["payload"] == "${vars.healthcheckPayload}"


@pytest.mark.slow
@pytest.mark.skipif(not CHECKER.is_file(), reason="the fc3 schema checker lies outside the repository")
def test_s_yaml_passes_the_fc3_schema() -> None:
    python = Path(sys.executable)
    done = subprocess.run(
        [str(python), str(CHECKER), "s.yaml"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 problem(s)" in done.stdout


def test_the_function_and_the_trigger_take_one_key_set_from_the_deploying_shell() -> None:
    lookup = resources()["lookup"]["props"]
    [http] = lookup["triggers"]

    assert lookup["environmentVariables"]["AUTH_JWKS"] == "${env('AUTH_JWKS')}", "the set, as the shell holds it"
    assert http["triggerConfig"]["authConfig"]["jwks"] == "${json(env('AUTH_JWKS'))}", "the same set, as an object"
    assert "AUTH_JWK_" not in (ROOT / "s.yaml").read_text(), "one source: no single key of its own"


def test_s_deploy_checks_the_deploying_shell_first() -> None:
    document = yaml.safe_load((ROOT / "s.yaml").read_text())

    assert document["actions"] == {"pre-deploy": [{"run": "make --no-print-directory check-deploy", "path": "./"}]}


def test_the_policy_allows_the_read_actions_and_nothing_else() -> None:
    policy = json.loads((ROOT / "policies" / "cams-read.json").read_text())

    [statement] = policy["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == (
        "Allow",
        ["cams:QueryChatappBindWaba", "cams:QueryChatappPhoneNumbers"],
        "*",
    ), "GetWhatsappHealthStatus documents no RAM action: nothing to grant"
