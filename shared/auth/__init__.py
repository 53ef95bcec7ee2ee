"""Who is calling: bearer tokens (JWT) verified by the function itself, and the spaces each caller may read.

    >>> from shared.auth import Caller
    >>> Caller("alice", frozenset({"space-1"})).may_read("space-1"), Caller("alice", frozenset()).may_read(None)
    (True, False)

`keys` reads AUTH_JWKS (asymmetric public keys only, each with its `kid` and algorithm), `settings`
holds the AUTH_* and CALLER_* variables, `tokens` turns an Authorization header into a `Caller` or
an `Unauthorized` error. The token and its claims never reach a log line: the caller's `sub` does.
"""

from shared.auth.tokens import Caller, authenticate

__all__ = ["Caller", "authenticate"]
