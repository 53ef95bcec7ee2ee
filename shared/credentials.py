"""Which credentials the function calls CAMS with.

In order: `context.credentials` (the python3.10 runtime's STS credentials from the function's role),
else the `ALIBABA_CLOUD_*` variables (FC exports them when a role is set; python3.12 has no
`context.credentials`), else None, meaning the default chain of `alibabacloud-credentials`.

Example:
    >>> env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret"}
    >>> creds = resolve_credentials(None, env)
    >>> creds.access_key_id, "secret" in repr(creds)
    ('id', False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StaticCredentials:
    """One set of credentials; never printed, since repr hides every field."""

    access_key_id: str = field(repr=False)
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """The values that must never reach a log line."""
        return tuple(filter(None, (self.access_key_id, self.access_key_secret, self.security_token)))


def resolve_credentials(context: object, environ: Mapping[str, str]) -> StaticCredentials | None:
    from_context = getattr(context, "credentials", None)
    key_id = getattr(from_context, "access_key_id", None)
    secret = getattr(from_context, "access_key_secret", None)
    if isinstance(key_id, str) and key_id and isinstance(secret, str) and secret:
        token = getattr(from_context, "security_token", None)
        return StaticCredentials(key_id, secret, token if isinstance(token, str) and token else None)
    key_id = environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
    secret = environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "")
    if key_id and secret:
        return StaticCredentials(key_id, secret, environ.get("ALIBABA_CLOUD_SECURITY_TOKEN") or None)
    return None
