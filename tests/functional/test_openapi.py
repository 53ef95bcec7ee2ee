"""The OpenAPI document: valid OpenAPI 3.1, committed as generated, and what the function really answers.

Every route and error code is in it; every example in it is an answer its schema takes, and those
of the demo data are the function's own answers; the handler's answers to each kind of request
(each status of each route, each error) have the status, headers and body the document gives
them; `GET /openapi.json` serves it without a token or CAMS, and loads it only on its first request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from local import openapi as cli
from local.cams import FakeCams
from local.emulator import ROOT, http_event
from shared.errors import ERROR_TABLE
from shared.lookup import examples
from shared.lookup.app import app
from shared.lookup.openapi import API_VERSION, openapi_document
from tests.helpers import Answer, Env, bearer, call, get

DOCUMENT = openapi_document()
ORIGIN = "https://app.example.com"
"""The origin the tests' environment allows."""
VOLATILE = ("requestId", "camsRequestId", "cachedAt", "checkedAt")


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(DOCUMENT)
    assert DOCUMENT["openapi"] == "3.1.0"


def test_the_committed_document_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")

    assert committed == cli.rendered(), "docs/openapi.json drifted: run `python -m local openapi -o docs/openapi.json`"


def test_its_version_is_the_packages() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    assert DOCUMENT["info"]["version"] == API_VERSION == project["version"]


def test_every_route_is_documented_with_get_and_its_preflight() -> None:
    documented = {path: set(operations) for path, operations in DOCUMENT["paths"].items()}

    assert documented == {
        path: {method.lower() for method in methods} | {"options"} for path, methods in app.routes.items()
    }


def test_every_error_code_is_documented_with_its_own_status() -> None:
    statuses = {error.code: error.status for error in ERROR_TABLE}
    documented: dict[str, set[int]] = {}
    for operation, status, response in responses():
        for code in error_codes(response):
            documented.setdefault(code, set()).add(status)
            assert statuses[code] == status, f"{operation} documents {code} as {status}"
    for response in DOCUMENT["components"]["responses"].values():
        for code in error_codes(response):
            documented.setdefault(code, set()).add(statuses[code])

    assert set(documented) == set(statuses)


def test_every_example_is_an_answer_its_schema_takes() -> None:
    checked = 0
    for operation, status, response in responses():
        for media in response.get("content", {}).values():
            for name, example in media.get("examples", {}).items():
                schema_errors = list(validator(media["schema"]).iter_errors(example["value"]))
                assert not schema_errors, f"{operation} {status} example {name}: {schema_errors[0].message}"
                checked += 1
    for parameter in parameters():
        for example in parameter.get("examples", {}).values():
            jsonschema.validate(example["value"], parameter["schema"])

    assert checked >= 20


def test_the_document_is_served_without_a_token_and_without_cams(lookup: Any, cams: FakeCams) -> None:
    answer = get(lookup, "/openapi.json", headers={"Origin": ORIGIN}, authorization=None)

    assert answer.status == 200
    assert answer.body == DOCUMENT
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert cams.calls() == []
    conforms("/openapi.json", "get", answer)


@pytest.mark.parametrize(
    ("path", "example", "query"),
    [
        ("/waba", examples.WABA_ANSWERS["approved"], "custSpaceId=demo-approved"),
        ("/waba", examples.WABA_ANSWERS["pending"], "custSpaceId=demo-pending"),
        ("/waba/own", examples.OWN_WABA_ANSWERS["own"], ""),
        ("/waba/health", examples.HEALTH_ANSWERS["healthy"], "custSpaceId=demo-approved"),
        ("/waba/health", examples.HEALTH_ANSWERS["degraded"], "custSpaceId=demo-pending"),
        ("/waba/health", examples.HEALTH_ANSWERS["blocked"], "custSpaceId=demo-blocked"),
        ("/waba/health", examples.HEALTH_ANSWERS["unknown"], "custSpaceId=other-space"),
        ("/waba", examples.error_examples(("InvalidParameter",))["InvalidParameter"], ""),
        ("/waba", examples.error_examples(("WabaNotBound",))["WabaNotBound"], "custSpaceId=demo-unbound"),
    ],
)
def test_the_examples_are_the_functions_answers_on_the_demo_data(
    lookup: Any, cams: FakeCams, path: str, example: dict[str, Any], query: str
) -> None:
    answer = get(lookup, path, query)

    assert without_volatile(answer.body) == without_volatile(example["value"])
    assert answer.body.get("stale", False) is False


