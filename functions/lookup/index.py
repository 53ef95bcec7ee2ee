"""The FC3 HTTP function: which WABA is bound to a CAMS customer space (routes in `shared/lookup`)."""

from __future__ import annotations

from typing import Any

from shared.loading import instance_imports

with instance_imports():
    from shared.lookup.app import app, initialize

__all__ = ["handler", "initialize"]


def handler(event: Any, context: Any) -> dict[str, Any]:
    """FC3 entry point: `index.handler`."""
    return app.resolve(event, context)
