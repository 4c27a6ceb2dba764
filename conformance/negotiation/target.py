"""Where the device is and the timeouts: now :mod:`conformance.wire.target` (the network
stack's own input); re-exported here so that callers keep their import."""

from conformance.wire.target import Target, Timeouts

__all__ = ["Target", "Timeouts"]
