"""The tls family: DICOM over TLS as the statement's ``secure_transport`` section declares it
(PS3.15 Annex B, Secure Transport Connection Profiles; PS3.8 9.1.1).

Steps (ids ``tls/...``), planned when the statement has a ``secure_transport`` section and run
with the harness's TLS options (``--tls``, ``--tls-ca``, ``--tls-cert``, ``--tls-key``, kept in
``RunContext.shared["tls.options"]``; without them each step says "not tested" and why):

- ``tls/handshake``: a handshake on every declared TLS port, offering what the declared
  profiles allow; the version and cipher suite negotiated must be allowed by a declared profile.
- ``tls/protocol-versions``: TLS 1.2 offered alone must be accepted (B.9-B.12: "shall support
  TLS 1.2"); each version a declared profile forbids (TLS 1.0/1.1: "shall not" in B.10-B.12, a
  failure; "should not" in B.9 through RFC 7525 3.1.1, a warning) offered alone must be
  refused. When this machine's OpenSSL cannot even offer the version, the step says the harness
  could not test it, never that it passed.
- ``tls/cipher-suites``: the profile's own suites offered alone (TLS 1.2) must be accepted; for
  B.11, whose list DCMTK treats as exclusive, a suite outside it that is accepted is a warning
  (the text says the listed suites "should be supported", not that others shall not be used); under the BCP 195 profiles, suites RFC 7525 4.1 forbids (NULL, anonymous, export,
  RC4) offered alone must be refused.
- ``tls/client-certificate``: a connection without a client certificate is refused when the
  statement says one is required (checked with an A-ASSOCIATE-RQ after the handshake: with
  TLS 1.3 the refusal comes after it), accepted when it says none is required.
- ``tls/certificate``: the device's certificate chains to the CA given, is within its validity
  period, and names the host (the statement's ``host_name``, else the host connected to).
- ``tls/plain-port``: the plain port (``network.port``) answers plain DICOM or not, as declared;
  a TLS port never accepts a plain A-ASSOCIATE-RQ.
- ``tls/echo/<AE>``: a C-ECHO over TLS (with the client certificate) to each AE title the
  statement says is reachable over TLS (PS3.7 9.1.5).

Not covered: revocation (CRL/OCSP), DHE/ECDHE key lengths, TLS 1.3 suite preferences, session
resumption, renegotiation, the harness's own receiving port (C-MOVE destination, commitment
reports) over TLS.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from conformance.engine.model import Outcome, RunContext, Step, StepResult
from conformance.families.registry import planner
from conformance.findings import Finding, Severity
from conformance.standard.uids import VERIFICATION
from conformance.statement.model import Statement
from conformance.wire import tls
from conformance.wire.contexts import ProposedContext
from conformance.wire.outcome import Establishment
from conformance.wire.requestor import open_association
from conformance.wire.target import Target
from conformance.wire.tls import Failure, Handshake, Profile, TlsOptions

__all__ = ["FORBIDDEN_BY_BCP195", "associate", "plan_tls"]

OPTIONS_KEY = "tls.options"
PLAIN_PORT_KEY = "tls.plain_port"
_ECHO = ProposedContext(VERIFICATION, ("1.2.840.10008.1.2",))
#: Suites RFC 7525 4.1 (BCP 195) forbids: NULL encryption, anonymous, export-grade, RC4.
FORBIDDEN_BY_BCP195 = "eNULL:aNULL:EXPORT:RC4"
_VERSION_ORDER = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


def _declared(ctx: RunContext) -> list[Profile]:
    st = ctx.statement.secure_transport
    assert st is not None
    return [tls.profile(k) for k in st.profiles]


def _cite(profiles: list[Profile]) -> str:
    return "; ".join(p.cite() for p in profiles)


def _options(ctx: RunContext) -> TlsOptions | None:
    opts = ctx.shared.get(OPTIONS_KEY)
    return opts if isinstance(opts, TlsOptions) else None


def _ports(ctx: RunContext) -> list[int]:
    """The TLS ports: the run's port when the run speaks TLS (``--tls --port``), else the
    statement's."""
    st = ctx.statement.secure_transport
    assert st is not None
    if ctx.target.wrap is not None:
        return [ctx.target.port] + [p for p in st.ports[1:] if p != ctx.target.port]
    return list(st.ports)


