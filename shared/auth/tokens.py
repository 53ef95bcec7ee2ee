"""A bearer token in, a `Caller` out, or `Unauthorized` saying no more than RFC 6750 allows.

Example:
    >>> from shared.settings import load_settings
    >>> from shared.auth.settings import AuthSettings
    >>> settings = load_settings(AuthSettings, {"AUTH_MODE": "none"})
    >>> authenticate(None, "203.0.113.7", settings, now=0.0).key  # doctest: +ELLIPSIS
    {"time": ..., "event": "auth.disabled", ...}
    'ip:203.0.113.7'
    >>> bearer_token("Basic dXNlcjpwYXNz")
    Traceback (most recent call last):
    ...
    shared.errors.Unauthorized: A bearer token is required.

The checks, in order, each failing as 401 `invalid_token`: the token is at most 8 KiB of compact JWS
(three base64url parts, a signature among them); its header names an allowed algorithm (RS256,
ES256) and a `kid` of AUTH_JWKS, and that key was published for that algorithm; the signature holds;
`iss` and `aud` are AUTH_ISSUER and AUTH_AUDIENCE; `exp` is a number not past, `nbf` and `iat` (when
present) numbers not ahead, all with LEEWAY_S of clock skew, on the invocation's own clock, and each
of them a finite time before year 10000; `sub` is a string; the spaces claim is a list of space ids
or a space-separated string of them, `*` for all.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import jwt
from jwt.exceptions import PyJWTError

from shared.auth.keys import ALGORITHMS, key_set
from shared.auth.settings import AuthSettings
from shared.errors import Unauthorized
from shared.logs import log_event

MAX_TOKEN_BYTES = 8 * 1024
VERIFIED_TOKENS = 256
"""How many verified tokens an instance keeps, so as not to check a signature again."""
LEEWAY_S = 30.0
"""Clock skew forgiven on `exp`, `nbf` and `iat`: the issuer's clock and FC's may differ a little."""
MAX_TIME_S = 253_402_300_799
"""The end of year 9999, in seconds since the epoch: the furthest time a token may name."""
MAX_SUB = 256
MAX_SPACES = 1000
EVERY_SPACE = "*"
SPACE_ID_MAX = 64
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_SPACE_ID = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's `sub` (None when AUTH_MODE=none), and the spaces it may read."""

    sub: str | None
    spaces: frozenset[str]
    every_space: bool = False
    key: str = ""
    """What the per-caller limit counts by: `sub:<sub>`, or `ip:<address>` without tokens."""

    def may_read(self, space: str | None) -> bool:
        """Whether this caller may read `space`; None, the account's own WABA, takes `*`."""
        return self.every_space or (space is not None and space in self.spaces)

    def log_fields(self) -> dict[str, Any]:
        """The one thing about the caller a log line carries: its `sub`."""
        return {"sub": self.sub} if self.sub is not None else {}


