"""FC passes events as bytes of JSON: one decoder for every trigger.

Example:
    >>> decode_event(b'{"triggerName": "timer"}', "a timer event")
    {'triggerName': 'timer'}
    >>> decode_event(b"  ", "a timer event")
    {}
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
"""Objects and arrays nest at most this deep in an event: no trigger sends more than a few levels."""


class MalformedEvent(ValueError):
    """The event is not UTF-8 JSON; the message says which, and never echoes the event."""


def decode_event(event: object, what: str) -> dict[str, Any]:
    """The JSON object of `event`: bytes (as FC passes it), str, or a document already (tests, emulator).

    Blank input is an empty object, as a timer without a payload may send; anything but an object
    is not `what` the trigger sends.
    """
    if isinstance(event, (bytes, bytearray, memoryview)):
        try:
            event = bytes(event).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedEvent("The event is not UTF-8.") from None
    shallow = False
    if isinstance(event, str):
        try:
            document = json.loads(event) if event.strip() else {}
        except ValueError:
            raise MalformedEvent("The event is not JSON.") from None
        except RecursionError:
            raise MalformedEvent(f"The event nests deeper than {MAX_DEPTH} levels.") from None
        shallow = event.count("{") + event.count("[") <= MAX_DEPTH
        event = document
    if not isinstance(event, dict):
        raise MalformedEvent(f"The event is not {what}.")
    # Each level opens with a bracket of the text: with no more brackets than levels allowed, in
    # strings or not, no walk can find a deeper one.
    if not shallow and depth_of(event) > MAX_DEPTH:
        raise MalformedEvent(f"The event nests deeper than {MAX_DEPTH} levels.")
    return event


def depth_of(document: object) -> int:
    """How deep objects and arrays nest, counted without recursion (the input may be hostile)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest
