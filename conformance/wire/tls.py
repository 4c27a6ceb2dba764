"""TLS for the wire stack, both roles (PS3.15 Annex B, Secure Transport Connection Profiles;
PS3.8 9.1.1: DICOM over TLS is the same protocol on a TLS connection, usually its own port).

What is here:

- the profiles of PS3.15 Annex B as data (``tls_profiles.json``: protocol versions allowed and
  forbidden, cipher suites as each profile names them, whether other suites may be used),
  read by :func:`profiles` / :func:`profile`;
- :class:`TlsOptions` (CA, optional client certificate and key, host name check) and the
  contexts made from them: :func:`client_context` for the harness as requestor,
  :func:`server_context` for the harness as acceptor (``listen``, the reference device);
- :func:`requestor_wrap` / :func:`acceptor_wrap`: the ``wrap=`` hooks of
  :mod:`conformance.wire.requestor` and :mod:`conformance.wire.acceptor`. The requestor's
  handshake is bounded by the connect timeout; the acceptor's is done lazily by the
  association's first read, so it is bounded by the ARTIM deadline and never blocks the accept
  thread;
- :func:`handshake`: one bare TLS handshake (no DICOM) as data (:class:`Handshake`): version,
  cipher suite, certificate, or how it failed (refused by the device, certificate not trusted,
  host name mismatch, the harness's own OpenSSL could not offer what was asked, no answer).

Not covered: certificate revocation (CRL/OCSP), DTLS, renegotiation, session resumption, and
cipher suites this machine's OpenSSL does not build (then the check says so, never passes).
"""

from __future__ import annotations

import functools
import json
import socket
import ssl
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Handshake", "Profile", "TlsOptions", "acceptor_wrap", "client_context", "handshake",
           "iana_name", "profile", "profiles", "requestor_wrap", "server_context"]

SocketWrapper = Callable[[socket.socket], socket.socket]

_DATA = Path(__file__).with_name("tls_profiles.json")

#: Protocol version names (as ``ssl.SSLSocket.version()`` gives them) -> ``ssl.TLSVersion``.
VERSIONS: dict[str, ssl.TLSVersion] = {
    "TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3,
} if hasattr(ssl, "TLSVersion") else {}


@dataclass(frozen=True)
class Profile:
    """One Secure Transport Connection Profile of PS3.15 Annex B."""

    key: str
    name: str
    section: str
    versions: tuple[str, ...]
    #: version -> "shall not" (a failure when negotiated) or "should not" (a warning).
    forbidden_versions: dict[str, str] = field(default_factory=dict)
    cipher_suites: tuple[str, ...] = ()
    #: "only": no other cipher suite may be negotiated; "recommended": others of similar or
    #: greater strength may be.
    rule: str = "recommended"

    def cite(self) -> str:
        return f"{self.section} ({self.name})"