def authenticate(authorization: str | None, source_ip: str | None, settings: AuthSettings, now: float) -> Caller:
    """The caller of a request: from its bearer token, or, with AUTH_MODE=none, its address alone."""
    if settings.auth_mode == "none":
        _warn_unauthenticated(settings)
        return Caller(None, frozenset(), every_space=True, key=f"ip:{source_ip or 'unknown'}")
    assert settings.auth_jwks is not None  # the settings refuse jwt mode without it
    verified = _recent.get(settings, authorization)
    if verified is None:
        verified = _verified(bearer_token(authorization), settings)
        _recent.keep(settings, authorization, verified)
    return _caller_at(verified, now)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header (the scheme in any case)."""
    if authorization is None or not authorization.strip():
        raise Unauthorized.missing()
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized.missing("scheme")
    token = token.strip()
    if len(token) > MAX_TOKEN_BYTES:
        raise Unauthorized.invalid("too_large")
    if not _COMPACT_JWS.fullmatch(token):
        raise Unauthorized.invalid("malformed")
    return token


def verify_token(token: str, settings: AuthSettings, now: float) -> Caller:
    """The caller a token names, once every check holds; Unauthorized (invalid_token) otherwise."""
    return _caller_at(_verified(token, settings), now)


def _caller_at(verified: _Verified, now: float) -> Caller:
    _check_times(verified.times, now)
    if verified.caller is None:
        raise Unauthorized.invalid("claims")
    return verified.caller


@dataclass(frozen=True)
class _Verified:
    """A token whose signature, issuer and audience hold: its claims, and the caller they name
    (None when its `sub` or its spaces are malformed, which is refused after its times)."""

    claims: Mapping[str, Any]
    caller: Caller | None
    times: _Times


class _RecentTokens:
    """The Authorization headers whose token held last, for one instance's settings, and what each verified to.

    A frontend sends the same header request after request: its signature is what costs, and
    neither the signature nor the claims can change. Only the times are checked again on every
    request; a header whose token fails is never kept. Kept by header, so that a known one is not
    parsed again, and for the settings object it was verified under: new settings start afresh.
    """

    def __init__(self) -> None:
        self._settings: AuthSettings | None = None
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, settings: AuthSettings, authorization: str | None) -> _Verified | None:
        with self._lock:
            if settings is not self._settings or authorization is None:
                return None
            verified = self._verified.get(authorization)
            if verified is not None:
                self._verified.move_to_end(authorization)
            return verified

    def keep(self, settings: AuthSettings, authorization: str | None, verified: _Verified) -> None:
        if authorization is None:
            return
        with self._lock:
            if settings is not self._settings:
                self._settings = settings
                self._verified.clear()
            self._verified[authorization] = verified
            while len(self._verified) > VERIFIED_TOKENS:
                self._verified.popitem(last=False)


_recent = _RecentTokens()


@lru_cache(maxsize=VERIFIED_TOKENS)
def _verified(token: str, settings: AuthSettings) -> _Verified:
    """The claims of a token whose header, key, signature, issuer and audience hold, and its caller.

    Kept per instance for the tokens it verified last: a token sent under another header's
    spelling (`bearer`, spaces) is not verified again either.
    """
    claims = _verified_claims(token, settings)
    times = _times_of(claims)
    try:
        return _Verified(claims, _caller_of(claims, settings.auth_spaces_claim), times)
    except Unauthorized:
        return _Verified(claims, None, times)


def _caller_of(claims: Mapping[str, Any], spaces_claim: str) -> Caller:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 0 < len(sub) <= MAX_SUB:
        raise Unauthorized.invalid("claims")
    spaces, every_space = spaces_of(claims.get(spaces_claim))
    return Caller(sub, spaces, every_space, key=f"sub:{sub}")


def _verified_claims(token: str, settings: AuthSettings) -> Mapping[str, Any]:
    """The claims of a token whose header, key, signature, issuer and audience hold."""
    keys = key_set(settings.auth_jwks or "")
    try:
        header = jwt.get_unverified_header(token)
    except PyJWTError:
        raise Unauthorized.invalid("malformed") from None
    algorithm, kid = header.get("alg"), header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthorized.invalid("no_kid")
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS or "crit" in header:
        raise Unauthorized.invalid("algorithm")
    key = keys.get(kid)
    if key is None:
        raise Unauthorized.invalid("unknown_kid")
    if key.algorithm_name != algorithm:
        raise Unauthorized.invalid("algorithm")
    return MappingProxyType(_decode(token, key, settings))


def _decode(token: str, key: jwt.PyJWK, settings: AuthSettings) -> dict[str, Any]:
    """Signature, `iss` and `aud` by the library; the times are checked on the invocation's clock."""
    options: Any = {
        "require": ["exp", "iss", "aud", "sub"],
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
    }
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[key.algorithm_name],
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
            options=options,
        )
    except jwt.InvalidSignatureError:
        raise Unauthorized.invalid("signature") from None
    except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
        raise Unauthorized.invalid("issuer_or_audience") from None
    except PyJWTError:
        raise Unauthorized.invalid("claims") from None
    if not isinstance(claims, dict) or claims.get("iss") != settings.auth_issuer:
        raise Unauthorized.invalid("issuer_or_audience")
    return claims


@dataclass(frozen=True)
class _Times:
    """A token's `exp`, and its `nbf` and `iat` when present, read once; None for a malformed one."""

    expires: float | None
    starts: tuple[float | None, ...]


def _times_of(claims: Mapping[str, Any]) -> _Times:
    return _Times(_number(claims.get("exp")), tuple(_number(claims[name]) for name in ("nbf", "iat") if name in claims))


def _check_times(times: _Times, now: float) -> None:
    if times.expires is None:
        raise Unauthorized.invalid("claims")
    if times.expires + LEEWAY_S <= now:
        raise Unauthorized.invalid("expired")
    for moment in times.starts:
        if moment is None:
            raise Unauthorized.invalid("claims")
        if moment - LEEWAY_S > now:
            raise Unauthorized.invalid("not_yet_valid")


def _number(value: object) -> float | None:
    """A NumericDate (RFC 7519) within MAX_TIME_S of the epoch; None for anything else, 10**400 included."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int):
        return float(value) if -MAX_TIME_S <= value <= MAX_TIME_S else None
    return value if math.isfinite(value) and -MAX_TIME_S <= value <= MAX_TIME_S else None


def spaces_of(claim: object) -> tuple[frozenset[str], bool]:
    """The spaces a claim names, and whether it names every space (`*`); Unauthorized if malformed.

    >>> spaces_of("space-1 space-2") == (frozenset({"space-1", "space-2"}), False)
    True
    >>> spaces_of(["*"])
    (frozenset(), True)
    """
    if isinstance(claim, str):
        items = claim.split()
    elif isinstance(claim, list) and all(isinstance(item, str) for item in claim):
        items = list(claim)
    else:
        raise Unauthorized.invalid("claims")
    if len(items) > MAX_SPACES:
        raise Unauthorized.invalid("claims")
    spaces = [item for item in items if item != EVERY_SPACE]
    if any(len(space) > SPACE_ID_MAX or not _SPACE_ID.fullmatch(space) for space in spaces):
        raise Unauthorized.invalid("claims")
    return frozenset(spaces), EVERY_SPACE in items


@lru_cache(maxsize=1)
def _warn_unauthenticated(settings: AuthSettings) -> None:
    """Once per instance (its settings are validated once): every caller may read every space."""
    log_event(
        "auth.disabled",
        logging.WARNING,
        message="AUTH_MODE=none: callers are not authenticated; every caller may read every space of the account.",
    )