def _server_name(ctx: RunContext) -> str:
    """The name the device's certificate must carry: the statement's ``host_name`` (a claim),
    else ``--tls-server-name``, else the host connected to."""
    st = ctx.statement.secure_transport
    opts = _options(ctx)
    return ((st.host_name if st is not None else None) or (opts.server_name if opts is not None else None)
            or ctx.target.host)


def _lenient(opts: TlsOptions) -> TlsOptions:
    """The options without certificate verification: the protocol checks are not about the
    certificate (``tls/certificate`` is)."""
    return replace(opts, check_hostname=False)


def _context(opts: TlsOptions, **kw: Any) -> ssl.SSLContext:
    ctx = tls.client_context(_lenient(opts), **kw)
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _hs(ctx: RunContext, port: int, context: ssl.SSLContext) -> Handshake:
    return tls.handshake(ctx.target.host, port, context, _server_name(ctx), ctx.target.timeouts.connect)


def _finding(code: str, severity: Severity, message: str, reference: str, **details: Any) -> Finding:
    return Finding(f"tls.{code}", severity, message, reference, details=details)


def _needs_options(fn: Callable[[RunContext, TlsOptions], StepResult]) -> Callable[[RunContext], StepResult]:
    def action(ctx: RunContext) -> StepResult:
        opts = _options(ctx)
        if opts is None:
            return StepResult.skipped("not tested: the run was not given TLS options (run with --tls, --tls-ca, "
                                      "and --tls-cert/--tls-key when the device requires a client certificate)")
        try:
            return fn(ctx, opts)
        except (OSError, ValueError) as exc:          # unreadable certificate files and the like
            return StepResult(outcome=Outcome.SETUP, message=f"the harness's TLS set-up failed: {exc}; "
                              "check the files given with --tls-ca, --tls-cert and --tls-key")
    return action


def _could_not(hs: Handshake, what: str) -> StepResult | None:
    """The result when a handshake tells nothing about the device (no connection, silence)."""
    if hs.failure in (Failure.CONNECT, Failure.SILENT):
        return StepResult.error(f"could not test {what}: {hs.detail}", unreachable=hs.failure == Failure.CONNECT)
    return None


# --- steps --------------------------------------------------------------------------------------

def _handshake(ctx: RunContext, opts: TlsOptions) -> StepResult:
    declared = _declared(ctx)
    allowed = {v for p in declared for v in p.versions}
    low = min(allowed, key=_VERSION_ORDER.index)
    high = max(allowed, key=_VERSION_ORDER.index)
    findings: list[Finding] = []
    observations: list[dict[str, Any]] = []
    for port in _ports(ctx):
        hs = _hs(ctx, port, _context(opts, versions=(low, high), legacy=low in ("TLSv1", "TLSv1.1")))
        observations.append({"port": port, "handshake": hs.describe(), "ms": round(hs.ms, 1)})
        bad = _could_not(hs, f"the TLS handshake on port {port}")
        if bad is not None:
            return bad
        if hs.failure == Failure.HARNESS:
            return StepResult.error(f"could not test the handshake on port {port}: {hs.detail}")
        if not hs.ok:
            findings.append(_finding("handshake-refused", Severity.ERROR,
                                     f"port {port}: no TLS handshake with what {_cite(declared)} allows "
                                     f"({low} to {high}): {hs.describe()}", _cite(declared), port=port))
            continue
        if hs.version not in allowed:
            findings.append(_finding("version-not-in-profile", Severity.ERROR,
                                     f"port {port}: negotiated {hs.version}, which no declared profile allows",
                                     _cite(declared), port=port, version=hs.version))
        findings += _judge_cipher(hs, declared, port)
    return StepResult(findings=findings, observations=observations,
                      message="; ".join(f"port {o['port']}: {o['handshake']}" for o in observations))


