"""Claim-by-claim difference between a statement and what discovery observed on the device.

The quickest acceptance check: every difference names the claim, what the statement says,
what the device did, and how much it weighs (error: claimed, not done; warning: done, not
claimed). Pure: statement and discovery in, differences out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from conformance.negotiation.discover import Discovery
from conformance.standard import uids
from conformance.statement.model import Role, Statement

@dataclass(frozen=True)
class Difference:
    severity: str        # "error" | "warning" | "info"
    claim: str           # e.g. "SCP CTImageStorage JPEGLosslessSV1"
    declared: str
    observed: str


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    """SOP classes discovery probes."""
    return frozenset({uids.VERIFICATION, *uids.storage_sop_classes().values(),
                      *uids.query_retrieve_sop_classes().values()})


def diff(st: Statement, found: Discovery) -> list[Difference]:
    out: list[Difference] = []
    net = st.network
    for which in ("called", "calling"):
        declared = getattr(net, f"checks_{which}_ae_title")
        observed = getattr(found, f"checks_{which}_ae_title")
        if observed is not None and declared != observed:
            out.append(Difference("error", f"checks {which} AE title", str(declared).lower(), str(observed).lower()))
    for key, observed, severity in (("max_pdu_receive", found.max_pdu, "error"),
                                    ("implementation_class_uid", found.implementation_class_uid, "warning"),
                                    ("implementation_version_name", found.implementation_version_name, "warning")):
        declared = getattr(net, key)
        if declared is not None and declared != observed:
            out.append(Difference(severity, key.replace("_", " "), str(declared), str(observed)))
    for cap in st.capabilities(Role.SCP):
        kw = uids.keyword_of(cap.sop_class)
        if cap.sop_class not in _known():
            out.append(Difference("info", f"SCP {kw}", "declared", "not probed (SOP class unknown to the harness)"))
            continue
        accepted = found.accepted.get(cap.sop_class, [])
        for ts in cap.transfer_syntaxes:
            if ts not in accepted:
                out.append(Difference("error", f"SCP {kw} {uids.keyword_of(ts)}", "supported", "rejected"))
    for sop, accepted in found.accepted.items():
        scp_cap = st.capability(sop, Role.SCP)
        for ts in accepted:
            if scp_cap is None or ts not in scp_cap.transfer_syntaxes:
                out.append(Difference("warning", f"SCP {uids.keyword_of(sop)} {uids.keyword_of(ts)}",
                                      "not declared", "accepted"))
    role_probed = bool(found.role_selection) or any(
        s in found.accepted for s in ("1.2.840.10008.5.1.4.1.2.1.3", "1.2.840.10008.5.1.4.1.2.2.3"))
    for cap in st.capabilities(Role.SCU):
        if not cap.role_selection:
            continue
        kw = uids.keyword_of(cap.sop_class)
        if not role_probed:
            out.append(Difference("info", f"SCU {kw} role selection", "supported",
                                  "not probed (the device accepts no C-GET model)"))
            continue
        observed = found.role_selection.get(cap.sop_class, [])
        for ts in cap.transfer_syntaxes:
            if ts not in observed:
                out.append(Difference("error", f"SCU {kw} {uids.keyword_of(ts)} role selection", "supported", "refused"))
    for sop in found.role_selection:
        scu_cap = st.capability(sop, Role.SCU)
        if scu_cap is None or not scu_cap.role_selection:
            out.append(Difference("warning", f"SCU {uids.keyword_of(sop)} role selection", "not declared", "accepted"))
    out += _service_differences(st, found)
    if found.packing_limit is not None:
        out.append(Difference("warning", "association with many presentation contexts",
                              "up to 128 contexts (PS3.8)",
                              f"dropped at {found.packing_limit}; answered at {found.packing}"))
    return out


def _service_differences(st: Statement, found: Discovery) -> list[Difference]:
    """Claimed services the device refused when probed, and declared refusals it did not."""
    out: list[Difference] = []
    for sop, probe in found.services.items():
        cap = st.capability(sop, Role.SCP)
        if cap is None or probe.get("setup"):
            continue
        kw = uids.keyword_of(sop)
        declared = st.services.refusal(sop)
        if declared is None and probe.get("refused"):
            out.append(Difference("error", f"SCP {kw} service", "performed", f"refused: {probe['describe']}"))
        elif declared is not None and not probe.get("refused"):
            out.append(Difference("error", f"SCP {kw} service", f"negotiable but refused ({declared.how})",
                                  f"performed: {probe['describe']}"))
    return out