@pytest.mark.parametrize(
    ("path", "query", "etag"),
    [
        ("/waba", "custSpaceId=demo-approved", examples.WABA_ETAG),
        ("/waba/own", "", examples.OWN_WABA_ETAG),
        ("/waba/health", "custSpaceId=demo-approved", examples.HEALTH_ETAG),
    ],
)
def test_the_etag_examples_are_the_functions_and_revalidate(
    lookup: Any, cams: FakeCams, path: str, query: str, etag: str
) -> None:
    assert get(lookup, path, query).headers["etag"] == etag
    assert get(lookup, path, query, {"If-None-Match": etag}).status == 304


Scenario = Callable[[Any, FakeCams, Env], Answer]


def waba(query: str, **options: Any) -> Scenario:
    return lambda lookup, cams, env: get(lookup, "/waba", query, {"Origin": ORIGIN}, **options)


def failing(fault: Callable[[FakeCams], None], path: str = "/waba", **options: Any) -> Scenario:
    def scenario(lookup: Any, cams: FakeCams, env: Env) -> Answer:
        fault(cams)
        return get(lookup, path, "custSpaceId=demo-approved", {"Origin": ORIGIN}, **options)

    return scenario


def over_the_rate(lookup: Any, cams: FakeCams, env: Env) -> Answer:
    env.setenv("CALLER_RATE_PER_SECOND", "0.001")
    env.setenv("CALLER_BURST", "1")
    get(lookup, "/waba/health", "custSpaceId=demo-approved", authorization=bearer(sub="over-the-rate"))
    return get(lookup, "/waba/health", "custSpaceId=demo-approved", authorization=bearer(sub="over-the-rate"))


def misconfigured(lookup: Any, cams: FakeCams, env: Env) -> Answer:
    env.delenv("AUTH_JWKS")
    return get(lookup, "/waba", "custSpaceId=demo-approved", {"Origin": ORIGIN})


def revalidated(path: str, query: str, etag: str) -> Scenario:
    return lambda lookup, cams, env: get(lookup, path, query, {"If-None-Match": etag})


def requested(method: str, path: str, headers: dict[str, str] | None = None) -> Scenario:
    return lambda lookup, cams, env: call(lookup, http_event(method, path, headers=headers), authorization=None)


PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "if-none-match",
}
SCENARIOS: dict[str, tuple[str, str, int, Scenario]] = {
    "a WABA": ("/waba", "get", 200, waba("custSpaceId=demo-multi")),
    "a WABA CAMS gives more fields": ("/waba", "get", 200, waba("custSpaceId=demo-review-odd")),
    "a WABA revalidated": ("/waba", "get", 304, revalidated("/waba", "custSpaceId=demo-approved", examples.WABA_ETAG)),
    "no space": ("/waba", "get", 400, waba("")),
    "a bad space": ("/waba", "get", 400, waba("custSpaceId=%3Cscript%3E")),
    "an unknown parameter": ("/waba", "get", 400, waba("custSpaceID=demo-approved")),
    "an isvCode": ("/waba", "get", 400, waba("custSpaceId=demo-isv&isvCode=demo-isv-code-0001")),
    "no token": ("/waba", "get", 401, waba("custSpaceId=demo-approved", authorization=None)),
    "a bad token": ("/waba", "get", 401, waba("custSpaceId=demo-approved", authorization="Bearer a.b.c")),
    "no WABA bound": ("/waba", "get", 404, waba("custSpaceId=demo-unbound")),
    "a space of another account": ("/waba", "get", 404, waba("custSpaceId=other-space")),
    "a space outside the token": ("/waba", "get", 404, waba("custSpaceId=demo-approved", authorization=bearer(["x"]))),
    "CAMS throttling": ("/waba", "get", 429, failing(lambda cams: cams.fail_next(4, code="System.LimitControl"))),
    "a setting": ("/waba", "get", 500, misconfigured),
    "CAMS refusing the role": ("/waba", "get", 502, failing(lambda cams: cams.fail_next(1, code="Ram.PermissionDeny"))),
    "CAMS answering garbage": ("/waba", "get", 502, failing(lambda cams: cams.garbage_next(4))),
    "CAMS down": ("/waba", "get", 503, failing(lambda cams: cams.fail_next(4))),
    "the own WABA": ("/waba/own", "get", 200, lambda lookup, cams, env: get(lookup, "/waba/own")),
    "the own WABA to a token for some spaces": (
        "/waba/own",
        "get",
        404,
        lambda lookup, cams, env: get(lookup, "/waba/own", authorization=bearer(["demo-approved"])),
    ),
    "a health with every reason": (
        "/waba/health",
        "get",
        200,
        lambda lookup, cams, env: get(lookup, "/waba/health", "custSpaceId=demo-phone-blocked"),
    ),
    "a health without phone numbers": (
        "/waba/health",
        "get",
        200,
        failing(lambda cams: cams.fail_next(8, code="ServiceUnavailable"), "/waba/health"),
    ),
    "a health revalidated": (
        "/waba/health",
        "get",
        304,
        revalidated("/waba/health", "custSpaceId=demo-approved", examples.HEALTH_ETAG),
    ),
    "a health over the caller's rate": ("/waba/health", "get", 429, over_the_rate),
    "healthz": ("/healthz", "get", 200, requested("GET", "/healthz")),
    "a preflight": ("/waba", "options", 204, requested("OPTIONS", "/waba", PREFLIGHT)),
    "an OPTIONS that is no preflight": ("/waba/health", "options", 204, requested("OPTIONS", "/waba/health")),
    "a preflight from elsewhere": (
        "/waba/own",
        "options",
        403,
        requested("OPTIONS", "/waba/own", {**PREFLIGHT, "Origin": "https://elsewhere.example"}),
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_answer_is_the_documented_one(lookup: Any, cams: FakeCams, env: Env, name: str) -> None:
    path, method, status, scenario = SCENARIOS[name]

    answer = scenario(lookup, cams, env)

    assert answer.status == status, answer.body
    conforms(path, method, answer)


@pytest.mark.slow
def test_a_timeout_is_the_documented_504(lookup: Any, cams: FakeCams) -> None:
    cams.delay_next(5, seconds=3.0)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved", timeout=2)

    assert answer.status == 504
    conforms("/waba", "get", answer)


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("NotFound", requested("GET", "/wabas")),
        ("MethodNotAllowed", requested("POST", "/waba")),
    ],
)
def test_the_answers_of_no_route_are_the_documented_ones(
    lookup: Any, cams: FakeCams, env: Env, name: str, answer: Scenario
) -> None:
    got = answer(lookup, cams, env)

    assert got.body["error"]["code"] == name
    conforms_to(DOCUMENT["components"]["responses"][name], got)


