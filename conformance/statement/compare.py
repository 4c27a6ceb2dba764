"""Compare two conformance statements the way a purchaser does before buying (PS3.2 Annex ...
is silent on how; this follows the questions a connectivity engineer asks).

For every SOP class one side uses as SCU and the other provides as SCP: which transfer
syntaxes both support, and which one an association would most likely settle on; SOP classes
one side sends that the other does not accept; character sets; private attributes; AE title,
port and TLS compatibility. Pure: statements in, a :class:`Comparison` out.

One rule for the services a side needs (PS3.4: Storage, Query/Retrieve C-FIND / C-MOVE /
C-GET, Modality Worklist, MPPS, Storage Commitment, ...), whatever the receiver: when the
other side provides a service at all, every SOP class of it the sender uses is compared
(a missing one, e.g. another information model, blocks); when the other side provides none
of that service, the sender must get it from another system (a worklist from a RIS): a
warning naming the service, not a verdict on this pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.standard import uids
from conformance.statement.model import Role, Statement

#: Transfer syntax preference used to guess the negotiated syntax: an SCP that accepts
#: several of the proposed syntaxes usually takes the first one proposed (PS3.8 9.3.3.2
#: leaves the choice to the acceptor). The SCU's declared order is taken as its proposal order.

OK = "ok"                      # at least one common transfer syntax
NO_COMMON_TS = "no-common-ts"  # SCP supports the SOP class, no transfer syntax in common
NOT_ACCEPTED = "not-accepted"  # SCP does not declare the SOP class at all


#: Service -> where PS3.4 defines it (the page cites these).
SERVICE_REFERENCES = {
    "Storage": "PS3.4 Annex B", "Query/Retrieve C-FIND": "PS3.4 C.4.1", "Query/Retrieve C-MOVE": "PS3.4 C.4.2",
    "Query/Retrieve C-GET": "PS3.4 C.4.3", "Modality Worklist": "PS3.4 Annex K", "MPPS": "PS3.4 Annex F",
    "Storage Commitment": "PS3.4 Annex J", "Verification": "PS3.4 Annex A",
}


def service_of(sop_class: str) -> str:
    """The PS3.4 service a SOP class belongs to; Query/Retrieve split by DIMSE service."""
    kw = uids.keyword_of(sop_class)
    if sop_class == uids.VERIFICATION:
        return "Verification"
    if "Worklist" in kw:
        return "Modality Worklist"
    if "PerformedProcedureStep" in kw:
        return "MPPS"
    if "StorageCommitment" in kw:
        return "Storage Commitment"
    for dimse in ("Find", "Move", "Get"):
        if "QueryRetrieve" in kw and kw.endswith(dimse):
            return f"Query/Retrieve C-{dimse.upper()}"
    group = uids.service_group(sop_class)
    return "Storage" if group == "Transfer" else group


@dataclass(frozen=True)
class Pairing:
    """One SOP class sent by *scu* (A or B) to the other side as SCP."""

    sop_class: str
    scu: str                       # "A" or "B"
    state: str
    common: tuple[str, ...] = ()
    likely: str | None = None
    scu_only: tuple[str, ...] = ()  # syntaxes the SCU offers that the SCP lacks

    @property
    def keyword(self) -> str:
        return uids.keyword_of(self.sop_class)

    @property
    def service(self) -> str:
        return service_of(self.sop_class)

    @property
    def reference(self) -> str:
        """Where the rule of this cell comes from: presentation context negotiation
        (PS3.8 9.3.3.2, PS3.7 D.3.3) and the service's PS3.4 annex."""
        service = SERVICE_REFERENCES.get(self.service, "PS3.4")
        return f"PS3.8 9.3.3.2; {service}"


@dataclass(frozen=True)
class Flag:
    """A compatibility concern that is not a SOP class pairing."""

    severity: str                  # "error" | "warning" | "info"
    topic: str                     # "character-sets" | "private-attributes" | "network" | "tls" | "dicomweb" | "services"
    message: str
    reference: str = ""


