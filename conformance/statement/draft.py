"""Write a draft conformance statement (YAML) from what discovery observed.

The draft is valid against the schema; comments mark each claim as observed (with how) or
unknown (what probing cannot show and a person must fill in).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from conformance import __version__
from conformance.negotiation.discover import Discovery
from conformance.standard import uids


def _q(text: str) -> str:
    """A YAML scalar that is always read back as this exact string."""
    return json.dumps(text)


def _sets(groups: dict[str, list[str]]) -> tuple[dict[tuple[str, ...], str], list[str]]:
    """Name each distinct list of transfer syntaxes: ts1, ts2, ... (largest group first)."""
    counts: dict[tuple[str, ...], int] = {}
    for tss in groups.values():
        counts[tuple(tss)] = counts.get(tuple(tss), 0) + 1
    names = {key: f"ts{i + 1}" for i, key in enumerate(sorted(counts, key=lambda t: -counts[t]))}
    lines = []
    for key, name in names.items():
        lines.append(f"  {name}:   # used by {counts[key]} SOP class(es)")
        lines += [f"    - {uids.keyword_of(ts)}" for ts in key]
    return names, lines


def draft_statement(found: Discovery) -> str:
    t = found.target
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"# DRAFT conformance statement made by `conformance discover` {__version__} on {now}",
        f"# by probing {t.address} (called AE {t.called_ae}, calling AE {t.calling_ae}) with {found.associations} associations.",
        "# 'observed' marks what the device did when probed; 'UNKNOWN' what probing cannot show: fill those in.",
        "# Not probed: the device's own SCU behaviour (except role selection), extended negotiation, TLS (unless --tls),",
        "# character sets, private extensions, and SOP classes the harness does not know (private ones).",
        "format: conformance-statement/1",
        "",
        "identity:",
        "  manufacturer: UNKNOWN           # not observable over DICOM",
        "  model: UNKNOWN",
        "  software_version: UNKNOWN",
        f"  description: {_q('Draft made by conformance discover from negotiation probes; review before use.')}",
        f"  source: {_q(f'conformance discover against {t.address} on {now}')}",
        "",
        "network:",
        f"  ae_titles: [{_q(t.called_ae)}]        # observed: accepted as called AE title",
        f"  port: {t.port}",
    ]
    for which in ("called", "calling"):
        value = getattr(found, f"checks_{which}_ae_title")
        title = "NOT-THIS-DEVICE" if which == "called" else "UNKNOWN-PEER"
        if value is None:
            out.append(f"  # checks_{which}_ae_title: UNKNOWN (the probe did not get an answer)")
        else:
            out.append(f"  checks_{which}_ae_title: {str(value).lower()}   # observed: {which} AE {title!r} "
                       f"{'rejected' if value else 'accepted'}")
    if found.max_pdu is not None:
        out.append(f"  max_pdu_receive: {found.max_pdu}          # observed in A-ASSOCIATE-AC")
    if found.implementation_class_uid:
        out.append(f"  implementation_class_uid: {found.implementation_class_uid}   # observed")
    if found.implementation_version_name:
        out.append(f"  implementation_version_name: {_q(found.implementation_version_name)}   # observed")
    out += ["  # max_associations: UNKNOWN", "", "harness:",
            f"  ae_title: {_q(t.calling_ae)}   # the calling AE title used while probing", ""]
    groups = {**{("SCP", s): v for s, v in found.accepted.items()},
              **{("SCU", s): v for s, v in found.role_selection.items()}}
    names, lines = _sets({f"{r}:{s}": v for (r, s), v in groups.items()})
    if lines:
        out += ["transfer_syntax_sets:", *lines, ""]
    out.append("transfer_capabilities:")
    by_role_set: dict[tuple[str, str], list[str]] = {}
    for (role, sop), tss in groups.items():
        by_role_set.setdefault((role, names[tuple(tss)]), []).append(sop)
    if not by_role_set:
        out.append("  []   # nothing was accepted")
    for (role, ts_set), sops in by_role_set.items():
        how = ("observed: each accepted in a presentation context of its own" if role == "SCP" else
               "observed: accepted with SCP/SCU role selection, harness as SCP (PS3.7 D.3.3.4)")
        out += [f"  - sop_classes:   # {how}"]
        out += [f"      - {uids.keyword_of(s)}" for s in sops]
        out += [f"    role: {role}", f"    transfer_syntaxes: [{ts_set}]"]
        if role == "SCU":
            out.append("    role_selection: true")
    out += _services(found)
    if found.packing_limit is not None:
        out.append(f"# finding: the device dropped an association proposing {found.packing_limit} presentation "
                   f"contexts; discovery used at most {found.packing} per association (PS3.8 allows 128)")
    for note in found.notes:
        out.append(f"# note: {note}")
    return "\n".join(out) + "\n"


def _services(found: Discovery) -> list[str]:
    """What the harmless service probes showed, and ``services.refused`` for the services
    the device negotiates but refuses (A-ABORT or a refusing status)."""
    if not found.services:
        return []
    out = ["", "# Service probes (one harmless request each, after negotiation):"]
    out += [f"#   {r['describe']}" for r in found.services.values()]
    refused = {s: r for s, r in found.services.items() if r.get("refused")}
    if not refused:
        return out
    out += ["services:", "  refused:   # observed: the context is accepted, the request refused"]
    for sop, r in refused.items():
        out.append(f"    - sop_class: {uids.keyword_of(sop)}   # observed: {r['describe']}")
        if r["reply"] == "answered":
            out += ["      how: status", f"      status: \"{int(str(r['status'])):04X}\""]
        else:
            out.append("      how: abort")
    return out
