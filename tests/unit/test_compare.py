"""`conformance compare`: the matrix of two statements, checked cell by cell."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.reporting.compare_page import cell
from conformance.statement import load_statement
from conformance.statement.compare import NO_COMMON_TS, NOT_ACCEPTED, OK, compare
from conformance.statement.model import Role

from tests.conftest import DATA, STATEMENTS

EVLE, EVBE, IVLE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"
J2K, JPEG_BASELINE = "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.50"


def test_storescu_to_orthanc_every_cell():
    storescu = load_statement(STATEMENTS / "dcmtk-storescu.yaml")
    orthanc = load_statement(STATEMENTS / "orthanc-1.10.yaml")
    result = compare(storescu, orthanc)
    sent = storescu.capabilities(Role.SCU)
    a_to_b = [p for p in result.pairings if p.scu == "A"]
    assert len(sent) == len(a_to_b) == 64
    for p in a_to_b:
        scp_ts = orthanc.capability(p.sop_class, Role.SCP).transfer_syntaxes
        assert p.state == OK
        assert p.common == tuple(t for t in (EVLE, EVBE, IVLE) if t in scp_ts)
        assert p.likely == EVLE                               # storescu proposes explicit LE first
        assert [cell(p, t) for t in (EVLE, EVBE, IVLE)] == ["likely", "common", "common"]
    # Orthanc's own SCU classes have no SCP on storescu's side: noted, not counted.
    assert not [p for p in result.pairings if p.scu == "B"]
    assert not result.blocking


def test_mismatched_pair_is_flagged_cell_by_cell():
    modality = load_statement(DATA / "statements" / "ultrasound-modality.yaml")
    pacs = load_statement(DATA / "statements" / "pacs-latin1.yaml")
    result = compare(modality, pacs)
    by_kw = {p.keyword: p for p in result.pairings}
    assert set(by_kw) == {"UltrasoundImageStorage", "UltrasoundMultiFrameImageStorage", "PhotoacousticImageStorage"}
    us = by_kw["UltrasoundImageStorage"]
    assert us.state == NO_COMMON_TS and cell(us, JPEG_BASELINE) == "scu-only" and cell(us, IVLE) == ""
    mf = by_kw["UltrasoundMultiFrameImageStorage"]
    assert mf.state == OK and mf.likely == J2K
    assert [cell(mf, t) for t in (J2K, EVLE, IVLE)] == ["likely", "common", "common"]
    pa = by_kw["PhotoacousticImageStorage"]
    assert pa.state == NOT_ACCEPTED and cell(pa, EVLE) == "rejected"
    topics = {(f.severity, f.topic) for f in result.flags}
    assert ("warning", "character-sets") in topics          # GB18030 sent, only ISO_IR 100 accepted
    assert ("warning", "tls") in topics
    assert ("info", "private-attributes") in topics
    assert ("warning", "services") in topics                # worklist query: the PACS has no worklist
    assert any("GB18030" in f.message for f in result.flags)
    assert {p.keyword for p in result.blocking} == {"UltrasoundImageStorage", "PhotoacousticImageStorage"}


def test_cli_compare_exit_codes_and_formats(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(cli, ["compare", str(DATA / "statements" / "ultrasound-modality.yaml"),
                              str(DATA / "statements" / "pacs-latin1.yaml"), "--format", "json"])
    assert bad.exit_code == 1
    data = json.loads(bad.output)
    assert data["compatible"] is False
    good = runner.invoke(cli, ["compare", str(STATEMENTS / "dcmtk-storescu.yaml"), str(STATEMENTS / "orthanc-1.10.yaml"),
                               "--format", "html", "--out", str(tmp_path / "c.html")])
    assert good.exit_code == 0
    html = (tmp_path / "c.html").read_text()
    assert "compatible" in html and "CT Image Storage" in html
    text = runner.invoke(cli, ["compare", str(STATEMENTS / "dcmtk-storescu.yaml"), str(STATEMENTS / "orthanc-1.10.yaml")])
    assert text.exit_code == 0 and "COMPATIBLE" in text.output
    broken = runner.invoke(cli, ["compare", str(DATA / "statements" / "broken" / "unknown-key.yaml"),
                                 str(STATEMENTS / "orthanc-1.10.yaml")])
    assert broken.exit_code == 2


CT_MODALITY = """\
format: conformance-statement/1
identity: {manufacturer: Example, model: CT 9, software_version: "1"}
network: {ae_titles: [CT9]}
transfer_capabilities:
  - sop_classes: [CTImageStorage]
    role: SCU
    transfer_syntaxes: [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
  - sop_classes: [ModalityWorklistInformationModelFind, ModalityPerformedProcedureStep,
                  StorageCommitmentPushModel]
    role: SCU
    transfer_syntaxes: [ImplicitVRLittleEndian]
"""


def test_one_rule_for_the_services_a_modality_needs_whatever_the_receiver(tmp_path):
    ct = tmp_path / "ct.yaml"
    ct.write_text(CT_MODALITY)
    modality = load_statement(ct)
    needs = {}
    for receiver in ("dcmtk-storescp.yaml", "orthanc-1.10.yaml"):
        result = compare(modality, load_statement(STATEMENTS / receiver))
        assert not result.blocking, receiver                 # storage works with both
        needs[receiver] = {f.message.split(" uses ")[1].split(" as SCU")[0] for f in result.flags
                           if f.topic == "services" and f.message.startswith("A uses")}
        assert all(f.reference.startswith("PS3.4") for f in result.flags if f.topic == "services")
    # Neither provides worklist or MPPS: both say so the same way. Orthanc provides storage
    # commitment, so there it is compared (and works); storescp does not, so it is named.
    assert needs["dcmtk-storescp.yaml"] == {"Modality Worklist", "MPPS", "Storage Commitment"}
    assert needs["orthanc-1.10.yaml"] == {"Modality Worklist", "MPPS"}
    text = " ".join(CliRunner().invoke(cli, ["compare", str(ct), str(STATEMENTS / "orthanc-1.10.yaml")]).output.split())
    assert text.lstrip().startswith("COMPATIBLE") and "PS3.8 9.3.3.2" in text and "PS3.4 Annex K" in text
