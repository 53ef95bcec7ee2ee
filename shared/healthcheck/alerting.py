"""Alerts on change: which spaces a run alerts, and why, from each space's last alarming state.

A space's last alarming state (its verdict and reason codes, and when it was last alerted) is kept
in the store: shared by every instance in Redis (Tair), else in the instance's memory only, so
that a new instance alerts again what an old one had. A space is alerted

- `new`: when it becomes alarming;
- `changed`: when its verdict or its reason codes change while it stays alarming;
- `reminder`: every HEALTHCHECK_REMIND_MINUTES while it stays alarming, the same;
- `resolved`: once, when it stops being alarming.

A space left unchecked by the deadline keeps the state it had; one with no state is judged as
any other (alarming, when HEALTHCHECK_ALARM_ON_UNCHECKED says so). A state is written only once
the alert that carries it was delivered, so that an alert the webhook lost is sent again.

Example:
    >>> previous = AlarmState("unhealthy", ("MessagingBlocked",), alerted_at=0.0)
    >>> decide(previous, "unhealthy", ("MessagingBlocked",), alarming=True, now=60.0, remind_s=3600).why
    'unchanged'
    >>> decide(previous, "unhealthy", ("PhoneOffline",), alarming=True, now=60.0, remind_s=3600).why
    'changed'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from shared.cache.keys import CacheKeys
from shared.operations import SpaceArguments
from shared.store import Cache

Why = Literal["new", "changed", "reminder", "resolved", "unchanged", "unchecked", "healthy"]
ALERTED: frozenset[Why] = frozenset({"new", "changed", "reminder", "resolved"})
STATE_TTL_MS = 30 * 24 * 3600 * 1000
"""How long a state is kept without a run that checks its space: a month."""


@dataclass(frozen=True)
class AlarmState:
    """A space's last alarming verdict and reason codes, and when they were last alerted (wall seconds)."""

    verdict: str
    codes: tuple[str, ...]
    alerted_at: float

    def encode(self) -> bytes:
        return json.dumps({"verdict": self.verdict, "codes": list(self.codes), "alertedAt": self.alerted_at}).encode()

    @classmethod
    def decode(cls, raw: bytes | None) -> AlarmState | None:
        try:
            document = json.loads(raw) if raw else None
        except ValueError:
            return None
        if not isinstance(document, dict):
            return None
        verdict, codes, at = document.get("verdict"), document.get("codes"), document.get("alertedAt")
        if not isinstance(verdict, str) or not isinstance(codes, list) or not isinstance(at, (int, float)):
            return None
        return cls(verdict, tuple(str(code) for code in codes), float(at))


@dataclass(frozen=True)
class Decision:
    """Whether a space is alerted this run, and why (or why not)."""

    why: Why
    state: AlarmState | None
    """The state to keep once the alert is delivered (None: forget it)."""

    @property
    def alerted(self) -> bool:
        return self.why in ALERTED

    def to_json(self) -> dict[str, Any]:
        return {"alerted": self.alerted, "why": self.why}


def decide(
    previous: AlarmState | None,
    verdict: str,
    codes: tuple[str, ...],
    *,
    alarming: bool,
    now: float,
    remind_s: float,
    unchecked: bool = False,
) -> Decision:
    """What a run does about one space, given the state it had."""
    if unchecked and previous is not None:
        return Decision("unchecked", previous)
    if not alarming:
        return Decision("resolved", None) if previous is not None else Decision("healthy", None)
    current = AlarmState(verdict, codes, now)
    if previous is None:
        return Decision("new", current)
    if (previous.verdict, previous.codes) != (verdict, codes):
        return Decision("changed", current)
    if now - previous.alerted_at >= remind_s:
        return Decision("reminder", current)
    return Decision("unchanged", previous)


class AlarmBook:
    """The spaces' alarm states in the store, keyed like the cache: by space and (hashed) IsvCode."""

    def __init__(self, cache: Cache, keys: CacheKeys) -> None:
        self.cache = cache
        self.keys = keys

    def state_of(self, arguments: SpaceArguments) -> AlarmState | None:
        return AlarmState.decode(self.cache.get(self.keys.alarm(arguments)))

    def keep(self, arguments: SpaceArguments, decision: Decision) -> None:
        """Once the alert is delivered: keep the new state, or forget a resolved one."""
        key = self.keys.alarm(arguments)
        if decision.state is None:
            self.cache.delete(key)
        elif decision.alerted:
            self.cache.set(key, decision.state.encode(), STATE_TTL_MS)
