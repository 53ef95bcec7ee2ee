"""Every Redis key this package uses, built in one place: scoped by account and region, hash-tagged.

A shared Redis may serve several deployments, so each key carries the account and the region. On a
Tair cluster or proxy instance, all keys one Lua script touches must hash to one slot: the
`{account:region}` hash tag puts every key of a scope in the same slot, whatever follows it.

Keys never hold a secret: a part that depends on an IsvCode goes through `keyed_digest` first.

Example:
    >>> space = KeySpace("5123456789012345", "ap-southeast-1")
    >>> space.cache("binding", "space-1")
    'waba:{5123456789012345:ap-southeast-1}:cache:binding:space-1'
    >>> space.rate_limit("cams")
    'waba:{5123456789012345:ap-southeast-1}:rl:cams'
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
"""What a scope or a key part may be made of: no braces (they would move the hash tag), no colons
(they would let two different part lists build the same key)."""


def _checked(what: str, value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"A store key's {what} must be 1 to 128 of A-Z a-z 0-9 _ . -")
    return value


def keyed_digest(secret: bytes, value: str) -> str:
    """A keyed hash of `value` (an IsvCode, say) that can go in a key: HMAC-SHA256, 32 hex digits.

    >>> keyed_digest(b"k", "isv-code-1") == keyed_digest(b"k", "isv-code-1") != keyed_digest(b"j", "isv-code-1")
    True
    """
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class KeySpace:
    """The keys of one account in one region."""

    account: str
    region: str
    prefix: str = "waba"

    def __post_init__(self) -> None:
        _checked("account", self.account)
        _checked("region", self.region)
        _checked("prefix", self.prefix)

    @property
    def hash_tag(self) -> str:
        """The part of every key that Redis Cluster hashes: `{account:region}`."""
        return "{" + self.account + ":" + self.region + "}"

    def key(self, kind: str, *parts: str) -> str:
        """`prefix:{account:region}:kind:part:...`, each part checked."""
        checked = [_checked("kind", kind), *(_checked("part", part) for part in parts)]
        return ":".join([self.prefix, self.hash_tag, *checked])

    def cache(self, *parts: str) -> str:
        """A cached value's key."""
        return self.key("cache", *parts)

    def lock(self, *parts: str) -> str:
        """A single-flight lock's key."""
        return self.key("lock", *parts)

    def rate_limit(self, name: str = "cams") -> str:
        """The account-wide rate limiter's key (a sorted set of slots)."""
        return self.key("rl", name)

    def bucket(self, *parts: str) -> str:
        """A per-caller token bucket's key (a hash)."""
        return self.key("tb", *parts)
