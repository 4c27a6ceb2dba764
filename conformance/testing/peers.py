"""Context-manager launchers for real DICOM peers: Orthanc and DCMTK's SCPs.

Each launcher starts one Debian-packaged program on a free port with a temporary
configuration and temporary storage, waits until its DICOM port accepts TCP connections,
and on exit always stops the process (and its forked children) and removes the temporary
files. Used by the interop tests, the benchmarks and later scenario families::

    with Orthanc(harness_ae_title="CONFORMANCE", harness_port=11113) as orthanc:
        Target(orthanc.host, orthanc.port, called_ae=orthanc.ae_title)

Facts these launchers rely on (probed on Debian 12; see ../shared/PEERS.md):

- DCMTK and Orthanc leave Nagle's algorithm on unless the environment has
  ``TCP_NODELAY=1``; without it each DIMSE round trip stalls about 40 ms. Every child gets it.
- pynetdicom installs console scripts named like DCMTK's tools (``storescp``, ...), which
  come first on a virtualenv's PATH: DCMTK is always called by full path
  (:func:`dcmtk_tool`).
- Orthanc and DCMTK's servers listen on all interfaces (no bind option). The launchers only
  ever address them on loopback (:attr:`Peer.host`); Orthanc's HTTP server is started with
  ``RemoteAccessAllowed: false``.
- ``dcmqrscp -s`` (single process) crashes after the first association: the default fork
  mode is used, and the whole process group is killed on stop.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

#: Where Debian installs the binaries.
DCMTK_DIR = Path("/usr/bin")
ORTHANC_BINARY = Path("/usr/sbin/Orthanc")
ORTHANC_WORKLIST_PLUGIN = Path("/usr/share/orthanc/plugins/libModalityWorklists.so")
#: The DICOMweb plugin (Debian package orthanc-dicomweb): QIDO-RS, WADO-RS, STOW-RS, WADO-URI.
ORTHANC_DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")

LOOPBACK = "127.0.0.1"

P = TypeVar("P", bound="Peer")


#: Polls (10 ms apart) for a stopped peer's process group to be gone: 2 s at most.
GROUP_EXIT_POLLS = 200


def _group_members(pgid: int) -> list[int]:
    """Processes of process group *pgid* that still run (zombies, which only wait to be
    reaped, do not count); Linux's /proc (elsewhere: none known)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


class PeerError(RuntimeError):
    """A peer program is missing, or did not start / listen in time."""


def dcmtk_tool(name: str) -> str:
    """Full path of the DCMTK command-line tool *name* (``/usr/bin/<name>``).

    Never resolved through ``PATH``: in a virtualenv with pynetdicom, ``storescp`` and
    friends are pynetdicom's own scripts.

    Raises
    ------
    PeerError
        If the tool is not installed.
    """
    path = DCMTK_DIR / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise PeerError(f"DCMTK tool {name!r} not found at {path}: install the Debian package "
                        "dcmtk (apt-get install -y dcmtk)")
    return str(path)


def orthanc_binary() -> str:
    """Full path of the Orthanc server binary; raises :class:`PeerError` if missing."""
    if not (ORTHANC_BINARY.is_file() and os.access(ORTHANC_BINARY, os.X_OK)):
        raise PeerError(f"Orthanc not found at {ORTHANC_BINARY}: install the Debian package "
                        "orthanc (apt-get install -y orthanc)")
    return str(ORTHANC_BINARY)


