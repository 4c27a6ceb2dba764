"""Probe an unknown device: which SOP classes and transfer syntaxes it accepts as SCP, role
selection, association parameters and AE title policy (PS3.7 Annex D, PS3.8 section 9).

Two passes keep it fast: first every SOP class the harness knows, each in one presentation
context offering both default transfer syntaxes (Implicit and Explicit VR Little Endian,
PS3.5 10.1); then, for the SOP classes accepted, every transfer syntax in a context of its
own, packed 128 contexts per association. A SOP class a device accepts only in other transfer
syntaxes than the defaults is not found: PS3.5 10.1 requires Implicit VR Little Endian.

Packing: up to *packing* contexts per association (default 128, the PS3.8 limit). A device
that drops the connection (or stops answering) under a large proposal is retried with
halves of it, down to single contexts; the size that broke it is kept
(:attr:`Discovery.packing_limit`) and reported as a finding, not as "unreachable".

What each accepted service does with a harmless request is probed afterwards by
:func:`conformance.families.probes.probe_discovery` (it needs DIMSE), into
:attr:`Discovery.services`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.negotiation.association import Establishment, ProposedContext
from conformance.negotiation.packing import pack
from conformance.negotiation.target import Target
from conformance.standard import uids
from conformance.wire.outcome import Violation
from conformance.wire.requestor import negotiate

WRONG_AE_TITLE = "NOT-THIS-DEVICE"
UNKNOWN_CALLING_AE = "UNKNOWN-PEER"
_GET_MODELS = {"1.2.840.10008.5.1.4.1.2.1.3", "1.2.840.10008.5.1.4.1.2.2.3", "1.2.840.10008.5.1.4.1.2.3.3",
               "1.2.840.10008.5.1.4.1.2.4.3"}


class DiscoveryError(Exception):
    """The device could not be probed at all (unreachable, rejects the harness, ...)."""


@dataclass
class Discovery:
    """What probing showed. Lists are in probe order."""

    target: Target
    accepted: dict[str, list[str]] = field(default_factory=dict)        # SCP: SOP class -> syntaxes
    role_selection: dict[str, list[str]] = field(default_factory=dict)  # device as SCU via role selection
    checks_called_ae_title: bool | None = None
    checks_calling_ae_title: bool | None = None
    max_pdu: int | None = None
    implementation_class_uid: str | None = None
    implementation_version_name: str | None = None
    associations: int = 0
    notes: list[str] = field(default_factory=list)
    #: Presentation contexts proposed per association (PS3.8: at most 128).
    packing: int = 128
    #: The smallest proposal (contexts in one association) the device dropped, if any.
    packing_limit: int | None = None
    #: SOP class -> what its harmless service probe showed (filled after discovery).
    services: dict[str, dict[str, object]] = field(default_factory=dict)
    #: Set when the device stopped answering DIMSE requests during the service probes
    #: (what went unanswered): the draft is incomplete, the command exits 3.
    stopped_answering: str | None = None


#: Added to every probe association: a device may reject a whole association that proposes
#: nothing it supports (wlmscpfs does), and Verification is what every device should accept.
ANCHOR = ProposedContext(uids.VERIFICATION, (uids.IMPLICIT_VR_LITTLE_ENDIAN,))


#: Ways an association can end that a large proposal may have caused (PS3.8 9.3.2.2).
_DROPPED = (Establishment.ABORTED, Establishment.NO_ANSWER, Establishment.NO_CONNECTION)
#: Bound on the retries with smaller proposals.
_MAX_SPLITS = 64


def _probe(target: Target, contexts: list[ProposedContext], found: Discovery) -> dict[ProposedContext, bool]:
    answers: dict[ProposedContext, bool] = {}
    pending = pack(contexts, max(1, found.packing - 1))
    splits = 0
    while pending:
        group = pending.pop(0)
        if ANCHOR not in group and all(c.sop_class != uids.VERIFICATION for c in group):
            group = group + [ANCHOR]
        outcome = negotiate(target, group)
        found.associations += 1
        if outcome.establishment in _DROPPED and len(group) > 2 and splits < _MAX_SPLITS:
            # The device answered a single context (the policy probe) but dropped this
            # proposal: retry with halves, and remember the size that broke it.
            splits += 1
            size = len(group)
            if found.packing_limit is None or size < found.packing_limit:
                found.packing_limit = size
                found.notes.append(f"the device dropped an association proposing {size} presentation "
                                   f"contexts ({outcome.describe()}); retried with smaller proposals")
            body = [c for c in group if c != ANCHOR] if ANCHOR in group and len(group) > 1 else group
            half = max(1, len(body) // 2)
            pending[:0] = [body[:half], body[half:]]
            found.packing = min(found.packing, half + 1)
            continue
        if outcome.establishment is Establishment.REJECTED:
            found.notes.append(f"an association of {len(group)} probe contexts was rejected as a whole "
                               f"({outcome.describe()}): taken as none of them supported")
            answers.update({c: False for c in group if c not in answers})
            continue
        if outcome.establishment is not Establishment.ACCEPTED:
            raise DiscoveryError(f"{target.address}: {outcome.describe()}")
        if found.max_pdu is None:
            found.max_pdu = outcome.max_pdu
            found.implementation_class_uid = outcome.implementation_class_uid
            found.implementation_version_name = outcome.implementation_version_name
        answers.update({r.proposed: r.accepted for r in outcome.contexts if r.proposed not in answers})
    return answers


def _policy(target: Target, found: Discovery) -> None:
    echo = [ProposedContext(uids.VERIFICATION, (uids.IMPLICIT_VR_LITTLE_ENDIAN,))]
    outcome = negotiate(target, echo)
    found.associations += 1
    if outcome.establishment is Establishment.REJECTED:
        hint = " (give the device's AE title with --called-ae)" if outcome.reject_reason == 7 else ""
        raise DiscoveryError(f"{target.address} rejected the harness: {outcome.describe()}{hint}")
    if outcome.establishment is not Establishment.ACCEPTED:
        raise DiscoveryError(f"{target.address}: {outcome.describe()}")
    for which, probe in (("called", target.with_called_ae(WRONG_AE_TITLE)),
                         ("calling", target.with_calling_ae(UNKNOWN_CALLING_AE))):
        outcome = negotiate(probe, echo)
        found.associations += 1
        if outcome.establishment not in (Establishment.ACCEPTED, Establishment.REJECTED):
            found.notes.append(f"{which} AE title policy unknown: {outcome.describe()}")
            continue
        setattr(found, f"checks_{which}_ae_title", outcome.establishment is Establishment.REJECTED)


def protocol_findings(found_or_target: Discovery | Target) -> list[Violation]:
    """The device's protocol errors met while probing it (PS3.8, PS3.7), each once: what
    ``discover`` and ``diff`` report (and exit 1 on, when one is of severity error)."""
    target = found_or_target.target if isinstance(found_or_target, Discovery) else found_or_target
    return list(target.record.violations)


def discover(target: Target, packing: int = 128) -> Discovery:
    """Probe *target*, proposing up to *packing* presentation contexts per association.
    Raises :class:`DiscoveryError` if it cannot be probed at all."""
    found = Discovery(target, packing=max(2, min(128, packing)))
    _policy(target, found)
    known = {uids.VERIFICATION: uids.VERIFICATION, **uids.storage_sop_classes(), **uids.query_retrieve_sop_classes()}
    first = [ProposedContext(sop, (uids.IMPLICIT_VR_LITTLE_ENDIAN, uids.EXPLICIT_VR_LITTLE_ENDIAN))
             for sop in dict.fromkeys(known.values())]
    supported = [c.sop_class for c, ok in _probe(target, first, found).items() if ok]
    syntaxes = list(uids.probe_transfer_syntaxes().values())
    second = [ProposedContext(sop, (ts,)) for sop in supported for ts in syntaxes]
    for ctx, ok in _probe(target, second, found).items():
        if ok:
            found.accepted.setdefault(ctx.sop_class, []).append(ctx.transfer_syntaxes[0])
    if _GET_MODELS & set(found.accepted):
        storage = set(uids.storage_sop_classes().values())
        roles = [ProposedContext(sop, (ts,), scu_role=False, scp_role=True)
                 for sop, tss in found.accepted.items() if sop in storage for ts in tss]
        answers: dict[ProposedContext, bool] = {}
        for group in pack(roles, found.packing):
            outcome = negotiate(target, group)
            found.associations += 1
            for r in outcome.contexts:
                answers[r.proposed] = bool(r.accepted and r.as_scp)
        for ctx, ok in answers.items():
            if ok:
                found.role_selection.setdefault(ctx.sop_class, []).append(ctx.transfer_syntaxes[0])
    return found
