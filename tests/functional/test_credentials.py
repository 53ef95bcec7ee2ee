"""Credentials: from the context, else the environment, else the default chain; each proven by the
fake's check of the V3 signature and the STS token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.cams import FakeCams
from local.emulator import ROOT, Credentials
from shared.cams import CamsGateway
from shared.lookup.app import runtime as lookup_runtime
from tests.helpers import ROLE, Env, get


def test_context_credentials_are_used(lookup: Any, cams: FakeCams) -> None:
    assert get(lookup, "/waba", "custSpaceId=demo-approved", credentials=ROLE).status == 200
    assert cams.calls()[0].access_key_id == "STS.DEMO-ROLE-KEY"


def test_environment_credentials_are_used_without_context_credentials(lookup: Any, cams: FakeCams, env: Env) -> None:
    env.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", ROLE.access_key_id)
    env.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ROLE.access_key_secret)
    env.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", str(ROLE.security_token))

    assert get(lookup, "/waba", "custSpaceId=demo-approved", credentials=None).status == 200
    assert cams.calls()[0].access_key_id == "STS.DEMO-ROLE-KEY"


def test_context_credentials_win_over_the_environment(lookup: Any, cams: FakeCams, env: Env) -> None:
    env.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "DEMO-DEVELOPER-KEY")
    env.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "demo-developer-secret")

    get(lookup, "/waba", "custSpaceId=demo-approved", credentials=ROLE)

    assert cams.calls()[0].access_key_id == "STS.DEMO-ROLE-KEY"


@pytest.mark.parametrize(
    ("credentials", "cams_code"),
    [
        (
            Credentials("STS.DEMO-ROLE-KEY", "wrong-secret", "demo-role-security-token"),
            "SignatureDoesNotMatch",
        ),
        (
            Credentials("STS.DEMO-ROLE-KEY", "demo-role-secret", "forged-token"),
            "InvalidSecurityToken.MismatchWithAccessKey",
        ),
        (Credentials("STS.DEMO-ROLE-KEY", "demo-role-secret", None), "MissingSecurityToken"),
        (Credentials("NO-SUCH-KEY", "whatever", None), "InvalidAccessKeyId.NotFound"),
    ],
)
def test_bad_credentials_are_refused_by_the_fake_and_answered_502(
    lookup: Any, cams: FakeCams, credentials: Credentials, cams_code: str
) -> None:
    answer = get(lookup, "/waba", "custSpaceId=demo-approved", credentials=credentials)

    assert (answer.status, answer.error_code) == (502, "UpstreamMisconfigured")
    assert [c.code for c in cams.calls()] == [cams_code]


def test_an_expired_sts_token_is_refused(lookup: Any, cams: FakeCams) -> None:
    cams.backend.issue_sts_token("1000000000000001", "STS.OLD", "old-secret", "old-token", ttl_s=-1)

    answer = get(
        lookup,
        "/waba",
        "custSpaceId=demo-approved",
        credentials=Credentials("STS.OLD", "old-secret", "old-token"),
    )

    assert answer.error_code == "UpstreamMisconfigured"
    assert cams.calls()[0].code == "InvalidSecurityToken.Expired"


def test_the_client_is_rebuilt_when_sts_credentials_rotate(lookup: Any, cams: FakeCams) -> None:
    rotated = Credentials("STS.ROTATED-KEY", "rotated-secret", "rotated-token")
    cams.backend.issue_sts_token(
        "1000000000000001", rotated.access_key_id, rotated.access_key_secret, str(rotated.security_token)
    )

    get(lookup, "/waba", "custSpaceId=demo-approved", credentials=ROLE)
    gateway = built_gateway()
    first = gateway._client
    get(lookup, "/waba", "custSpaceId=demo-approved", credentials=ROLE)
    assert gateway._client is first, "the same credentials reuse the client"
    assert get(lookup, "/waba", "custSpaceId=demo-approved", credentials=rotated).status == 200

    assert gateway._client is not first
    assert [c.access_key_id for c in cams.calls()] == [
        "STS.DEMO-ROLE-KEY",
        "STS.DEMO-ROLE-KEY",
        "STS.ROTATED-KEY",
    ]


@pytest.mark.slow
def test_the_default_chain_is_used_without_context_or_environment_credentials(cams: FakeCams, tmp_path: Path) -> None:
    # The chain reads its environment when imported, so it runs in a process of its own.
    profile = tmp_path / "credentials"
    profile.write_text(
        "[default]\ntype = access_key\naccess_key_id = DEMO-DEVELOPER-KEY\naccess_key_secret = demo-developer-secret\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    environ |= {
        "HOME": str(tmp_path),
        "ALIBABA_CLOUD_CREDENTIALS_FILE": str(profile),
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true",
        "CAMS_ENDPOINT": cams.endpoint,
        "CAMS_PROTOCOL": "http",
        "AUTH_MODE": "none",  # the credentials of the function, not of its callers, are what this test is about
    }
    script = (
        "import json; from local.emulator import Emulator, http_event;"
        "e = Emulator('lookup');"
        "print(json.dumps(e.invoke(http_event('GET', '/waba', 'custSpaceId=demo-approved'))))"
    )

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statusCode"] == 200
    assert cams.calls()[0].access_key_id == "DEMO-DEVELOPER-KEY"


def built_gateway() -> CamsGateway:
    """The lookup instance's gateway, as its first invocation or initializer built it."""
    assert lookup_runtime.current is not None
    return lookup_runtime.current.gateway
