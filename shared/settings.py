"""Settings from environment variables, validated once per instance.

Example:
    >>> settings = load_settings(FunctionSettings, {"CAMS_PROTOCOL": "http", "LOG_LEVEL": "debug"})
    >>> settings.cams_protocol, settings.log_level
    ('http', 'DEBUG')

Plain pydantic models with one alias per variable do the work of pydantic-settings here: that
package costs about 30 ms more at import (see the README's benchmark), and cold start matters.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from shared.errors import ConfigurationError
from shared.logs import log_event

HOST_PORT = r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$"
ISV_CODE_MIN = 8
"""No IsvCode is shorter: a shorter one could not be scrubbed from logs without scrubbing common words."""
ISV_CODE_MAX = 128


class FunctionSettings(BaseModel):
    """What every function reads from its environment; each field's alias is the variable's name.

    Each function extends it with its own settings, so that it reads only the variables it needs.
    Its validator is built when first used (`defer_build`), as is each subclass's: a function
    validates its own settings only, and building this class's too would cost its cold start.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    cams_endpoint: str = Field("cams.ap-southeast-1.aliyuncs.com", alias="CAMS_ENDPOINT", pattern=HOST_PORT)
    cams_protocol: Literal["https", "http"] = Field("https", alias="CAMS_PROTOCOL")
    cams_connect_timeout_ms: int = Field(3000, alias="CAMS_CONNECT_TIMEOUT_MS", ge=100, le=60_000)
    cams_read_timeout_ms: int = Field(5000, alias="CAMS_READ_TIMEOUT_MS", ge=100, le=120_000)
    cams_isv_code: SecretStr | None = Field(
        None, alias="CAMS_ISV_CODE", min_length=ISV_CODE_MIN, max_length=ISV_CODE_MAX
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="LOG_LEVEL")
    cams_retry_max_attempts: int = Field(4, alias="CAMS_RETRY_MAX_ATTEMPTS", ge=1, le=10)
    cams_retry_base_delay_ms: int = Field(100, alias="CAMS_RETRY_BASE_DELAY_MS", ge=1, le=10_000)
    cams_retry_max_delay_ms: int = Field(2000, alias="CAMS_RETRY_MAX_DELAY_MS", ge=1, le=60_000)
    cams_min_attempt_ms: int = Field(300, alias="CAMS_MIN_ATTEMPT_MS", ge=1, le=60_000)
    deadline_margin_ms: int = Field(500, alias="DEADLINE_MARGIN_MS", ge=0, le=60_000)
    # QueryChatappBindWaba's limit at CAMS for the account, and the margin that keeps arrivals inside it.
    cams_rate_limit_per_second: int = Field(10, alias="CAMS_RATE_LIMIT_PER_SECOND", ge=1, le=1000)
    cams_rate_window_margin_ms: int = Field(250, alias="CAMS_RATE_WINDOW_MARGIN_MS", ge=0, le=5000)
    # How long a call may wait for a slot of the quota: a web caller is better served by a quick 429.
    cams_quota_wait_ms: int = Field(250, alias="CAMS_QUOTA_WAIT_MS", ge=0, le=60_000)
    # The shared store: Redis (Tair), else each instance's memory.
    redis_url: SecretStr | None = Field(None, alias="REDIS_URL")
    redis_password: SecretStr | None = Field(None, alias="REDIS_PASSWORD")
    redis_timeout_ms: int = Field(50, alias="REDIS_TIMEOUT_MS", ge=5, le=5000)
    cache_ttl_seconds: int = Field(300, alias="CACHE_TTL_SECONDS", ge=0, le=86_400)
    cache_negative_ttl_seconds: int = Field(60, alias="CACHE_NEGATIVE_TTL_SECONDS", ge=0, le=86_400)
    # How long a messaging health and a space's phone numbers stay fresh (the binding's is CACHE_TTL_SECONDS).
    health_cache_ttl_seconds: int = Field(300, alias="HEALTH_CACHE_TTL_SECONDS", ge=0, le=86_400)
    cache_max_stale_seconds: int = Field(86_400, alias="CACHE_MAX_STALE_SECONDS", ge=0, le=7 * 86_400)
    cache_key_secret: SecretStr | None = Field(None, alias="CACHE_KEY_SECRET", min_length=16)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        return url_of_scheme(value, "redis://", "rediss://")

    def secrets(self) -> list[str]:
        """The values in these settings that must never reach a log line."""
        found = (self.cams_isv_code, self.redis_url, self.redis_password, self.cache_key_secret)
        values = [secret.get_secret_value() for secret in found if secret is not None]
        if self.redis_url is not None:
            values.append(urlsplit(self.redis_url.get_secret_value()).password or "")
        return values

    def isv_code(self) -> str | None:
        """The server-side IsvCode, if one is set."""
        return self.cams_isv_code.get_secret_value() if self.cams_isv_code else None


def url_of_scheme(value: SecretStr | None, *schemes: str) -> SecretStr | None:
    """A URL setting's check: one of `schemes`, or a ValueError that never repeats the URL."""
    if value is not None and not value.get_secret_value().startswith(schemes):
        raise ValueError(f"must be a {' or '.join(schemes)} URL")
    return value


S = TypeVar("S", bound=FunctionSettings)
M = TypeVar("M", bound=BaseModel)

_instance_settings: dict[type[BaseModel], BaseModel] = {}
_forget_hooks: list[Callable[[], None]] = []

RENAMED: Mapping[str, str] = {
    "HEALTHCHECK_FAIL_ON_UNHEALTHY": "HEALTHCHECK_FAIL_ON_ALARM",
    "HEALTHCHECK_FAIL_ON_UNCHECKED": "HEALTHCHECK_ALARM_ON_UNCHECKED",
}
"""Variables read under their old name for one release, with a warning once per instance."""


def env_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The environment variables a settings class reads."""
    return tuple(str(field.alias) for field in model.model_fields.values())


def split_list(value: object) -> object:
    """A comma-separated variable as a tuple of its non-empty items."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def load_settings(model: type[M], environ: Mapping[str, str]) -> M:
    """Validate the variables `model` reads from `environ`; an empty variable counts as unset.

    Raises ConfigurationError naming each bad variable, never echoing its value.
    """
    names = env_names(model)
    present = {name: environ[name] for name in names if environ.get(name, "").strip()}
    for old, new in RENAMED.items():
        if new in names and new not in present and environ.get(old, "").strip():
            present[new] = environ[old]
            log_event("settings.renamed", logging.WARNING, variable=old, readAs=new)
    try:
        return model.model_validate(present)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or model.__name__}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"Invalid function settings: {problems}") from None


def current_settings(model: type[M]) -> M:
    """This instance's settings of `model`, validated on first use: FC fixes the environment per instance.

    A bad setting is not kept, so each invocation answers ConfigurationError until it is fixed.
    """
    settings = _instance_settings.get(model)
    if settings is None:
        settings = _instance_settings[model] = load_settings(model, os.environ)
    return settings  # type: ignore[return-value]


def forget_settings() -> None:
    """Validate again on next use, as a new instance would (for tests and the local emulator), and
    drop what the instance built from them."""
    _instance_settings.clear()
    for hook in _forget_hooks:
        hook()


def on_forget(hook: Callable[[], None]) -> None:
    """Call `hook` whenever the settings are forgotten: per-instance state built from them goes too."""
    _forget_hooks.append(hook)
