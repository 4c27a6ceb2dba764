"""The step kinds of scenario files, one function each, registered in :data:`KINDS`.

Each takes the run context, the scenario state and the step (its spec already expanded
with variables) and returns a StepResult. They use the same service code as the built-in
families (conformance.services): C-ECHO (PS3.7 9.1.5), C-STORE (PS3.4 Annex B), C-FIND
(Annex C), C-MOVE / C-GET (C.4.2, C.4.3), Modality Worklist (Annex K), MPPS (Annex F),
Storage Commitment (Annex J).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Mapping

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import generate_uid

from conformance.engine.model import RunContext, StepResult
from conformance.families.session import unestablished
from conformance.families.setup import judge_unanswered
from conformance.families.verdict import from_monitor, from_wire
from conformance.negotiation.association import Establishment, ProposedContext, associate
from conformance.scenario import loadstep
from conformance.scenario.expect import Expectations
from conformance.scenario.model import ScenarioStep
from conformance.scenario.state import ScenarioState
from conformance.services import commitment as scs
from conformance.services import mpps as pps
from conformance.services import query as qr
from conformance.services import retrieve as rt
from conformance.services import worklist as mwl
from conformance.services.common import DimseMonitor
from conformance.services.encoding import NoEncoder, encode
from conformance.services.listener import HarnessListener
from conformance.services.status import classify
from conformance.services.storage import store as c_store
from conformance.standard import uids
from conformance.statement.model import Role
from conformance.wire.scu import WireSCU

Kind = Callable[[RunContext, ScenarioState, ScenarioStep, Mapping[str, Any]], StepResult]
KINDS: dict[str, Kind] = {}

MODELS = {  # (FIND, MOVE, GET) SOP classes per information model (PS3.4 C.6)
    "PatientRoot": ("1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.1.2", "1.2.840.10008.5.1.4.1.2.1.3"),
    "StudyRoot": ("1.2.840.10008.5.1.4.1.2.2.1", "1.2.840.10008.5.1.4.1.2.2.2", "1.2.840.10008.5.1.4.1.2.2.3"),
    "PatientStudyOnly": ("1.2.840.10008.5.1.4.1.2.3.1", "1.2.840.10008.5.1.4.1.2.3.2", "1.2.840.10008.5.1.4.1.2.3.3"),
}
WORKLIST = "1.2.840.10008.5.1.4.31"
REFERENCES = {"echo": "PS3.7 9.1.5", "store": "PS3.4 B.2", "find": "PS3.4 C.4.1", "worklist": "PS3.4 K.4.1",
              "move": "PS3.4 C.4.2", "get": "PS3.4 C.4.3", "mpps_create": "PS3.4 F.7.2.1",
              "mpps_set": "PS3.4 F.7.2.2", "commitment": "PS3.4 J.3.2", "associate": "PS3.8 9.3.2",
              "wait": "PS3.4 B.2", "release": "PS3.8 9.3.6", "abort": "PS3.8 9.3.8"}


def kind(name: str) -> Callable[[Kind], Kind]:
    def register(fn: Kind) -> Kind:
        KINDS[name] = fn
        return fn
    return register


def sop_class_uid(value: str) -> str:
    return value if uids.looks_like_uid(value) else uids.sop_class_keywords().get(value, value)


def transfer_syntax_uid(value: str) -> str:
    return value if uids.looks_like_uid(value) else uids.transfer_syntax_keywords().get(value, value)


def _contexts(ctx: RunContext, sop_classes: list[str]) -> list[ProposedContext]:
    out = []
    for sop in dict.fromkeys(sop_classes):
        cap = ctx.statement.capability(sop, Role.SCP)
        syntaxes = cap.transfer_syntaxes if cap else (uids.EXPLICIT_VR_LITTLE_ENDIAN, uids.IMPLICIT_VR_LITTLE_ENDIAN)
        out += [ProposedContext(sop, (ts,)) for ts in syntaxes]
    return out[:128]


class _Association:
    """The scenario's open association if it has an accepted context for every SOP class in
    *sop_classes*, else a new one (on :mod:`conformance.wire`) for this step."""

    def __init__(self, ctx: RunContext, state: ScenarioState, sop_classes: list[str],
                 contexts: list[ProposedContext] | None = None, fresh: bool = False,
                 on_event_report: Callable[[Any], Any] | None = None):
        self.ctx, self.state = ctx, state
        self.sops = sop_classes
        self.contexts = contexts
        self.fresh = fresh or on_event_report is not None
        self.on_event_report = on_event_report
        self.own: Any = None

    def __enter__(self) -> tuple[Any, WireSCU | None]:
        st = self.state
        if st.assoc is not None and st.assoc.is_established and not self.fresh:
            accepted = {sop for sop, _ts in st.assoc.assoc.contexts.values()}
            if all(s in accepted for s in self.sops):
                return st.outcome, st.assoc
        self.own = associate(self.ctx.target, self.contexts or _contexts(self.ctx, self.sops),
                             on_event_report=self.on_event_report)
        return self.own.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self.own is not None:
            self.own.__exit__(*exc)


def _unanswered(ctx: RunContext, monitor: DimseMonitor, request: str, sop_class: str) -> StepResult:
    """A request on an accepted context that got no status, judged by the verdict rules
    (:mod:`conformance.families.verdict`): an A-ABORT or a closed connection from the device
    fails the claim (PS3.7 9.1, PS3.8 9.3.8), silence for the DIMSE timeout could not be tested,
    a calling AE title the device does not know is a set-up problem."""
    un = from_monitor(monitor, request, ctx.target.timeouts.dimse)
    return judge_unanswered(ctx, request, sop_class, un)


def _save(state: ScenarioState, spec: Mapping[str, str] | None, datasets: list[Dataset]) -> None:
    for var, keyword in (spec or {}).items():
        values = list(dict.fromkeys(str(ds.get(keyword, "")) for ds in datasets if keyword in ds))
        state.variables[var] = values[0] if len(values) == 1 else values


def _identifier(keys: Mapping[str, Any], level: str | None = None) -> Dataset:
    """Keys -> identifier; ``Seq.Keyword`` sets Keyword in the first item of Seq."""
    ds = Dataset()
    if level:
        ds.QueryRetrieveLevel = level
    for key, value in keys.items():
        value = "" if value is None else ("\\".join(map(str, value)) if isinstance(value, list) else str(value))
        if "." in key:
            seq, inner = key.split(".", 1)
            if seq not in ds:
                setattr(ds, seq, [Dataset()])
            setattr(ds[seq].value[0], inner, value)
        else:
            setattr(ds, key, value)
    return ds


def _result(ex: Expectations, observations: list[dict], message: str = "") -> StepResult:
    return StepResult(ex.findings, observations, message=message)


# --- kinds --------------------------------------------------------------------------------

@kind("associate")
def _associate(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    state.close_association()
    if spec.get("contexts"):
        contexts = [ProposedContext(sop_class_uid(c["sop_class"]),
                                    tuple(transfer_syntax_uid(t) for t in c.get("transfer_syntaxes") or
                                          [uids.EXPLICIT_VR_LITTLE_ENDIAN, uids.IMPLICIT_VR_LITTLE_ENDIAN]))
                    for c in spec["contexts"]]
    else:
        contexts = _contexts(ctx, [c.sop_class for c in ctx.statement.capabilities(Role.SCP)])
    outcome, assoc = state.stack.enter_context(associate(ctx.target, contexts))
    ex = Expectations(spec.get("expect"), REFERENCES["associate"], step.id)
    want = (spec.get("expect") or {}).get("accepted", True)
    got = outcome.establishment is Establishment.ACCEPTED and assoc is not None
    if outcome.establishment in (Establishment.NO_CONNECTION, Establishment.NO_ANSWER):
        return unestablished(outcome, "associate")
    if got != want:
        ex.fail("association accepted =", want, outcome.describe())
    state.assoc, state.outcome = assoc, outcome
    return _result(ex, [{"kind": "association", "establishment": outcome.establishment.value}], outcome.describe())


@kind("release")
def _release(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    if state.assoc is None:
        return StepResult.skipped("no association is open")
    state.close_association()
    return StepResult(message="released")


@kind("abort")
def _abort(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    if state.assoc is None:
        return StepResult.skipped("no association is open")
    state.close_association(abort=True)
    return StepResult(message="aborted")


@kind("echo")
def _echo(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    with _Association(ctx, state, [uids.VERIFICATION]) as (outcome, assoc):
        if assoc is None:
            return unestablished(outcome, "associate for C-ECHO")
        status = assoc.send_c_echo(msg_id=state.next_id())
        ex = Expectations(spec.get("expect"), REFERENCES["echo"], step.id)
        if "Status" not in status:
            return _unanswered(ctx, assoc.monitor, "C-ECHO", uids.VERIFICATION)
        ex.status(classify(int(status.Status), "echo"))
        return _result(ex, [], f"C-ECHO 0x{int(status.Status):04X}")


def _instances(step: ScenarioStep, spec: Mapping[str, Any], folder: Path) -> list[Dataset]:
    out: list[Dataset] = []
    synth = spec.get("synthesize")
    if synth:
        from conformance.iod import synthesize
        sop = sop_class_uid(synth["sop_class"])
        ts = transfer_syntax_uid(synth.get("transfer_syntax", "ExplicitVRLittleEndian"))
        study = generate_uid()
        for i in range(synth.get("count", 1)):
            ds = synthesize(sop)
            ds.StudyInstanceUID = study
            ds.InstanceNumber = i + 1
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            out.append(encode(ds, ts).dataset)
    for name in spec.get("files", []):
        path = folder / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            try:
                out.append(dcmread(f))
            except (InvalidDicomError, OSError) as exc:
                raise ValueError(f"{f}: not a readable DICOM file ({exc})") from None
    return out


@kind("store")
def _store(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    try:
        instances = _instances(step, spec, state.scenario.folder)
    except NoEncoder as exc:
        return StepResult.skipped(f"not tested: no encoder ({exc})")
    except ValueError as exc:
        return StepResult.error(str(exc))
    for ds in instances:
        for key, value in (spec.get("set") or {}).items():
            setattr(ds, key, "" if value is None else value)
    ex = Expectations(spec.get("expect"), REFERENCES["store"], step.id)
    observations = []
    contexts = [ProposedContext(str(ds.SOPClassUID), (str(ds.file_meta.TransferSyntaxUID),)) for ds in instances]
    with _Association(ctx, state, [str(ds.SOPClassUID) for ds in instances], list(dict.fromkeys(contexts)),
                      fresh=True) as (outcome, assoc):
        if assoc is None:
            return unestablished(outcome, "associate for C-STORE")
        for ds in instances:
            msg_id = state.next_id()
            exchange = c_store(assoc, ds, msg_id, monitor=assoc.monitor, what=step.id)
            if exchange.error:
                if not assoc.monitor.answered(msg_id):
                    return _unanswered(ctx, assoc.monitor, "C-STORE", str(ds.SOPClassUID))
                return StepResult.error(exchange.error)
            status = next((classify(f.details["status"], "storage") for f in exchange.findings if "status" in f.details),
                          classify(0, "storage"))
            ex.status(status)
            state.stored.append((str(ds.SOPClassUID), str(ds.SOPInstanceUID)))
            observations.append({"kind": "store", "sop_instance": str(ds.SOPInstanceUID), "status": status.hex})
    _save(state, spec.get("save"), instances)
    return _result(ex, observations, f"stored {len(instances)} instance(s)")


@kind("find")
def _find(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    model = MODELS[spec.get("model", "StudyRoot")][0]
    return _query(ctx, state, step, spec, model, _identifier(spec["keys"], spec["level"]), "find")


@kind("worklist")
def _worklist(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    keys = dict(spec.get("keys") or {})
    flat = {k: str(v) for k, v in keys.items() if "." not in k}
    ident = mwl.identifier(**flat) if flat or not keys else _identifier(keys)
    for key, value in keys.items():
        if "." in key:
            seq, inner = key.split(".", 1)
            setattr(ident[seq].value[0], inner, "" if value is None else str(value))
    return _query(ctx, state, step, spec, WORKLIST, ident, "worklist")


def _query(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any], model: str,
           identifier: Dataset, service: str) -> StepResult:
    with _Association(ctx, state, [model]) as (outcome, assoc):
        if assoc is None:
            return unestablished(outcome, f"associate for {service}")
        msg_id = state.next_id()
        result = qr.find(assoc, model, identifier, msg_id, monitor=assoc.monitor, service=service)
        if result.error and result.final is None and not assoc.monitor.answered(msg_id):
            return _unanswered(ctx, assoc.monitor, "C-FIND", model)
    if result.error:
        return StepResult.error(result.error)
    ex = Expectations(spec.get("expect"), REFERENCES[service], step.id)
    ex.status(result.final)
    ex.count("matches", len(result.matches))
    ex.values(result.matches)
    _save(state, spec.get("save"), result.matches)
    return _result(ex, [{"kind": service, "matches": len(result.matches)}], f"{len(result.matches)} match(es)")


def _listener(ctx: RunContext, state: ScenarioState) -> HarnessListener:
    if state.listener is None:
        port = ctx.target.harness_port or ctx.statement.harness.port or 0
        state.listener = HarnessListener(ctx.statement.harness.move_destination or ctx.statement.harness.ae_title,
                                         port).start()
    return state.listener


@kind("move")
def _move(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    model = MODELS[spec.get("model", "StudyRoot")][1]
    destination = spec.get("destination", "harness")
    listener = _listener(ctx, state) if destination == "harness" else None
    before = len(listener.received) if listener else 0
    ae = listener.ae_title if listener else destination
    with _Association(ctx, state, [model]) as (outcome, assoc):
        if assoc is None:
            return unestablished(outcome, "associate for C-MOVE")
        msg_id = state.next_id()
        result = rt.move(assoc, model, _identifier(spec["keys"], spec["level"]), ae, msg_id, monitor=assoc.monitor)
        if result.error and result.final is None and not assoc.monitor.answered(msg_id):
            return _unanswered(ctx, assoc.monitor, "C-MOVE", model)
    if result.error:
        return StepResult.error(result.error)
    ex = Expectations(spec.get("expect"), REFERENCES["move"], step.id)
    ex.status(result.final)
    counts = result.final_counts
    ex.count("completed", counts.get("NumberOfCompletedSuboperations"))
    ex.count("failed", counts.get("NumberOfFailedSuboperations") or 0)
    arrived = None
    if listener is not None:
        want = counts.get("NumberOfCompletedSuboperations") or 0
        arrived = listener.wait_received(before + want, step.timeout or 10.0) - before
        ex.count("arrived", arrived)
    return _result(ex, [{"kind": "move", "destination": ae, **{k: v for k, v in counts.items()}, "arrived": arrived}],
                   f"C-MOVE to {ae}: {counts.get('NumberOfCompletedSuboperations')} completed")


@kind("get")
def _get(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    model = MODELS[spec.get("model", "StudyRoot")][2]
    arrived: list[Dataset] = []
    storage = [ProposedContext(s, (uids.EXPLICIT_VR_LITTLE_ENDIAN,), scu_role=False, scp_role=True)
               for s in dict.fromkeys(c for c, _ in state.stored)] or [
        ProposedContext(c.sop_class, (uids.EXPLICIT_VR_LITTLE_ENDIAN,), scu_role=False, scp_role=True)
        for c in ctx.statement.capabilities(Role.SCU) if c.role_selection][:120]
    # always a fresh association: the C-STORE sub-operations need the SCP role negotiated
    # on it (PS3.7 D.3.3.4), answered in the same thread (rt.get_wire)
    contexts = _contexts(ctx, [model])[:8] + storage[:120]
    with _Association(ctx, state, [model], contexts, fresh=True) as (outcome, assoc):
        if assoc is None:
            return unestablished(outcome, "associate for C-GET")
        wire = assoc.assoc
        get_context = next((c for c in contexts[:8] if c in wire.context_ids), None)
        if get_context is None:
            return unestablished(outcome, "associate for C-GET")
        started = time.monotonic()
        result = rt.get_wire(wire, get_context, _identifier(spec["keys"], spec["level"]), state.next_id(),
                             arrived)
        ending = wire.ending
    if result.final is None and result.error:
        un = from_wire(ending, "C-GET", started, ctx.target.timeouts.dimse)
        return judge_unanswered(ctx, "C-GET", model, un)
    if result.error:
        return StepResult.error(result.error)
    ex = Expectations(spec.get("expect"), REFERENCES["get"], step.id)
    ex.status(result.final)
    ex.count("completed", result.final_counts.get("NumberOfCompletedSuboperations"))
    ex.count("failed", result.final_counts.get("NumberOfFailedSuboperations") or 0)
    ex.count("arrived", len(arrived))
    return _result(ex, [{"kind": "get", "arrived": len(arrived)}], f"C-GET: {len(arrived)} instance(s) arrived")


@kind("mpps_create")
def _mpps_create(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    attrs = pps.create_attributes(str(state.variables.get("patient_id", "CONF-PAT")),
                                  str(state.variables.get("patient_name", "CONFORMANCE^TEST")),
                                  str(state.variables.get("study_uid", generate_uid())), ctx.target.calling_ae)
    for key, value in (spec.get("set") or {}).items():
        setattr(attrs, key, "" if value is None else value)
    with _Association(ctx, state, [pps.MPPS]) as (outcome, assoc):
        if assoc is None:
            return unestablished(outcome, "associate for N-CREATE")
        status, instance = pps.n_create(assoc, attrs, state.next_id(), monitor=assoc.monitor)
        if status is None:
            return _unanswered(ctx, assoc.monitor, "N-CREATE", pps.MPPS)
    ex = Expectations(spec.get("expect"), REFERENCES["mpps_create"], step.id)
    ex.status(status)
    attrs.SOPInstanceUID = instance
    _save(state, spec.get("save"), [attrs])
    return _result(ex, [{"kind": "mpps", "instance": instance, "status": status.hex}], f"N-CREATE {status.hex}")


@kind("mpps_set")
def _mpps_set(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    mod = pps.final_attributes(spec["status"], generate_uid(), ctx.target.calling_ae)
    with _Association(ctx, state, [pps.MPPS]) as (outcome, assoc):
        if assoc is None:
            return unestablished(outcome, "associate for N-SET")
        status = pps.n_set(assoc, mod, str(spec["instance"]), state.next_id())
        if status is None:
            return _unanswered(ctx, assoc.monitor, "N-SET", pps.MPPS)
    ex = Expectations(spec.get("expect"), REFERENCES["mpps_set"], step.id)
    ex.status(status)
    return _result(ex, [{"kind": "mpps", "status": status.hex}], f"N-SET {spec['status']}: {status.hex}")


@kind("commitment")
def _commitment(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    which = spec.get("instances", "stored")
    if which == "stored":
        refs = list(state.stored)
    else:
        wanted = set(which if isinstance(which, list) else [which])
        refs = [r for r in state.stored if r[1] in wanted]
    if not refs:
        return StepResult.error("nothing to commit: no instance was stored by this scenario")
    listener = _listener(ctx, state)
    transaction = generate_uid()
    # the report may come on this association or on a new one (PS3.4 J.3.3): both land in the
    # listener, waited for while this association stays open
    with _Association(ctx, state, [scs.PUSH_MODEL],
                      on_event_report=lambda e: listener.on_report(e, True)) as (outcome, assoc):
        if assoc is None:
            return unestablished(outcome, "associate for N-ACTION")
        status = scs.request(assoc, scs.action_information(transaction, refs), state.next_id())
        if status is None:
            return _unanswered(ctx, assoc.monitor, "N-ACTION", scs.PUSH_MODEL)
        ex = Expectations(spec.get("expect"), REFERENCES["commitment"], step.id)
        ex.status(status)
        report = listener.wait_report(spec.get("wait", 30), transaction)
    if report is None:
        ex.fail("an N-EVENT-REPORT within", f"{spec.get('wait', 30)} s", "none")
        return _result(ex, [], "no storage commitment report")
    committed = len(report.dataset.get("ReferencedSOPSequence", []) or []) if report.dataset else 0
    failed = len(report.dataset.get("FailedSOPSequence", []) or []) if report.dataset else 0
    ex.count("committed", committed)
    if "committed" not in ex.spec and committed != len(refs):
        ex.fail("committed", len(refs), committed)
    ex.count("failed", failed)
    return _result(ex, [{"kind": "commitment", "committed": committed, "failed": failed}],
                   f"report: {committed} committed, {failed} failed")


@kind("wait")
def _wait(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    listener = _listener(ctx, state)
    timeout = spec.get("timeout", 60)
    got = listener.wait_received(spec["instances"], timeout)
    ex = Expectations({"arrived": f">={spec['instances']}"}, REFERENCES["wait"], step.id)
    ex.count("arrived", got)
    return _result(ex, [{"kind": "wait", "arrived": got}], f"{got} instance(s) arrived")


REFERENCES["load"] = loadstep.REFERENCE


@kind("load")
def _load(ctx: RunContext, state: ScenarioState, step: ScenarioStep, spec: Mapping[str, Any]) -> StepResult:
    """The statement's ``load`` section as a step: the same run and judgement as the family's
    ``load/c-store`` (:func:`conformance.load.plan.run_load_step`)."""
    from conformance.load.plan import run_load_step

    load = loadstep.load_of(spec)
    given = len(spec.get("sop_classes", [])) + len(spec.get("transfer_syntaxes", []))
    if given != len(load.sop_classes) + len(load.transfer_syntaxes):
        return StepResult.error(f"step {step.id!r}: a SOP class or transfer syntax name "
                                "(after ${variable} expansion) is unknown or repeated")
    return run_load_step(ctx, load, where=f"scenario step {step.id!r}")
