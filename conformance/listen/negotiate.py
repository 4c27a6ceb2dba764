"""The harness SCP's answer to an A-ASSOCIATE-RQ, and the checks of that request against the
device's SCU declarations. Pure functions over data: tested without sockets.

Checks (each a :class:`~conformance.findings.Finding`):

- calling AE title is one of the statement's ``network.ae_titles`` (statement; PS3.8 9.3.2);
- called AE title is the one the device is configured to call, ``harness.ae_title``;
- application context name is the DICOM one and protocol version bit 0 is set (PS3.8 9.3.2,
  PS3.7 A.2.1);
- presentation context IDs odd and unique, at most 128 contexts, each with an abstract
  syntax and at least one transfer syntax (PS3.8 9.3.2.2);
- maximum length, implementation class UID and version name as declared (PS3.8 D.1, D.3.3.2);
- every (SOP class, transfer syntax) proposed is declared with role SCU (an undeclared one is
  a warning: the statement is incomplete, as for accepted-but-undeclared on the SCP side);
- SCP/SCU role selection proposed only for SOP classes declared with ``role_selection``
  (PS3.7 D.3.3.4).

The harness accepts every proposal it can serve (also undeclared ones, so that what the
device then sends can be seen and validated), except what a misbehaviour rejects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.findings import Finding, Severity
from conformance.listen.misbehaviour import Misbehaviour
from conformance.standard import uids
from conformance.statement.model import Role, Statement
from conformance.wire.contexts import (
    ABSTRACT_SYNTAX_NOT_SUPPORTED,
    ACCEPTANCE,
    TRANSFER_SYNTAXES_NOT_SUPPORTED,
)
from conformance.wire.dimse import DATASET_SYNTAXES
from conformance.wire.identity import APPLICATION_CONTEXT
from conformance.wire.pdu import AssociateRequest
from conformance.wire.pdu import RequestedContext as ProposedContext

VERIFICATION = "1.2.840.10008.1.1"
MWL_FIND = "1.2.840.10008.5.1.4.31"
MPPS = "1.2.840.10008.3.1.2.3.3"
COMMITMENT = "1.2.840.10008.1.20.1"
QR_FIND = {"1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.2.1"}
QR_MOVE = {"1.2.840.10008.5.1.4.1.2.1.2", "1.2.840.10008.5.1.4.1.2.2.2"}
QR_GET = {"1.2.840.10008.5.1.4.1.2.1.3", "1.2.840.10008.5.1.4.1.2.2.3"}


def service_of(sop_class: str) -> str | None:
    """Which harness SCP serves *sop_class*: storage, find, move, get, worklist, mpps,
    commitment, echo; ``None`` if none does."""
    if sop_class == VERIFICATION:
        return "echo"
    if sop_class == MWL_FIND:
        return "worklist"
    if sop_class == MPPS:
        return "mpps"
    if sop_class == COMMITMENT:
        return "commitment"
    if sop_class in QR_FIND:
        return "find"
    if sop_class in QR_MOVE:
        return "move"
    if sop_class in QR_GET:
        return "get"
    if sop_class in _storage():
        return "storage"
    return None


_STORAGE: set[str] = set()


def _storage() -> set[str]:
    if not _STORAGE:
        _STORAGE.update(uids.storage_sop_classes().values())
    return _STORAGE


@dataclass
class ContextAnswer:
    proposed: ProposedContext
    result: int
    transfer_syntax: str = ""

    @property
    def accepted(self) -> bool:
        return self.result == ACCEPTANCE


@dataclass
class Answer:
    """The harness' A-ASSOCIATE-AC content, and the request's findings."""

    contexts: list[ContextAnswer] = field(default_factory=list)
    roles: dict[str, tuple[int, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def accepted(self) -> dict[int, ContextAnswer]:
        return {c.proposed.id: c for c in self.contexts if c.accepted}


def _answer_context(ctx: ProposedContext, misbehaviour: Misbehaviour, extra_ts: frozenset[str]) -> ContextAnswer:
    service = service_of(ctx.abstract_syntax)
    if service is None and ctx.abstract_syntax not in extra_ts:
        return ContextAnswer(ctx, ABSTRACT_SYNTAX_NOT_SUPPORTED)
    if misbehaviour.rejects(ctx.abstract_syntax):
        return ContextAnswer(ctx, ABSTRACT_SYNTAX_NOT_SUPPORTED)
    for ts in ctx.transfer_syntaxes:
        if misbehaviour.rejects(ctx.abstract_syntax, ts):
            continue
        # Storage: instances are kept as received, in any transfer syntax. Other services:
        # the harness decodes the data sets, so only the uncompressed (and deflated) syntaxes.
        if service in ("storage", None) or ts in DATASET_SYNTAXES:
            return ContextAnswer(ctx, ACCEPTANCE, ts)
    return ContextAnswer(ctx, TRANSFER_SYNTAXES_NOT_SUPPORTED)


def answer(req: AssociateRequest, misbehaviour: Misbehaviour = Misbehaviour(),
           private_sop_classes: frozenset[str] = frozenset()) -> Answer:
    """What the harness answers to *req*: one result per context, role selection replies."""
    out = Answer()
    seen_ids: set[int] = set()
    for ctx in req.contexts[:128]:
        if ctx.id in seen_ids or not ctx.id % 2 or not ctx.transfer_syntaxes:
            out.contexts.append(ContextAnswer(ctx, 2))      # no reason: malformed
        else:
            out.contexts.append(_answer_context(ctx, misbehaviour, private_sop_classes))
        seen_ids.add(ctx.id)
    accepted_sops = {c.proposed.abstract_syntax for c in out.contexts if c.accepted}
    for sop, (scu, scp) in req.roles.items():
        if sop in accepted_sops:
            out.roles[sop] = (scu, scp)     # accept the roles as proposed (PS3.7 D.3.3.4)
    return out


def check_request(req: AssociateRequest, statement: Statement, harness_ae: str) -> list[Finding]:
    """Association-level checks of *req* against the statement (see module docstring)."""
    out: list[Finding] = []
    net = statement.network
    if req.calling_ae not in net.ae_titles:
        out.append(Finding("listen.calling-ae-title", Severity.ERROR,
                           f"The device called as {req.calling_ae!r}; its statement declares the AE "
                           f"title(s) {', '.join(net.ae_titles)}.", reference="PS3.8 9.3.2; statement network.ae_titles",
                           details={"observed": req.calling_ae, "declared": list(net.ae_titles)}))
    if req.called_ae != harness_ae:
        out.append(Finding("listen.called-ae-title", Severity.ERROR,
                           f"The device called the AE title {req.called_ae!r}, not {harness_ae!r}, the one the "
                           "statement says it is configured to call.", reference="PS3.8 9.3.2; statement harness.ae_title",
                           details={"observed": req.called_ae, "declared": harness_ae}))
    if req.application_context != APPLICATION_CONTEXT:
        out.append(Finding("listen.application-context", Severity.ERROR,
                           f"Application context name {req.application_context!r} is not the DICOM "
                           f"application context {APPLICATION_CONTEXT}.", reference="PS3.7 A.2.1; PS3.8 9.3.2.1"))
    if not req.protocol_version & 1:
        out.append(Finding("listen.protocol-version", Severity.ERROR,
                           f"Protocol version 0x{req.protocol_version:04X} does not have bit 0 set.",
                           reference="PS3.8 9.3.2"))
    ids = [c.id for c in req.contexts]
    bad = sorted({i for i in ids if not i % 2} | {i for i in ids if ids.count(i) > 1})
    if bad or len(ids) > 128:
        out.append(Finding("listen.context-ids", Severity.ERROR,
                           f"Presentation context IDs must be odd and unique, at most 128 contexts "
                           f"(got {len(ids)}; offending IDs {bad[:10]}).", reference="PS3.8 9.3.2.2"))
    empty = [c.id for c in req.contexts if not c.abstract_syntax or not c.transfer_syntaxes]
    if empty:
        out.append(Finding("listen.context-malformed", Severity.ERROR,
                           f"Presentation context(s) {empty[:10]} lack an abstract syntax or a transfer syntax.",
                           reference="PS3.8 9.3.2.2"))
    for name, observed, declared, ref in (
            ("max-pdu", req.max_pdu, net.max_pdu_receive, "PS3.8 D.1"),
            ("implementation-class-uid", req.implementation_class_uid, net.implementation_class_uid, "PS3.7 D.3.3.2"),
            ("implementation-version-name", req.implementation_version_name, net.implementation_version_name,
             "PS3.7 D.3.3.2")):
        if declared is not None and observed != declared:
            out.append(Finding(f"listen.{name}", Severity.ERROR,
                               f"{name.replace('-', ' ').capitalize()}: the device proposed {observed!r}, its "
                               f"statement declares {declared!r}.", reference=f"{ref}; statement network",
                               details={"observed": observed, "declared": declared}))
    if req.implementation_class_uid is None:
        out.append(Finding("listen.no-implementation-class-uid", Severity.ERROR,
                           "The A-ASSOCIATE-RQ has no Implementation Class UID sub-item (mandatory).",
                           reference="PS3.7 D.3.3.2"))
    undeclared = [sop for sop in req.roles
                  if not ((cap := statement.capability(sop, Role.SCU)) is not None and cap.role_selection)]
    if undeclared:
        out.append(Finding("listen.undeclared-role-selection", Severity.WARNING,
                           f"SCP/SCU role selection proposed for {len(undeclared)} SOP class(es) the statement does "
                           f"not declare with role_selection as SCU, e.g. {uids.name_of(undeclared[0])}.",
                           reference="PS3.7 D.3.3.4; statement",
                           details={"sop_classes": undeclared[:200],
                                    "roles": [list(req.roles[s]) for s in undeclared[:200]]}))
    return out


def check_proposal(statement: Statement, sop_class: str, transfer_syntax: str) -> list[Finding]:
    """One proposed (SOP class, transfer syntax) against the SCU declarations."""
    names = statement.private_uids
    sop_name = names.get(sop_class) or uids.name_of(sop_class)
    ts_name = names.get(transfer_syntax) or uids.keyword_of(transfer_syntax)
    if statement.capability(sop_class, Role.SCU) is None:
        return [Finding("listen.undeclared-sop-class", Severity.WARNING,
                        f"The device proposed {sop_name}, which its statement does not declare as SCU.",
                        reference="PS3.2 A.4.1 (presentation context table); statement",
                        details={"sop_class": sop_class, "transfer_syntax": transfer_syntax})]
    if not statement.declares(sop_class, Role.SCU, transfer_syntax):
        return [Finding("listen.undeclared-transfer-syntax", Severity.WARNING,
                        f"The device proposed {sop_name} in {ts_name}, a transfer syntax its statement "
                        "does not declare for it as SCU.", reference="PS3.2 A.4.1 (presentation context table); statement",
                        details={"sop_class": sop_class, "transfer_syntax": transfer_syntax})]
    return []
