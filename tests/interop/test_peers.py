"""The real-peer launchers (conformance.testing.peers): they start the Debian programs on
free loopback ports with the configuration they claim, and always stop them."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from conformance.negotiation.association import Establishment, ProposedContext, associate
from conformance.negotiation.target import Target
from conformance.standard import uids
from conformance.testing import (
    DcmQrSCP,
    Orthanc,
    PeerError,
    StoreSCP,
    WlmSCPFS,
    dcmtk_tool,
)
from conformance.testing.probe import acceptance, groups

pytestmark = pytest.mark.peer

ECHO = [ProposedContext(uids.VERIFICATION, (uids.IMPLICIT_VR_LITTLE_ENDIAN,))]
MWL = "1.2.840.10008.5.1.4.31"


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def live_group_members(pgid: int) -> list[int]:
    """Processes (not zombies) in process group *pgid*."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def echo(peer, called_ae: str | None = None):
    target = Target(peer.host, peer.port, called_ae or peer.ae_title, "CONFORMANCE")
    with associate(target, ECHO) as (outcome, assoc):
        status = assoc.send_c_echo().Status if assoc is not None else None
        return outcome, status


def test_dcmtk_tools_are_called_by_full_path():
    # pynetdicom's console scripts shadow storescp & co on a virtualenv's PATH.
    assert dcmtk_tool("storescp") == "/usr/bin/storescp"
    with pytest.raises(PeerError, match="apt-get install -y dcmtk"):
        dcmtk_tool("no-such-dcmtk-tool")


def test_storescp_listens_on_loopback_with_tcp_nodelay_and_is_stopped(storescp_xa):
    assert (storescp_xa.host, storescp_xa.ae_title) == ("127.0.0.1", "STORESCP")
    assert storescp_xa.command[-1] == str(storescp_xa.port) and "+xa" in storescp_xa.command
    assert environ(storescp_xa.pid)["TCP_NODELAY"] == "1"
    outcome, status = echo(storescp_xa)
    assert outcome.establishment is Establishment.ACCEPTED and status == 0


def test_launcher_stops_its_process_and_removes_its_files_on_exception():
    with pytest.raises(RuntimeError, match="boom"), StoreSCP() as peer:
        pid, workdir = peer.pid, peer.workdir
        assert workdir.is_dir() and peer.running
        raise RuntimeError("boom")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not workdir.exists()


def test_a_program_that_cannot_start_raises_with_its_log_tail():
    peer = StoreSCP(extra_args=["--no-such-option"], ready_timeout=5)
    with pytest.raises(PeerError, match=r"exited \(status .*\) before listening(.|\n)*no-such-option"):
        peer.start()
    assert peer.pid is None and not peer.workdir.exists()


def test_dcmqrscp_forked_children_are_stopped_too():
    with DcmQrSCP(harness_ae_title="CONFORMANCE", harness_port=11112) as peer:
        pgid = peer.pid
        assert "harness = (CONFORMANCE, 127.0.0.1, 11112)" in peer.config_path.read_text()
        outcome, status = echo(peer)
        assert outcome.establishment is Establishment.ACCEPTED and status == 0
        assert "-s" not in peer.command          # single-process mode crashes [PEERS.md]
    assert live_group_members(pgid) == []


def test_orthanc_configuration_and_http_on_loopback(orthanc, harness_port):
    config = json.loads((orthanc.workdir / "orthanc.json").read_text())
    assert config["RemoteAccessAllowed"] is False and config["AuthenticationEnabled"] is False
    assert config["DicomAet"] == "ORTHANC" and config["DicomPort"] == orthanc.port
    assert config["DicomModalities"]["harness"] == {"AET": "CONFORMANCE", "Host": "127.0.0.1",
                                                    "Port": harness_port}
    assert environ(orthanc.pid)["TCP_NODELAY"] == "1"
    with urllib.request.urlopen(f"{orthanc.http_url}/system", timeout=10) as answer:
        system = json.load(answer)
    assert system["DicomAet"] == "ORTHANC" and system["Version"] == "1.10.1"
    assert system["DicomPort"] == orthanc.port


def test_orthanc_worklist_plugin_adds_the_worklist_sop_class():
    contexts = [ProposedContext(MWL, (uids.IMPLICIT_VR_LITTLE_ENDIAN,))]
    with Orthanc(worklists=True) as peer:
        assert peer.worklist_dir.is_dir()
        with associate(Target(peer.host, peer.port, peer.ae_title), contexts) as (outcome, _):
            assert [c.result for c in outcome.contexts] == [0]


def test_wlmscpfs_serves_its_ae_title_folder_only():
    with WlmSCPFS("WORKLIST") as peer:
        assert (peer.worklist_dir / "lockfile").is_file()
        assert peer.worklist_dir == peer.root / "WORKLIST"
        target = Target(peer.host, peer.port, peer.ae_title)
        with associate(target, [ProposedContext(MWL, (uids.IMPLICIT_VR_LITTLE_ENDIAN,))]) as (o, _):
            assert [c.result for c in o.contexts] == [0]
        with associate(target.with_called_ae("NOT-THIS-ONE"), ECHO) as (o, _):
            assert o.establishment is Establishment.REJECTED


def test_probe_reports_what_the_device_accepts(storescp_xa):
    ct, jpeg_xl = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.4.112"
    target = Target(storescp_xa.host, storescp_xa.port, storescp_xa.ae_title)
    syntaxes = [uids.EXPLICIT_VR_LITTLE_ENDIAN, jpeg_xl]
    matrix = acceptance(target, [ct, MWL], syntaxes)
    # +xa: CT in Explicit VR accepted, JPEG XL (unknown to DCMTK 3.6.7) result 4; MWL 3.
    assert matrix == {ct: {syntaxes[0]: 0, jpeg_xl: 4}, MWL: {syntaxes[0]: 3, jpeg_xl: 3}}
    assert groups(matrix) == [((syntaxes[0],), [ct]), ((), [MWL])]
    # storescp accepts the context but keeps the default roles: no role selection.
    assert acceptance(target, [ct], syntaxes[:1], role_selection=True) == {ct: {syntaxes[0]: 1}}
