"""FC's own JWT check of an HTTP trigger, played in front of the function as `s.yaml` configures it.

With `authType: jwt` (`TRIGGER_AUTH_TYPE=jwt`; s.yaml's default is `anonymous`), FC verifies the
token against the trigger's `authConfig` before it invokes the function (and does not charge for
what it refuses). This module reads that configuration from `s.yaml`, resolving its
`${env('X', 'default')}` (an empty variable counts as unset), `${json(...)}`, `${vars.x}` and
`${config('AccountID')}` templates as Serverless Devs would, and applies it to each request
`serve()` receives:

- `whitelist` paths (a trailing `*` matches a prefix) pass unchecked; with a `blacklist`, only its
  paths are checked.
- `tokenLookup` says where the token is: a header (its `prefix`, such as `Bearer `, removed), a
  query parameter or a cookie.
- The token must be signed by a key of `jwks`, every key of AUTH_JWKS (chosen by `kid`; a key
  without one serves tokens without one), with the key's algorithm, and be within its `exp` and
  `nbf`. FC's documentation names no issuer or audience check, so none is made here: the function
  makes them.
- `claimPassBy` copies claims into request headers, replacing a client's header of the same name.
- Refused requests get 401 and a JSON body, without CORS headers: FC's own answer carries none, as
  far as its documentation says, so a browser cannot read it.

Whether FC lets a CORS preflight (OPTIONS, which never carries a token) through its check is not
documented: `preflight="pass"` lets it through to the function, `preflight="block"` checks it like
any other request, and so refuses it. See docs/security.md.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

import jwt
from jwt.exceptions import PyJWTError

ROOT = Path(__file__).resolve().parent.parent
PREFLIGHT_BEHAVIOURS = ("pass", "block")
Preflight = Literal["pass", "block"]
TRIGGER_AUTH_TYPES = ("anonymous", "jwt")
"""What s.yaml's TRIGGER_AUTH_TYPE may say; the first is its default."""
_TEMPLATE = re.compile(r"\$\{([^}]*)\}")
_ENV_CALL = re.compile(r"env\(\s*['\"]([^'\"]+)['\"]\s*(?:,\s*['\"]([^'\"]*)['\"]\s*)?\)")
_JSON_CALL = re.compile(r"json\((.*)\)", re.DOTALL)


class TriggerRejected(Exception):
    """FC's check refused the request: the function is not invoked."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> bytes:
        return json.dumps({"Code": "Unauthorized", "Message": self.message}).encode()


@dataclass(frozen=True)
class TokenLookup:
    position: str
    name: str
    prefix: str = ""


@dataclass(frozen=True)
class ClaimPassBy:
    claim: str
    name: str
    position: str


@dataclass(frozen=True)
class TriggerAuth:
    """One HTTP trigger's authentication, as FC applies it before the function runs."""

    auth_type: str = "anonymous"
    keys: Mapping[str | None, jwt.PyJWK] = field(default_factory=dict)
    lookups: tuple[TokenLookup, ...] = ()
    pass_by: tuple[ClaimPassBy, ...] = ()
    whitelist: tuple[str, ...] = ()
    blacklist: tuple[str, ...] = ()
    preflight: Preflight = "pass"

    def check(self, method: str, path: str, headers: Mapping[str, str], query: str) -> dict[str, str]:
        """The headers the function receives (claims passed by, if any); TriggerRejected if refused."""
        passed = dict(headers)
        if self.auth_type != "jwt" or not self._guarded(path):
            return passed
        if method.upper() == "OPTIONS" and self.preflight == "pass":
            return passed
        token = self._token(headers, query)
        if token is None:
            raise TriggerRejected(401, "The request carries no token where the trigger looks for one.")
        claims = self._verify(token)
        for rule in self.pass_by:
            if rule.position != "header" or rule.claim not in claims:
                continue
            value = claims[rule.claim]
            for name in [name for name in passed if name.lower() == rule.name.lower()]:
                del passed[name]
            passed[rule.name] = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return passed

    def _guarded(self, path: str) -> bool:
        if self.blacklist:
            return any(_matches(pattern, path) for pattern in self.blacklist)
        return not any(_matches(pattern, path) for pattern in self.whitelist)

    def _token(self, headers: Mapping[str, str], query: str) -> str | None:
        lowered = {name.lower(): value for name, value in headers.items()}
        for lookup in self.lookups:
            value: str | None = None
            if lookup.position == "header":
                value = lowered.get(lookup.name.lower())
            elif lookup.position == "query":
                value = dict(parse_qsl(query, keep_blank_values=True)).get(lookup.name)
            elif lookup.position == "cookie":
                morsel = SimpleCookie(lowered.get("cookie", "")).get(lookup.name)
                value = morsel.value if morsel is not None else None
            if value is not None and value.startswith(lookup.prefix) and value[len(lookup.prefix) :]:
                return value[len(lookup.prefix) :]
        return None

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            key = self.keys.get(kid if isinstance(kid, str) else None)
            if key is None or header.get("alg") != key.algorithm_name:
                raise TriggerRejected(401, "The token is not signed by a key of the trigger.")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                options={"verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False},
            )
        except PyJWTError:
            raise TriggerRejected(401, "The token failed the trigger's JWT check.") from None
        return claims


