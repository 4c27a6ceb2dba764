"""The device under test as the harness addresses it: host, port, AE titles, timeouts (every
network step of :mod:`conformance.wire` is bounded by these)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from conformance.wire.outcome import DeviceRecord


@dataclass(frozen=True)
class Timeouts:
    """Every network step is bounded. Seconds.

    ``connect``: TCP connection set-up. ``acse``: waiting for A-ASSOCIATE-AC/RJ and
    A-RELEASE-RP (PS3.8 9.1). ``dimse``: waiting for a DIMSE response (PS3.7 section 9).
    ``network``: an idle established association. ``liveness``: the quick re-check made
    after a step could not reach the device, before declaring it down.
    """

    connect: float = 10.0
    acse: float = 30.0
    dimse: float = 30.0
    network: float = 60.0
    liveness: float = 10.0

    def step_limit(self, associations: int = 1) -> float:
        """Wall-clock bound for a step that opens *associations* associations."""
        return associations * (self.connect + self.acse + self.dimse) + 10.0


@dataclass(frozen=True)
class Target:
    """Where the device under test listens and how the harness presents itself."""

    host: str
    port: int
    called_ae: str
    calling_ae: str = "CONFORMANCE"
    timeouts: Timeouts = field(default_factory=Timeouts)
    #: Loopback port on which the harness listens when the device connects back to it
    #: (C-MOVE destination, storage commitment report): the port the device has
    #: configured for the harness. ``None``: the statement's ``harness.port``.
    harness_port: int | None = None
    #: What the harness learned about this device so far (its protocol violations, whether
    #: it answers A-RELEASE-RQ); shared by the copies :meth:`with_called_ae` and
    #: :func:`dataclasses.replace` make, not compared.
    record: DeviceRecord = field(default_factory=DeviceRecord, compare=False, repr=False)
    #: The TLS hook (:mod:`conformance.wire.tls`): wraps every connection made to the device
    #: (``None``: plain TCP). PS3.15 Annex B.
    wrap: Callable[[socket.socket], socket.socket] | None = field(default=None, compare=False, repr=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def with_called_ae(self, ae_title: str) -> Target:
        return replace(self, called_ae=ae_title)

    def with_calling_ae(self, ae_title: str) -> Target:
        return replace(self, calling_ae=ae_title)
