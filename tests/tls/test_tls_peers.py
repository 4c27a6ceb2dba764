"""The tls family against real peers: DCMTK storescp +tls and Orthanc with DICOM TLS
(PS3.15 Annex B). Each test can fail: a truthful statement passes, each wrong claim fails its
own step, a CA that does not match is named as the site's set-up problem."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from conformance.engine import RunContext, run
from conformance.engine.results import RunResults
from conformance.families.tls import OPTIONS_KEY, PLAIN_PORT_KEY
from conformance.statement import Statement, load_statement
from conformance.suite import build_plan
from conformance.testing import StoreSCP
from conformance.testing.peers import Orthanc, TlsStoreSCP, dcmtk_tool, orthanc_tls_config
from conformance.wire import tls
from conformance.wire.target import Target, Timeouts

from .conftest import HERE, Pki

pytestmark = pytest.mark.peer
FAST = Timeouts(connect=5, acse=5, dimse=5, liveness=3)


def _statement(name: str, **secure: object) -> Statement:
    st = load_statement(HERE / name)
    assert st.secure_transport is not None
    if secure:
        st = dataclasses.replace(st, secure_transport=dataclasses.replace(st.secure_transport, **secure))
    return st


def _run(st: Statement, port: int, opts: tls.TlsOptions, patterns: tuple[str, ...] = ("tls/",),
         plain_port: int | None = None) -> RunResults:
    wrap = tls.requestor_wrap(tls.client_context(opts), "127.0.0.1")
    target = Target("127.0.0.1", port, st.network.ae_titles[0], "CONFORMANCE", FAST, wrap=wrap)
    ctx = RunContext(st, target, shared={OPTIONS_KEY: opts, PLAIN_PORT_KEY: plain_port})
    return run(ctx, build_plan(st, patterns))


def _outcomes(results: RunResults) -> dict[str, str | None]:
    return {s.id: s.outcome for s in results.steps}


def _codes(results: RunResults, step: str) -> set[str]:
    record = results.step(step)
    assert record is not None, step
    return {f.code for f in record.findings}


def test_truthful_statement_passes_against_storescp_tls(pki: Pki) -> None:
    st = _statement("storescp-tls.yaml")
    with TlsStoreSCP(pki.server_key, pki.server_cert, pki.ca, profile="+py", peer_cert="require") as scp:
        results = _run(st, scp.port, pki.options(), ("tls/", "storage/store/CTImageStorage/ExplicitVRLittleEndian"))
    outcomes = _outcomes(results)
    assert outcomes["tls/echo/STORESCP"] == "pass"
    assert outcomes["storage/store/CTImageStorage/ExplicitVRLittleEndian"] == "pass"   # a C-STORE over TLS
    assert all(o == "pass" for o in outcomes.values()), outcomes
    assert "TLSv1 alone: refused" in (results.step("tls/protocol-versions").message or "")


def test_truthful_statement_passes_against_orthanc_tls(pki: Pki) -> None:
    st = _statement("orthanc-tls.yaml")
    with Orthanc(config=orthanc_tls_config(pki.server_cert, pki.server_key, pki.ca, True)) as orthanc:
        results = _run(st, orthanc.port, pki.options())
    outcomes = _outcomes(results)
    assert all(o == "pass" for o in outcomes.values()), outcomes
    # B.9 (BCP 195, RFC 7525 3.1.1): TLS 1.0/1.1 "should not": Orthanc negotiates them -> warnings
    assert _codes(results, "tls/protocol-versions") == {"tls.forbidden-version-accepted"}


def test_non_downgrading_claim_fails_against_orthanc_that_accepts_tls10(pki: Pki) -> None:
    st = _statement("orthanc-tls.yaml", profiles=("bcp195-non-downgrading",))
    with Orthanc(config=orthanc_tls_config(pki.server_cert, pki.server_key, pki.ca, True)) as orthanc:
        results = _run(st, orthanc.port, pki.options(), ("tls/protocol-versions",))
    step = results.step("tls/protocol-versions")
    assert step is not None and step.outcome == "fail"
    assert all(f.reference.startswith("PS3.15 B.10") for f in step.findings)


@pytest.mark.parametrize("peer_cert", ["ignore", "verify"])
def test_claimed_client_certificate_fails_when_the_peer_does_not_require_one(pki: Pki, peer_cert: str) -> None:
    st = _statement("storescp-tls.yaml", client_certificate_required=True)
    with TlsStoreSCP(pki.server_key, pki.server_cert, pki.ca, peer_cert=peer_cert) as scp:
        results = _run(st, scp.port, pki.options(), ("tls/client-certificate", "tls/handshake"))
    assert _outcomes(results) == {"tls/handshake": "pass", "tls/client-certificate": "fail"}
    assert _codes(results, "tls/client-certificate") == {"tls.client-cert-not-required"}


def test_claimed_no_client_certificate_fails_when_the_peer_requires_one(pki: Pki) -> None:
    st = _statement("storescp-tls.yaml", client_certificate_required=False)
    with TlsStoreSCP(pki.server_key, pki.server_cert, pki.ca, peer_cert="require") as scp:
        results = _run(st, scp.port, pki.options(), ("tls/client-certificate",))
    assert _codes(results, "tls/client-certificate") == {"tls.client-cert-required"}


def test_wrong_ca_is_named_as_the_sites_set_up_problem(pki: Pki) -> None:
    st = _statement("storescp-tls.yaml")
    with TlsStoreSCP(pki.server_key, pki.server_cert, pki.ca) as scp:
        results = _run(st, scp.port, pki.options(ca=pki.other_ca), ("tls/certificate", "tls/echo/"))
    for step in ("tls/certificate", "tls/echo/STORESCP"):
        record = results.step(step)
        assert record is not None and record.outcome == "setup", (step, record)
        assert "--tls-ca" in record.message and str(pki.other_ca) in record.message


def test_host_name_declared_but_not_in_the_certificate_fails(pki: Pki) -> None:
    st = _statement("storescp-tls.yaml", host_name="pacs.example.org")
    with TlsStoreSCP(pki.server_key, pki.server_cert, pki.ca) as scp:
        results = _run(st, scp.port, pki.options(), ("tls/certificate",))
    assert _codes(results, "tls/certificate") == {"tls.certificate-host-name"}
    assert results.step("tls/certificate").outcome == "fail"


@pytest.mark.parametrize("declared", [True, False])
def test_plain_port_claim_is_checked(pki: Pki, declared: bool) -> None:
    st = _statement("storescp-tls.yaml", plain_port_answers=declared)
    with TlsStoreSCP(pki.server_key, pki.server_cert, pki.ca) as scp, StoreSCP() as plain:
        results = _run(st, scp.port, pki.options(), ("tls/plain-port",), plain_port=plain.port)
    record = results.step("tls/plain-port")
    assert record is not None
    assert record.outcome == ("pass" if declared else "fail"), record.message
    if not declared:
        assert _codes(results, "tls/plain-port") == {"tls.plain-port-answers"}


def test_without_tls_options_every_tls_step_says_why_not_tested(pki: Pki) -> None:
    st = _statement("storescp-tls.yaml")
    target = Target("127.0.0.1", 1, "STORESCP", "CONFORMANCE", FAST)
    results = run(RunContext(st, target), build_plan(st, ("tls/",)))
    assert {s.outcome for s in results.steps} == {"skipped"}
    assert all("--tls" in s.message for s in results.steps)


def test_dcmtk_echoscu_over_tls_reaches_the_harness_acceptor(pki: Pki, reference_statement: Statement) -> None:
    """The acceptor side (``Acceptor(wrap=acceptor_wrap(...))``, what ``listen --tls`` uses),
    checked with an independent TLS client: DCMTK's echoscu +tls."""
    from conformance.reference import ReferenceDevice
    from conformance.reference.scp import ReferenceAcceptor

    opts = tls.TlsOptions(str(pki.ca), str(pki.server_cert), str(pki.server_key), require_client_cert=True)
    device = ReferenceDevice(reference_statement)
    server = ReferenceAcceptor(device, host="127.0.0.1", port=0, wrap=tls.acceptor_wrap(tls.server_context(opts)))
    server.start()
    try:
        ae = reference_statement.network.ae_titles[0]
        ok = subprocess.run([dcmtk_tool("echoscu"), "+tls", str(pki.client_key), str(pki.client_cert),
                             "+cf", str(pki.ca), "-aec", ae, "127.0.0.1", str(server.port)],
                            capture_output=True, timeout=30, env={"TCP_NODELAY": "1"})
        anonymous = subprocess.run([dcmtk_tool("echoscu"), "+tla", "+cf", str(pki.ca), "-aec", ae,
                                    "127.0.0.1", str(server.port)],
                                   capture_output=True, timeout=30, env={"TCP_NODELAY": "1"})
    finally:
        server.stop(grace=0)
    assert ok.returncode == 0, ok.stderr.decode(errors="replace")
    # a client without a certificate (+tla) is refused: the harness requires one here
    assert anonymous.returncode != 0, anonymous.stdout.decode(errors="replace")