@dataclass
class Comparison:
    a: Statement
    b: Statement
    pairings: list[Pairing] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def blocking(self) -> list[Pairing]:
        """SOP classes an SCU sends that have no transfer syntax in common with the SCP."""
        return [p for p in self.pairings if p.state != OK]

    @property
    def web_blocking(self) -> list[Flag]:
        """DICOMweb needs of one side the other does not offer (errors of webcompare)."""
        return [f for f in self.flags if f.topic == "dicomweb" and f.severity == "error"]

    @property
    def compatible(self) -> bool:
        return not self.blocking and not self.web_blocking

    def transfer_syntaxes(self) -> list[str]:
        seen: dict[str, None] = {}
        order = list(uids.probe_transfer_syntaxes().values())
        for p in self.pairings:
            for ts in p.common + p.scu_only:
                seen.setdefault(ts)
        return sorted(seen, key=lambda t: (order.index(t) if t in order else len(order), t))

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": {"file": self.a.file, "identity": self.a.identity.title},
            "b": {"file": self.b.file, "identity": self.b.identity.title},
            "pairings": [{"sop_class": p.sop_class, "keyword": p.keyword, "scu": p.scu, "state": p.state,
                          "common": [uids.keyword_of(t) for t in p.common],
                          "likely": uids.keyword_of(p.likely) if p.likely else None,
                          "scu_only": [uids.keyword_of(t) for t in p.scu_only]} for p in self.pairings],
            "flags": [vars(f) for f in self.flags],
            "references": sorted({p.reference for p in self.pairings}),
            "compatible": self.compatible,
        }


def _pair(scu: Statement, scp: Statement, label: str) -> tuple[list[Pairing], list[Flag]]:
    """Pair *scu*'s SCU SOP classes with *scp*'s SCP ones, service by service (see the
    module docstring): a service *scp* does not provide at all is a warning, not a pairing."""
    out: list[Pairing] = []
    provided = {service_of(c.sop_class) for c in scp.capabilities(Role.SCP)}
    elsewhere: dict[str, int] = {}
    for cap in scu.capabilities(Role.SCU):
        service = service_of(cap.sop_class)
        if service not in provided:
            elsewhere[service] = elsewhere.get(service, 0) + 1
            continue
        provider = scp.capability(cap.sop_class, Role.SCP)
        if provider is None:
            out.append(Pairing(cap.sop_class, label, NOT_ACCEPTED, scu_only=cap.transfer_syntaxes))
            continue
        common = tuple(ts for ts in cap.transfer_syntaxes if ts in provider.transfer_syntaxes)
        out.append(Pairing(cap.sop_class, label, OK if common else NO_COMMON_TS, common=common,
                           likely=common[0] if common else None,
                           scu_only=tuple(ts for ts in cap.transfer_syntaxes if ts not in common)))
    receiver = "B" if label == "A" else "A"
    flags = [Flag("warning", "services",
                  f"{label} uses {service} as SCU ({n} SOP class(es)), but {receiver} does not provide "
                  f"{service} at all: {label} needs another system for it, or loses that function.",
                  SERVICE_REFERENCES.get(service, "PS3.4"))
             for service, n in elsewhere.items()]
    return out, flags


def _charset_flags(scu: Statement, scp: Statement, scu_label: str, scp_label: str) -> list[Flag]:
    """PS3.5 6.1: values are encoded in the Specific Character Set the sender declares; a
    receiver that does not support it may show garbled names."""
    if not scu.capabilities(Role.SCU) or not scp.capabilities(Role.SCP):
        return []
    scp_sets = set(scp.character_sets) | {""}   # the default repertoire is always supported
    if not scp.character_sets:
        return [Flag("info", "character-sets", f"{scp_label} declares no character sets: only the "
                     "default repertoire (ISO-IR 6) can be assumed.", "PS3.5 6.1")] if set(scu.character_sets) - {""} else []
    missing = [cs for cs in scu.character_sets if cs not in scp_sets]
    return [Flag("warning", "character-sets",
                 f"{scu_label} may send {cs!r}, which {scp_label} does not declare: names and text in that "
                 "character set may be shown wrongly or rejected (PS3.5 6.1).", "PS3.5 6.1; PS3.3 C.12.1.1.2")
            for cs in missing]


