"""Probe a device's DICOM-over-TLS port for ``discover --tls``: which PS3.15 Annex B Secure
Transport Connection Profiles it satisfies and whether it requires a client certificate, so
the draft statement gets a ``secure_transport`` section (checked later by the ``tls`` family,
:mod:`conformance.families.tls`, with the same rules).

Probes (each one TLS handshake, or one Verification association for the certificate policy):

- each protocol version offered alone (TLS 1.0 and 1.1 with OpenSSL security level 0; when
  this machine's OpenSSL cannot offer a version at all the answer is unknown, never "refused");
- each profile's own TLS 1.2 cipher suites offered alone;
- the suites RFC 7525 4.1 (BCP 195) forbids (NULL, anonymous, export, RC4) offered alone;
- a Verification association without the client certificate (after one with it, when the
  harness has one: a refusal then means the certificate, not something else).

A profile is drafted when the device did what the ``tls`` family will check for it: B.9-B.12
(BCP 195) need TLS 1.2 and the forbidden suites refused; a version a profile says "shall not"
be negotiated must not be accepted ("should not", B.9: drafted with a comment, as the family
only warns); the profile's suites offered alone must be accepted. B.1/B.3 (basic, AES) are
drafted only when no BCP 195 profile holds: declaring them next to a BCP 195 profile would
allow TLS 1.0 and 1.1 in the checks of the stricter one.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field, replace
from typing import Any

from conformance.families.tls import FORBIDDEN_BY_BCP195, associate
from conformance.wire import tls
from conformance.wire.target import Target
from conformance.wire.tls import Failure, TlsOptions

VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass
class SecureObservation:
    """What the TLS probes showed on one port. ``None``: not known (the harness could not
    offer it, or the device did not answer)."""

    port: int
    versions: dict[str, bool | None] = field(default_factory=dict)
    #: profile key -> its TLS 1.2 suites offered alone were accepted
    suites: dict[str, bool | None] = field(default_factory=dict)
    weak_suites_refused: bool | None = None
    client_certificate_required: bool | None = None
    profiles: list[str] = field(default_factory=list)
    #: profile key -> why it was drafted with a caveat, or why not drafted
    notes: dict[str, str] = field(default_factory=dict)


def _context(opts: TlsOptions, **kw: Any) -> ssl.SSLContext:
    ctx = tls.client_context(replace(opts, check_hostname=False), **kw)
    ctx.verify_mode = ssl.CERT_NONE          # protocol probes: the certificate is checked by the run
    return ctx


def _accepted(target: Target, ctx: ssl.SSLContext, server_name: str | None) -> bool | None:
    hs = tls.handshake(target.host, target.port, ctx, server_name, target.timeouts.connect)
    if hs.ok:
        return True
    if hs.failure in (Failure.HARNESS, Failure.CONNECT, Failure.SILENT):
        return None
    return False


def probe_secure_transport(target: Target, opts: TlsOptions, server_name: str | None = None) -> SecureObservation:
    """Probe *target* (its ``port`` is the TLS port) with the harness's TLS options."""
    obs = SecureObservation(target.port)
    for version in VERSIONS:
        legacy = version in ("TLSv1", "TLSv1.1")
        try:
            ctx = _context(opts, versions=(version, version), legacy=legacy)
        except (ssl.SSLError, ValueError):
            obs.versions[version] = None
            continue
        obs.versions[version] = _accepted(target, ctx, server_name)
    seen: dict[tuple[bool, str], bool | None] = {}       # profiles sharing a suite list: one probe
    for key, p in tls.profiles().items():
        names = [tls.openssl_name(s) for s in p.cipher_suites]
        suites = ":".join(n for n in names if n and not n.startswith("TLS_"))
        if not suites:
            continue
        legacy = key in ("basic-tls", "aes-tls")
        if (legacy, suites) not in seen:
            try:
                ctx = _context(opts, versions=("TLSv1" if legacy else "TLSv1.2", "TLSv1.2"),
                               ciphers=suites, legacy=legacy)
                seen[legacy, suites] = _accepted(target, ctx, server_name)
            except (ssl.SSLError, ValueError):
                seen[legacy, suites] = None
        obs.suites[key] = seen[legacy, suites]
    try:
        weak = _context(opts, versions=("TLSv1.2", "TLSv1.2"), ciphers=FORBIDDEN_BY_BCP195, legacy=True)
        accepted = _accepted(target, weak, server_name)
        obs.weak_suites_refused = None if accepted is None else not accepted
    except (ssl.SSLError, ValueError):
        obs.weak_suites_refused = None
    obs.client_certificate_required = _client_certificate(target, opts, server_name)
    _choose(obs)
    return obs


