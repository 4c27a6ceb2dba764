"""Evidence for a step that did not pass: what was expected and what was observed, the
identifier sent and the response received (as attribute tables), the presentation contexts
negotiated, and how to reproduce it: the harness's own command line and the equivalent DCMTK
command where one exists (echoscu, storescu, findscu, movescu, getscu).

Built from a :class:`StepRecord` and the run's recorded target only, so it is the same for a
live run and for a report rebuilt from results.jsonl. The HTML report, the JUnit ``<failure>``
text and the console all print this.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.engine.results import RunResults, StepRecord
from conformance.findings import Severity
from conformance.reporting.summary import service_of, sop_class_of_step, transfer_syntax_of_step
from conformance.standard import uids

#: PS3.8 Table 9-18: Result/Reason of a Presentation Context Item in A-ASSOCIATE-AC.
CONTEXT_RESULTS = {0: "acceptance", 1: "user-rejection", 2: "no-reason (provider rejection)",
                   3: "abstract-syntax-not-supported (provider rejection)",
                   4: "transfer-syntaxes-not-supported (provider rejection)"}

#: storescu's options that propose one transfer syntax family (DCMTK 3.6 storescu --help).
_STORESCU_TS = {
    "ImplicitVRLittleEndian": "-xi", "ExplicitVRLittleEndian": "-xe", "ExplicitVRBigEndian": "-xb",
    "JPEGLosslessSV1": "-xs", "JPEGBaseline8Bit": "-xy", "JPEGExtended12Bit": "-xx",
    "JPEG2000Lossless": "-xv", "JPEG2000": "-xw", "JPEGLSLossless": "-xt", "JPEGLSNearLossless": "-xu",
    "MPEG2MPML": "-xm", "MPEG2MPHL": "-xh", "MPEG4HP41": "-xn", "MPEG4HP41BD": "-xl",
    "MPEG4HP422D": "-x2", "MPEG4HP423D": "-x3", "MPEG4HP42STEREO": "-xo", "HEVCMP51": "-x4",
    "HEVCM10P51": "-x5", "RLELossless": "-xr", "DeflatedExplicitVRLittleEndian": "-xd",
}


@dataclass
class Evidence:
    step: StepRecord
    expected: str
    observed: list[str]
    details: list[tuple[str, str]] = field(default_factory=list)
    #: (caption, rows [tag, keyword, VR, value]) of identifiers sent and responses received.
    datasets: list[tuple[str, list[list[str]]]] = field(default_factory=list)
    #: One line per presentation context or association outcome observed.
    association: list[str] = field(default_factory=list)
    reproduce: list[tuple[str, str]] = field(default_factory=list)

    def text(self) -> str:
        """Plain text (JUnit ``<failure>``, console)."""
        lines = [f"Expected: {self.expected}"]
        lines += [f"Observed: {o}" for o in self.observed]
        lines += [f"  {k}: {v}" for k, v in self.details]
        lines += [f"Association: {a}" for a in self.association[:6]]
        for caption, rows in self.datasets[:4]:
            lines.append(f"{caption}:")
            lines += [f"  {r[0]} {r[1]} {r[3]}".rstrip() for r in rows[:12]]
        if self.reproduce:
            lines.append("Reproduce with:")
            lines += [f"  {cmd}" for _, cmd in self.reproduce]
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, int) and value > 255:
        return f"{value} (0x{value:04X})"
    return uids.name_of(value) if isinstance(value, str) and uids.looks_like_uid(value) else str(value)


def _association(obs: Mapping[str, Any]) -> str | None:
    if obs.get("kind") == "association":
        bits = [f"{k.replace('_', ' ')} {v}" for k, v in obs.items() if k not in ("kind",) and v not in (None, "")]
        return "; ".join(bits)
    if obs.get("kind") == "association-parameters":
        return "A-ASSOCIATE-AC: " + ", ".join(f"{k}={v}" for k, v in obs.items() if k != "kind")
    if "result" in obs and "sop_class" in obs and "kind" not in obs:
        ts = obs.get("transfer_syntax")
        result = obs.get("result")
        answer = CONTEXT_RESULTS.get(result, str(result)) if isinstance(result, int) else str(result)
        return (f"proposed {uids.name_of(obs['sop_class'])}"
                + (f" in {uids.keyword_of(ts)}" if ts else "")
                + f" ({obs.get('role', 'SCP')} role{', declared' if obs.get('declared') else ', not declared'})"
                + f" -> result {result} {answer}")
    return None


def _keys(rows: list[list[str]]) -> list[str]:
    """findscu/movescu/getscu ``-k`` options from an identifier's attribute rows."""
    out = []
    for _tag, keyword, vr, value in rows:
        if not keyword or vr == "SQ":
            continue
        out += ["-k", f"{keyword}={value}" if value else keyword]
    return out


def _model_flag(step: StepRecord) -> str:
    text = step.id + " " + " ".join(str(o.get("model", "")) for o in step.observations)
    return "-P" if "PatientRoot" in text else "-S"


def exact_pattern(step_id: str, results: RunResults) -> str:
    """A ``-k`` pattern that selects this step only: the id itself, unless it is part of a
    longer id (``.../JPEGLossless`` in ``.../JPEGLosslessSV1``); then a glob that matches
    the whole id (``-k`` globs match whole ids, see conformance.suite.matches)."""
    if not step_id or not any(s.id != step_id and step_id in s.id for s in results.steps):
        return step_id
    return f"{step_id[:-1]}[{step_id[-1]}]"


