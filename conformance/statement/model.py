"""Typed form of a conformance statement (PS3.2), after validation and keyword resolution.

Names follow PS3.15 Annex H: a transfer capability is one SOP class in one role with the
transfer syntaxes the device supports for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

from conformance.standard.uids import keyword_of
from conformance.statement.secure import SecureTransport


class Role(str, Enum):
    """The device's role for a SOP class (PS3.7 D.3.3.4)."""

    SCU = "SCU"
    SCP = "SCP"


@dataclass(frozen=True)
class Identity:
    manufacturer: str
    model: str
    software_version: str
    statement_version: str = ""
    dicom_edition: str = ""
    description: str = ""
    source: str = ""

    @property
    def title(self) -> str:
        return f"{self.manufacturer} {self.model} {self.software_version}"


@dataclass(frozen=True)
class Network:
    """Network facts of the device's application entity (PS3.2 section 4.2, PS3.8 section 9)."""

    ae_titles: tuple[str, ...]
    port: int | None = None
    checks_called_ae_title: bool = False
    checks_calling_ae_title: bool = False
    max_pdu_receive: int | None = None
    implementation_class_uid: str | None = None
    implementation_version_name: str | None = None
    max_associations: int | None = None
    tls: bool = False


@dataclass(frozen=True)
class HarnessIdentity:
    """How the harness is known to the device (AE title, port, C-MOVE destination)."""

    ae_title: str = "CONFORMANCE"
    port: int | None = None
    move_destination: str | None = None


@dataclass(frozen=True)
class TransferCapability:
    """One SOP class in one role with its transfer syntaxes (PS3.15 H.4.3 dicomTransferCapability)."""

    sop_class: str
    role: Role
    transfer_syntaxes: tuple[str, ...]
    role_selection: bool = False
    extended_negotiation: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = field(default=None, compare=False)

    @property
    def sop_class_keyword(self) -> str:
        return keyword_of(self.sop_class)


@dataclass(frozen=True)
class PrivateAttribute:
    """A private data element (PS3.5 7.8): creator, element within the block, VR, VM."""

    creator: str
    group: int
    element: int
    vr: str
    vm: str = "1"
    meaning: str = ""


@dataclass(frozen=True)
class NamedUID:
    uid: str
    name: str


@dataclass(frozen=True)
class PrivateExtensions:
    sop_classes: tuple[NamedUID, ...] = ()
    transfer_syntaxes: tuple[NamedUID, ...] = ()
    attributes: tuple[PrivateAttribute, ...] = ()


@dataclass(frozen=True)
class StorageBehaviour:
    """Storage SCP behaviour (PS3.4 B.4.1): attributes it may coerce (tags), private ones kept."""

    coerced_attributes: tuple[int, ...] = ()
    private_attributes: str = "retained"
    round_trip: bool = True


@dataclass(frozen=True)
class QueryRetrieveBehaviour:
    """Q/R SCP behaviour (PS3.4 Annex C). ``levels``: model keyword -> levels; empty means
    every level of each declared model. ``matching``: kinds of PS3.4 C.2.2.2."""

    levels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    matching: tuple[str, ...] = ("single-value", "universal", "wildcard", "range", "uid-list")
    cancel: bool = False
    move_destinations: str = "configured"
    #: The status a C-MOVE to an unknown destination ends with, when the statement claims
    #: one (``None``: A801 per PS3.4 C.4.2.1.5 is expected, another failure is a warning).
    unknown_destination_status: int | None = None


@dataclass(frozen=True)
class WorklistBehaviour:
    """Modality Worklist SCP behaviour (PS3.4 K.6.1.2.1)."""

    matching_keys: tuple[str, ...] = ("ScheduledProcedureStepStartDate", "Modality",
                                      "ScheduledStationAETitle")


@dataclass(frozen=True)
class CommitmentBehaviour:
    """Storage Commitment Push Model SCP behaviour (PS3.4 J.3.3)."""

    report_association: str = "either"
    report_within: float = 10.0


@dataclass(frozen=True)
class Refusal:
    """A service the device negotiates but refuses to perform (``services.refused``): the
    presentation context is accepted, the request is answered by A-ABORT (``how="abort"``)
    or by a failure status (``how="status"``, optionally always *status*)."""

    sop_class: str
    how: str
    status: int | None = None


