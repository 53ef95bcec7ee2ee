"""The settings of caller authentication and of the per-caller limit: AUTH_* and CALLER_*.

Example:
    >>> from shared.settings import load_settings
    >>> load_settings(AuthSettings, {"AUTH_MODE": "none"}).auth_mode
    'none'
    >>> load_settings(AuthSettings, {})
    Traceback (most recent call last):
    ...
    shared.errors.ConfigurationError: Invalid function settings: AuthSettings: Value error, AUTH_JWKS, ...
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.auth.keys import key_set

CLAIM_NAME = r"^[A-Za-z0-9_.:/-]{1,128}$"


class AuthSettings(BaseModel):
    """Who may call the HTTP function and how often: each field's alias is its variable.

    Validated as part of the function's own settings: its validator is built when first used alone.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    auth_mode: Literal["jwt", "none"] = Field("jwt", alias="AUTH_MODE")
    # The same keys as the trigger's authConfig.jwks: s.yaml builds both from the deploying shell.
    auth_jwks: str | None = Field(None, alias="AUTH_JWKS", max_length=16_384)
    auth_issuer: str | None = Field(None, alias="AUTH_ISSUER", max_length=512)
    auth_audience: str | None = Field(None, alias="AUTH_AUDIENCE", max_length=512)
    auth_spaces_claim: str = Field("cams_spaces", alias="AUTH_SPACES_CLAIM", pattern=CLAIM_NAME)
    caller_rate_per_second: float = Field(2.0, alias="CALLER_RATE_PER_SECOND", gt=0, le=1000)
    caller_burst: int = Field(5, alias="CALLER_BURST", ge=1, le=1000)

    @field_validator("auth_mode", mode="before")
    @classmethod
    def _lower_mode(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("auth_jwks")
    @classmethod
    def _parse_jwks(cls, value: str | None) -> str | None:
        if value is not None:
            key_set(value)  # raises ValueError naming the rule; parsed once per instance, kept by key_set
        return value

    @model_validator(mode="after")
    def _complete_for_jwt(self) -> AuthSettings:
        if self.auth_mode == "jwt" and not (self.auth_jwks and self.auth_issuer and self.auth_audience):
            raise ValueError(
                "AUTH_JWKS, AUTH_ISSUER and AUTH_AUDIENCE are required when AUTH_MODE is jwt (the default)"
            )
        return self
