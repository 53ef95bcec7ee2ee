"""The fake CAMS's state: accounts, their credentials, WABA bindings, messaging health and phone numbers,
scripted faults, a journal.

A seed space (see `local/demo_data.json`) may say, besides its `waba`:

    "health": {"CanSendMessage": "BLOCKED", "Errors": [{"ErrorCode": ..., "ErrorDescription": ...,
                                                        "PossibleSolution": ...}],
               "business": {"CanSendMessage": ..., "Errors": [...]},
               "data": {"CanSendMessage": ..., "Entities": [...]}},
    "phoneNumbers": [{"PhoneNumber": "+6500000101", "Status": "CONNECTED", ...,
                      "health": {"CanSendMessage": ..., "Errors": [...]}}]

`CanSendMessage` and `Errors` are the WABA entity's, `business` the BUSINESS entity's (each AVAILABLE
without errors unless told), and `data` replaces those keys of the NodeType=waba answer as they are;
the overall CanSendMessage is otherwise Meta's rule over the entities. A phone number is listed in
CAMS's field names as the seed has them, all but its own `health`. Without `phoneNumbers`, a bound
WABA has one CONNECTED, GREEN, TIER_1000 number, "+65" and the last 8 digits of its id.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping, MutableSet, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from local.cams import exceptions

ErrorStyle = Literal["http", "body"]
"""How business errors are answered: HTTP 400 with an error body, or HTTP 200 with Code != "OK"."""

RATE_WINDOW_S = 1.0
CAMS_RATE_LIMITS: Mapping[str, int] = {
    "QueryChatappBindWaba": 10,
    "GetWhatsappHealthStatus": 5,
    "QueryChatappPhoneNumbers": 10,
}
"""Each operation's documented limit, calls per second per account."""
NODE_TYPES = ("waba", "phone", "template")
AVAILABLE = "AVAILABLE"
WORST_FIRST = ("BLOCKED", "LIMITED")
DELETED = "DELETED"


@dataclass
class EntityHealth:
    """Whether one entity (a WABA, its business, a phone number) can send, as Meta says, and why not."""

    can_send_message: str = AVAILABLE
    errors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_seed(cls, seed: Mapping[str, Any] | None) -> EntityHealth:
        seed = seed or {}
        return cls(seed.get("CanSendMessage", AVAILABLE), [dict(error) for error in seed.get("Errors", [])])

    def entity(self, entity_type: str, **ids: Any) -> dict[str, Any]:
        """The entity as GetWhatsappHealthStatus lists it; Meta leaves `Errors` out when there are none."""
        entity: dict[str, Any] = {"EntityType": entity_type, "CanSendMessage": self.can_send_message}
        entity.update({name: value for name, value in ids.items() if value is not None})
        if self.errors:
            entity["Errors"] = [dict(error) for error in self.errors]
        return entity


@dataclass
class WabaHealth:
    """The messaging health of a space's WABA: its entity's, its business's, and what replaces the answer."""

    waba: EntityHealth = field(default_factory=EntityHealth)
    business: EntityHealth = field(default_factory=EntityHealth)
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_seed(cls, seed: Mapping[str, Any] | None) -> WabaHealth:
        seed = seed or {}
        return cls(
            EntityHealth.from_seed(seed), EntityHealth.from_seed(seed.get("business")), dict(seed.get("data", {}))
        )


@dataclass
class PhoneNumber:
    """One number of a space: its fields as QueryChatappPhoneNumbers lists them, and its messaging health."""

    fields: dict[str, Any]
    health: EntityHealth = field(default_factory=EntityHealth)

    @classmethod
    def from_seed(cls, seed: Mapping[str, Any]) -> PhoneNumber:
        fields = {name: value for name, value in seed.items() if name != "health"}
        return cls(fields, EntityHealth.from_seed(seed.get("health")))

    @property
    def number(self) -> str:
        return str(self.fields.get("PhoneNumber", ""))

    def entity(self, waba_id: str) -> dict[str, Any]:
        return self.health.entity("PHONE_NUMBER", PhoneNumber=self.number, WabaId=waba_id)

    def is_(self, number: str) -> bool:
        """Whether this is `number`, written with or without its leading +."""
        return self.number.lstrip("+") == number.lstrip("+")


