"""The FC3 timer function: health checks of WABA bindings (the checks live in `shared/healthcheck`)."""

from __future__ import annotations

from typing import Any

from shared.loading import instance_imports

with instance_imports():
    from shared.healthcheck.app import app, initialize

__all__ = ["handler", "initialize"]


def handler(event: Any, context: Any) -> dict[str, Any]:
    """FC3 entry point: `index.handler`. Returns the summary, or raises when a space needs attention."""
    return app.run(event, context)
