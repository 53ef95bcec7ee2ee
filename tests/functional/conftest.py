"""Fixtures of the store's tests: one real Redis for the session, and key spaces that never meet."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from local.redis_server import redis_url_for_tests
from shared.store import KeySpace


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL, or a redis-server started for the session on a free loopback port."""
    try:
        with redis_url_for_tests() as url:
            yield url
    except FileNotFoundError as error:
        pytest.skip(str(error))


@pytest.fixture
def space() -> KeySpace:
    """Keys of an account no other test uses: tests share one server and never flush it."""
    return KeySpace("test-" + secrets.token_hex(6), "ap-southeast-1")
