"""The SDK's deferred libraries (`shared.deferred`), in fresh interpreters as an FC instance starts:
kept out of a cold start and of a synchronous call, and working when used (an asynchronous call,
a credentials refresh through the official chain, the ECS provider's background refresher). Every
call to CAMS is checked by the fake: its V3 signature and its STS token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local.cams import FakeCams
from local.emulator import ROOT
from shared.deferred import DEFERRED
from tests.helpers import ROLE

pytestmark = pytest.mark.slow

ACCOUNT = "1000000000000001"

# Every script starts as an entry point does: importing the function's index installs the deferral.
PRELUDE = """
import asyncio, json, os, sys, types
from functions.lookup import index
from shared import deferred

def deferred_now():
    return sorted(name for name, module in sys.modules.items() if deferred.is_deferred(module))

def executed_now():
    tops = set(deferred.DEFERRED)
    return sorted(name for name, module in sys.modules.items()
                  if name.partition(".")[0] in tops and not deferred.is_deferred(module))

def context(n, credentials=None):
    fields = dict(request_id="req-%d" % n, region="ap-southeast-1", account_id="1000000000000001",
                  function=types.SimpleNamespace(name="waba-lookup", timeout=10, handler="index.handler"))
    if credentials:
        fields["credentials"] = types.SimpleNamespace(**credentials)
    return types.SimpleNamespace(**fields)

def event(path, query):
    return json.dumps({"version": "v1", "rawPath": path, "headers": {}, "queryParameters": query,
                       "requestContext": {"http": {"method": "GET", "path": path, "sourceIp": "127.0.0.1"}}}).encode()