def _reproduce_fuzz(step: StepRecord, statement: str, device: list[str]) -> list[tuple[str, str]]:
    """A fuzz area again (``conformance fuzz --area``), then each saved case exactly as sent
    (``--replay``, the case file named in the finding's details)."""
    area = step.id.split("/", 1)[1]
    out = [("conformance", shlex.join(["conformance", "fuzz", statement, *device, "--area", area]))]
    cases = dict.fromkeys(str(f.details["case"]) for f in step.findings if f.details.get("case"))
    out += [("conformance", shlex.join(["conformance", "fuzz", "--replay", case, *device])) for case in cases]
    return out


def reproduce(step: StepRecord, results: RunResults) -> list[tuple[str, str]]:
    """How to run this step again: the harness, then the DCMTK tool where one exists."""
    t = results.target
    host, port = str(t.get("host", "127.0.0.1")), str(t.get("port", ""))
    called, calling = str(t.get("called_ae", "")), str(t.get("calling_ae", ""))
    statement = results.statement_file or "STATEMENT.yaml"
    device = ["--host", host, "--port", port, "--called-ae", called]
    if step.family == "fuzz":
        return _reproduce_fuzz(step, statement, device)
    harness = ["conformance", "run", statement, *device]
    if t.get("harness_port"):
        harness += ["--harness-port", str(t["harness_port"])]
    out = [("conformance", shlex.join([*harness, "-k", exact_pattern(step.id, results)]))]
    ae = ["-aet", calling, "-aec", called]
    service = service_of(step)
    sent = next((o["sent"] for o in step.observations if o.get("sent")), None)
    head = step.id.split("/")[1] if "/" in step.id else ""
    if step.id.startswith("negotiation/called-ae-title"):
        out.append(("DCMTK", shlex.join(["echoscu", "-v", "-aet", calling, "-aec", "NOT-THIS-DEVICE", host, port])))
    elif step.id.startswith("negotiation/calling-ae-title"):
        out.append(("DCMTK", shlex.join(["echoscu", "-v", "-aet", "UNKNOWN-PEER", "-aec", called, host, port])))
    elif service in ("verification", "association"):
        out.append(("DCMTK", shlex.join(["echoscu", "-d" if service == "association" else "-v", *ae, host, port])))
    elif service == "storage" and head in ("accept", "undeclared-ts", "role-selection", "store"):
        sop, ts = sop_class_of_step(step), transfer_syntax_of_step(step)
        option = _STORESCU_TS.get(uids.keyword_of(ts)) if ts else None
        cmd = ["storescu", "-v", *ae, *([option] if option else []), host, port, "FILE.dcm"]
        note = (f"FILE.dcm: any {uids.name_of(sop)} instance" if sop else "FILE.dcm: an instance")
        note += f" in {uids.name_of(ts)}" if ts else ""
        out.append(("DCMTK", shlex.join(cmd) + f"    # {note}"))
    elif service == "find" or (service == "worklist" and step.family != "negotiation"):
        flag = "-W" if service == "worklist" else _model_flag(step)
        keys = _keys(sent) if sent else ["-k", "QueryRetrieveLevel=STUDY"]
        out.append(("DCMTK", shlex.join(["findscu", "-v", flag, *ae, *keys, host, port])))
    elif service == "move" and step.family != "negotiation":
        keys = _keys(sent) if sent else ["-k", "QueryRetrieveLevel=STUDY"]
        dest = ["-aem", calling] + (["--port", str(t["harness_port"])] if t.get("harness_port") else [])
        out.append(("DCMTK", shlex.join(["movescu", "-v", _model_flag(step), *ae, *dest, *keys, host, port])))
    elif service == "get" or step.id.startswith("storage/round-trip/"):
        keys = _keys(sent) if sent else ["-k", "QueryRetrieveLevel=SERIES"]
        out.append(("DCMTK", shlex.join(["getscu", "-v", _model_flag(step), *ae, *keys, host, port])))
    elif service in ("find", "worklist") and step.family == "negotiation":
        flag = "-W" if service == "worklist" else _model_flag(step)
        out.append(("DCMTK", shlex.join(["findscu", "-v", flag, *ae, "-k", "QueryRetrieveLevel=STUDY", host, port])))
    return out


def build_evidence(step: StepRecord, results: RunResults) -> Evidence:
    errors = [f for f in step.findings if f.severity is Severity.ERROR]
    shown = errors or step.findings
    observed = [f.message for f in shown[:5]] or [step.message or "no result recorded (not run)"]
    if step.message and step.message not in observed and errors:
        observed.append(step.message)
    details: list[tuple[str, str]] = []
    for f in shown[:3]:
        details += [(k.replace("_", " "), _fmt(v)) for k, v in f.details.items()
                    if not isinstance(v, (list, dict))][:6]
        if f.tag:
            details.append(("attribute", f.tag))
    datasets: list[tuple[str, list[list[str]]]] = []
    for obs in step.observations:
        what = str(obs.get("what", ""))
        if obs.get("sent"):
            datasets.append((f"Identifier sent{': ' + what if what else ''}", list(obs["sent"])))
        if obs.get("received"):
            datasets.append((f"First response received{': ' + what if what else ''}", list(obs["received"])))
    association = [line for line in (_association(o) for o in step.observations) if line]
    reference = step.reference or (shown[0].reference if shown else "")
    expected = f"{step.title}" + (f" ({reference})" if reference else "")
    return Evidence(step, expected, observed, details, datasets[:6], association[:12],
                    reproduce(step, results))
