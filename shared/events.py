"""FC passes events as bytes of JSON: one decoder for every trigger.

Example:
    >>> decode_event(b'{"triggerName": "timer"}')
    {'triggerName': 'timer'}
    >>> decode_event(b"  ")
    {}
"""

from __future__ import annotations

import json


class MalformedEvent(ValueError):
    """The event is not UTF-8 JSON; the message says which, and never echoes the event."""


def decode_event(event: object) -> object:
    """The JSON document of `event`: bytes (as FC passes it), str, or a document already (tests, emulator).

    Blank input is an empty object, as a timer without a payload may send.
    """
    if isinstance(event, (bytes, bytearray, memoryview)):
        try:
            event = bytes(event).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedEvent("The event is not UTF-8.") from None
    if not isinstance(event, str):
        return event
    if not event.strip():
        return {}
    try:
        return json.loads(event)
    except ValueError:
        raise MalformedEvent("The event is not JSON.") from None
