"""The timer function's settings: those of every function, and what to check and whom to tell."""

from __future__ import annotations

from functools import cached_property
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit

from pydantic import Field, SecretStr, StringConstraints, TypeAdapter, field_validator

from shared import alerts
from shared.health import CHECKS, Check
from shared.settings import ISV_CODE_MAX, ISV_CODE_MIN, FunctionSettings, split_list, url_of_scheme

IsvCode = Annotated[str, StringConstraints(min_length=ISV_CODE_MIN, max_length=ISV_CODE_MAX)]
_ISV_CODE_MAP = TypeAdapter(dict[str, IsvCode])
ALARMING = frozenset({"unhealthy", "error"})
"""Always alarming: the binding is wrong, or CAMS could not say."""


class HealthcheckSettings(FunctionSettings):
    """HEALTHCHECK_* and ALERT_WEBHOOK_*, beside the settings of every function."""

    healthcheck_spaces: str | None = Field(None, alias="HEALTHCHECK_SPACES")
    # A JSON object of reference to IsvCode; kept as one secret string so that the settings stay
    # hashable and its repr free of secrets, checked once per instance like any setting.
    healthcheck_isv_codes: SecretStr | None = Field(None, alias="HEALTHCHECK_ISV_CODES")
    healthcheck_rate_per_second: float = Field(5.0, alias="HEALTHCHECK_RATE_PER_SECOND", gt=0, le=10)
    # What a check looks at: the binding (always), the WABA's messaging health, its phone numbers.
    healthcheck_checks: tuple[Check, ...] = Field(CHECKS, alias="HEALTHCHECK_CHECKS", min_length=1)
    # How often a space that stays alarming, for the same reasons, is alerted again.
    healthcheck_remind_minutes: int = Field(240, alias="HEALTHCHECK_REMIND_MINUTES", ge=1, le=7 * 24 * 60)
    # Whether a run with an alarming space fails the invocation, so that FC's metrics and alarms see it.
    healthcheck_fail_on_alarm: bool = Field(True, alias="HEALTHCHECK_FAIL_ON_ALARM")
    # Whether a space the deadline left unchecked is alarming (it is never healthy).
    healthcheck_alarm_on_unchecked: bool = Field(True, alias="HEALTHCHECK_ALARM_ON_UNCHECKED")
    alert_webhook_url: SecretStr | None = Field(None, alias="ALERT_WEBHOOK_URL")
    alert_webhook_format: alerts.AlertFormat = Field("json", alias="ALERT_WEBHOOK_FORMAT")
    alert_webhook_secret: SecretStr | None = Field(None, alias="ALERT_WEBHOOK_SECRET")
    alert_webhook_timeout_ms: int = Field(3000, alias="ALERT_WEBHOOK_TIMEOUT_MS", ge=100, le=30_000)

    @field_validator("healthcheck_checks", mode="before")
    @classmethod
    def _split_checks(cls, value: object) -> object:
        return split_list(value)

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr | None) -> SecretStr | None:
        return url_of_scheme(value, "https://", "http://")

    @field_validator("healthcheck_isv_codes")
    @classmethod
    def _isv_code_map(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _ISV_CODE_MAP.validate_json(value.get_secret_value())
        return value

    @property
    def alarming_verdicts(self) -> frozenset[str]:
        """The verdicts that raise the alarm: unchecked too, unless HEALTHCHECK_ALARM_ON_UNCHECKED is false."""
        return ALARMING | {"unchecked"} if self.healthcheck_alarm_on_unchecked else ALARMING

    @cached_property
    def isv_codes(self) -> dict[str, str]:
        if self.healthcheck_isv_codes is None:
            return {}
        return _ISV_CODE_MAP.validate_json(self.healthcheck_isv_codes.get_secret_value())

    def secrets(self) -> list[str]:
        """Also the IsvCodes, the webhook's URL and its query values (its token), and the signing secret."""
        found = [*super().secrets(), *self.isv_codes.values()]
        if self.alert_webhook_url is not None:
            url = self.alert_webhook_url.get_secret_value()
            found.append(url)
            found.extend(value for _, value in parse_qsl(urlsplit(url).query))
        if self.alert_webhook_secret is not None:
            found.append(self.alert_webhook_secret.get_secret_value())
        return found