def default_phone_number(waba: Mapping[str, Any]) -> PhoneNumber:
    """The one healthy number a bound WABA has when nothing says otherwise."""
    fields = {
        "PhoneNumber": "+65" + str(waba.get("Id", ""))[-8:],
        "Status": "CONNECTED",
        "QualityRating": "GREEN",
        "MessagingLimitTier": "TIER_1000",
        "CodeVerificationStatus": "VERIFIED",
        "NameStatus": "APPROVED",
        "VerifiedName": waba.get("BusinessName") or waba.get("Name"),
    }
    return PhoneNumber({name: value for name, value in fields.items() if value is not None})


def overall(entities: Sequence[Mapping[str, Any]]) -> str:
    """Meta's rule: BLOCKED if any entity is, else LIMITED if any is, else AVAILABLE."""
    states = {entity.get("CanSendMessage") for entity in entities}
    return next((state for state in WORST_FIRST if state in states), AVAILABLE)


@dataclass
class Space:
    """A customer space under an ISV account, with the WABA bound to it (None: none bound), that WABA's
    messaging health, and its phone numbers (None: the default number of a bound WABA)."""

    cust_space_id: str
    waba: dict[str, Any] | None
    isv_code: str | None = None
    health: WabaHealth = field(default_factory=WabaHealth)
    phone_numbers: list[PhoneNumber] | None = None

    def numbers(self) -> list[PhoneNumber]:
        if self.phone_numbers is not None:
            return self.phone_numbers
        return [default_phone_number(self.waba)] if self.waba else []

    def own_entities(self) -> list[dict[str, Any]]:
        """The bound WABA's entity, and its business's when the WABA names one."""
        waba = self.waba or {}
        entities = [self.health.waba.entity("WABA", WabaId=waba.get("Id"), BusinessId=waba.get("BusinessId"))]
        if "BusinessId" in waba:
            entities.append(self.health.business.entity("BUSINESS", BusinessId=waba["BusinessId"]))
        return entities

    def live_numbers(self) -> list[PhoneNumber]:
        """The numbers the WABA sends from: a DELETED number is no longer its."""
        return [number for number in self.numbers() if number.fields.get("Status") != DELETED]


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
            """The limit of every action that has none of its own (None: none)."""
            self.rate_limits: dict[str, int | None] = {}
            """Actions' own limits, each counted apart from the others (None: that action has none)."""
            self.new_connection_delay: float | None = None
            self.seen_nonces: set[str] = set()
            self._calls: dict[tuple[str, str], deque[float]] = {}

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
        self,
        account_id: str,
        cust_space_id: str,
        waba: dict[str, Any] | None,
        isv_code: str | None = None,
        *,
        health: Mapping[str, Any] | None = None,
        phone_numbers: Sequence[Mapping[str, Any]] | None = None,
    ) -> Space:
        """Bind `waba` to the space; `health` and `phone_numbers` in the seed's shape (see above)."""
        space = Space(cust_space_id, waba, isv_code, WabaHealth.from_seed(health))
        self.accounts[account_id].spaces[cust_space_id] = space
        if phone_numbers is not None:
            self.set_phone_numbers(account_id, cust_space_id, phone_numbers)
        return space

    def set_health(
        self,
        account_id: str,
        cust_space_id: str,
        can_send_message: str = AVAILABLE,
        errors: Sequence[Mapping[str, Any]] = (),
        *,
        phone_number: str | None = None,
    ) -> None:
        """What GetWhatsappHealthStatus says of the space's WABA entity, or of one of its phone numbers."""
        space = self.accounts[account_id].spaces[cust_space_id]
        health = EntityHealth(can_send_message, [dict(error) for error in errors])
        if phone_number is None:
            space.health.waba = health
            return
        space.phone_numbers = space.numbers()  # a default number is kept, to keep its new health
        found = [number for number in space.phone_numbers if number.is_(phone_number)]
        if not found:
            raise KeyError(phone_number)
        found[0].health = health

    def set_phone_numbers(self, account_id: str, cust_space_id: str, numbers: Sequence[Mapping[str, Any]]) -> None:
        """The space's numbers, in CAMS's field names, each with its own `health` if it says so."""
        space = self.accounts[account_id].spaces[cust_space_id]
        space.phone_numbers = [PhoneNumber.from_seed(number) for number in numbers]

    def limit_rate(self, per_second: int | None, action: str | None = None) -> None:
        """`action`'s limit; without one, every action's, each counted on its own (None: no limit)."""
        if action is not None:
            self.rate_limits[action] = per_second
            return
        self.rate_limit = per_second
        self.rate_limits.clear()

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
                self.bind_space(
                    account.account_id,
                    space["custSpaceId"],
                    space.get("waba"),
                    space.get("isvCode"),
                    health=space.get("health"),
                    phone_numbers=space.get("phoneNumbers"),
                )

    # --- behaviour ------------------------------------------------------------------------------

    def admit(self, account_id: str, action: str = "QueryChatappBindWaba") -> None:
        """Count a call against the account's limit of `action`, when one is set; raise when it is exceeded."""
        limit = self.rate_limits.get(action, self.rate_limit)
        if limit is None:
            return
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault((account_id, action), deque())
            while calls and now - calls[0] >= RATE_WINDOW_S:
                calls.popleft()
            if len(calls) >= limit:
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

    # --- actions --------------------------------------------------------------------------------

    def query_bind_waba(self, account_id: str, cust_space_id: str | None, isv_code: str | None) -> dict[str, Any]:
        return dict(self._space(account_id, cust_space_id, isv_code).waba or {})

    def query_phone_numbers(
        self, account_id: str, cust_space_id: str | None, isv_code: str | None, status: str | None = None
    ) -> list[dict[str, Any]]:
        numbers = self._space(account_id, cust_space_id, isv_code).numbers()
        return [dict(number.fields) for number in numbers if not status or number.fields.get("Status") == status]

    def whatsapp_health(
        self,
        account_id: str,
        cust_space_id: str,
        node_type: str,
        *,
        waba_id: str | None = None,
        phone_number: str | None = None,
        template_code: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """GetWhatsappHealthStatus's `Data`. It takes no IsvCode, and no RAM action guards it."""
        space = self._space(account_id, cust_space_id, None, ram=False, isv=False)
        waba_id = str(_bound_waba(space, waba_id).get("Id"))
        if node_type == "phone":
            return _data([_phone(space, phone_number or "").entity(waba_id), *space.own_entities()])
        if node_type == "template":
            ids = {"TemplateCode": template_code, "Language": language, "WabaId": waba_id}
            return _data([EntityHealth().entity("MESSAGE_TEMPLATE", **ids), *space.own_entities()])
        phones = [number.entity(waba_id) for number in space.live_numbers()]
        return {**_data([*space.own_entities(), *phones]), **space.health.data}

    def _space(
        self, account_id: str, cust_space_id: str | None, isv_code: str | None, *, ram: bool = True, isv: bool = True
    ) -> Space:
        """The space the call names, the account's own without one; raise unless the caller may ask of it."""
        account = self.accounts[account_id]
        if not account.subscribed:
            raise exceptions.product_unsubscribed()
        if ram and not account.permitted:
            raise exceptions.permission_denied()
        if not cust_space_id:
            return Space("", account.own_waba)
        space = account.spaces.get(cust_space_id)
        if space is None or (isv and space.isv_code is not None and space.isv_code != isv_code):
            raise exceptions.resource_not_owned()
        return space


def _bound_waba(space: Space, waba_id: str | None) -> dict[str, Any]:
    """The space's WABA, which a WabaId, when given, must name."""
    if not space.waba:
        raise exceptions.waba_not_bound()
    if waba_id and waba_id != str(space.waba.get("Id")):
        raise exceptions.waba_not_found(waba_id)
    return space.waba


def _phone(space: Space, number: str) -> PhoneNumber:
    found = next((phone for phone in space.live_numbers() if phone.is_(number)), None)
    if found is None:
        raise exceptions.phone_not_bound()
    return found


def _data(entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {"CanSendMessage": overall(entities), "Entities": entities}


class AnswerScope:
    """`with backend.answering():` around the answer to one request."""

    def __init__(self, backend: CamsBackend) -> None:
        self.backend = backend

    def __enter__(self) -> None:
        self.backend._enter()

    def __exit__(self, *exc: object) -> None:
        self.backend._leave()