def _judge_cipher(hs: Handshake, declared: list[Profile], port: int) -> list[Finding]:
    """The negotiated suite against the declared profiles: in a list -> fine; outside every list
    -> an error when every declared profile allows no other suite, else a note."""
    if hs.version == "TLSv1.3" or any(hs.cipher in p.cipher_suites for p in declared):
        return []
    if all(p.rule == "only" for p in declared):
        # A warning: the profile text lists the suites as "should be supported"; reading the list
        # as exclusive follows DCMTK's implementation of the profile, not a "shall not".
        return [_finding("cipher-not-in-profile", Severity.WARNING,
                         f"port {port}: negotiated {hs.cipher}, which {_cite(declared)} does not allow",
                         _cite(declared), port=port, cipher=hs.cipher)]
    return [_finding("cipher-outside-list", Severity.INFO,
                     f"port {port}: negotiated {hs.cipher}, not one the profile names (other suites of "
                     "similar or greater strength may be negotiated)", _cite(declared), port=port, cipher=hs.cipher)]


def _versions(ctx: RunContext, opts: TlsOptions) -> StepResult:
    declared = _declared(ctx)
    port = _ports(ctx)[0]
    findings: list[Finding] = []
    notes: list[str] = []
    untested: list[str] = []
    requiring = [p for p in declared if p.key.startswith("bcp195")]     # B.9-B.12: "shall support TLS 1.2"
    if requiring:
        hs = _hs(ctx, port, _context(opts, versions=("TLSv1.2", "TLSv1.2")))
        bad = _could_not(hs, "TLS 1.2")
        if bad is not None:
            return bad
        notes.append(f"TLSv1.2 alone: {hs.describe()}")
        if not hs.ok and hs.failure != Failure.HARNESS:
            findings.append(_finding("tls12-refused", Severity.ERROR,
                                     f"TLS 1.2 offered alone was refused ({hs.detail}); the profile requires it",
                                     _cite(requiring)))
        elif not hs.ok:
            untested.append(f"TLSv1.2 ({hs.detail})")
    forbidden: dict[str, tuple[str, list[Profile]]] = {}
    for p in declared:
        for version, word in p.forbidden_versions.items():
            prev = forbidden.get(version)
            strongest = "shall not" if word == "shall not" or (prev and prev[0] == "shall not") else "should not"
            forbidden[version] = (strongest, (prev[1] if prev else []) + [p])
    # A version one declared profile allows is not held against the device by another.
    allowed = {v for p in declared for v in p.versions}
    for version, (word, by) in sorted(forbidden.items()):
        if version in allowed:
            continue
        hs = _hs(ctx, port, _context(opts, versions=(version, version), legacy=True))
        bad = _could_not(hs, version)
        if bad is not None:
            return bad
        notes.append(f"{version} alone: {hs.describe()}")
        if hs.failure == Failure.HARNESS:
            untested.append(f"{version} (this machine's OpenSSL could not offer it: {hs.detail})")
        elif hs.ok:
            findings.append(_finding(
                "forbidden-version-accepted", Severity.ERROR if word == "shall not" else Severity.WARNING,
                f"{version} offered alone was accepted; {_cite(by)}: implementations {word} negotiate it",
                _cite(by) + ("; RFC 7525 3.1.1" if word == "should not" else ""), version=version))
    message = "; ".join(notes)
    if untested and not findings:
        return StepResult(findings=findings, outcome=Outcome.ERROR,
                          message=f"could not test: {'; '.join(untested)}. {message}")
    if untested:
        message += f"; not tested: {'; '.join(untested)}"
    return StepResult(findings=findings, message=message)