def _client_certificate(target: Target, opts: TlsOptions, server_name: str | None) -> bool | None:
    if opts.cert_file:
        base, _ = associate(target, target.port, tls.requestor_wrap(_context(opts), server_name))
        if base != "accepted":
            return None
    how, _ = associate(target, target.port, tls.requestor_wrap(_context(opts, with_cert=False), server_name))
    if how == "accepted":
        return False
    if opts.cert_file or how in ("tls-refused", "closed", "aborted"):
        return True if how not in ("no-answer", "connection-refused") else None
    return None


def _choose(obs: SecureObservation) -> None:
    for key, p in tls.profiles().items():
        why: list[str] = []
        caveat: list[str] = []
        if key.startswith("bcp195"):
            if obs.versions.get("TLSv1.2") is not True:
                why.append("TLS 1.2 offered alone was not accepted")
            if obs.weak_suites_refused is False:
                why.append("a NULL/anonymous/export/RC4 suite was accepted")
            elif obs.weak_suites_refused is None:
                caveat.append("forbidden suites not verified")
        for version, word in p.forbidden_versions.items():
            seen = obs.versions.get(version)
            if seen is True and word == "shall not":
                why.append(f"{version} accepted")
            elif seen is True:
                caveat.append(f"{version} accepted ({word})")
            elif seen is None:
                caveat.append(f"{version} refusal not verified: this machine could not offer it")
        if key in obs.suites and obs.suites[key] is not True:
            why.append("its cipher suites offered alone were " +
                       ("not accepted" if obs.suites[key] is False else "not verified"))
        if why:
            obs.notes[key] = "not drafted: " + "; ".join(why)
        else:
            obs.profiles.append(key)
            if caveat:
                obs.notes[key] = "; ".join(caveat)
    if any(k.startswith("bcp195") for k in obs.profiles):
        for key in [k for k in obs.profiles if not k.startswith("bcp195")]:
            obs.profiles.remove(key)
            obs.notes[key] = "also holds; not drafted next to a BCP 195 profile (it would allow TLS 1.0/1.1)"


def draft_section(obs: SecureObservation) -> list[str]:
    """The ``secure_transport`` section of the draft (YAML lines), or a comment when no
    profile holds."""
    seen = ", ".join(f"{v} {'accepted' if a else 'refused' if a is False else 'not verified'}"
                     for v, a in obs.versions.items())
    out = [f"# TLS probes on port {obs.port}: {seen}"]
    for key, note in obs.notes.items():
        out.append(f"#   {key}: {note}")
    if not obs.profiles:
        return out + ["# secure_transport: UNKNOWN (no PS3.15 Annex B profile held in the probes above)", ""]
    out += ["secure_transport:",
            f"  profiles: [{', '.join(obs.profiles)}]   # observed: see the probes above",
            f"  ports: [{obs.port}]",
            "  plain_port_answers: false   # network.port is the TLS port probed"]
    if obs.client_certificate_required is None:
        out.append("  # client_certificate_required: UNKNOWN (give --tls-cert/--tls-key to tell)")
    else:
        how = "refused" if obs.client_certificate_required else "accepted"
        out.append(f"  client_certificate_required: {str(obs.client_certificate_required).lower()}   "
                   f"# observed: an association without a client certificate was {how}")
    return out + [""]
