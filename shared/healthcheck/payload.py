"""What the timer asks to check: its payload, else HEALTHCHECK_SPACES, validated.

Example:
    >>> parse_check_list('{"spaces": [{"custSpaceId": "demo-approved"}]}', "The timer payload").spaces[0].cust_space_id
    'demo-approved'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.events import MAX_DEPTH, MalformedEvent, decode_event, depth_of
from shared.health import Check
from shared.healthcheck.settings import HealthcheckSettings
from shared.models import SAFE_ID_PATTERN
from shared.settings import split_list

MAX_SPACES = 1000
GOLDEN_RATIO = (5**0.5 - 1) / 2


class InvalidHealthcheck(Exception):
    """The payload or the settings do not say what to check; the invocation fails."""


class SpaceSpec(BaseModel):
    """One space to check; an IsvCode itself is refused here, only a reference to one in settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cust_space_id: str = Field(alias="custSpaceId", min_length=1, max_length=64, pattern=SAFE_ID_PATTERN)
    expected_waba_id: str | None = Field(
        None, alias="expectedWabaId", min_length=1, max_length=64, pattern=SAFE_ID_PATTERN
    )
    isv_code_ref: str | None = Field(None, alias="isvCodeRef", min_length=1, max_length=64, pattern=SAFE_ID_PATTERN)


class CheckList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    spaces: list[SpaceSpec] = Field(min_length=1, max_length=MAX_SPACES)
    checks: tuple[Check, ...] | None = Field(None, min_length=1)
    """What to check of each space (the binding always); without it, HEALTHCHECK_CHECKS."""


@dataclass(frozen=True)
class Trigger:
    """The timer event's own fields, reported with the summary."""

    time: str | None
    name: str | None

    def to_json(self) -> dict[str, Any]:
        return {"triggerTime": self.time, "triggerName": self.name}


def read_event(event: object, settings: HealthcheckSettings) -> tuple[Trigger, CheckList]:
    """The timer event and the spaces it names (and what to check of them): its payload, else HEALTHCHECK_SPACES."""
    try:
        document = decode_event(event, "a timer trigger's event")
    except MalformedEvent as malformed:
        raise InvalidHealthcheck(str(malformed)) from None
    trigger = Trigger(_text(document.get("triggerTime")), _text(document.get("triggerName")))
    payload = document.get("payload")
    if isinstance(payload, str) and payload.strip():
        return trigger, parse_check_list(payload, "The timer payload")
    if payload not in (None, ""):
        raise InvalidHealthcheck("The timer payload must be a string of JSON.")
    if settings.healthcheck_spaces:
        return trigger, parse_check_list(settings.healthcheck_spaces, "HEALTHCHECK_SPACES")
    raise InvalidHealthcheck("Nothing to check: the timer has no payload and HEALTHCHECK_SPACES is not set.")


def parse_check_list(text: str, source: str) -> CheckList:
    """`{"spaces": [...]}`, a bare list of the same, or (in settings) comma-separated space ids."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            document = json.loads(stripped)
        except ValueError:
            raise InvalidHealthcheck(f"{source} is not valid JSON.") from None
        except RecursionError:
            raise InvalidHealthcheck(f"{source} nests deeper than {MAX_DEPTH} levels.") from None
        if depth_of(document) > MAX_DEPTH:  # counted without recursion, before pydantic's validation recurses
            raise InvalidHealthcheck(f"{source} nests deeper than {MAX_DEPTH} levels.")
    elif source == "HEALTHCHECK_SPACES":
        ids = split_list(stripped)
        document = [{"custSpaceId": space} for space in ids] if isinstance(ids, tuple) else ids
    else:
        raise InvalidHealthcheck(f"{source} is not JSON.")
    if isinstance(document, list):
        document = {"spaces": document}
    try:
        return CheckList.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidHealthcheck(f"{source} is malformed at {where or 'the top'}: {first['msg']}.") from None


def isv_codes_for(specs: list[SpaceSpec], settings: HealthcheckSettings) -> dict[SpaceSpec, str | None]:
    """The IsvCode to send for each space: the one its reference names, else the server-side one."""
    known = settings.isv_codes
    unknown = sorted({s.isv_code_ref for s in specs if s.isv_code_ref and s.isv_code_ref not in known})
    if unknown:
        raise InvalidHealthcheck(f"No IsvCode in HEALTHCHECK_ISV_CODES for: {', '.join(unknown)}.")
    return {spec: known[spec.isv_code_ref] if spec.isv_code_ref else settings.isv_code() for spec in specs}


def rotation_start(trigger: Trigger, count: int) -> int:
    """Where this run starts in the list, from the trigger time alone (no state is kept between runs).

    The minute of the trigger, times the golden ratio, modulo one: consecutive runs start far apart
    and spread evenly over the list, so a list longer than one run can check is covered over a few.
    """
    minute = _minute_of(trigger.time)
    if minute is None or count <= 1:
        return 0
    return int((minute * GOLDEN_RATIO) % 1.0 * count)


def _minute_of(timestamp: str | None) -> int | None:
    try:
        moment = datetime.fromisoformat((timestamp or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() // 60)


def _text(value: object) -> str | None:
    """A field of the event, fit for a log line: short, and UTF-8 whatever it held."""
    if not isinstance(value, str):
        return None
    return value[:200].encode("utf-8", "replace").decode("utf-8")
