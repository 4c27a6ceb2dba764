"""Statement tools: ``compare``, ``discover``, ``diff``, ``render``."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from conformance.cli.common import AE_TITLE, HOST, epilog, fail_on_input_error, tls_options, tls_setup
from conformance.cli.run_cmd import with_timeouts
from conformance.exitcodes import ExitCode
from conformance.families.probes import probe_discovery
from conformance.negotiation.discover import DiscoveryError, discover as run_discovery, protocol_findings
from conformance.negotiation.target import Target, Timeouts
from conformance.reporting.compare_page import render_compare_html
from conformance.reporting.statement_doc import render_statement
from conformance.standard import uids
from conformance.statement import load_statement
from conformance.statement.compare import OK, compare as compare_statements
from conformance.statement.diff import diff as diff_statement
from conformance.statement.draft import draft_statement

STATE_TEXT = {"ok": "[green]works[/]", "no-common-ts": "[red]no transfer syntax in common[/]",
              "not-accepted": "[red]not accepted by the receiver[/]"}


def _write(text: str, out: str | None) -> None:
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


@click.command("compare", epilog=epilog(
    ["conformance compare modality.yaml pacs.yaml",
     "conformance compare modality.yaml pacs.yaml --format html --out compare.html"],
    [(0, "compatible"),
     (1, ("some SOP class an SCU sends has no transfer syntax in common with the other side, "
          "or is not accepted")),
     (2, "bad input (a statement does not load)")]))
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "html", "json"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead of standard output.")
def compare(a: str, b: str, fmt: str, out: str | None) -> None:
    """Will device A work with device B? Compare their statements (no network)."""
    with fail_on_input_error():
        sa, sb = load_statement(a), load_statement(b)
    result = compare_statements(sa, sb)
    if fmt == "json":
        _write(json.dumps(result.to_dict(), indent=1) + "\n", out)
    elif fmt == "html":
        _write(render_compare_html(result), out)
    else:
        console = Console(file=open(out, "w") if out else sys.stdout, highlight=False, soft_wrap=False)
        blocking = result.blocking
        ok = result.compatible
        # The verdict first, then why.
        console.print(f"[bold {'green' if ok else 'red'}]{'COMPATIBLE' if ok else 'NOT COMPATIBLE'}[/]: "
                      f"{sum(1 for p in result.pairings if p.state == OK)} of {len(result.pairings)} SOP classes sent "
                      "have a transfer syntax in common (PS3.8 9.3.3.2)")
        for p in blocking:
            console.print(f"  [red]{p.scu} -> {'B' if p.scu == 'A' else 'A'}[/] {uids.name_of(p.sop_class)}: "
                          f"{STATE_TEXT[p.state]} [dim]({p.reference})[/]")
        for label, scu, scp in (("A", sa, sb), ("B", sb, sa)):
            rows = [p for p in result.pairings if p.scu == label]
            if not rows:
                continue
            table = Table(title=f"{scu.identity.title} ({label}) sends to {scp.identity.title}", title_justify="left")
            for col in ("SOP class", "result", "in common", "likely"):
                table.add_column(col)
            for p in rows:
                table.add_row(uids.name_of(p.sop_class), STATE_TEXT[p.state],
                              ", ".join(uids.keyword_of(t) for t in p.common) or "-",
                              uids.keyword_of(p.likely) if p.likely else "-")
            console.print(table)
        for f in result.flags:
            console.print(f"[{'red' if f.severity == 'error' else 'yellow' if f.severity == 'warning' else 'dim'}]"
                          f"{f.severity}[/] ({f.topic}): {f.message}" + (f" [dim]({f.reference})[/]" if f.reference else ""))
    sys.exit(ExitCode.OK if result.compatible else ExitCode.DEVIATION)


def _target(host: str, port: int, called_ae: str, calling_ae: str, connect: float, acse: float, dimse: float) -> Target:
    return Target(host, port, called_ae, calling_ae, Timeouts(connect=connect, acse=acse, dimse=dimse))


def _protocol_findings(target: Target) -> bool:
    """Print the device's protocol errors met while probing (PS3.8, PS3.7); True if one is
    of severity error (the command then exits 1)."""
    found = protocol_findings(target)
    for v in found:
        click.echo(f"finding: {v.severity} {v.code}: {v.message} ({v.reference})", err=True)
    return any(v.severity == "error" for v in found)


@click.command("discover", epilog=epilog(
    ["conformance discover --port 104 --called-ae PACS --out draft.yaml"],
    [(0, "a draft statement was written"),
     (1, "the device broke the protocol (each finding printed; the draft is still written if probing ended)"),
     (2, "bad input"), (3, "the device could not be reached, or stopped answering (the draft is incomplete)")]))
@click.option("--host", type=HOST, default="127.0.0.1", show_default=True)
@click.option("--port", required=True, type=click.IntRange(1, 65535))
@click.option("--called-ae", type=AE_TITLE, default="ANY-SCP", show_default=True, help="The device's AE title, if it checks it.")
@click.option("--calling-ae", type=AE_TITLE, default="CONFORMANCE", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the draft statement here (default: standard output).")
@click.option("--packing", type=click.IntRange(2, 128), default=128, show_default=True,
              help="Presentation contexts per association (smaller ones are retried if the device drops a proposal).")
@click.option("--dicomweb-url", envvar="CONFORMANCE_DICOMWEB_URL", metavar="URL",
              help="Also probe this DICOMweb base URL (http://HOST:PORT/PATH), read-only; "
                   "credentials from CONFORMANCE_DICOMWEB_TOKEN / _USER / _PASSWORD.")
@tls_options()
@with_timeouts
def discover(host: str, port: int, called_ae: str, calling_ae: str, out: str | None, packing: int,
             dicomweb_url: str | None,
             connect_timeout: float, acse_timeout: float, dimse_timeout: float, tls: bool = False,
             tls_ca: str | None = None, tls_cert: str | None = None, tls_key: str | None = None,
             tls_extra: str | None = None) -> None:
    """Probe an unknown device and write a draft statement (YAML, valid against the schema)."""
    _opts, wrap = tls_setup(tls, tls_ca, tls_cert, tls_key, tls_extra, host)
    target = replace(_target(host, port, called_ae, calling_ae, connect_timeout, acse_timeout, dimse_timeout),
                     wrap=wrap)
    try:
        found = run_discovery(target, packing)
        probe_discovery(found)
    except DiscoveryError as exc:
        click.echo(f"error: could not discover: {exc}", err=True)
        sys.exit(ExitCode.DEVIATION if _protocol_findings(target) else ExitCode.COULD_NOT_TEST)
    found.notes += [f"protocol error ({v.code}, {v.reference}): {v.message}" for v in protocol_findings(found)]
    draft = draft_statement(found)
    if tls:
        from conformance.families import tls_discovery
        assert _opts is not None
        secure = tls_discovery.probe_secure_transport(target, _opts, _opts.server_name or host)
        draft += "\n".join(tls_discovery.draft_section(secure)) + "\n"
    if dicomweb_url:
        from urllib.parse import urlsplit

        from conformance.dicomweb.client import WebAccess
        from conformance.dicomweb.discover import discover_web, draft_section
        access = WebAccess.from_env(timeout=connect_timeout)
        web = discover_web(dicomweb_url, access, "bearer" if access.token else
                           "basic" if access.user else "none")
        draft += draft_section(web, urlsplit(dicomweb_url).path or "/")
    _write(draft, out)
    click.echo(f"{len(found.accepted)} SOP classes accepted as SCP, {len(found.role_selection)} with role selection "
               f"as SCU; {found.associations} associations", err=True)
    if found.packing_limit is not None:
        click.echo(f"finding: the device dropped an association proposing {found.packing_limit} presentation "
                   f"contexts; discovery used at most {found.packing} per association", err=True)
    refused = [uids.keyword_of(s) for s, r in found.services.items() if r.get("refused")]
    if refused:
        click.echo(f"negotiable but refused: {', '.join(refused)} (services.refused in the draft)", err=True)
    if tls:
        held = ", ".join(secure.profiles) or "none"
        click.echo(f"TLS on port {port}: PS3.15 Annex B profiles that held in the probes: {held} "
                   "(secure_transport in the draft; review the certificate policy and host name)", err=True)
    if _protocol_findings(target):
        sys.exit(ExitCode.DEVIATION)
    if found.stopped_answering:
        click.echo(f"error: the device stopped answering: {found.stopped_answering}; the draft is incomplete", err=True)
        sys.exit(ExitCode.COULD_NOT_TEST)


@click.command("diff", epilog=epilog(
    ["conformance diff pacs.yaml --port 104", "conformance diff pacs.yaml --port 104 --format json"],
    [(0, "the device does what the statement claims (in negotiation)"),
     (1, "a claim does not hold, or the device broke the protocol (PS3.8/PS3.7)"),
     (2, "bad input"), (3, "the device could not be reached")]))
@click.argument("statement_file", metavar="STATEMENT", type=click.Path(dir_okay=False))
@click.option("--host", type=HOST, default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), help="Default: the statement's.")
@click.option("--called-ae", type=AE_TITLE, help="Default: the statement's first AE title.")
@click.option("--calling-ae", type=AE_TITLE, help="Default: the statement's harness.ae_title.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--packing", type=click.IntRange(2, 128), default=128, show_default=True,
              help="Presentation contexts per association (smaller ones are retried if the device drops a proposal).")
@click.option("--dicomweb-url", envvar="CONFORMANCE_DICOMWEB_URL", metavar="URL",
              help="Also diff the statement's dicomweb section: the origin (http://HOST:PORT) its paths "
                   "are joined to; probed read-only.")
@tls_options()
@with_timeouts
def diff(statement_file: str, host: str, port: int | None, called_ae: str | None, calling_ae: str | None,
         fmt: str, packing: int, dicomweb_url: str | None, connect_timeout: float, acse_timeout: float,
         dimse_timeout: float, tls: bool = False, tls_ca: str | None = None, tls_cert: str | None = None,
         tls_key: str | None = None, tls_extra: str | None = None) -> None:
    """Discover the device, then list where it differs from STATEMENT, claim by claim."""
    with fail_on_input_error():
        st = load_statement(statement_file)
    _opts, wrap = tls_setup(tls, tls_ca, tls_cert, tls_key, tls_extra, host)
    port = port or (st.secure_transport.ports[0] if tls and st.secure_transport else st.network.port)
    if port is None:
        raise click.UsageError("--port is required: the statement declares no network.port")
    target = replace(_target(host, port, called_ae or st.network.ae_titles[0], calling_ae or st.harness.ae_title,
                             connect_timeout, acse_timeout, dimse_timeout), wrap=wrap)
    try:
        found = run_discovery(target, packing)
        probe_discovery(found, st.harness.move_destination or st.harness.ae_title)
    except DiscoveryError as exc:
        click.echo(f"error: could not discover: {exc}", err=True)
        sys.exit(ExitCode.DEVIATION if _protocol_findings(target) else ExitCode.COULD_NOT_TEST)
    differences = diff_statement(st, found)
    from conformance.statement.diff import Difference as ProtocolDifference
    differences += [ProtocolDifference(v.severity, f"protocol ({v.code})", f"as {v.reference}", v.message)
                    for v in protocol_findings(found)]
    web_service = st.dicomweb and (st.dicomweb.wado_rs or st.dicomweb.qido_rs)
    if dicomweb_url and st.dicomweb and web_service:
        from conformance.dicomweb.client import WebAccess, service_url
        from conformance.dicomweb.discover import diff_web, discover_web
        from conformance.statement.diff import Difference
        access = WebAccess.from_env(origin=dicomweb_url, timeout=connect_timeout)
        base = service_url(web_service.url, access.origin) or dicomweb_url
        web = discover_web(base, access, st.dicomweb.authentication)
        differences += [Difference(*d) for d in diff_web(st.dicomweb, web)]
    errors = [d for d in differences if d.severity == "error"]
    if found.stopped_answering and not errors:
        click.echo(f"error: the device stopped answering: {found.stopped_answering}; the service "
                   "claims were not all probed", err=True)
        sys.exit(ExitCode.COULD_NOT_TEST)
    if fmt == "json":
        click.echo(json.dumps([vars(d) for d in differences], indent=1))
    else:
        console = Console(highlight=False)
        table = Table(title=f"{st.identity.title}: statement vs device at {target.address}", title_justify="left")
        for col in ("", "claim", "statement", "device"):
            table.add_column(col)
        colour = {"error": "red", "warning": "yellow", "info": "dim"}
        for d in differences:
            table.add_row(f"[{colour[d.severity]}]{d.severity}[/]", d.claim, d.declared, d.observed)
        if differences:
            console.print(table)
        console.print(f"[bold {'red' if errors else 'green'}]{'DIFFERS' if errors else 'MATCHES'}[/]: "
                      f"{len(errors)} claim(s) not met, "
                      f"{sum(1 for d in differences if d.severity == 'warning')} capability(ies) not declared")
    sys.exit(ExitCode.DEVIATION if errors else ExitCode.OK)


@click.command("render", epilog=epilog(
    ["conformance render pacs.yaml --out pacs.html", "conformance render pacs.yaml --format md > pacs.md"],
    [(0, "rendered"), (2, "bad input (the statement does not load)")]))
@click.argument("statement_file", metavar="STATEMENT", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write here (default: standard output).")
def render(statement_file: str, fmt: str, out: str | None) -> None:
    """Render STATEMENT as a document in the shape of the PS3.2 template."""
    with fail_on_input_error():
        st = load_statement(statement_file)
    _write(render_statement(st, fmt), out)


COMMANDS = [compare, discover, diff, render]
