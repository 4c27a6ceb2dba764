"""The services' synchronous storage path is :mod:`conformance.wire` (one thread, one blocking
socket: no reactor race, about 10x pynetdicom's C-STORE throughput). The names the services
family imports from here are kept for it."""

from conformance.wire.association import WireError
from conformance.wire.requestor import RequestorAssociation as WireAssociation
from conformance.wire.requestor import Response, open_association

__all__ = ["Response", "WireAssociation", "WireError", "open_association"]
