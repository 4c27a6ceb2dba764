"""Helpers for testing the harness against real DICOM implementations (DCMTK, Orthanc).

Reusable by the interop tests, the benchmarks and later scenario families.
"""

from conformance.testing.peers import (
    DcmQrSCP,
    Orthanc,
    Peer,
    PeerError,
    StoreSCP,
    WlmSCPFS,
    dcmtk_tool,
    free_port,
    free_ports,
)

__all__ = ["DcmQrSCP", "Orthanc", "Peer", "PeerError", "StoreSCP", "WlmSCPFS", "dcmtk_tool",
           "free_port", "free_ports"]