def _ciphers(ctx: RunContext, opts: TlsOptions) -> StepResult:
    declared = _declared(ctx)
    port = _ports(ctx)[0]
    findings: list[Finding] = []
    notes: list[str] = []
    untested: list[str] = []
    for p in declared:
        names = [tls.openssl_name(s) for s in p.cipher_suites]
        suites = [n for n in names if n and not n.startswith("TLS_")]      # TLS 1.2 and below
        if not suites:
            continue
        legacy = p.key in ("basic-tls", "aes-tls")
        top = "TLSv1.2"
        low = "TLSv1" if legacy else "TLSv1.2"
        hs = _hs(ctx, port, _context(opts, versions=(low, top), ciphers=":".join(suites), legacy=legacy))
        bad = _could_not(hs, f"the {p.section} cipher suites")
        if bad is not None:
            return bad
        notes.append(f"{p.section} suites alone: {hs.describe()}")
        if hs.failure == Failure.HARNESS:
            untested.append(f"{p.section} suites ({hs.detail})")
        elif not hs.ok:
            findings.append(_finding("profile-suites-refused", Severity.ERROR,
                                     f"the cipher suites of {p.cite()} offered alone were refused ({hs.detail})",
                                     p.cite(), suites=list(p.cipher_suites)))
        elif hs.cipher not in p.cipher_suites:
            findings.append(_finding("cipher-not-offered", Severity.ERROR,
                                     f"negotiated {hs.cipher}, which the harness did not offer", p.cite()))
        if p.rule == "only":
            listed = {n for n in names if n}
            others = ":".join(f"!{n}" for n in sorted(listed))
            hs = _hs(ctx, port, _context(opts, versions=("TLSv1.2", "TLSv1.2"), ciphers=f"ALL:{others}", legacy=True))
            notes.append(f"suites outside {p.section}: {hs.describe()}")
            if hs.failure == Failure.HARNESS:
                untested.append(f"suites outside {p.section} ({hs.detail})")
            if hs.ok:
                findings.append(_finding("suite-outside-profile-accepted", Severity.WARNING,
                                         f"{hs.cipher} was negotiated though {p.cite()} lists only "
                                         f"{', '.join(p.cipher_suites)} (read as exclusive, as DCMTK implements "
                                         "the profile; the text says these 'should be supported')",
                                         p.cite(), cipher=hs.cipher))
    if any(p.key.startswith("bcp195") for p in declared):
        hs = _hs(ctx, port, _context(opts, versions=("TLSv1.2", "TLSv1.2"), ciphers=FORBIDDEN_BY_BCP195, legacy=True))
        notes.append(f"NULL/anonymous/export/RC4 suites alone: {hs.describe()}")
        if hs.failure == Failure.HARNESS:
            untested.append(f"NULL/anonymous/export/RC4 suites ({hs.detail})")
        elif hs.ok:
            bcp = [p for p in declared if p.key.startswith("bcp195")]
            findings.append(_finding("weak-suite-accepted", Severity.ERROR,
                                     f"{hs.cipher} was negotiated; BCP 195 (RFC 7525 4.1) forbids NULL, anonymous, "
                                     "export-grade and RC4 cipher suites", _cite(bcp) + "; RFC 7525 4.1", cipher=hs.cipher))
    message = "; ".join(notes) + (f"; not tested: {'; '.join(untested)}" if untested else "")
    if untested and not findings and len(untested) == len(notes):      # nothing answered for the device
        return StepResult(findings=findings, outcome=Outcome.ERROR, message=f"could not test: {message}")
    return StepResult(findings=findings, message=message)


