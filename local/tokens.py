"""Demo tokens for the local harness: `python -m local token --spaces demo-approved [--sub alice] [--ttl 3600]`.

DEMO ONLY. The key pair (`local/demo_jwt_private_key.pem`, its public half in `local/demo_jwks.json`)
is published in this repository, so a token it signs proves nothing: `make serve` trusts it, no
deployment ever does (s.yaml takes its keys from the deploying shell, and `local/` is never packaged).

    >>> token = demo_token(["demo-approved"], sub="alice", now=1_790_000_000)
    >>> token.count(".")
    2
    >>> refused_spaces(["demo-approved", "*", "<script>", "x" * 65])
    ['<script>', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx']
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from shared.auth.tokens import MAX_SPACES, spaces_of
from shared.errors import Unauthorized

HERE = Path(__file__).resolve().parent
DEMO_PRIVATE_KEY = HERE / "demo_jwt_private_key.pem"
DEMO_JWKS = HERE / "demo_jwks.json"
DEMO_ISSUER = "https://issuer.demo.invalid"
DEMO_AUDIENCE = "waba-lookup-demo"
DEFAULT_TTL_S = 3600
SPACE_RULE = "1 to 64 characters from A-Z, a-z, 0-9, '_' and '-', or '*' for every space"


@lru_cache(maxsize=1)
def demo_jwks() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DEMO_JWKS.read_text())
    return document


@lru_cache(maxsize=1)
def demo_private_key() -> RSAPrivateKey:
    key = serialization.load_pem_private_key(DEMO_PRIVATE_KEY.read_bytes(), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


def demo_kid() -> str:
    return str(demo_jwks()["keys"][0]["kid"])


def demo_environ() -> dict[str, str]:
    """The variables that make the function and the emulated trigger trust the demo key.

    s.yaml gives the function AUTH_JWKS and the trigger's authConfig.jwks the same set.
    """
    [key] = demo_jwks()["keys"]
    return {
        "AUTH_JWKS": json.dumps({"keys": [key]}, separators=(",", ":")),
        "AUTH_ISSUER": DEMO_ISSUER,
        "AUTH_AUDIENCE": DEMO_AUDIENCE,
    }


def sign(claims: Mapping[str, Any], key: Any, *, algorithm: str = "RS256", kid: str | None = None) -> str:
    """A compact JWS of `claims`, with `kid` in its header when given."""
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(dict(claims), key, algorithm=algorithm, headers=headers)


def demo_claims(
    spaces: Sequence[str],
    *,
    sub: str = "demo-user",
    ttl_s: int = DEFAULT_TTL_S,
    now: float | None = None,
    issuer: str = DEMO_ISSUER,
    audience: str = DEMO_AUDIENCE,
    spaces_claim: str = "cams_spaces",
) -> dict[str, Any]:
    issued = int(time.time() if now is None else now)
    return {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
        spaces_claim: list(spaces),
    }


def demo_token(
    spaces: Sequence[str], *, sub: str = "demo-user", ttl_s: int = DEFAULT_TTL_S, now: float | None = None
) -> str:
    """A token signed by the demo key, for the demo issuer and audience, naming `spaces`."""
    claims = demo_claims(
        spaces, sub=sub, ttl_s=ttl_s, now=now, spaces_claim=os.environ.get("AUTH_SPACES_CLAIM") or "cams_spaces"
    )
    return sign(claims, demo_private_key(), kid=demo_kid())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local token",
        description="Print a DEMO token for `make serve`, signed by the demo key (never trusted by a deployment).",
    )
    parser.add_argument(
        "--spaces",
        nargs="+",
        required=True,
        help="the custSpaceIds the caller may read ('*': every space); commas also separate them",
    )
    parser.add_argument("--sub", default="demo-user", help="the caller's subject (default: demo-user)")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_S, help="seconds until it expires (default: 3600)")
    args = parser.parse_args(argv)
    spaces = [space for item in args.spaces for space in item.split(",") if space]
    problem = spaces_problem(spaces)
    if problem is not None:
        parser.error(problem)  # exits 2, as for any other bad argument
    print(demo_token(spaces, sub=args.sub, ttl_s=args.ttl))
    return 0


def spaces_problem(spaces: Sequence[str]) -> str | None:
    """Why the function would refuse a token naming `spaces` (every request a 401), or None."""
    if not spaces:
        return "--spaces names no space"
    if len(spaces) > MAX_SPACES:
        return f"--spaces names {len(spaces)} spaces; a token may name at most {MAX_SPACES}"
    refused = refused_spaces(spaces)
    if refused:
        shown = ", ".join(repr(space) for space in refused[:5]) + (", ..." if len(refused) > 5 else "")
        return f"the function refuses the space id(s) {shown}: each must be {SPACE_RULE}"
    return None


def refused_spaces(spaces: Sequence[str]) -> list[str]:
    """The ids the function's own check of the spaces claim refuses (`shared.auth.tokens.spaces_of`)."""
    refused = []
    for space in spaces:
        try:
            spaces_of([space])
        except Unauthorized:
            refused.append(space)
    return refused
