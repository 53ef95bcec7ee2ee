"""The HTTP function's settings: those of every function, who may call it how, and how often."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
