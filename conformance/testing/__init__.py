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
    orthanc_knowing_harness_as,
    restricted_orthanc,
)

__all__ = ["DcmQrSCP", "Orthanc", "Peer", "PeerError", "StoreSCP", "WlmSCPFS", "dcmtk_tool",
           "free_port", "free_ports", "orthanc_knowing_harness_as", "restricted_orthanc"]