@pytest.mark.slow
def test_the_document_loads_on_its_first_request_not_at_import() -> None:
    probe = (
        "import sys, functions.lookup.index; "
        "print(sorted(m for m in sys.modules if m.startswith('shared.lookup.') or m == 'openapi_spec_validator'))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)

    loaded = json.loads(done.stdout.replace("'", '"'))
    assert "shared.lookup.app" in loaded
    assert not {"shared.lookup.openapi", "shared.lookup.schema", "shared.lookup.examples"} & set(loaded)


def conforms(path: str, method: str, answer: Answer) -> None:
    """The answer's status is documented for the operation, and its headers and body are as documented."""
    responses_of = DOCUMENT["paths"][path][method]["responses"]
    assert str(answer.status) in responses_of, f"{method.upper()} {path} does not document {answer.status}"
    conforms_to(responses_of[str(answer.status)], answer)


def conforms_to(response: dict[str, Any], answer: Answer) -> None:
    response = resolved(response)
    for name, header in response.get("headers", {}).items():
        header = resolved(header)
        value = answer.headers.get(name.lower())
        if value is None:
            assert not header.get("required"), f"{name} is missing"
            continue
        typed = int(value) if header["schema"].get("type") == "integer" else value
        jsonschema.validate(typed, header["schema"])
    content = response.get("content")
    if content is None:
        assert answer.body is None
        return
    validator(content["application/json"]["schema"]).validate(answer.body)


def validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator of `schema`, its `#/components/...` references resolved in the document."""
    root = {**schema, "components": DOCUMENT["components"]}
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def resolved(item: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in item:
        return item
    _, section, name = item["$ref"].removeprefix("#/").split("/")
    found: dict[str, Any] = DOCUMENT["components"][section][name]
    return found


def responses() -> Iterator[tuple[str, int, dict[str, Any]]]:
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                yield f"{method.upper()} {path}", int(status), resolved(response)


def parameters() -> Iterator[dict[str, Any]]:
    for operations in DOCUMENT["paths"].values():
        for operation in operations.values():
            yield from (resolved(parameter) for parameter in operation.get("parameters", []))


def error_codes(response: dict[str, Any]) -> list[str]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    codes: list[str] = (
        schema.get("properties", {}).get("error", {}).get("properties", {}).get("code", {}).get("enum", [])
    )
    return codes


def without_volatile(body: dict[str, Any]) -> dict[str, Any]:
    """The body without what changes with every request: its ids and times (at any depth of `error`)."""
    kept = {key: value for key, value in body.items() if key not in VOLATILE}
    if "error" in kept:
        kept["error"] = without_volatile(kept["error"])
    return kept
