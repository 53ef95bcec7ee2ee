"""How the Redis client is configured: made lazily, TLS for rediss://, short timeouts, no retries."""

from __future__ import annotations

import redis

from shared.store import RedisOptions
from shared.store.redis_link import RedisLink
from tests.helpers import FakeClock

OPTIONS = RedisOptions(connect_timeout_ms=30, command_timeout_ms=40, max_connections=2)


def connection_settings(link: RedisLink) -> dict[str, object]:
    pool = link.client.connection_pool
    return {"class": pool.connection_class, **pool.connection_kwargs}


def test_the_client_is_made_on_first_use_with_the_options() -> None:
    link = RedisLink("redis://cache.internal:6380/2", OPTIONS, FakeClock())
    assert link._client is None
    settings = connection_settings(link)
    assert settings["class"] is redis.Connection
    assert (settings["host"], settings["port"], settings["db"]) == ("cache.internal", 6380, 2)
    assert (settings["socket_connect_timeout"], settings["socket_timeout"]) == (0.03, 0.04)
    assert settings["protocol"] == 2, "no HELLO: Tair's older engines refuse it"
    assert settings["driver_info"] is None, "no CLIENT SETINFO round trips"
    assert link.client.connection_pool.max_connections == 2
    assert link.client is link.client
    link.close()
    assert link._client is None


def test_rediss_means_tls_and_the_url_carries_the_credentials() -> None:
    link = RedisLink("rediss://acl-user:url-secret@r-example.redis.rds.aliyuncs.com:6379/0", OPTIONS, FakeClock())
    settings = connection_settings(link)
    assert settings["class"] is redis.SSLConnection
    assert (settings["username"], settings["password"]) == ("acl-user", "url-secret")


def test_a_password_beside_the_url_is_used_when_the_url_has_none() -> None:
    link = RedisLink("redis://r-example:6379/0", OPTIONS, FakeClock(), password="env-secret")
    assert connection_settings(link)["password"] == "env-secret"
    overridden = RedisLink("redis://:url-secret@r-example:6379/0", OPTIONS, FakeClock(), password="env-secret")
    assert connection_settings(overridden)["password"] == "url-secret"


def test_redis_py_retries_a_broken_connection_once_and_never_a_timeout() -> None:
    link = RedisLink("redis://r-example:6379/0", OPTIONS, FakeClock())
    retry = connection_settings(link)["retry"]
    assert isinstance(retry, redis.retry.Retry)
    assert retry.get_retries() == 1
    assert retry._supported_errors == (redis.ConnectionError,)
    assert not issubclass(redis.TimeoutError, redis.ConnectionError)