def test_cli_run_over_tls_against_storescp(pki: Pki, tmp_path: Path) -> None:
    """``conformance run --tls --tls-ca --tls-cert --tls-key``: the whole face, exit 0 on a
    truthful statement, reports written."""
    from click.testing import CliRunner

    from conformance.cli.main import cli

    with TlsStoreSCP(pki.server_key, pki.server_cert, pki.ca) as scp:
        args = ["run", str(HERE / "storescp-tls.yaml"), "--port", str(scp.port), "--tls", "--tls-ca", str(pki.ca),
                "--tls-cert", str(pki.client_cert), "--tls-key", str(pki.client_key), "-k", "tls/", "-q",
                "--out", str(tmp_path / "rep"), "--connect-timeout", "5", "--acse-timeout", "5"]
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rep" / "report.html").exists()


def test_extended_profile_against_orthanc_warns_on_a_suite_outside_its_list(pki: Pki) -> None:
    """B.11 lists its suites as "should be supported": Orthanc also negotiates
    TLS_RSA_WITH_AES_128_CBC_SHA, a warning (never a failure); TLS 1.0/1.1 ("shall not") fail."""
    st = _statement("orthanc-tls.yaml", profiles=("bcp195-extended",))
    with Orthanc(config=orthanc_tls_config(pki.server_cert, pki.server_key, pki.ca, True)) as orthanc:
        results = _run(st, orthanc.port, pki.options(), ("tls/cipher-suites", "tls/protocol-versions"))
    ciphers = results.step("tls/cipher-suites")
    assert ciphers is not None and ciphers.outcome == "pass"
    assert {(f.code, f.severity.value) for f in ciphers.findings} == {("tls.suite-outside-profile-accepted", "warning")}
    assert results.step("tls/protocol-versions").outcome == "fail"
