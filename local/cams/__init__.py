"""A moto-style fake of CAMS (Chat App Message Service): `models` holds state, `responses`
dispatches on `x-acs-action`, `exceptions` has the coded errors, `signature` checks V3 signatures."""

from local.cams.server import FakeCams

__all__ = ["FakeCams"]
