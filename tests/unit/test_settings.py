"""Settings: validated once per instance; a bad one is a JSON 500 ConfigurationError, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.errors import ConfigurationError
from shared.healthcheck.settings import HealthcheckSettings
from shared.lookup.settings import LookupSettings
from shared.settings import FunctionSettings, current_settings, env_names, load_settings
from tests.helpers import EmittedLines, Env, auth_environ, get


def test_defaults() -> None:
    settings = load_settings(LookupSettings, auth_environ())

    assert settings.cams_endpoint == "cams.ap-southeast-1.aliyuncs.com"
    assert settings.cams_protocol == "https"
    assert settings.allow_caller_isv_code is False
    assert settings.cams_isv_code is None
    assert settings.cors_allowed_origins == ()
    assert (settings.auth_mode, settings.auth_spaces_claim) == ("jwt", "cams_spaces")
    assert (settings.caller_rate_per_second, settings.caller_burst) == (2.0, 5)


def test_values_are_parsed() -> None:
    settings = load_settings(
        LookupSettings,
        {
            **auth_environ(),
            "CORS_ALLOWED_ORIGINS": " https://a.example/, https://b.example ,",
            "ALLOW_CALLER_ISV_CODE": "true",
            "LOG_LEVEL": "debug",
            "CAMS_ISV_CODE": "server-side-code",
            "CAMS_READ_TIMEOUT_MS": "",
        },
    )

    assert settings.cors_allowed_origins == ("https://a.example", "https://b.example")
    assert settings.allow_caller_isv_code is True
    assert settings.log_level == "DEBUG"
    assert settings.cams_read_timeout_ms == 5000, "an empty variable counts as unset"
    assert "server-side-code" not in repr(settings)


def test_bad_values_name_the_variables_but_never_their_values() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(
            FunctionSettings, {"CAMS_PROTOCOL": "gopher", "CAMS_READ_TIMEOUT_MS": "soon", "CAMS_ISV_CODE": "x" * 200}
        )

    message = raised.value.message
    for name in ("CAMS_PROTOCOL", "CAMS_READ_TIMEOUT_MS", "CAMS_ISV_CODE"):
        assert name in message
    for value in ("gopher", "soon", "xxxx"):
        assert value not in message


def test_settings_are_validated_once_per_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in env_names(LookupSettings):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH_MODE", "none")
    assert current_settings(LookupSettings) is current_settings(LookupSettings)


def test_a_bad_setting_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in auth_environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigurationError):
        current_settings(LookupSettings)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    assert current_settings(LookupSettings).log_level == "WARNING"


@pytest.mark.parametrize(("name", "value"), [("CAMS_ENDPOINT", "http://x/y"), ("CAMS_RETRY_MAX_ATTEMPTS", "0")])
def test_a_bad_setting_is_a_json_500(
    lookup: Any, env: Env, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    env.setenv(name, value)

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert (answer.status, answer.error_code) == (500, "ConfigurationError")
    assert name in answer.body["error"]["message"]
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["outcome"] == "ConfigurationError"
    assert name in line["errorMessage"]


def test_a_renamed_switch_is_still_read_with_a_warning(emitted: EmittedLines) -> None:
    settings = load_settings(HealthcheckSettings, {"HEALTHCHECK_FAIL_ON_UNHEALTHY": "false"})
    assert settings.healthcheck_fail_on_alarm is False
    assert [(line["variable"], line["readAs"]) for line in emitted("settings.renamed")] == [
        ("HEALTHCHECK_FAIL_ON_UNHEALTHY", "HEALTHCHECK_FAIL_ON_ALARM")
    ]


def test_the_new_name_wins_over_the_old(emitted: EmittedLines) -> None:
    environ = {"HEALTHCHECK_ALARM_ON_UNCHECKED": "true", "HEALTHCHECK_FAIL_ON_UNCHECKED": "false"}
    assert load_settings(HealthcheckSettings, environ).healthcheck_alarm_on_unchecked is True
    assert emitted("settings.renamed") == []


SHARED = {"REDIS_URL": "redis://127.0.0.1:6379/0"}


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({**SHARED, "ALLOW_CALLER_ISV_CODE": "true", "CAMS_ISV_CODE": "server-isv-code-1"}, "ALLOW_CALLER_ISV_CODE"),
        (SHARED, "CAMS_ISV_CODE is not"),
    ],
)
def test_a_shared_store_that_could_not_key_callers_safely_needs_a_key_secret(
    environ: dict[str, str], names: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"CACHE_KEY_SECRET is required when REDIS_URL is set and {names}"):
        load_settings(LookupSettings, {**auth_environ(), **environ})


@pytest.mark.parametrize(
    "environ",
    [
        {**SHARED, "CAMS_ISV_CODE": "server-isv-code-1"},
        {**SHARED, "ALLOW_CALLER_ISV_CODE": "true", "CACHE_KEY_SECRET": "s" * 32},
        {"ALLOW_CALLER_ISV_CODE": "true"},
    ],
)
def test_safe_ways_to_key_the_store(environ: dict[str, str]) -> None:
    load_settings(LookupSettings, {**auth_environ(), **environ})


def test_the_timer_needs_no_key_secret_for_its_own_isv_codes() -> None:
    load_settings(HealthcheckSettings, {**SHARED, "HEALTHCHECK_ISV_CODES": '{"partner": "partner-isv-0001"}'})


@pytest.mark.parametrize(
    ("model", "environ", "name"),
    [
        (FunctionSettings, {"CAMS_ISV_CODE": "abc"}, "CAMS_ISV_CODE"),
        (HealthcheckSettings, {"HEALTHCHECK_ISV_CODES": '{"partner": "1234567"}'}, "HEALTHCHECK_ISV_CODES"),
    ],
)
def test_isv_codes_shorter_than_8_characters_are_refused(model: Any, environ: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigurationError, match=name) as refused:
        load_settings(model, environ)
    assert "abc" not in refused.value.message
    assert "1234567" not in refused.value.message
