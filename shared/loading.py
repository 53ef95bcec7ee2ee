"""How an entry point imports what its instance keeps: without the garbage collector in the way.

The objects an import builds live as long as the instance. Collecting among them while they load
costs about a sixth of a cold start (bench/coldstart.py measures it), so the collector waits until
they are loaded, then leaves them in its permanent generation, where later collections do not scan.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def instance_imports() -> Iterator[None]:
    """`with instance_imports(): from ... import ...`, once per instance, in an entry point."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