@dataclass(frozen=True)
class Services:
    """The optional ``services`` section: SOP-specific conformance negotiation cannot show."""

    storage: StorageBehaviour = StorageBehaviour()
    query_retrieve: QueryRetrieveBehaviour = QueryRetrieveBehaviour()
    worklist: WorklistBehaviour = WorklistBehaviour()
    storage_commitment: CommitmentBehaviour = CommitmentBehaviour()
    refused: tuple[Refusal, ...] = ()

    def refusal(self, sop_class: str) -> Refusal | None:
        """The declared refusal of *sop_class*, if the statement declares one."""
        return next((r for r in self.refused if r.sop_class == sop_class), None)


@dataclass(frozen=True)
class WebResource:
    """One WADO-RS resource (PS3.18 10.4.1): its media types (PS3.18 8.7.3) and, where the
    media type carries one, its transfer syntaxes (UIDs; ``*`` for "as stored")."""

    media_types: tuple[str, ...] = ()
    transfer_syntaxes: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class WebService:
    """One DICOMweb service as origin server: where it is and what it declares.

    ``url`` is absolute or a path joined to the origin given at run time. The other fields
    apply to the service they belong to (see the schema's ``dicomweb`` section).
    """

    url: str
    sop_classes: tuple[str, ...] = ()
    request_media_types: tuple[str, ...] = ()
    response_media_types: tuple[str, ...] = ("application/dicom+json",)
    levels: tuple[str, ...] = ()
    matching: tuple[str, ...] = ()
    includefield: bool = False
    includefield_all: bool = False
    paging: bool = False
    resources: Mapping[str, WebResource] = field(default_factory=dict)
    media_types: tuple[str, ...] = ()
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DicomWeb:
    """The optional ``dicomweb`` section (PS3.2 Annex A "Web services"; PS3.18)."""

    stow_rs: WebService | None = None
    qido_rs: WebService | None = None
    wado_rs: WebService | None = None
    wado_uri: WebService | None = None
    authentication: str = "none"
    character_sets: tuple[str, ...] = ()
    capabilities: bool = False
    #: "origin-server" (serves, tested by a run) or "user-agent" (what a viewer needs; compared).
    role: str = "origin-server"


@dataclass(frozen=True)
class LoadTargets:
    """What the declared load must achieve (the ``load.targets`` section)."""

    throughput: float | None = None       # instances/s, at least
    p95_latency_ms: float | None = None   # per C-STORE, at most
    error_rate: float | None = None       # share of failed C-STOREs, at most


@dataclass(frozen=True)
class Load:
    """The optional ``load`` section: concurrent associations storing synthesized instances."""

    associations: int
    instances_per_association: int
    sop_classes: tuple[str, ...] = ()        # UIDs; empty: the first declared Storage SCP class
    transfer_syntaxes: tuple[str, ...] = ()  # UIDs; empty: Explicit VR Little Endian
    time_limit: float = 120.0
    targets: LoadTargets = LoadTargets()


@dataclass(frozen=True)
class Statement:
    """A machine-readable conformance statement.

    ``transfer_capabilities`` is expanded: one entry per (SOP class, role), sets resolved,
    every SOP class and transfer syntax given as a UID.
    """

    identity: Identity
    network: Network
    harness: HarnessIdentity
    transfer_capabilities: tuple[TransferCapability, ...]
    character_sets: tuple[str, ...] = ()
    private: PrivateExtensions = PrivateExtensions()
    file: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict, compare=False)
    services: Services = Services()
    #: The DICOMweb services, when the statement declares them (PS3.18).
    dicomweb: DicomWeb | None = None
    #: The storage load the device takes (the load family), when declared.
    load: Load | None = None
    #: DICOM over TLS (PS3.15 Annex B), when declared.
    secure_transport: SecureTransport | None = None

    def capabilities(self, role: Role) -> list[TransferCapability]:
        return [c for c in self.transfer_capabilities if c.role is role]

    def capability(self, sop_class: str, role: Role) -> TransferCapability | None:
        return next((c for c in self.transfer_capabilities
                     if c.sop_class == sop_class and c.role is role), None)

    def performs(self, sop_class: str) -> bool:
        """Declared as SCP and not declared refused: the service is claimed to work."""
        return self.declares(sop_class, Role.SCP) and self.services.refusal(sop_class) is None

    def declares(self, sop_class: str, role: Role, transfer_syntax: str | None = None) -> bool:
        cap = self.capability(sop_class, role)
        if cap is None:
            return False
        return transfer_syntax is None or transfer_syntax in cap.transfer_syntaxes

    @property
    def private_uids(self) -> dict[str, str]:
        """UID -> name for the private SOP classes and transfer syntaxes declared."""
        return {n.uid: n.name for n in self.private.sop_classes + self.private.transfer_syntaxes}
