"""AUTH_JWKS: the public keys that may sign a caller's token, each bound to one algorithm by its `kid`.

Example:
    >>> import json
    >>> key_set(json.dumps({"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}))
    Traceback (most recent call last):
    ...
    ValueError: key 0 holds private or symmetric key material; AUTH_JWKS takes public keys only

Only RS256 (RSA keys of 2048 bits or more) and ES256 (EC keys on P-256) are taken: never `none`,
never an HMAC algorithm, whose "public" key would be the secret. A key's algorithm is its `alg`, or
the one its type implies; a token must name that same algorithm. Every key needs a `kid`, unique in
the set. Errors name the key by its position and the rule it breaks, never a value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWTError

ALGORITHMS = {"RS256": "RSA", "ES256": "EC"}
"""The algorithms a token may use, and the key type each needs."""
MIN_RSA_BITS = 2048
MAX_KID = 128
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
"""JWK members of private or symmetric keys (RFC 7518, section 6): a set holding one is refused whole."""


@lru_cache(maxsize=4)
def key_set(text: str) -> Mapping[str, PyJWK]:
    """The keys of a JWKS document by `kid`; ValueError names the first rule the document breaks."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("is not JSON") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError('must be a JSON Web Key Set, {"keys": [...]}, with at least one key')
    found: dict[str, PyJWK] = {}
    for position, jwk in enumerate(keys):
        kid, key = _public_key(position, jwk)
        if kid in found:
            raise ValueError(f"key {position} repeats the kid of another key")
        found[kid] = key
    return MappingProxyType(found)


def _public_key(position: int, jwk: object) -> tuple[str, PyJWK]:
    where = f"key {position}"
    if not isinstance(jwk, dict):
        raise ValueError(f"{where} is not a JSON object")
    if PRIVATE_MEMBERS & set(jwk):
        raise ValueError(f"{where} holds private or symmetric key material; AUTH_JWKS takes public keys only")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID:
        raise ValueError(f"{where} needs a kid of 1 to {MAX_KID} characters")
    algorithm = _algorithm_of(jwk)
    if algorithm not in ALGORITHMS or ALGORITHMS[algorithm] != jwk.get("kty"):
        raise ValueError(f"{where} is not an RS256 (RSA) or ES256 (EC P-256) key")
    if jwk.get("use", "sig") != "sig" or not _may_verify(jwk.get("key_ops")):
        raise ValueError(f"{where} is not published for signatures")
    if jwk.get("kty") == "EC" and jwk.get("crv") != "P-256":
        raise ValueError(f"{where} is an EC key on another curve than P-256")
    try:
        key = PyJWK(dict(jwk), algorithm)
    except (PyJWTError, ValueError, TypeError, KeyError):  # the library's messages may hold the key: never passed on
        raise ValueError(f"{where} is not a valid {algorithm} public key") from None
    if jwk.get("kty") == "RSA" and getattr(key.key, "key_size", 0) < MIN_RSA_BITS:
        raise ValueError(f"{where} is an RSA key shorter than {MIN_RSA_BITS} bits")
    return kid, key


def _algorithm_of(jwk: dict[str, Any]) -> str | None:
    algorithm = jwk.get("alg")
    if algorithm is not None:
        return algorithm if isinstance(algorithm, str) else None
    return {"RSA": "RS256", "EC": "ES256"}.get(str(jwk.get("kty")))


def _may_verify(operations: object) -> bool:
    return operations is None or (isinstance(operations, list) and "verify" in operations)
