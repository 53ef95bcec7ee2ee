"""How an entry point imports what its instance keeps: without the garbage collector in the way, and
without the parts of the SDK a synchronous call never runs.

The objects an import builds live as long as the instance. Collecting among them while they load
costs about a sixth of a cold start (bench/coldstart.py measures it), so the collector waits until
they are loaded, then leaves them in its permanent generation, where later collections do not scan.
The SDK's asynchronous, websocket and scheduling libraries are loaded when first used
(`shared.deferred`), which a synchronous call never does.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from shared import deferred


@contextmanager
def instance_imports() -> Iterator[None]:
    """`with instance_imports(): from ... import ...`, once per instance, in an entry point."""
    deferred.install()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
