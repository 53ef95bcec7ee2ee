"""The fake CAMS's state: accounts, their credentials and WABA bindings, scripted faults, a journal."""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import MutableSet
from dataclasses import dataclass, field
from typing import Any, Literal

from local.cams import exceptions

ErrorStyle = Literal["http", "body"]
"""How business errors are answered: HTTP 400 with an error body, or HTTP 200 with Code != "OK"."""

RATE_WINDOW_S = 1.0


@dataclass
class Space:
    """A customer space under an ISV account, with the WABA bound to it (None: none bound)."""

    cust_space_id: str
    waba: dict[str, Any] | None
    isv_code: str | None = None


@dataclass
class Account:
    account_id: str
    own_waba: dict[str, Any] | None = None
    spaces: dict[str, Space] = field(default_factory=dict)
    subscribed: bool = True
    permitted: bool = True


@dataclass(frozen=True)
class Identity:
    account_id: str
    access_key_id: str
    secret: str
    security_token: str | None = None
    expires_at: float | None = None


@dataclass
class Fault:
    kind: Literal["error", "delay", "garbage", "drop"]
    error: exceptions.CamsError | None = None
    seconds: float = 0.0
    retry_after_ms: int | None = None


@dataclass
class JournalEntry:
    """One request as the fake saw it, journaled on arrival (`at`, wall-clock: after the set-up delay
    when it opened its connection, `new_connection`); `status` and `code` are filled in once it is
    answered (status 0 until then)."""

    at: float
    request_id: str
    action: str | None
    query: dict[str, str]
    access_key_id: str | None = None
    account_id: str | None = None
    status: int = 0
    code: str | None = None
    new_connection: bool = False


class CamsBackend:
    """All state of one fake CAMS; `reset()` empties it between tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self.cancelled = threading.Event()
        # Not forgotten by reset(): a connection opened before it is still open, its set-up paid.
        self._connections: weakref.WeakSet[object] = weakref.WeakSet()
        self.reset()

    def answering(self) -> AnswerScope:
        """Count a request in flight while it is answered, so that `reset()` can wait for it."""
        return AnswerScope(self)

    def reset(self, drain_s: float = 5.0) -> None:
        """Forget everything, once the requests still in flight (a delayed one, say) are answered:
        a request of one test must never meet the state of the next."""
        self.cancelled.set()  # scripted delays end now
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=drain_s)
        self.cancelled.clear()
        with self._lock:
            self.accounts: dict[str, Account] = {}
            self.identities: dict[str, Identity] = {}
            self.faults: deque[Fault] = deque()
            self.journal: list[JournalEntry] = []
            self.error_style: ErrorStyle = "http"
            self.rate_limit: int | None = None
            self.new_connection_delay: float | None = None
            self.seen_nonces: set[str] = set()
            self._calls: dict[str, deque[float]] = {}

    # --- accounts and credentials -------------------------------------------------------------

    def add_account(self, account_id: str, own_waba: dict[str, Any] | None = None) -> Account:
        account = Account(account_id, own_waba)
        self.accounts[account_id] = account
        return account

    def add_access_key(self, account_id: str, access_key_id: str, secret: str) -> Identity:
        identity = Identity(account_id, access_key_id, secret)
        self.identities[access_key_id] = identity
        return identity

    def issue_sts_token(
        self, account_id: str, access_key_id: str, secret: str, token: str, ttl_s: float = 3600.0
    ) -> Identity:
        """Temporary credentials of the account's role, as FC hands a function."""
        identity = Identity(account_id, access_key_id, secret, token, time.time() + ttl_s)
        self.identities[access_key_id] = identity
        return identity

    def bind_space(
        self, account_id: str, cust_space_id: str, waba: dict[str, Any] | None, isv_code: str | None = None
    ) -> Space:
        space = Space(cust_space_id, waba, isv_code)
        self.accounts[account_id].spaces[cust_space_id] = space
        return space

    def load(self, seed: dict[str, Any]) -> None:
        """Load accounts, keys, tokens and bindings from a seed document (see `local/demo_data.json`)."""
        for entry in seed.get("accounts", []):
            account = self.add_account(entry["accountId"], entry.get("ownWaba"))
            account.subscribed = entry.get("subscribed", True)
            account.permitted = entry.get("permitted", True)
            for key in entry.get("accessKeys", []):
                self.add_access_key(account.account_id, key["id"], key["secret"])
            for sts in entry.get("stsTokens", []):
                self.issue_sts_token(account.account_id, sts["id"], sts["secret"], sts["token"], sts.get("ttlS", 3600))
            for space in entry.get("spaces", []):
                self.bind_space(account.account_id, space["custSpaceId"], space.get("waba"), space.get("isvCode"))

    # --- behaviour ------------------------------------------------------------------------------

    def admit(self, account_id: str) -> None:
        """Count a call against the account's limit, when one is set; raise when it is exceeded."""
        if self.rate_limit is None:
            return
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(account_id, deque())
            while calls and now - calls[0] >= RATE_WINDOW_S:
                calls.popleft()
            if len(calls) >= self.rate_limit:
                raise exceptions.limit_control()
            calls.append(now)

    def first_on_connection(self, connection: object) -> bool:
        """Whether this is the first request seen on `connection` (a socket, kept by weak reference)."""
        return self._first_time(self._connections, connection)

    def use_nonce(self, nonce: str) -> bool:
        return self._first_time(self.seen_nonces, nonce)

    def _first_time(self, seen: MutableSet[Any], item: Any) -> bool:
        with self._lock:
            if item in seen:
                return False
            seen.add(item)
            return True

    def next_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1

    def _leave(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self.journal.append(entry)

    def query_bind_waba(self, account_id: str, cust_space_id: str | None, isv_code: str | None) -> dict[str, Any]:
        account = self.accounts[account_id]
        if not account.subscribed:
            raise exceptions.product_unsubscribed()
        if not account.permitted:
            raise exceptions.permission_denied()
        if not cust_space_id:
            return dict(account.own_waba or {})
        space = account.spaces.get(cust_space_id)
        if space is None or (space.isv_code is not None and space.isv_code != isv_code):
            raise exceptions.resource_not_owned()
        return dict(space.waba or {})


class AnswerScope:
    """`with backend.answering():` around the answer to one request."""

    def __init__(self, backend: CamsBackend) -> None:
        self.backend = backend

    def __enter__(self) -> None:
        self.backend._enter()

    def __exit__(self, *exc: object) -> None:
        self.backend._leave()
