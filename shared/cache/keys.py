"""The store keys of what the cache keeps and of who spends what: built in one place, never colliding.

A cached answer's key names the operation (its namespace), the space, the IsvCode and the
operation's other arguments, as separate parts (a part holds no colon, so two part lists never
build the same key). The account's own space is the kind `own`; any other is `space` followed by
its id, so no space id a caller sends, `-own` or `own` included, can name the account's own.
Every instance of both functions derives the same keys:

- an IsvCode goes in only as a keyed hash: under CACHE_KEY_SECRET when it is set, else under a key
  derived from the IsvCode itself, which every instance that sends it has and no key reveals
  (IsvCodes have at least 8 characters);
- a caller's identity (a token's `sub`) goes in only as a keyed hash too: under CACHE_KEY_SECRET,
  else under a key derived from the server-side IsvCode, else, in an instance's memory alone, a
  secret of the instance's own. The HTTP function's settings refuse a shared store without either
  (`shared.lookup.settings`): a caller's key is never hashed under a public constant.

Example:
    >>> from shared.operations import QUERY_CHATAPP_BIND_WABA, SpaceArguments
    >>> keys = CacheKeys(KeySpace("5123456789012345", "ap-southeast-1"), secret=None)
    >>> keys.of(QUERY_CHATAPP_BIND_WABA, SpaceArguments("-own", None)).cache
    'waba:{5123456789012345:ap-southeast-1}:cache:waba:space:-own:-'
    >>> keys.of(QUERY_CHATAPP_BIND_WABA, SpaceArguments(None, None)).cache
    'waba:{5123456789012345:ap-southeast-1}:cache:waba:own:-'
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any, TypeVar

from shared.operations import Operation, SpaceArguments
from shared.store import KeySpace, keyed_digest

ISV_CODE_DOMAIN = b"waba-binding cache key of an IsvCode\x00"
CALLER_DOMAIN = b"waba-binding caller key\x00"
NO_ISV_CODE = "-"
REMEMBERED = 1024
"""How many built keys an instance keeps; past that it starts over."""
Q = TypeVar("Q")
V = TypeVar("V")


@dataclass(frozen=True)
class Keys:
    """The cache key of one question, and the lock that lets one instance at a time ask it of CAMS."""

    cache: str
    lock: str


class CacheKeys:
    """Every key of an instance's store: cached answers, their locks, quotas and callers' budgets.

    A key depends on its arguments alone, and the same few are asked for on every request (the
    caller's bucket, the space's entry, the quota): each is kept once built, up to `REMEMBERED`
    of them, rather than checked and hashed again.
    """

    def __init__(self, space: KeySpace, secret: bytes | None, caller_secret: bytes | None = None) -> None:
        self.space = space
        self._secret = secret
        self._caller_secret = caller_secret or secret or secrets.token_bytes(32)
        self._keys: dict[tuple[str, SpaceArguments], Keys] = {}
        self._names: dict[tuple[str, ...], str] = {}

    @classmethod
    def for_settings(cls, space: KeySpace, cache_key_secret: str | None, isv_code: str | None) -> CacheKeys:
        """The keys of a deployment: CACHE_KEY_SECRET, else what the server-side IsvCode derives.

        With neither, a caller's key gets a secret of this instance's own, which only an instance's
        memory may use: the HTTP function's settings refuse a shared store without one of the two.
        """
        secret = cache_key_secret.encode() if cache_key_secret else None
        return cls(space, secret, secret or (_derived(CALLER_DOMAIN, isv_code) if isv_code else None))

    def of(self, operation: Operation[Any, Any], arguments: SpaceArguments) -> Keys:
        """The cache and lock keys of `operation` asked with `arguments`."""
        question = (operation.namespace, arguments)
        keys = self._keys.get(question)
        if keys is None:
            parts = self._parts(*question)
            keys = _kept(self._keys, question, Keys(self.space.cache(*parts), self.space.lock(*parts)))
        return keys

    def alarm(self, arguments: SpaceArguments) -> str:
        """The key of a space's last alarming state, which the timer's alerts are judged against."""
        return self.space.key("alarm", *self._parts("space-health", arguments))

    def isv_part(self, isv_code: str | None) -> str:
        """What stands for an IsvCode in a key: `-` for none, else its keyed hash."""
        if not isv_code:
            return NO_ISV_CODE
        return keyed_digest(self._secret or _derived(ISV_CODE_DOMAIN, isv_code), isv_code)

    def caller_bucket(self, kind: str, caller: str, *parts: str) -> str:
        """A caller's token bucket of `kind` (its requests, or its calls to CAMS of one operation)."""
        question = ("bucket", kind, caller, *parts)
        key = self._names.get(question)
        if key is None:
            key = _kept(
                self._names, question, self.space.bucket(kind, *parts, keyed_digest(self._caller_secret, caller))
            )
        return key

    def rate_limit(self, name: str) -> str:
        """An account-wide limiter's key: an operation's quota at CAMS, or the timer's own pace."""
        key = self._names.get(("rate", name))
        return key if key is not None else _kept(self._names, ("rate", name), self.space.rate_limit(name))

    def _parts(self, namespace: str, arguments: SpaceArguments) -> tuple[str, ...]:
        space = ("own",) if arguments.cust_space_id is None else ("space", arguments.cust_space_id)
        parts = (namespace, *space, self.isv_part(arguments.isv_code))
        detail = arguments.detail()
        return (*parts, _digest_of(detail)) if detail else parts


def _kept(built: dict[Q, V], question: Q, value: V) -> V:
    if len(built) >= REMEMBERED:
        built.clear()
    built[question] = value
    return value


def _derived(domain: bytes, value: str) -> bytes:
    return hashlib.sha256(domain + value.encode()).digest()


def _digest_of(detail: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(detail, sort_keys=True).encode()).hexdigest()[:32]
