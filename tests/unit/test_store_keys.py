"""Key shapes: scoped by account and region, and every key of a scope in one Redis Cluster slot.

A single Redis does not enforce the cluster's one-slot rule for scripts, so it is checked here.
"""

from __future__ import annotations

import pytest

from shared.store import KeySpace, keyed_digest

CLUSTER_SLOTS = 16384


def crc16_xmodem(data: bytes) -> int:
    """CRC16-CCITT (XMODEM), as Redis Cluster computes it."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def hash_slot(key: str) -> int:
    """The slot of `key`: of its hash tag (the first {...} with something inside) if it has one."""
    raw = key.encode()
    start = raw.find(b"{")
    if start != -1:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            raw = raw[start + 1 : end]
    return crc16_xmodem(raw) % CLUSTER_SLOTS


def test_crc16_matches_the_redis_cluster_specification() -> None:
    assert crc16_xmodem(b"123456789") == 0x31C3  # the spec's check value
    assert hash_slot("foo") == 12182
    assert hash_slot("{user1000}.following") == hash_slot("{user1000}.followers")


def every_key(space: KeySpace) -> list[str]:
    return [
        space.cache("binding", "space-1"),
        space.cache("binding", "space-2", keyed_digest(b"secret", "isv-code")),
        space.lock("binding", "space-1"),
        space.rate_limit("cams"),
        space.rate_limit("other"),
        space.bucket("caller", "203.0.113.7"),
    ]


@pytest.mark.parametrize(
    ("account", "region"), [("5123456789012345", "ap-southeast-1"), ("1", "cn-hangzhou"), ("a_b.c-d", "x")]
)
def test_every_key_of_a_scope_hashes_to_one_slot(account: str, region: str) -> None:
    space = KeySpace(account, region)
    keys = every_key(space)
    assert len({hash_slot(key) for key in keys}) == 1
    assert all(key.startswith(f"waba:{{{account}:{region}}}:") for key in keys)


def test_the_slot_is_the_one_redis_py_computes() -> None:
    from redis.crc import key_slot

    for key in every_key(KeySpace("5123456789012345", "ap-southeast-1")):
        assert key_slot(key.encode()) == hash_slot(key)


def test_scopes_differ_by_account_and_region() -> None:
    keys = {
        KeySpace("1", "ap-southeast-1").rate_limit(),
        KeySpace("2", "ap-southeast-1").rate_limit(),
        KeySpace("1", "cn-hangzhou").rate_limit(),
    }
    assert len(keys) == 3


def test_the_shapes_are_stable() -> None:
    space = KeySpace("5123456789012345", "ap-southeast-1")
    assert space.rate_limit() == "waba:{5123456789012345:ap-southeast-1}:rl:cams"
    assert space.lock("binding", "s") == "waba:{5123456789012345:ap-southeast-1}:lock:binding:s"
    assert space.bucket("ip") == "waba:{5123456789012345:ap-southeast-1}:tb:ip"


@pytest.mark.parametrize("bad", ["", "a{b", "a}b", "a:b", "a b", "x" * 129, "é"])
def test_parts_that_could_move_the_hash_tag_or_collide_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="store key"):
        KeySpace(bad, "ap-southeast-1")
    with pytest.raises(ValueError, match="store key"):
        KeySpace("1", bad)
    with pytest.raises(ValueError, match="store key"):
        KeySpace("1", "ap-southeast-1").cache("binding", bad)


def test_a_keyed_digest_hides_the_secret_and_depends_on_the_key() -> None:
    digest = keyed_digest(b"deployment-key", "demo-isv-code-0001")
    assert "isv" not in digest
    assert len(digest) == 32
    assert digest != keyed_digest(b"other-key", "demo-isv-code-0001")
    assert digest != keyed_digest(b"deployment-key", "demo-isv-code-0002")