#: Every port :func:`free_ports` handed out in this process. A port handed out is never
#: handed out again: a test that reserved a port for the harness (and closed the probe
#: socket) must not see a peer started later bind the same port.
_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    """The lowest port the kernel gives outgoing connections (Linux
    ``net.ipv4.ip_local_port_range``; 32768 where it cannot be read)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(count: int) -> list[int]:
    """*count* distinct free TCP ports on loopback, none handed out before in this process.

    The ports are drawn below the kernel's ephemeral range, so no outgoing connection (of the
    harness or a peer) can hold one as its source port when the listener binds it later;
    each is checked by binding it (the sockets held open together, so the ports differ).
    Another process may still take a port between this call and the peer's bind; the
    launchers retry on fresh ports when that happens.
    """
    high = _ephemeral_low()
    low = max(1024, high - 12000)
    socks: list[socket.socket] = []
    ports: list[int] = []
    try:
        for candidate in random.sample(range(low, high), min(high - low, 256)):  # bounded
            if len(ports) == count:
                break
            if candidate in _HANDED_OUT:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            try:
                s.bind((LOOPBACK, candidate))
            except OSError:
                continue
            ports.append(candidate)
        if len(ports) < count:
            raise PeerError(f"could not find {count} free loopback port(s) in {low}-{high - 1}")
        _HANDED_OUT.update(ports)
        return ports
    finally:
        for s in socks:
            s.close()


def free_port() -> int:
    """One free TCP port on loopback (see :func:`free_ports`)."""
    return free_ports(1)[0]


def child_env() -> dict[str, str]:
    """The environment of every peer process: ours plus ``TCP_NODELAY=1``."""
    env = dict(os.environ)
    env["TCP_NODELAY"] = "1"
    return env


class Peer:
    """Base launcher: temp dir, free port(s), start, wait until listening, always stop.

    Subclasses implement :meth:`_command` (write config files into :attr:`workdir`, return
    argv) and may extend :meth:`_listening_ports`.

    Parameters
    ----------
    ae_title
        The AE title the peer answers to.
    ready_timeout
        Seconds to wait for the DICOM port to accept connections before giving up.
    start_attempts
        How many times to retry on fresh ports when the program exits before listening
        (e.g. it lost the race for its port).
    """

    name = "peer"
    #: Signal that stops the program; SIGKILL after ``stop_grace`` seconds in any case.
    stop_signal: int = signal.SIGTERM
    stop_grace: float = 5.0

    def __init__(self, ae_title: str, *, ready_timeout: float = 15.0, start_attempts: int = 3) -> None:
        self.ae_title = ae_title
        self.host = LOOPBACK
        self.port: int = 0
        self.ready_timeout = ready_timeout
        self.start_attempts = start_attempts
        self.workdir: Path = Path()
        self.command: list[str] = []
        self._tmp: str | None = None
        self._proc: subprocess.Popen | None = None
        self._log: BinaryIO | None = None

    # --- to implement -------------------------------------------------------------------

    def _allocate_ports(self) -> None:
        self.port = free_port()

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _listening_ports(self) -> list[int]:
        return [self.port]

    # --- life cycle ---------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The last *lines* lines of the program's combined stdout/stderr."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def start(self: P) -> P:  # noqa: PYI019 - typing.Self needs Python 3.11
        """Start the program and wait until it listens. Stops everything on failure."""
        self._tmp = tempfile.mkdtemp(prefix=f"conformance-{self.name}-")
        self.workdir = Path(self._tmp)
        try:
            for attempt in range(1, self.start_attempts + 1):
                self._allocate_ports()
                self.command = self._command()
                # Open for the program's lifetime; closed by _kill().
                self._log = open(self.log_path, "ab")  # noqa: SIM115
                self._log.write(f"--- attempt {attempt}: {' '.join(self.command)}\n".encode())
                self._log.flush()
                self._proc = subprocess.Popen(
                    self.command, stdin=subprocess.DEVNULL, stdout=self._log,
                    stderr=subprocess.STDOUT, cwd=self.workdir, env=child_env(),
                    start_new_session=True)
                state = self._wait_listening()
                if state == "listening":
                    return self
                self._kill()
                if state == "exited" and attempt < self.start_attempts:
                    continue        # most likely lost the race for the port: new ports
                what = (f"did not accept connections on {self.host}:{self.port} within "
                        f"{self.ready_timeout:g} s" if state == "timeout"
                        else f"exited (status {self._proc.returncode}) before listening, "
                             f"{attempt} attempt(s)")
                raise PeerError(f"{self.name} ({' '.join(self.command)}) {what}. "
                                f"Log tail:\n{self.log_tail()}")
            raise AssertionError("unreachable")  # pragma: no cover
        except BaseException:
            self.stop()
            raise

    def _wait_listening(self) -> str:
        """'listening', 'exited' or 'timeout'; bounded by ``ready_timeout``."""
        assert self._proc is not None
        deadline = time.monotonic() + self.ready_timeout
        pending = list(self._listening_ports())
        for _ in range(int(self.ready_timeout / 0.02) + 10):
            if self._proc.poll() is not None:
                return "exited"
            for port in list(pending):
                try:
                    with socket.create_connection((self.host, port), timeout=0.5):
                        pending.remove(port)
                except OSError:
                    pass
            if not pending:
                # A program that lost its port to another listener exits right away.
                time.sleep(0.02)
                return "listening" if self._proc.poll() is None else "exited"
            if time.monotonic() >= deadline:
                return "timeout"
            time.sleep(0.02)
        return "timeout"

    def _kill(self) -> None:
        """Stop the process group (forked children included) and reap the process; return
        once no process of the group runs any more (bounded)."""
        proc = self._proc
        if proc is None:
            return
        signals = [self.stop_signal] if self.stop_signal != signal.SIGKILL else []
        for sig in signals + [signal.SIGKILL]:
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=self.stop_grace if sig != signal.SIGKILL else 10)
                if sig != signal.SIGKILL:
                    # The leader is gone; forked children of the group may not be.
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                break
            except subprocess.TimeoutExpired:
                continue
        # A SIGKILLed child (dcmqrscp forks one per association) is still tearing down
        # for a moment after the signal: wait for it, so the next peer finds ports and
        # files free.
        for _ in range(GROUP_EXIT_POLLS):
            if not _group_members(proc.pid):
                break
            time.sleep(0.01)
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        """Stop the program and remove the temporary directory. Idempotent."""
        try:
            self._kill()
        finally:
            self._proc = None
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    def __enter__(self: P) -> P:  # noqa: PYI019
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.ae_title}@{self.host}:{self.port} pid={self.pid}>"


class Orthanc(Peer):
    """Orthanc (Debian package ``orthanc``) with a temporary configuration and storage.

    The configuration written (see :meth:`config`): temporary ``StorageDirectory`` and
    ``IndexDirectory``, free ``DicomPort`` and ``HttpPort``, ``RemoteAccessAllowed: false``,
    ``AuthenticationEnabled: false``, ``DicomAet`` = *ae_title*, ``DicomModalities`` holding
    the harness (name ``harness``) when *harness_ae_title* and *harness_port* are given, and
    the Modality Worklists plugin with a temporary ``Worklists.Database`` when *worklists*.
    Everything else is Orthanc's default (e.g. ``DicomCheckCalledAet: false``,
    ``MaximumPduLength`` 16384). *config* entries override or add keys.

    Stopped with SIGKILL: the instance is throwaway (Orthanc takes 3-5 s on SIGTERM).
    """

    name = "orthanc"
    stop_signal = signal.SIGKILL

    def __init__(self, ae_title: str = "ORTHANC", *, harness_ae_title: str | None = None,
                 harness_host: str = LOOPBACK, harness_port: int | None = None,
                 modalities: Mapping[str, Mapping[str, object]] | None = None,
                 worklists: bool = False, config: Mapping[str, object] | None = None,
                 ready_timeout: float = 15.0, dicomweb: bool = False) -> None:
        super().__init__(ae_title, ready_timeout=ready_timeout)
        self.binary = orthanc_binary()
        if dicomweb and not ORTHANC_DICOMWEB_PLUGIN.exists():
            raise PeerError(f"Orthanc's DICOMweb plugin is missing: {ORTHANC_DICOMWEB_PLUGIN} "
                            "(apt-get install -y orthanc-dicomweb)")
        #: Load the DICOMweb plugin: DICOMweb at :attr:`dicomweb_url`, WADO-URI at ``/wado``.
        self.dicomweb = dicomweb
        if worklists and not ORTHANC_WORKLIST_PLUGIN.exists():
            raise PeerError(f"Orthanc's worklist plugin is missing: {ORTHANC_WORKLIST_PLUGIN} "
                            "(Debian package orthanc)")
        self.harness = ((harness_ae_title, harness_host, harness_port)
                        if harness_ae_title and harness_port else None)
        self.modalities = dict(modalities or {})
        self.worklists = worklists
        self.extra_config = dict(config or {})
        self.http_port: int = 0

    @property
    def worklist_dir(self) -> Path:
        """Where ``.wl`` worklist files go (with ``worklists=True``)."""
        return self.workdir / "worklists"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        """The DICOMweb base URL (QIDO-RS, WADO-RS, STOW-RS) with ``dicomweb=True``."""
        return f"{self.http_url}/dicom-web"

    def _allocate_ports(self) -> None:
        self.port, self.http_port = free_ports(2)

    def _listening_ports(self) -> list[int]:
        return [self.port, self.http_port]

    def config(self) -> dict[str, object]:
        """The configuration written to ``orthanc.json``."""
        modalities: dict[str, object] = {}
        if self.harness:
            aet, host, port = self.harness
            modalities["harness"] = {"AET": aet, "Host": host, "Port": port}
        modalities.update(self.modalities)
        cfg: dict[str, object] = {
            "Name": f"conformance-{self.ae_title}",
            "StorageDirectory": str(self.workdir / "storage"),
            "IndexDirectory": str(self.workdir / "index"),
            "TemporaryDirectory": str(self.workdir / "tmp"),
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomAet": self.ae_title,
            "DicomPort": self.port,
            "DicomModalities": modalities,
            "Plugins": [],
        }
        if self.worklists:
            cfg["Plugins"] = [str(ORTHANC_WORKLIST_PLUGIN)]
            cfg["Worklists"] = {"Enable": True, "Database": str(self.worklist_dir)}
        if self.dicomweb:
            cfg["Plugins"] = [*cfg["Plugins"], str(ORTHANC_DICOMWEB_PLUGIN)]  # type: ignore[misc]
            cfg["DicomWeb"] = {"Enable": True, "Root": "/dicom-web/", "EnableWado": True,
                               "WadoRoot": "/wado"}
        cfg.update(self.extra_config)
        return cfg

    def _command(self) -> list[str]:
        for sub in ("storage", "index", "tmp", "worklists"):
            (self.workdir / sub).mkdir(exist_ok=True)
        path = self.workdir / "orthanc.json"
        path.write_text(json.dumps(self.config(), indent=2))
        return [self.binary, str(path)]


class StoreSCP(Peer):
    """DCMTK ``storescp -aet AE -od DIR [+xa] [extra args] PORT`` (Debian package dcmtk).

    Without ``+xa`` storescp accepts only the uncompressed transfer syntaxes; with
    *accept_all_transfer_syntaxes* it accepts every transfer syntax DCMTK knows.
    """

    name = "storescp"

    def __init__(self, ae_title: str = "STORESCP", *, accept_all_transfer_syntaxes: bool = False,
                 extra_args: Sequence[str] = (), ready_timeout: float = 15.0) -> None:
        super().__init__(ae_title, ready_timeout=ready_timeout)
        self.binary = dcmtk_tool("storescp")
        self.accept_all = accept_all_transfer_syntaxes
        self.extra_args = list(extra_args)

    @property
    def output_dir(self) -> Path:
        return self.workdir / "received"

    def _command(self) -> list[str]:
        self.output_dir.mkdir(exist_ok=True)
        return [self.binary, "-aet", self.ae_title, "-od", str(self.output_dir),
                *(["+xa"] if self.accept_all else []), *self.extra_args, str(self.port)]


class TlsStoreSCP(StoreSCP):
    """DCMTK ``storescp`` speaking DICOM over TLS (PS3.15 Annex B; Debian's DCMTK is built with
    OpenSSL): ``storescp -aet AE -od DIR +tls KEY CERT [+cf CA] PROFILE PEER-CERT PORT``.

    *profile*: ``+py`` Non-downgrading BCP 195 (storescp's default), ``+px`` BCP 195, ``+pz``
    Extended BCP 195. *peer_cert*: ``require`` (``-rc``, storescp's default: a client without a
    certificate is refused), ``verify`` (``-vc``: checked if present), ``ignore`` (``-ic``).
    Certificates and keys are PEM files (``-pem``, the default).
    """

    name = "storescp-tls"
    PEER_CERT = {"require": "-rc", "verify": "-vc", "ignore": "-ic"}

    def __init__(self, key: str | Path, cert: str | Path, ca: str | Path | None = None, *,
                 ae_title: str = "STORESCP", profile: str = "+py", peer_cert: str = "require",
                 accept_all_transfer_syntaxes: bool = False, extra_args: Sequence[str] = (),
                 ready_timeout: float = 15.0) -> None:
        tls_args = ["+tls", str(key), str(cert), *(["+cf", str(ca)] if ca else []), profile,
                    self.PEER_CERT[peer_cert]]
        super().__init__(ae_title, accept_all_transfer_syntaxes=accept_all_transfer_syntaxes,
                         extra_args=[*tls_args, *extra_args], ready_timeout=ready_timeout)


def orthanc_tls_config(cert: str | Path, key: str | Path, trusted: str | Path,
                       require_client_cert: bool = True) -> dict[str, object]:
    """Orthanc (1.9.0+) configuration keys for DICOM TLS on its DICOM port, to pass as
    ``Orthanc(config=...)``: ``DicomTlsEnabled``, ``DicomTlsCertificate``,
    ``DicomTlsPrivateKey``, ``DicomTlsTrustedCertificates`` (PEM) and
    ``DicomTlsRemoteCertificateRequired`` (1.9.3+; Orthanc's default is true). Checked against
    the commented list in Debian's /etc/orthanc/orthanc.json (Orthanc 1.10.1)."""
    return {"DicomTlsEnabled": True, "DicomTlsCertificate": str(cert), "DicomTlsPrivateKey": str(key),
            "DicomTlsTrustedCertificates": str(trusted), "DicomTlsRemoteCertificateRequired": require_client_cert}


class DcmQrSCP(Peer):
    """DCMTK ``dcmqrscp -c CONFIG PORT`` in its default fork mode (``-s`` crashes).

    The configuration (:meth:`config_text`) sets ``NetworkTCPPort``, ``MaxPDUSize``,
    ``MaxAssociations``, a ``HostTable`` with the harness as ``harness`` (a C-MOVE
    destination) when *harness_ae_title* and *harness_port* are given, and one ``AETable``
    line ``AE STORAGE RW (200, 1024mb) ANY`` (read/write, any calling AE title).
    """

    name = "dcmqrscp"

    def __init__(self, ae_title: str = "DCMQRSCP", *, harness_ae_title: str | None = None,
                 harness_host: str = LOOPBACK, harness_port: int | None = None,
                 max_pdu: int = 16384, max_associations: int = 16,
                 extra_args: Sequence[str] = (), ready_timeout: float = 15.0) -> None:
        super().__init__(ae_title, ready_timeout=ready_timeout)
        self.binary = dcmtk_tool("dcmqrscp")
        self.harness = ((harness_ae_title, harness_host, harness_port)
                        if harness_ae_title and harness_port else None)
        self.max_pdu = max_pdu
        self.max_associations = max_associations
        self.extra_args = list(extra_args)

    @property
    def storage_dir(self) -> Path:
        return self.workdir / "storage"

    @property
    def config_path(self) -> Path:
        return self.workdir / "dcmqrscp.cfg"

    def config_text(self) -> str:
        hosts = ""
        if self.harness:
            aet, host, port = self.harness
            hosts = f"harness = ({aet}, {host}, {port})\n"
        return (f"NetworkTCPPort  = {self.port}\n"
                f"MaxPDUSize      = {self.max_pdu}\n"
                f"MaxAssociations = {self.max_associations}\n\n"
                f"HostTable BEGIN\n{hosts}HostTable END\n\n"
                "VendorTable BEGIN\nVendorTable END\n\n"
                "AETable BEGIN\n"
                f"{self.ae_title} {self.storage_dir} RW (200, 1024mb) ANY\n"
                "AETable END\n")

    def _command(self) -> list[str]:
        self.storage_dir.mkdir(exist_ok=True)
        self.config_path.write_text(self.config_text())
        return [self.binary, "-c", str(self.config_path), *self.extra_args, str(self.port)]


class WlmSCPFS(Peer):
    """DCMTK ``wlmscpfs -dfp ROOT PORT``: worklist files in ``ROOT/<AE title>/*.wl``.

    The called AE title must match the folder name (else A-ASSOCIATE-RJ); the folder needs a
    ``lockfile``, created here. Put ``.wl`` files (made with ``dump2dcm``) in
    :attr:`worklist_dir`.
    """

    name = "wlmscpfs"

    def __init__(self, ae_title: str = "WLMSCPFS", *, extra_args: Sequence[str] = (),
                 ready_timeout: float = 15.0) -> None:
        super().__init__(ae_title, ready_timeout=ready_timeout)
        self.binary = dcmtk_tool("wlmscpfs")
        self.extra_args = list(extra_args)

    @property
    def root(self) -> Path:
        return self.workdir / "worklists"

    @property
    def worklist_dir(self) -> Path:
        return self.root / self.ae_title

    def _command(self) -> list[str]:
        self.worklist_dir.mkdir(parents=True, exist_ok=True)
        (self.worklist_dir / "lockfile").touch()
        return [self.binary, "-dfp", str(self.root), *self.extra_args, str(self.port)]


# --- Orthanc set-ups for the verdict rules (issue 11) ------------------------------------

def restricted_orthanc(harness_ae_title: str, harness_port: int, *, ae_title: str = "ORTHANC",
                       forbid: Sequence[str] = ("AllowGet", "AllowStorageCommitment"),
                       **kwargs: object) -> Orthanc:
    """An Orthanc whose ``DicomModalities`` entry for the harness forbids services by
    Orthanc 1.10's per-modality permissions (object form of the entry, e.g. ``"AllowGet":
    false``; see /etc/orthanc/orthanc.json). The device still accepts the presentation
    contexts of those services and answers each request with an A-ABORT."""
    entry: dict[str, object] = {"AET": harness_ae_title, "Host": LOOPBACK, "Port": harness_port}
    entry.update({key: False for key in forbid})
    return Orthanc(ae_title, modalities={"harness": entry}, **kwargs)  # type: ignore[arg-type]


def orthanc_knowing_harness_as(harness_ae_title: str, harness_port: int, *,
                               ae_title: str = "ORTHANC", **kwargs: object) -> Orthanc:
    """An Orthanc whose ``DicomModalities`` entry for the harness is *harness_ae_title* at
    *harness_port*: a site set-up mistake when the harness calls under another AE title or
    listens on another port. Queries and retrieves from an AE title not in
    ``DicomModalities`` are answered with an A-ABORT (``DicomAlwaysAllowFind/Get/Move``
    default false), while C-ECHO and C-STORE work for any AE title."""
    return Orthanc(ae_title, harness_ae_title=harness_ae_title, harness_port=harness_port,
                   **kwargs)  # type: ignore[arg-type]