def _private_flags(scu: Statement, scp: Statement, scu_label: str, scp_label: str) -> list[Flag]:
    if not scu.private.attributes or not scu.capabilities(Role.SCU):
        return []
    creators = sorted({a.creator for a in scu.private.attributes})
    return [Flag("info", "private-attributes",
                 f"{scu_label} relies on private attributes of {', '.join(creators)}; {scp_label}'s statement "
                 "does not say whether it keeps private attributes: check before relying on them.",
                 "PS3.5 7.8; PS3.4 B.4.1")]


def _tls_flags(a: Statement, b: Statement) -> list[Flag]:
    """The secure transport of the two devices (PS3.15 Annex B): a profile in common, and
    client certificates a device requires of the other."""
    a_tls, b_tls = a.network.tls or a.secure_transport is not None, b.network.tls or b.secure_transport is not None
    if a_tls != b_tls:
        only = "A" if a_tls else "B"
        return [Flag("warning", "tls", f"Only {only} declares TLS (PS3.15 Annex B): a secure connection "
                                       "between them cannot be assumed.", "PS3.15 Annex B")]
    if a.secure_transport is None or b.secure_transport is None:
        return []
    from conformance.wire.tls import profiles
    known = profiles()

    def names(keys: tuple[str, ...]) -> str:
        return ", ".join(f"{known[k].section} {known[k].name}" if k in known else k for k in keys)

    flags: list[Flag] = []
    common = [k for k in a.secure_transport.profiles if k in b.secure_transport.profiles]
    if common:
        flags.append(Flag("info", "tls", f"Both declare {names(tuple(common))}.",
                          "; ".join(known[k].section for k in common if k in known)))
    else:
        flags.append(Flag("warning", "tls", f"No TLS profile in common: A declares {names(a.secure_transport.profiles)}; "
                                            f"B declares {names(b.secure_transport.profiles)}. Check that their "
                                            "protocol versions and cipher suites overlap before relying on TLS.",
                          "PS3.15 Annex B"))
    for scp, label, other in ((a, "A", "B"), (b, "B", "A")):
        sec = scp.secure_transport
        if sec is not None and sec.client_certificate_required and scp.capabilities(Role.SCP):
            flags.append(Flag("info", "tls", f"{label} requires a client certificate over TLS: {other} must present "
                                             f"one that {label} trusts.", "PS3.15 Annex B"))
    return flags


def _network_flags(a: Statement, b: Statement) -> list[Flag]:
    flags = _tls_flags(a, b)
    for scp, label, other in ((a, "A", "B"), (b, "B", "A")):
        if scp.capabilities(Role.SCP) and scp.network.checks_calling_ae_title:
            flags.append(Flag("info", "network", f"{label} checks the calling AE title: {other}'s AE title must "
                                                 f"be configured on {label}.", "PS3.8 9.3.4"))
        if scp.capabilities(Role.SCP) and scp.network.port is None:
            flags.append(Flag("info", "network", f"{label}'s statement gives no port: configure it on {other}."))
    return flags


def compare(a: Statement, b: Statement) -> Comparison:
    """A as SCU towards B as SCP, and B as SCU towards A as SCP."""
    result = Comparison(a, b)
    for scu, scp, label in ((a, b, "A"), (b, a, "B")):
        pairings, flags = _pair(scu, scp, label)
        result.pairings += pairings
        result.flags += flags
    for scu, scp, su, sp in ((a, b, "A", "B"), (b, a, "B", "A")):
        result.flags += _charset_flags(scu, scp, su, sp)
        result.flags += _private_flags(scu, scp, su, sp)
    result.flags += _network_flags(a, b)
    from conformance.statement.webcompare import web_flags
    result.flags += [Flag(sev, "dicomweb", msg) for sev, msg in web_flags(a, b)]
    return result
