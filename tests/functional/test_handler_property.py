"""No event, however malformed, makes the lookup handler raise or answer without JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.cams import FakeCams
from local.emulator import http_event
from tests.helpers import EC_KID, RSA_KID, bearer, call, context


def test_a_malformed_event_is_a_json_400(lookup: Any) -> None:
    answer = call(lookup, b"{ not json")

    assert (answer.status, answer.error_code) == (400, "InvalidRequest")


# --- property: no event, however malformed, makes the handler raise or answer without JSON -------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
# Lone surrogates too: JSON's \ud800 escape makes them, and UTF-8 cannot encode them.
texts = st.text(max_size=80) | st.text(st.characters(exclude_categories=()), max_size=20)


def nested(depth: int) -> object:
    document: object = "bottom"
    for level in range(depth):
        document = [document] if level % 2 else {"n": document}
    return document


deep = st.integers(min_value=20, max_value=400).map(nested)
# Deeper than any JSON encoder would write: built as text.
deep_text = st.integers(min_value=100, max_value=5000).map(
    lambda depth: (
        '{"requestContext": {"http": {"method": "GET", "path": "/waba"}}, "x": '
        + '{"n": [' * depth
        + "1"
        + "]}" * depth
        + "}"
    )
)
methods = st.sampled_from(["GET", "OPTIONS", "POST", "HEAD", "get", "", " "]) | texts
paths = st.sampled_from(["/waba", "/healthz", "/waba/", "/", "//waba", "/%00"]) | texts
queries = st.dictionaries(
    st.sampled_from(["custSpaceId", "isvCode", "x"]) | texts,
    st.sampled_from(["demo-approved", "demo-unbound", "", "a,b"]) | texts | json_values,
    max_size=3,
)
headers = st.dictionaries(
    st.sampled_from(["origin", "Origin", "access-control-request-method", "authorization"]) | texts,
    texts | json_values,
    max_size=4,
)
http_like = st.fixed_dictionaries(
    {},
    optional={
        "version": json_values,
        "rawPath": paths | json_values,
        "body": texts | json_values,
        "isBase64Encoded": st.booleans() | json_values,
        "headers": headers | json_values,
        "queryParameters": queries | json_values,
        "requestContext": st.fixed_dictionaries(
            {},
            optional={
                "http": st.fixed_dictionaries(
                    {}, optional={"method": methods | json_values, "path": paths | json_values}
                )
                | json_values,
                "requestId": texts | json_values,
            },
        )
        | json_values,
    },
)
events = (
    http_like
    | st.tuples(http_like, deep).map(lambda pair: {**pair[0], "headers": pair[1]})
    | deep_text
    | deep_text.map(str.encode)
    | http_like
    | http_like.map(lambda e: json.dumps(e).encode())
    | json_values
    | st.binary(max_size=64)
    | texts
    | http_like.map(lambda e: base64.b64encode(json.dumps(e).encode()))
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=events)
def test_no_event_makes_the_handler_raise_or_answer_without_json(lookup: Any, cams: FakeCams, event: Any) -> None:
    raw = lookup(event, context())

    assert set(raw) == {"statusCode", "headers", "isBase64Encoded", "body"}
    assert isinstance(raw["statusCode"], int)
    assert 200 <= raw["statusCode"] < 600
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in raw["headers"].items())
    if raw["statusCode"] != 204:
        body = json.loads(raw["body"])
        assert ("error" in body) == (raw["statusCode"] >= 400)
        if "error" in body:
            assert set(body["error"]) >= {"code", "message", "requestId"}
            assert "Traceback" not in raw["body"]


# --- property: no Authorization header, however malformed, gets past the token check ---------------


def _segment(value: object) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


VALID_TOKEN = bearer().split()[1]
jose_headers = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(["RS256", "ES256", "HS256", "none", "None", "RS512", ""]) | json_values,
        "kid": st.sampled_from([RSA_KID, EC_KID, "", "other"]) | json_values,
        "typ": st.just("JWT") | json_values,
        "crit": json_values,
    },
)
forged = st.tuples(jose_headers | json_values, json_values, st.binary(max_size=300)).map(
    lambda parts: f"{_segment(parts[0])}.{_segment(parts[1])}.{_segment(parts[2])}"
)
authorizations = (
    texts
    | st.text(max_size=9000)
    | st.builds(
        lambda scheme, rest: f"{scheme} {rest}", st.sampled_from(["Bearer", "bearer", "BEARER", "Basic"]), texts
    )
    | forged.map(lambda t: f"Bearer {t}")
    | st.integers(0, len(VALID_TOKEN) - 1).map(lambda cut: f"Bearer {VALID_TOKEN[:cut]}")
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(authorization=authorizations, path=st.sampled_from(["/waba", "/waba/own"]))
def test_no_authorization_header_gets_anything_but_401(
    lookup: Any, cams: FakeCams, authorization: str, path: str
) -> None:
    event = http_event(
        "GET", path, "custSpaceId=demo-approved" if path == "/waba" else "", {"Authorization": authorization}
    )
    answer = call(lookup, event, authorization=None)

    assert answer.status in (401, 400), answer.body
    if answer.status == 401:
        assert answer.headers["www-authenticate"] in ("Bearer", 'Bearer error="invalid_token"')
    assert cams.journal == []