def _open(target: Target, port: int, ae: str, wrap: tls.SocketWrapper | None
          ) -> tuple[Any, Any, BaseException | None]:
    """Request a Verification association on *port* (plain when *wrap* is None): the outcome,
    the association when accepted, and the TLS handshake's exception when that failed (the
    requestor reports a failed handshake as a failed connection; this tells them apart)."""
    to = Target(target.host, port, ae, target.calling_ae, target.timeouts)
    seen: list[BaseException] = []

    def recording(sock: socket.socket) -> socket.socket:
        assert wrap is not None
        try:
            return wrap(sock)
        except (OSError, ValueError) as exc:
            seen.append(exc)
            raise

    out, assoc = open_association(to, [_ECHO], wrap=recording if wrap is not None else None)
    return out, assoc, (seen[0] if seen else None)


def associate(target: Target, port: int, wrap: tls.SocketWrapper | None) -> tuple[str, str]:
    """A Verification association to *target*'s called AE on *port*, released at once:
    ("accepted", ""), or how it did not come about ("tls-refused", "closed", "rejected",
    "no-answer", "connection-refused", ...) and a description."""
    out, assoc, exc = _open(target, port, target.called_ae, wrap)
    if assoc is not None:
        assoc.release()
        return "accepted", ""
    if exc is not None:
        kind, detail = tls.classify(exc)
        if kind == Failure.SILENT:
            return "no-answer", detail
        return ("tls-refused" if kind != Failure.CONNECT else "connection-refused"), detail
    if out.establishment is Establishment.ACCEPTED:       # accepted, but no context: aborted by us
        return "accepted", "no presentation context accepted"
    if out.end is None:
        return out.establishment.value, ""
    return out.end.kind.value, out.end.describe()


def _associate(ctx: RunContext, port: int, wrap: tls.SocketWrapper | None) -> tuple[str, str]:
    return associate(ctx.target, port, wrap)


def _client_certificate(ctx: RunContext, opts: TlsOptions) -> StepResult:
    st = ctx.statement.secure_transport
    assert st is not None
    port = _ports(ctx)[0]
    ref = f"{_cite(_declared(ctx))}; statement secure_transport.client_certificate_required"
    if opts.cert_file:
        # The baseline: with the harness's certificate the association must come about, or a
        # refusal without one says nothing about the certificate policy (e.g. an unknown AE title).
        base, base_detail = _associate(ctx, port, tls.requestor_wrap(_context(opts), _server_name(ctx)))
        if base != "accepted":
            return StepResult.error(f"could not test: even with the harness's client certificate the association "
                                    f"was not accepted ({base}{': ' + base_detail if base_detail else ''})")
    how, detail = _associate(ctx, port, tls.requestor_wrap(_context(opts, with_cert=False), _server_name(ctx)))
    seen = f"A-ASSOCIATE-RQ over TLS without a client certificate: {how}" + (f" ({detail})" if detail else "")
    if how == "no-answer":
        return StepResult.error(f"could not test: {seen}")
    if how == "connection-refused":
        return StepResult.error(f"could not test: {seen}", unreachable=True)
    accepted = how == "accepted"
    if not accepted and not opts.cert_file and how not in ("tls-refused", "closed", "aborted"):
        return StepResult.error(f"could not test: {seen}; give --tls-cert/--tls-key so the harness can tell "
                                "a refusal for the missing certificate from another")
    if st.client_certificate_required and accepted:
        return StepResult(findings=[_finding("client-cert-not-required", Severity.ERROR,
                                             "the device accepted an association over TLS from a client without a "
                                             "certificate, though the statement says one is required", ref)], message=seen)
    if not st.client_certificate_required and not accepted:
        return StepResult(findings=[_finding("client-cert-required", Severity.ERROR,
                                             "the device refused a TLS client without a certificate, though the "
                                             "statement says none is required", ref)], message=seen)
    return StepResult(message=seen)