@functools.lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads(_DATA.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def profiles() -> dict[str, Profile]:
    """Every profile of the data file, by key (``bcp195``, ``bcp195-non-downgrading``, ...)."""
    return {key: Profile(key, p["name"], p["section"], tuple(p["versions"]), dict(p["forbidden_versions"]),
                         tuple(p["cipher_suites"]), p["rule"])
            for key, p in _data()["profiles"].items()}


def profile(key: str) -> Profile:
    """The profile *key*; ``KeyError`` when unknown (the statement schema lists the keys)."""
    return profiles()[key]


def openssl_name(iana: str) -> str | None:
    """OpenSSL's name of the IANA cipher suite *iana*, when the data file knows it."""
    return _data()["openssl_names"].get(iana)  # type: ignore[no-any-return]


def iana_name(openssl: str) -> str:
    """The IANA name of OpenSSL's cipher suite name *openssl* (itself when unknown)."""
    for iana, name in _data()["openssl_names"].items():
        if name == openssl:
            return iana  # type: ignore[no-any-return]
    return openssl


@dataclass(frozen=True)
class TlsOptions:
    """What the harness needs to speak TLS to a device (or, as acceptor, to be spoken to).

    ``ca_file``: the CA certificates (PEM) the peer's certificate must chain to (``None``: the
    system's). ``cert_file``/``key_file``: the harness's own certificate and key (the client
    certificate as requestor; required as acceptor). ``check_hostname``: the device's
    certificate must name the host connected to (RFC 6125). ``server_name``: the name to check
    instead of the host (e.g. when connecting to 127.0.0.1 a device certified as ``pacs.local``).
    ``require_client_cert``: as acceptor, refuse a peer without a certificate.
    """

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    check_hostname: bool = True
    server_name: str | None = None
    require_client_cert: bool = False


def client_context(opts: TlsOptions, *, versions: tuple[str, str] | None = None,
                   ciphers: str | None = None, with_cert: bool = True, legacy: bool = False) -> ssl.SSLContext:
    """A context for the harness as TLS client (DICOM requestor).

    *versions*: (lowest, highest) protocol version offered; *ciphers*: an OpenSSL cipher list
    for TLS 1.2 and below; *with_cert*: present the client certificate when one is configured;
    *legacy*: OpenSSL security level 0, so this machine can offer TLS 1.0/1.1 and old suites at
    all (used only to check that the device refuses them). Raises ``OSError``/``ssl.SSLError``
    for unreadable certificate files (the CLI reports them as input errors).
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = opts.check_hostname
    ctx.verify_mode = ssl.CERT_REQUIRED
    if opts.ca_file:
        ctx.load_verify_locations(cafile=opts.ca_file)
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if with_cert and opts.cert_file:
        ctx.load_cert_chain(opts.cert_file, opts.key_file)
    if legacy:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    if ciphers is not None:
        ctx.set_ciphers(ciphers + (":@SECLEVEL=0" if legacy else ""))
    if versions is not None:
        with warnings.catch_warnings():          # TLSv1/TLSv1_1 are deprecated names
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version, ctx.maximum_version = VERSIONS[versions[0]], VERSIONS[versions[1]]
    return ctx


def server_context(opts: TlsOptions) -> ssl.SSLContext:
    """A context for the harness as TLS server (DICOM acceptor): its certificate and key
    (required), the CA for client certificates, and whether one is required."""
    if not opts.cert_file:
        raise ValueError("the harness as TLS acceptor needs a certificate and key (--tls-cert, --tls-key)")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(opts.cert_file, opts.key_file)
    if opts.ca_file:
        ctx.load_verify_locations(cafile=opts.ca_file)
        ctx.verify_mode = ssl.CERT_REQUIRED if opts.require_client_cert else ssl.CERT_OPTIONAL
    elif opts.require_client_cert:
        raise ValueError("requiring a client certificate needs the CA that signs them (--tls-ca)")
    return ctx


def requestor_wrap(ctx: ssl.SSLContext, server_name: str | None) -> SocketWrapper:
    """The requestor's ``wrap=`` hook: the TLS handshake on the connected socket, bounded by
    the socket's timeout (the connect timeout). A failed handshake raises ``ssl.SSLError`` or
    ``OSError``, which the requestor reports as a connection that failed."""
    def wrap(sock: socket.socket) -> socket.socket:
        try:
            return ctx.wrap_socket(sock, server_hostname=server_name)
        except BaseException:
            sock.close()
            raise
    return wrap


def acceptor_wrap(ctx: ssl.SSLContext) -> SocketWrapper:
    """The acceptor's ``wrap=`` hook: no handshake on the accept thread; OpenSSL does it on the
    association's first read, within the association's ARTIM deadline."""
    def wrap(sock: socket.socket) -> socket.socket:
        return ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
    return wrap


class Failure:
    """How a handshake failed (``Handshake.failure``)."""

    NONE = ""
    CONNECT = "connect"              # no TCP connection at all
    REFUSED = "refused"              # the device answered with an alert or closed: it refused
    UNTRUSTED = "untrusted"          # the device's certificate does not chain to the CA given
    HOSTNAME = "hostname"            # the certificate does not name the host
    EXPIRED = "expired"              # the certificate is out of its validity period
    HARNESS = "harness"              # this machine's OpenSSL could not offer what was asked
    SILENT = "silent"                # no answer within the timeout
    NOT_TLS = "not-tls"              # the device answered, but not with TLS


@dataclass
class Handshake:
    """The result of one TLS handshake, as data."""

    ok: bool
    version: str = ""
    cipher: str = ""                 # IANA name
    peer_certificate: dict[str, Any] = field(default_factory=dict)
    failure: str = Failure.NONE
    detail: str = ""
    ms: float = 0.0

    def describe(self) -> str:
        if self.ok:
            return f"{self.version} with {self.cipher}"
        return f"{self.failure}: {self.detail}"


def classify(exc: BaseException) -> tuple[str, str]:
    """(failure kind, detail) of a handshake exception; decided on ``ssl`` error codes and
    verify codes, never on message text."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", 0)
        msg = getattr(exc, "verify_message", "") or str(exc)
        if code == 62:                                    # X509_V_ERR_HOSTNAME_MISMATCH
            return Failure.HOSTNAME, msg
        if code in (9, 10):                               # not yet valid / expired
            return Failure.EXPIRED, msg
        return Failure.UNTRUSTED, msg
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason in ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE", "NO_CIPHER_MATCH",
                      "UNSUPPORTED_PROTOCOL", "CA_MD_TOO_WEAK", "EE_KEY_TOO_SMALL"):
            if reason == "UNSUPPORTED_PROTOCOL":
                # the device answered with a version the harness did not offer: it refused ours
                return Failure.REFUSED, f"the device answered with a protocol version not offered ({reason})"
            return Failure.HARNESS, f"this machine's OpenSSL cannot offer it ({reason})"
        if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
            return Failure.NOT_TLS, f"the answer is not TLS ({reason})"
        return Failure.REFUSED, f"TLS alert or error from the device: {reason or exc}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return Failure.SILENT, "no answer within the timeout"
    if isinstance(exc, ConnectionRefusedError):
        return Failure.CONNECT, f"connection refused ({exc})"
    if isinstance(exc, ConnectionError | EOFError):
        return Failure.REFUSED, f"the device closed the connection during the handshake ({exc.__class__.__name__})"
    return Failure.CONNECT, str(exc)


def handshake(host: str, port: int, ctx: ssl.SSLContext, server_name: str | None,
              timeout: float = 10.0) -> Handshake:
    """One TLS handshake with the device (no DICOM), within *timeout* seconds; the socket is
    closed afterwards. With TLS 1.3 a server's refusal of the client certificate can come only
    after the handshake: :func:`handshake` then reads once, briefly, to see it."""
    start = time.monotonic()
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        kind, detail = classify(exc)
        return Handshake(False, failure=Failure.CONNECT if kind != Failure.SILENT else kind, detail=detail)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        tls = ctx.wrap_socket(raw, server_hostname=server_name)
    except (OSError, ValueError) as exc:
        raw.close()
        kind, detail = classify(exc)
        return Handshake(False, failure=kind, detail=detail, ms=(time.monotonic() - start) * 1000)
    try:
        ms = (time.monotonic() - start) * 1000
        cipher = tls.cipher()
        return Handshake(True, tls.version() or "", iana_name(cipher[0]) if cipher else "",
                         tls.getpeercert() or {}, ms=ms)
    finally:
        try:
            tls.close()
        except OSError:
            pass
