"""pynetdicom as the independent oracle of benchmarks and tests (never on a run path)."""

from __future__ import annotations

import socket
from typing import Any


def nodelay(event: Any) -> None:
    """pynetdicom ``EVT_CONN_OPEN`` handler: set TCP_NODELAY on the association's socket
    (pynetdicom 3.0 never does, so each round trip would wait ~40 ms for a delayed ACK)."""
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