def _certificate(ctx: RunContext, opts: TlsOptions) -> StepResult:
    st = ctx.statement.secure_transport
    assert st is not None
    port = _ports(ctx)[0]
    name = _server_name(ctx)
    ref = "PS3.15 B.9 (BCP 195, RFC 7525 6.1: certificate validation per RFC 5280/RFC 6125)"
    strict = tls.client_context(replace(opts, check_hostname=False))
    hs = _hs(ctx, port, strict)
    bad = _could_not(hs, "the device's certificate")
    if bad is not None:
        return bad
    if not hs.ok:
        if hs.failure == Failure.EXPIRED:
            return StepResult(findings=[_finding("certificate-expired", Severity.ERROR,
                                                 f"the device's certificate is not valid now: {hs.detail}", ref)],
                              message=hs.describe())
        if hs.failure == Failure.UNTRUSTED:
            return StepResult(outcome=Outcome.SETUP, message=_untrusted(opts, hs.detail))
        return StepResult(findings=[_finding("certificate-handshake", Severity.ERROR,
                                             f"the handshake failed while checking the certificate: {hs.describe()}",
                                             ref)], message=hs.describe())
    findings: list[Finding] = []
    named = tls.client_context(replace(opts, check_hostname=True))
    hn = _hs(ctx, port, named)
    if not hn.ok and hn.failure == Failure.HOSTNAME:
        if st.host_name:
            findings.append(_finding("certificate-host-name", Severity.ERROR,
                                     f"the device's certificate does not name {name!r}, the host name the statement "
                                     f"declares: {hn.detail}", ref + "; statement secure_transport.host_name"))
        else:
            findings.append(_finding("certificate-host-name", Severity.WARNING,
                                     f"the device's certificate does not name the host connected to ({name!r}): "
                                     f"{hn.detail}. Connect by the name in the certificate or declare "
                                     "secure_transport.host_name", ref))
    after = hs.peer_certificate.get("notAfter", "")
    return StepResult(findings=findings, message=f"chain to {opts.ca_file or 'system CAs'} verified; "
                      f"valid until {after}; host name {name!r}: {'ok' if hn.ok else hn.detail}",
                      observations=[{"certificate": {k: str(v) for k, v in hs.peer_certificate.items()}}])


def _untrusted(opts: TlsOptions, detail: str) -> str:
    """A certificate that does not chain to the CA given is a set-up question at the site (which
    CA signs the device's certificate is not a claim of the statement): the message says the fix."""
    ca = opts.ca_file or "the system's CA certificates"
    return (f"set-up: the device's certificate does not chain to {ca} ({detail}). Fix at the site: give the CA "
            "that issued the device's certificate with --tls-ca, or install a certificate from your CA on the device")


def _plain_port(ctx: RunContext, opts: TlsOptions) -> StepResult:
    st = ctx.statement.secure_transport
    assert st is not None
    findings: list[Finding] = []
    notes: list[str] = []
    ref = f"{_cite(_declared(ctx))}; statement secure_transport.plain_port_answers"
    plain = ctx.shared.get(PLAIN_PORT_KEY) or ctx.statement.network.port
    if st.plain_port_answers is not None and plain:
        how, _detail = _associate(ctx, int(plain), None)
        notes.append(f"plain A-ASSOCIATE-RQ to port {plain}: {how}")
        if how == "no-answer":
            return StepResult.error(f"could not test the plain port {plain}: no answer within the timeout")
        if st.plain_port_answers and how != "accepted":
            findings.append(_finding("plain-port-silent", Severity.ERROR,
                                     f"the plain port {plain} did not accept plain DICOM ({how}), though the "
                                     "statement says it answers", ref, port=plain))
        if not st.plain_port_answers and how == "accepted":
            findings.append(_finding("plain-port-answers", Severity.ERROR,
                                     f"the plain port {plain} accepted an unencrypted association, though the "
                                     "statement says only TLS is answered", ref, port=plain))
    for port in _ports(ctx):
        how, _detail = _associate(ctx, port, None)
        notes.append(f"plain A-ASSOCIATE-RQ to TLS port {port}: {how}")
        if how == "accepted":
            findings.append(_finding("tls-port-plain", Severity.ERROR,
                                     f"TLS port {port} accepted an unencrypted association", ref, port=port))
    return StepResult(findings=findings, message="; ".join(notes))


