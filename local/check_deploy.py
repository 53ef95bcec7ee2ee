"""`python -m local check-deploy` (`make check-deploy`): can `s deploy` deploy from this shell's environment?

s.yaml takes every site-specific value and every secret from the deploying shell. This reads the
same environment, renders s.yaml with it as Serverless Devs would, and names each thing that would
break the deployment or the functions' first start, one line each, never a value:

- every variable s.yaml reads with no default (`${env('AUTH_JWKS')}`) is set and not empty;
- TRIGGER_AUTH_TYPE is `anonymous` (its default) or `jwt`, FC_RUNTIME a runtime the build makes;
- AUTH_JWKS is a JSON Web Key Set the function takes (`shared.auth.keys.key_set`): public RS256 and
  ES256 keys, each with its own `kid`, no private or symmetric key. With `jwt`, the trigger's
  `authConfig.jwks` is the same set, so FC's check trusts exactly the function's keys;
- then each function's environment, as s.yaml renders it, passes the function's own settings check
  and fits in the 4 KB of environment variables FC allows a function.

Exit status 0 when the environment is ready, 1 otherwise. `make build` runs it first, and s.yaml's
`pre-deploy` action runs it before `s deploy` changes anything.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import yaml
from pydantic import BaseModel

from local.build import DEFAULT_VERSION, SUPPORTED
from local.fc_trigger import ROOT, TRIGGER_AUTH_TYPES, resolve
from shared.auth.keys import key_set
from shared.errors import ConfigurationError
from shared.healthcheck.settings import HealthcheckSettings
from shared.lookup.settings import LookupSettings
from shared.settings import load_settings

SETTINGS: Mapping[str, type[BaseModel]] = {"lookup": LookupSettings, "healthcheck": HealthcheckSettings}
"""Each function's settings, as it validates them when an instance starts."""
FC_ENVIRONMENT_BYTES = 4096
"""FC's limit on a function's environment variables, 4 KB in all: counted here as names and values."""
RUNTIMES = tuple(f"python{version}" for version in SUPPORTED)
_ENV_WITHOUT_DEFAULT = re.compile(r"env\(\s*['\"]([A-Za-z0-9_]+)['\"]\s*\)")


def s_yaml() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "s.yaml").read_text())
    return document


def problems(environ: Mapping[str, str], document: Mapping[str, Any]) -> list[str]:
    """What is wrong with `environ` for deploying `document`; empty when it is ready."""
    found = [*unset(environ, document), *choices(environ), *key_set_problems(environ)]
    if found:
        return found  # the functions' own checks would only repeat these
    return [problem for function in SETTINGS for problem in function_problems(function, environ, document)]


def unset(environ: Mapping[str, str], document: Mapping[str, Any]) -> Iterator[str]:
    # Serverless Devs refuses an empty variable as it refuses a missing one, when there is no default.
    for name in dict.fromkeys(required_variables(document)):
        if not environ.get(name):
            yield f"{name} is not set: s.yaml takes it from the deploying shell, with no default"


def required_variables(document: Any) -> Iterator[str]:
    """The variables `document` reads with `${env('NAME')}` and no default, in order of appearance."""
    if isinstance(document, dict):
        for value in document.values():
            yield from required_variables(value)
    elif isinstance(document, list):
        for value in document:
            yield from required_variables(value)
    elif isinstance(document, str):
        yield from _ENV_WITHOUT_DEFAULT.findall(document)


def choices(environ: Mapping[str, str]) -> Iterator[str]:
    if trigger_auth_type(environ) not in TRIGGER_AUTH_TYPES:
        yield "TRIGGER_AUTH_TYPE must be anonymous or jwt (unset: anonymous, the function's own check alone)"
    if (environ.get("FC_RUNTIME") or f"python{DEFAULT_VERSION}") not in RUNTIMES:
        yield f"FC_RUNTIME must be {' or '.join(RUNTIMES)} (unset: python{DEFAULT_VERSION})"


def trigger_auth_type(environ: Mapping[str, str]) -> str:
    return environ.get("TRIGGER_AUTH_TYPE") or TRIGGER_AUTH_TYPES[0]


def key_set_problems(environ: Mapping[str, str]) -> Iterator[str]:
    text = environ.get("AUTH_JWKS")
    if not text:
        return  # reported as unset
    try:
        key_set(text)
    except ValueError as broken:  # names the key by its position and the rule, never a value
        yield f"AUTH_JWKS {broken}"


def function_problems(function: str, environ: Mapping[str, str], document: Mapping[str, Any]) -> Iterator[str]:
    environment = function_environment(function, environ, document)
    try:
        load_settings(SETTINGS[function], environment)
    except ConfigurationError as invalid:
        yield f"the {function} function would not start: {invalid.message}"
    size = environment_bytes(environment)
    if size > FC_ENVIRONMENT_BYTES:
        yield (
            f"the {function} function's environment variables take {size} bytes, over the "
            f"{FC_ENVIRONMENT_BYTES} FC allows (AUTH_JWKS: {len(environment.get('AUTH_JWKS', '').encode())} bytes; "
            "drop keys no longer in use, and whitespace)"
        )


def function_environment(function: str, environ: Mapping[str, str], document: Mapping[str, Any]) -> dict[str, str]:
    """`function`'s environmentVariables, as s.yaml renders them with `environ`."""
    props = document["resources"][function]["props"]
    rendered = resolve(props.get("environmentVariables") or {}, document, environ)
    return {str(name): str(value) for name, value in rendered.items()}


def environment_bytes(environment: Mapping[str, str]) -> int:
    return sum(len(name.encode()) + len(value.encode()) for name, value in environment.items())


def summary(environ: Mapping[str, str]) -> str:
    """What will be deployed, for the operator to read: kids and algorithms, public by nature."""
    keys = key_set(environ["AUTH_JWKS"])
    trusted = ", ".join(f"{kid} ({key.algorithm_name})" for kid, key in keys.items())
    checks = {"anonymous": "the function's own check alone", "jwt": "FC's JWT check, then the function's"}
    mode = trigger_auth_type(environ)
    return f"ready to deploy: trigger {mode} ({checks[mode]}); AUTH_JWKS of {len(keys)} key(s): {trusted}"


def notes(environ: Mapping[str, str]) -> Iterator[str]:
    if trigger_auth_type(environ) == "jwt" and environ.get("CORS_ALLOWED_ORIGINS"):
        yield (
            "note: with TRIGGER_AUTH_TYPE=jwt, pages on CORS_ALLOWED_ORIGINS cannot read FC's own 401s "
            "(an expired token looks like a network error to them); anonymous lets them read the function's"
        )


def main(argv: list[str], environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local check-deploy", description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    environ = dict(os.environ if environ is None else environ)
    found = problems(environ, s_yaml())
    if found:
        print(f"check-deploy: {len(found)} problem(s) in this shell's environment:", file=sys.stderr)
        for problem in found:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"check-deploy: {summary(environ)}")
    for note in notes(environ):
        print(f"check-deploy: {note}")
    return 0
