"""Settings from environment variables, validated once per instance.

Example:
    >>> settings = load_settings({"CAMS_PROTOCOL": "http", "CORS_ALLOWED_ORIGINS": "https://a.example"})
    >>> settings.cams_protocol, settings.cors_allowed_origins
    ('http', ('https://a.example',))

Plain pydantic models with one alias per variable do the work of pydantic-settings here: that
package costs about 30 ms more at import (see the README's benchmark), and cold start matters.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from shared.errors import ConfigurationError

HOST_PORT = r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$"


class Settings(BaseModel):
    """What the functions read from their environment; each field's alias is the variable's name."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    cams_endpoint: str = Field("cams.ap-southeast-1.aliyuncs.com", alias="CAMS_ENDPOINT", pattern=HOST_PORT)
    cams_protocol: Literal["https", "http"] = Field("https", alias="CAMS_PROTOCOL")
    cams_connect_timeout_ms: int = Field(3000, alias="CAMS_CONNECT_TIMEOUT_MS", ge=100, le=60_000)
    cams_read_timeout_ms: int = Field(5000, alias="CAMS_READ_TIMEOUT_MS", ge=100, le=120_000)
    cams_isv_code: SecretStr | None = Field(None, alias="CAMS_ISV_CODE", min_length=1, max_length=128)
    allow_caller_isv_code: bool = Field(False, alias="ALLOW_CALLER_ISV_CODE")
    cors_allowed_origins: tuple[str, ...] = Field((), alias="CORS_ALLOWED_ORIGINS")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="LOG_LEVEL")
    retry_max_attempts: int = Field(4, alias="CAMS_RETRY_MAX_ATTEMPTS", ge=1, le=10)
    retry_base_delay_ms: int = Field(100, alias="CAMS_RETRY_BASE_DELAY_MS", ge=1, le=10_000)
    retry_max_delay_ms: int = Field(2000, alias="CAMS_RETRY_MAX_DELAY_MS", ge=1, le=60_000)
    min_attempt_ms: int = Field(300, alias="CAMS_MIN_ATTEMPT_MS", ge=1, le=60_000)
    deadline_margin_ms: int = Field(500, alias="DEADLINE_MARGIN_MS", ge=0, le=60_000)

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


ENV_NAMES: tuple[str, ...] = tuple(str(field.alias) for field in Settings.model_fields.values())


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Validate the variables in `environ`; an empty variable counts as unset.

    Raises ConfigurationError naming each bad variable, never echoing its value.
    """
    present = {name: environ[name] for name in ENV_NAMES if environ.get(name, "").strip()}
    try:
        return Settings.model_validate(present)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"Invalid function settings: {problems}") from None


@lru_cache(maxsize=1)
def current_settings() -> Settings:
    """The settings of this instance, validated on first use; FC fixes the environment per instance.

    A bad setting is not cached, so each invocation answers ConfigurationError until it is fixed.
    """
    return load_settings(os.environ)
