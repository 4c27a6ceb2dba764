"""discover and diff learn DICOMweb: read-only probes of Orthanc's DICOMweb plugin."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.dicomweb.client import WebAccess
from conformance.dicomweb.common import DICOM, encode_part
from conformance.dicomweb.discover import diff_web, discover_web
from conformance.dicomweb.multipart import build
from conformance.iod import synthesize
from conformance.statement import load_statement
from conformance.statement.loader import statement_from_document
from conformance.statement.yamlsource import load_document
from conformance.testing.peers import Orthanc, free_port
from tests.conftest import DATA, STATEMENTS


def _stow_one(orthanc):
    ds = synthesize("1.2.840.10008.5.1.4.1.1.2")
    ds.PatientID = "CONFDISCOVER"
    from conformance.dicomweb.client import WebClient
    ctype, body = build([(DICOM, encode_part(ds))], DICOM)
    with WebClient(WebAccess(timeout=10)) as c:
        assert c.request("POST", orthanc.dicomweb_url + "/studies", content=body, content_type=ctype).status == 200


def test_discover_and_diff_over_dicomweb(tmp_path):
    with Orthanc(harness_ae_title="CONFORMANCE", harness_port=free_port(), dicomweb=True) as o:
        empty = discover_web(o.dicomweb_url, WebAccess(timeout=10))
        assert empty.qido_levels == ["study", "series", "instance"] and not empty.instance_probed
        _stow_one(o)
        found = discover_web(o.dicomweb_url, WebAccess(timeout=10))
        assert found.capabilities is False
        assert found.resources["metadata"] == ["application/dicom+json"]
        assert {"ExplicitVRLittleEndian", "JPEGLSLossless"} <= set(found.transfer_syntaxes)
        assert "image/gif" not in found.resources["rendered"]
        # the shipped statement matches what was probed; the wrong one does not
        assert diff_web(load_statement(STATEMENTS / "orthanc-1.10.yaml").dicomweb, found) == []
        wrong = diff_web(load_statement(DATA / "statements" / "orthanc-dicomweb-wrong.yaml").dicomweb, found)
        claims = {c for sev, c, _d, _o in wrong if sev == "error"}
        assert claims == {"Capabilities resource", "WADO-RS instances in JPEG2000Lossless",
                          "WADO-RS thumbnail as image/jpeg"}
        # the CLI: a draft with a dicomweb section that loads, and diff exit codes
        out = tmp_path / "draft.yaml"
        res = CliRunner().invoke(cli, ["discover", "--port", str(o.port), "--dicomweb-url", o.dicomweb_url,
                                       "--out", str(out)])
        assert res.exit_code == 0, res.output
        st = statement_from_document(load_document(out))
        assert st.dicomweb is not None and st.dicomweb.wado_rs is not None
        assert st.dicomweb.qido_rs is not None and st.dicomweb.qido_rs.url == "/dicom-web"
        res = CliRunner().invoke(cli, ["diff", str(DATA / "statements" / "orthanc-dicomweb-wrong.yaml"),
                                       "--port", str(o.port), "--dicomweb-url", o.http_url, "--format", "json"])
        assert res.exit_code == 1
        assert "WADO-RS thumbnail as image/jpeg" in {d["claim"] for d in json.loads(res.output[res.output.index("["):])}
