"""One store, one in-memory level and one binding service per instance, built from its settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache

from shared.bindings.quota import CamsQuota
from shared.bindings.service import BindingService
from shared.cams import gateway_for
from shared.clock import SYSTEM_CLOCK, Clock
from shared.invocation import Invocation
from shared.settings import CamsSettings, S
from shared.store import KeySpace, RedisOptions, open_store
from shared.store.memory import MemoryCache

MEMORY_ENTRIES = 1024


@dataclass(frozen=True)
class Bindings:
    """What a function uses to read bindings: the service, the keys of its account and its quota."""

    service: BindingService
    keys: KeySpace
    quota: CamsQuota


def bindings_for(invocation: Invocation[S], share_per_second: int | None = None) -> Bindings:
    """The bindings of this invocation's account and region; the quota takes at most `share_per_second`."""
    settings = invocation.settings
    service = service_for(settings, invocation.clock)
    keys = keys_for(invocation.account_id, invocation.region)
    limit = min(share_per_second or settings.cams_rate_limit_per_second, settings.cams_rate_limit_per_second)
    window_ms = 1000 + settings.cams_rate_window_margin_ms
    quota = CamsQuota(service.store.limiter, keys, limit, window_ms, settings.cams_quota_wait_ms)
    return Bindings(service, keys, quota)


@lru_cache(maxsize=2)
def service_for(settings: CamsSettings, clock: Clock = SYSTEM_CLOCK) -> BindingService:
    """Built once per instance: connecting to Redis happens on the first command, not here."""
    options = RedisOptions(connect_timeout_ms=settings.redis_timeout_ms, command_timeout_ms=settings.redis_timeout_ms)
    store = open_store(
        settings.redis_url.get_secret_value() if settings.redis_url else None,
        clock,
        options,
        settings.redis_password.get_secret_value() if settings.redis_password else None,
    )
    # Without a shared secret the IsvCode hashes are this instance's own: its entries are not shared.
    key_secret = settings.cache_key_secret.get_secret_value().encode() if settings.cache_key_secret else None
    memory = MemoryCache(clock, MEMORY_ENTRIES)
    return BindingService(store, memory, gateway_for(settings), key_secret or secrets.token_bytes(32))


@lru_cache(maxsize=16)
def keys_for(account_id: str, region: str) -> KeySpace:
    return KeySpace(_safe(account_id), _safe(region))


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "_.-") else "_" for c in name)[:128]
    return cleaned or "_"
