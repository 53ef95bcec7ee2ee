"""Verification of the ACS3-HMAC-SHA256 (V3) signature, as CAMS checks each request.

The canonical request is rebuilt from what arrived: the query parsed and re-encoded (the SDK sends
a space as `+` but signs it as `%20`), and the headers named in SignedHeaders, not a fixed list.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote

from local.cams import exceptions
from local.cams.models import Identity

ALGORITHM = "ACS3-HMAC-SHA256"
MAX_CLOCK_SKEW_S = 15 * 60


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str | None) -> Authorization:
    if not header:
        raise exceptions.incomplete_signature("The Authorization header is missing.")
    algorithm, _, rest = header.partition(" ")
    if algorithm != ALGORITHM:
        raise exceptions.incomplete_signature(f"Only {ALGORITHM} is accepted.")
    parts = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    credential, signed, signature = (
        parts.get("Credential"),
        parts.get("SignedHeaders"),
        parts.get("Signature"),
    )
    if not credential or not signed or not signature:
        raise exceptions.incomplete_signature("Credential, SignedHeaders and Signature are required.")
    return Authorization(credential, tuple(signed.split(";")), signature)


def canonical_query(raw_query: str) -> str:
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_request(
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    payload_hash: str,
) -> str:
    names = sorted(signed_headers)
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in names)
    return "\n".join(
        [
            method.upper(),
            path or "/",
            canonical_query(raw_query),
            canonical_headers,
            ";".join(names),
            payload_hash,
        ]
    )


def sign(secret: str, canonical: str) -> str:
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def verify(
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    find_identity: Callable[[str], Identity | None],
    use_nonce: Callable[[str], bool],
) -> Identity:
    """Check one request as CAMS would and return whose it is; raise the real error code if not.

    `headers` must have lower-case names.
    """
    auth = parse_authorization(headers.get("authorization"))
    identity = find_identity(auth.access_key_id)
    if identity is None:
        raise exceptions.access_key_not_found()
    unsigned = [n for n in headers if n.startswith("x-acs-") and n not in auth.signed_headers]
    if unsigned:
        raise exceptions.incomplete_signature(f"Header {unsigned[0]} is not signed.")
    payload_hash = hashlib.sha256(body).hexdigest()
    if headers.get("x-acs-content-sha256") != payload_hash:
        raise exceptions.incomplete_signature("x-acs-content-sha256 does not match the body.")
    _check_date(headers.get("x-acs-date"))
    expected = sign(
        identity.secret,
        canonical_request(method, path, raw_query, headers, auth.signed_headers, payload_hash),
    )
    if not hmac.compare_digest(expected, auth.signature):
        raise exceptions.signature_does_not_match()
    _check_token(identity, headers.get("x-acs-security-token"))
    nonce = headers.get("x-acs-signature-nonce")
    if not nonce:
        raise exceptions.incomplete_signature("x-acs-signature-nonce is required.")
    if not use_nonce(nonce):
        raise exceptions.nonce_used()
    return identity


def _check_date(value: str | None) -> None:
    if not value:
        raise exceptions.incomplete_signature("x-acs-date is required.")
    try:
        sent = float(calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        try:
            sent = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            raise exceptions.incomplete_signature("x-acs-date is not a date.") from None
    if abs(time.time() - sent) > MAX_CLOCK_SKEW_S:
        raise exceptions.timestamp_expired()


def _check_token(identity: Identity, token: str | None) -> None:
    if identity.security_token is None:
        return
    if not token:
        raise exceptions.missing_security_token()
    if not hmac.compare_digest(token, identity.security_token):
        raise exceptions.security_token_mismatch()
    if identity.expires_at is not None and time.time() >= identity.expires_at:
        raise exceptions.security_token_expired()
