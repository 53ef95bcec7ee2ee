"""What one instance keeps between invocations: its store, its memory, its CAMS gateway and its keys.

FC runs one request at a time per instance and keeps the process between them, so an instance
builds these once, on its first invocation (or in its initializer), and every later invocation
reuses them. A `RuntimeSlot` holds them for one function; tests replace or clear it, and it is
cleared with the settings (`forget_settings`), as a new instance would start without either.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from shared.cache.facade import CachedCams
from shared.cache.keys import CacheKeys
from shared.cams import CamsGateway
from shared.clock import Clock
from shared.errors import ConfigurationError
from shared.invocation import Invocation, begin
from shared.logs import log_event
from shared.settings import FunctionSettings, S, on_forget
from shared.store import Cache, KeySpace, RedisOptions, Store, open_store
from shared.store.memory import MemoryCache

MEMORY_ENTRIES = 1024


@dataclass(frozen=True)
class InstanceRuntime:
    """An instance's store (shared, or its memory), its in-memory level, its gateway and its keys."""

    store: Store
    memory: Cache
    gateway: CamsGateway
    keys: CacheKeys

    @classmethod
    def build(cls, settings: FunctionSettings, clock: Clock, account_id: str, region: str) -> InstanceRuntime:
        """Connecting to Redis happens on the first command, not here."""
        options = RedisOptions(
            connect_timeout_ms=settings.redis_timeout_ms, command_timeout_ms=settings.redis_timeout_ms
        )
        store = open_store(
            settings.redis_url.get_secret_value() if settings.redis_url else None,
            clock,
            options,
            settings.redis_password.get_secret_value() if settings.redis_password else None,
        )
        secret = settings.cache_key_secret.get_secret_value() if settings.cache_key_secret else None
        keys = CacheKeys.for_settings(KeySpace(_safe(account_id), _safe(region)), secret, settings.isv_code())
        return cls(store, MemoryCache(clock, MEMORY_ENTRIES), CamsGateway(settings), keys)

    def cams(self, invocation: Invocation[S], share: int | None = None) -> CachedCams[S]:
        """The cached CAMS of one invocation; its calls take at most `share` of every CAMS_RATE_LIMIT_PER_SECOND."""
        return CachedCams(self.store, self.memory, self.gateway, self.keys, invocation, share)


class RuntimeSlot:
    """One function's instance runtime, built by the first invocation that needs it."""

    def __init__(self) -> None:
        self._runtime: InstanceRuntime | None = None
        self._lock = threading.Lock()
        on_forget(self.clear)

    def get(self, invocation: Invocation[S]) -> InstanceRuntime:
        with self._lock:
            if self._runtime is None:
                self._runtime = InstanceRuntime.build(
                    invocation.settings, invocation.clock, invocation.account_id, invocation.region
                )
            return self._runtime

    @property
    def current(self) -> InstanceRuntime | None:
        """The runtime, once an invocation (or the initializer) built it."""
        return self._runtime

    def replace(self, runtime: InstanceRuntime | None) -> None:
        with self._lock:
            self._runtime = runtime

    def clear(self) -> None:
        self.replace(None)

    def warm_up(self, context: object, settings_model: type[S], invalid_event: str, clock: Clock) -> None:
        """An instance's initializer: validate settings and build the CAMS client before the first call.

        A bad setting is logged here, naming the variable, and not raised: FC would answer its own
        error for the instance, while the handler answers the documented one.
        """
        with begin(context, settings_model, clock) as invocation:
            try:
                runtime = self.get(invocation)
            except ConfigurationError as invalid:
                log_event(invalid_event, logging.ERROR, reason=invalid.message)
                return
            runtime.gateway.client_for(invocation.credentials)


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "_.-") else "_" for c in name)[:128]
    return cleaned or "_"
