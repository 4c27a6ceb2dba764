"""A synthetic failing run at the scale of a real PACS (about 10,000 steps), built as
RunResults directly: no device needed to measure what the report does with that many steps.

The shape follows a real Orthanc run of the shipped statement: per storage SOP class and
transfer syntax an accept step and a store step (a fifth of them skipped for want of an
encoder), an undeclared-ts step with a warning per SOP class, query steps carrying the
identifier sent and the response received; plus deliberate failures (rejected declared
contexts, failed stores, a refused C-GET, a lossy C-FIND answer) and a few steps that could
not be tested.
"""

from __future__ import annotations

from conformance.engine.results import RunResults, StepRecord
from conformance.findings import Finding, Severity
from conformance.standard import uids

SENT = [["(0008,0052)", "QueryRetrieveLevel", "CS", "STUDY"], ["(0010,0020)", "PatientID", "LO", "HARNESS-Q1"],
        ["(0020,000D)", "StudyInstanceUID", "UI", "1.2.826.0.1.3680043.8.498." + "1234567890" * 5]]
RECEIVED = [*SENT, ["(0010,0010)", "PatientName", "PN", "^"], ["(0008,0005)", "SpecificCharacterSet", "CS", "ISO_IR 100"]]


def big_failing_run(sop_classes: int = 165, syntaxes: int = 30) -> RunResults:
    sops = sorted(uids.storage_sop_classes().items())[:sop_classes]
    tss = list(uids.probe_transfer_syntaxes().items())[:syntaxes]
    no_encoder = {kw for kw, _ in tss[-6:]}
    statement = {
        "identity": {"manufacturer": "Synthetic", "model": "Big PACS", "software_version": "1.0"},
        "network": {"ae_titles": ["BIGPACS"], "port": 104},
        "transfer_capabilities": [{"sop_classes": [kw for kw, _ in sops], "role": "SCP",
                                   "transfer_syntaxes": [kw for kw, _ in tss]},
                                  {"sop_classes": ["StudyRootQueryRetrieveInformationModelFind",
                                                   "StudyRootQueryRetrieveInformationModelGet",
                                                   "ModalityWorklistInformationModelFind"],
                                   "role": "SCP", "transfer_syntaxes": ["ImplicitVRLittleEndian"]}],
    }
    results = RunResults(run_id="synthetic", started_at="2026-01-01T00:00:00Z", finished_at="2026-01-01T01:00:00Z",
                         harness_version="test", target={"host": "127.0.0.1", "port": 104, "called_ae": "BIGPACS",
                                                         "calling_ae": "CONFORMANCE", "harness_port": 11112},
                         statement=statement, statement_file="statements/big-pacs.yaml", options={})
    steps = results.steps
    steps.append(StepRecord("negotiation/verification", "Verification: C-ECHO", "PS3.7 9.1.5", "pass"))
    for n, (sop_kw, sop) in enumerate(sops):
        for m, (ts_kw, ts) in enumerate(tss):
            rejected = n % 23 == 5 and m == 3
            obs = [{"sop_class": sop, "transfer_syntax": ts, "role": "SCP", "declared": True,
                    "result": 4 if rejected else 0}]
            findings = [Finding("negotiation.declared-ts-rejected", Severity.ERROR,
                                f"{uids.name_of(sop)} in {ts_kw} is declared (SCP) but the device rejected it "
                                "with result 4 (transfer-syntaxes-not-supported).", "PS3.8 9.3.3.2; statement",
                                details={"sop_class": sop, "transfer_syntax": ts, "result": 4})] if rejected else []
            steps.append(StepRecord(f"negotiation/accept/{sop_kw}/{ts_kw}",
                                    f"{uids.name_of(sop)} in {uids.name_of(ts)} is accepted", "PS3.8 9.3.3.2",
                                    "fail" if rejected else "pass", findings=findings, observations=obs))
        steps.append(StepRecord(f"negotiation/undeclared-ts/{sop_kw}", f"{uids.name_of(sop)}: undeclared transfer "
                                "syntaxes", "PS3.8 Table 9-18", "pass",
                                findings=[Finding("negotiation.wrong-rejection-reason", Severity.WARNING,
                                                  f"{uids.name_of(sop)} in HTJ2KLossless was rejected with result 3; "
                                                  "the reason should be 4.", "PS3.8 Table 9-18")]))
        for m, (ts_kw, ts) in enumerate(tss):
            sid = f"storage/store/{sop_kw}/{ts_kw}"
            title = f"Store {uids.name_of(sop)} in {uids.name_of(ts)}"
            if ts_kw in no_encoder:
                steps.append(StepRecord(sid, title, "PS3.4 B.2.2", "skipped",
                                        message=f"not tested: no encoder (no encoder for {uids.name_of(ts)})"))
            elif n % 31 == 7 and m == 1:
                steps.append(StepRecord(sid, title, "PS3.4 B.2.2", "fail", findings=[Finding(
                    "storage.store-failed", Severity.ERROR, f"C-STORE of {sop_kw} in {ts_kw} ended with 0xA700 "
                    "(Refused: Out of Resources).", "PS3.4 B.2.3; statement", details={"status": 0xA700})],
                    observations=[{"kind": "store", "sop_class": sop, "transfer_syntax": ts, "works": False,
                                   "status": "0xA700", "sop_instance": "1.2.3." + "9" * 50}]))
            else:
                steps.append(StepRecord(sid, title, "PS3.4 B.2.2", "pass", observations=[
                    {"kind": "store", "sop_class": sop, "transfer_syntax": ts, "works": True, "status": "0x0000"}]))
    for n in range(30):
        lossy = n == 3
        steps.append(StepRecord(f"query/StudyRoot/STUDY/check-{n}", f"StudyRoot C-FIND check {n}", "PS3.4 C.4.1",
                                "pass", findings=[Finding("find.character-set-lossy", Severity.WARNING,
                                                          "StudyRoot C-FIND of the GB18030 patient: '张三^李四' came "
                                                          "back as '^'.", "PS3.5 6.1", tag="(0010,0010)")] if lossy else [],
                                observations=[{"kind": "find", "what": f"check {n}", "matches": 1,
                                               "statuses": ["0xFF00", "0x0000"], "sent": SENT, "received": RECEIVED}]))
    for n in range(8):
        steps.append(StepRecord(f"retrieve/get/StudyRoot/level-{n}", f"StudyRoot C-GET {n}", "PS3.4 C.4.3", "fail",
                                findings=[Finding("retrieve.get-refused", Severity.ERROR, "C-GET answered 0xA702 "
                                                  "(Refused: Out of resources - unable to perform sub-operations).",
                                                  "PS3.4 C.4.3.1.4")],
                                observations=[{"kind": "retrieve", "what": f"C-GET {n}", "model": "StudyRoot",
                                               "verb": "get", "final": "0xA702", "sent": SENT}]))
    for n in range(4):
        steps.append(StepRecord(f"worklist/match-{n}", f"Worklist matching {n}", "PS3.4 K.6.1", "error",
                                message="no valid C-FIND response within the DIMSE timeout"))
    return results
