"""Bad input and hostile servers: each misbehaviour is a finding (or a named error) in a
bounded time, never a traceback and never a hang. The servers are tiny fakes on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from conformance.dicomweb.client import ACCESS_KEY, WebAccess, WebClient
from conformance.engine import RunContext, run
from conformance.negotiation.target import Target
from conformance.statement import load_statement
from conformance.suite import build_plan
from conformance.testing.peers import free_port
from tests.dicomweb.hostile import HostileServer

STATEMENT = """\
format: conformance-statement/1
identity: {manufacturer: Test, model: Hostile, software_version: "1"}
network: {ae_titles: [WEB]}
transfer_capabilities:
  - {sop_classes: [CTImageStorage], role: SCP, transfer_syntaxes: [ExplicitVRLittleEndian]}
dicomweb:
  stow_rs: {url: /dicom-web, sop_classes: [CTImageStorage]}
  qido_rs: {url: /dicom-web, levels: [study], matching: [single-value]}
  wado_rs:
    url: /dicom-web
    resources:
      instances: {media_types: [application/dicom], transfer_syntaxes: ["*"]}
      metadata: {media_types: [application/dicom+json]}
"""
STEPS = ["dicomweb/qido/study", "dicomweb/wado/instances/as-stored", "dicomweb/wado/metadata"]


def run_against(tmp_path, url, timeout=1.0, max_bytes=1024 * 1024):
    path = tmp_path / "web.yaml"
    path.write_text(STATEMENT)
    st = load_statement(path)
    # no DIMSE peer: a closed port (the web steps do not use it)
    ctx = RunContext(st, Target("127.0.0.1", free_port(), "WEB"))
    ctx.shared[ACCESS_KEY] = WebAccess(origin=url, timeout=timeout, max_bytes=max_bytes)
    start = time.monotonic()
    results = run(ctx, build_plan(st, STEPS))
    return {s.id: s for s in results.steps}, time.monotonic() - start


def codes(step):
    return {f.code for f in step.findings}


EXPECT = {
    # mode: (QIDO-RS study code, WADO-RS instance code, WADO-RS metadata code)
    "html": ("qido.media-type", "wado.multipart", "wado.media-type"),
    "garbage-json": ("qido.not-json", "wado.multipart", "wado.not-json"),
    "wrong-type": ("qido.media-type", "wado.multipart", "wado.media-type"),
    "wrong-boundary": ("qido.media-type", "wado.multipart", "wado.media-type"),
    "huge": ("dicomweb.no-usable-answer",) * 3,
    "silent": ("dicomweb.no-usable-answer",) * 3,
    "trickle": ("dicomweb.no-usable-answer",) * 3,
    "reset": ("dicomweb.no-usable-answer",) * 3,
}


@pytest.mark.parametrize("mode", sorted(EXPECT))
def test_a_hostile_origin_server_gives_findings_in_bounded_time(tmp_path, mode):
    with HostileServer(mode, delay=3.0) as server:
        steps, took = run_against(tmp_path, server.url)
    assert took < 20
    for sid, code in zip(STEPS, EXPECT[mode]):
        step = steps[sid]
        assert "harness error" not in step.message, step.message
        assert step.outcome == "fail", (sid, step.outcome, step.message)
        assert code in codes(step), (sid, step.findings)


def test_wrong_boundary_is_named(tmp_path):
    with HostileServer("wrong-boundary") as server:
        steps, _ = run_against(tmp_path, server.url)
    text = " ".join(f.message for f in steps["dicomweb/wado/instances/as-stored"].findings)
    assert "boundary 'other'" in text and "never occurs" in text


def test_a_closed_port_is_could_not_test_not_a_failure(tmp_path):
    steps, took = run_against(tmp_path, f"http://127.0.0.1:{free_port()}")
    assert took < 20
    assert all(s.outcome in ("error", "skipped") for s in steps.values())
    assert all("harness error" not in s.message for s in steps.values())


def test_credentials_are_sent_but_never_shown():
    seen = {}

    class Recorder(HostileServer):
        pass

    from tests.dicomweb import hostile

    class H(hostile.Handler):
        def do_GET(self):
            seen["auth"] = self.headers.get("Authorization")
            self._send(200, "application/dicom+json", b"[]")

    with Recorder("html") as server:
        server.RequestHandlerClass = H
        access = WebAccess(origin=server.url, token="s3cret-token", timeout=2)
        with WebClient(access, "bearer") as client:
            res = client.request("GET", server.url + "/dicom-web/studies")
    assert seen["auth"] == "Bearer s3cret-token"
    assert "s3cret" not in repr(access) and "s3cret" not in str(res.observation("x"))
    assert "s3cret" not in res.url


def test_missing_credentials_are_a_named_setup_mistake(tmp_path):
    path = tmp_path / "web.yaml"
    path.write_text(STATEMENT.replace("dicomweb:\n", "dicomweb:\n  authentication: bearer\n"))
    st = load_statement(path)
    ctx = RunContext(st, Target("127.0.0.1", free_port(), "WEB"))
    ctx.shared[ACCESS_KEY] = WebAccess(origin="http://127.0.0.1:9", timeout=1)
    results = run(ctx, build_plan(st, ["dicomweb/qido/study"]))
    step = results.steps[0]
    assert step.outcome == "error" and "--dicomweb-token" in step.message
