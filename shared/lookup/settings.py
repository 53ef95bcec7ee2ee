"""The HTTP function's settings: those of every function, who may call it how, and how often."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.auth.settings import AuthSettings
from shared.settings import FunctionSettings, split_list


class CorsSettings(BaseModel):
    """CORS_ALLOWED_ORIGINS alone: validated on its own too, so that even the answer to another bad
    setting carries the CORS headers an allowed origin needs to read it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    cors_allowed_origins: tuple[str, ...] = Field((), alias="CORS_ALLOWED_ORIGINS")

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        origins = split_list(value)
        return tuple(origin.rstrip("/") for origin in origins) if isinstance(origins, tuple) else origins


class LookupSettings(FunctionSettings, CorsSettings, AuthSettings):
    """ALLOW_CALLER_ISV_CODE, CORS_ALLOWED_ORIGINS, AUTH_* and CALLER_*, beside the settings of every function."""

    allow_caller_isv_code: bool = Field(False, alias="ALLOW_CALLER_ISV_CODE")
    # Of the account's calls to CAMS per window, the most this function takes: the timer keeps the rest.
    lookup_cams_share: int = Field(7, alias="LOOKUP_CAMS_SHARE", ge=1, le=1000)
    # Of the function's share of each operation's limit, the percent one caller may spend (docs/operations.md).
    caller_cams_share: int = Field(20, alias="CALLER_CAMS_SHARE", ge=1, le=100)

    @model_validator(mode="after")
    def _callers_keyed_in_a_shared_store(self) -> LookupSettings:
        # A key of the instance's own would silently stop sharing; a public one would let a known
        # IsvCode or `sub` be confirmed from the store's keys.
        if self.redis_url is None or self.cache_key_secret is not None:
            return self
        if self.allow_caller_isv_code:
            raise ValueError("CACHE_KEY_SECRET is required when REDIS_URL is set and ALLOW_CALLER_ISV_CODE is true")
        if self.cams_isv_code is None:
            raise ValueError("CACHE_KEY_SECRET is required when REDIS_URL is set and CAMS_ISV_CODE is not")
        return self