def _matches(pattern: str, path: str) -> bool:
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path.rstrip("/") == pattern.rstrip("/") or path == pattern


def trigger_auth(
    function: str = "lookup",
    *,
    environ: Mapping[str, str] | None = None,
    preflight: Preflight = "pass",
    auth_type: str | None = None,
) -> TriggerAuth:
    """The HTTP trigger's authentication of `function` as `s.yaml` declares it, in `environ`'s terms.

    `auth_type` overrides the file's `authType` (`anonymous`: no check at all).
    """
    import yaml  # a development dependency: the emulator is never deployed

    document = yaml.safe_load((ROOT / "s.yaml").read_text())
    props = ((document.get("resources") or {}).get(function) or {}).get("props") or {}
    environ = os.environ if environ is None else environ
    triggers = [t for t in resolve(props.get("triggers") or [], document, environ) if t.get("triggerType") == "http"]
    if not triggers:
        return TriggerAuth(auth_type or "anonymous", preflight=preflight)
    config = triggers[0].get("triggerConfig") or {}
    chosen = auth_type or str(config.get("authType", "anonymous"))
    if chosen not in TRIGGER_AUTH_TYPES:
        raise ValueError(f"TRIGGER_AUTH_TYPE must be {' or '.join(TRIGGER_AUTH_TYPES)} (unset: anonymous)")
    if chosen != "jwt":
        return TriggerAuth(chosen, preflight=preflight)
    auth = config.get("authConfig") or {}
    return TriggerAuth(
        "jwt",
        keys=_keys(auth.get("jwks")),
        lookups=tuple(
            TokenLookup(str(x["readPosition"]), str(x["parameterName"]), str(x.get("prefix", "")))
            for x in _rules(auth.get("tokenLookup"), "tokenLookup")
        ),
        pass_by=tuple(
            ClaimPassBy(str(x["claimName"]), str(x["mappingParameterName"]), str(x["mappingParameterPosition"]))
            for x in _rules(auth.get("claimPassBy") or [], "claimPassBy")
        ),
        whitelist=tuple(str(path) for path in auth.get("whitelist") or ()),
        blacklist=tuple(str(path) for path in auth.get("blacklist") or ()),
        preflight=preflight,
    )


def _rules(value: object, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError(f"s.yaml's authConfig.{name} must be a list of objects here")
    return value


_EXPORT_AUTH_JWKS = (
    "export AUTH_JWKS, the JSON Web Key Set of the tokens' signers (python -m local serve trusts the demo key "
    "when AUTH_JWKS is not set; python -m local check-deploy says what is wrong with a set)"
)


def _keys(jwks: object) -> dict[str | None, jwt.PyJWK]:
    """Every key of the trigger's set, by `kid`, as FC's check takes them: the function's rules are its own."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError(f"s.yaml's authConfig.jwks has no keys: {_EXPORT_AUTH_JWKS}")
    try:
        return {key.get("kid"): jwt.PyJWK(key) for key in keys}
    except (PyJWTError, ValueError, TypeError, AttributeError):
        raise ValueError(f"s.yaml's authConfig.jwks holds a key that is not usable: {_EXPORT_AUTH_JWKS}") from None


def resolve(value: Any, document: Mapping[str, Any], environ: Mapping[str, str]) -> Any:
    """`value` with Serverless Devs templates resolved; one it cannot resolve stays as written."""
    if isinstance(value, dict):
        return {key: resolve(item, document, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, document, environ) for item in value]
    if not isinstance(value, str):
        return value
    whole = _TEMPLATE.fullmatch(value.strip())
    if whole:
        return _lookup(whole.group(1).strip(), document, environ, value)
    return _TEMPLATE.sub(lambda m: str(_lookup(m.group(1).strip(), document, environ, m.group(0))), value)


def _lookup(expression: str, document: Mapping[str, Any], environ: Mapping[str, str], fallback: str) -> Any:
    parse = _JSON_CALL.fullmatch(expression)
    if parse:
        return _parsed(_lookup(parse.group(1).strip(), document, environ, fallback), fallback)
    call = _ENV_CALL.fullmatch(expression)
    if call:
        name, default = call.groups()
        return environ.get(name) or (default if default is not None else fallback)
    if expression.replace(" ", "") in ("config('AccountID')", 'config("AccountID")'):
        from local.emulator import ACCOUNT_ID

        return ACCOUNT_ID
    node: Any = document
    for part in expression.split("."):
        if not isinstance(node, dict) or part not in node:
            return fallback
        node = node[part]
    return resolve(node, document, environ)


def _parsed(text: Any, fallback: str) -> Any:
    """`${json(...)}`: the JSON document `text` holds, or the template as written when it holds none."""
    if not isinstance(text, str):
        return fallback
    try:
        return json.loads(text)
    except ValueError:
        return fallback