def _echo(ae: str) -> Callable[[RunContext, TlsOptions], StepResult]:
    def action(ctx: RunContext, opts: TlsOptions) -> StepResult:
        port = _ports(ctx)[0]
        wrap = tls.requestor_wrap(tls.client_context(replace(opts, check_hostname=False)), _server_name(ctx))
        out, assoc, exc = _open(ctx.target, port, ae, wrap)
        ref = "PS3.7 9.1.5; PS3.15 Annex B; statement secure_transport.ae_titles"
        if assoc is None:
            if exc is not None:
                kind, what = tls.classify(exc)
                if kind in (Failure.CONNECT, Failure.SILENT):
                    return StepResult.error(f"could not test: {what}", unreachable=kind == Failure.CONNECT)
                if kind == Failure.UNTRUSTED:
                    return StepResult(outcome=Outcome.SETUP, message=_untrusted(opts, what))
                return StepResult(findings=[_finding("echo-handshake", Severity.ERROR,
                                                     f"TLS handshake for {ae} failed ({kind}): {what}", ref)],
                                  message=what)
            what = out.end.describe() if out.end is not None else out.establishment.value
            if out.end is not None and out.end.kind.value in ("no-connection", "connection-refused", "no-answer"):
                return StepResult.error(f"could not test: {what}", unreachable=True)
            return StepResult(findings=[_finding("echo-refused", Severity.ERROR,
                                                 f"no Verification association over TLS with {ae}: {what}", ref)],
                              message=what)
        try:
            rsp = assoc.send_c_echo(_ECHO)
        except Exception as exc:          # noqa: BLE001 - a WireError; reported, never raised
            assoc.close()
            return StepResult(findings=[_finding("echo-failed", Severity.ERROR,
                                                 f"C-ECHO over TLS with {ae} got no response: {exc}", ref)])
        version = getattr(assoc.sock, "version", lambda: "")() or "TLS"
        assoc.release()
        if rsp.status != 0:
            return StepResult(findings=[_finding("echo-status", Severity.ERROR,
                                                 f"C-ECHO over TLS with {ae} answered status {rsp.status:04X}", ref)])
        return StepResult(message=f"C-ECHO over TLS ({version}) with {ae}: status 0000")
    return action


@planner("tls", family="tls", order=5)
def plan_tls(statement: Statement) -> list[Step]:
    """The tls steps of *statement* (none without a ``secure_transport`` section)."""
    st = statement.secure_transport
    if st is None:
        return []
    ref = "; ".join(tls.profile(k).cite() for k in st.profiles)
    steps = [
        Step("tls/handshake", "TLS handshake on each declared TLS port, within the declared profiles", ref,
             action=_needs_options(_handshake)),
        Step("tls/protocol-versions", "TLS 1.2 accepted; versions the profiles forbid refused", ref,
             action=_needs_options(_versions)),
        Step("tls/cipher-suites", "the profiles' cipher suites accepted; forbidden suites refused", ref,
             action=_needs_options(_ciphers)),
        Step("tls/client-certificate",
             "a client without certificate is " + ("refused" if st.client_certificate_required else "accepted"),
             ref + "; statement", action=_needs_options(_client_certificate)),
        Step("tls/certificate", "the device's certificate: chain, validity, host name", ref,
             action=_needs_options(_certificate)),
        Step("tls/plain-port", "the plain port answers as declared; TLS ports refuse plain DICOM", ref + "; statement",
             action=_needs_options(_plain_port)),
    ]
    steps += [Step(f"tls/echo/{ae}", f"C-ECHO over TLS to {ae}", "PS3.7 9.1.5; " + ref,
                   action=_needs_options(_echo(ae))) for ae in st.ae_titles]
    return steps