"""


def run_script(body: str, environ: dict[str, str]) -> dict[str, Any]:
    """Run PRELUDE + `body` in a fresh interpreter at the repository's root; its last line of JSON."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "CAMS_", "AUTH_"))}
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + body],
        cwd=ROOT,
        env={**clean, "AUTH_MODE": "none", **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def fake_environ(cams: FakeCams, **extra: str) -> dict[str, str]:
    return {
        "CAMS_ENDPOINT": cams.endpoint,
        "CAMS_PROTOCOL": "http",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        **extra,
    }


ROLE_JSON = json.dumps(
    {
        "access_key_id": ROLE.access_key_id,
        "access_key_secret": ROLE.access_key_secret,
        "security_token": ROLE.security_token,
    }
)


def test_a_cold_start_and_a_synchronous_answer_leave_them_unexecuted(cams: FakeCams) -> None:
    report = run_script(
        f"""
at_import = executed_now()
index.initialize(context(0, {ROLE_JSON}))
answer = index.handler(event("/waba", {{"custSpaceId": "demo-approved"}}), context(1, {ROLE_JSON}))
print(json.dumps({{"at_import": at_import, "after_answer": executed_now(), "deferred": deferred_now(),
                  "status": answer["statusCode"],
                  "cams_sdk": sorted(n for n in sys.modules if n.startswith("alibabacloud_cams20200606"))}}))
""",
        fake_environ(cams),
    )

    assert report["status"] == 200
    assert report["at_import"] == report["after_answer"] == []
    assert set(DEFERRED) <= set(report["deferred"])
    assert report["cams_sdk"] == [], "the generated CAMS client and its models are never imported"
    assert [(c.access_key_id, c.code) for c in cams.calls()] == [("STS.DEMO-ROLE-KEY", "OK")]


def test_an_asynchronous_call_through_the_openapi_client_loads_aiohttp_and_is_signed(cams: FakeCams) -> None:
    report = run_script(
        f"""
from alibabacloud_tea_openapi.client import Client
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest
from darabonba.runtime import RuntimeOptions
import darabonba.response
from shared.operations import QUERY_CHATAPP_BIND_WABA
role = {ROLE_JSON}
before = executed_now()
client = Client(Config(endpoint=os.environ["CAMS_ENDPOINT"], protocol="http", **role))
request = OpenApiRequest(query={{"CustSpaceId": "demo-approved"}})
answer = asyncio.run(client.call_api_async(QUERY_CHATAPP_BIND_WABA.params, request, RuntimeOptions()))
import aiohttp
bound = darabonba.response.ClientResponse
print(json.dumps({{"before": before, "code": answer["body"]["Code"], "waba": answer["body"]["Data"]["Id"],
                  "aiohttp_deferred": deferred.is_deferred(sys.modules["aiohttp"]),
                  "bound_is_real": bound.resolve() is aiohttp.ClientResponse,
                  "isinstance_works": isinstance(object(), bound) is False}}))
""",
        fake_environ(cams),
    )

    assert report["before"] == []
    assert (report["code"], report["waba"]) == ("OK", "200000000000101")
    assert report["aiohttp_deferred"] is False
    assert report["bound_is_real"] is True
    assert report["isinstance_works"] is True
    assert [(c.access_key_id, c.code) for c in cams.calls()] == [("STS.DEMO-ROLE-KEY", "OK")]


@pytest.fixture
def credentials_uri(cams: FakeCams) -> Iterator[str]:
    """A credentials URI (as ALIBABA_CLOUD_CREDENTIALS_URI names one) that hands out new STS credentials
    on every request, each known to the fake CAMS and due to expire within the chain's 15 minutes, so
    that the chain refreshes them on every use."""
    served: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(len(served) + 1)
            n = served[-1]
            key, secret, token = f"STS.URI-KEY-{n}", f"uri-secret-{n}", f"uri-token-{n}"
            cams.backend.issue_sts_token(ACCOUNT, key, secret, token)
            expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300))
            body = json.dumps(
                {
                    "Code": "Success",
                    "AccessKeyId": key,
                    "AccessKeySecret": secret,
                    "SecurityToken": token,
                    "Expiration": expiration,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/credentials"
    finally:
        server.shutdown()
        server.server_close()


def test_the_default_chain_refreshes_its_credentials_synchronously_and_asynchronously(
    cams: FakeCams, credentials_uri: str, tmp_path: Path
) -> None:
    report = run_script(
        """
statuses = [index.handler(event("/waba", {"custSpaceId": space}), context(n))["statusCode"]
            for n, space in enumerate(("demo-approved", "demo-pending"))]
synchronous = executed_now()
from alibabacloud_credentials.client import Client as Chain
credential = asyncio.run(Chain().get_credential_async())
print(json.dumps({"statuses": statuses, "synchronous": synchronous, "async_key": credential.access_key_id,
                  "aiohttp_deferred": deferred.is_deferred(sys.modules["aiohttp"])}))
""",
        fake_environ(
            cams,
            ALIBABA_CLOUD_CREDENTIALS_URI=credentials_uri,
            ALIBABA_CLOUD_CLI_PROFILE_DISABLED="true",
            ALIBABA_CLOUD_CREDENTIALS_FILE=str(tmp_path / "none"),
            HOME=str(tmp_path),
        ),
    )

    assert report["statuses"] == [200, 200]
    assert report["synchronous"] == [], "a synchronous refresh runs no deferred library"
    assert [(c.access_key_id, c.code) for c in cams.calls()] == [("STS.URI-KEY-1", "OK"), ("STS.URI-KEY-2", "OK")]
    assert report["async_key"] == "STS.URI-KEY-3", "the asynchronous refresh went through aiohttp"
    assert report["aiohttp_deferred"] is False


def test_the_ecs_providers_background_refresher_is_the_real_scheduler() -> None:
    report = run_script(
        """
import threading
from alibabacloud_credentials.provider.ecs_ram_role import EcsRamRoleCredentialsProvider, BackgroundScheduler
before = deferred.is_deferred(sys.modules["apscheduler.schedulers.background"])
EcsRamRoleCredentialsProvider(role_name="demo-role", async_update_enabled=True)
from apscheduler.schedulers.background import BackgroundScheduler as Real
threads = [t.name for t in threading.enumerate()]
print(json.dumps({"before": before, "resolved": BackgroundScheduler.resolve() is Real,
                  "scheduler_thread": any("APScheduler" in name for name in threads)}))
os._exit(0)
""",
        {},
    )

    assert report == {"before": True, "resolved": True, "scheduler_thread": True}
