"""Shared CLI plumbing: turning InputError into a clear message and exit code 2, and the
parameter types of AE titles and hosts (checked before any network step, exit 2)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import click

from conformance import addresses, limits
from conformance.errors import InputError
from conformance.exitcodes import ExitCode
from conformance.wire import tls as wtls


@dataclass
class _Flag:
    happened: bool = False


@contextmanager
def fail_on_input_error(exit_now: bool = True) -> Iterator[_Flag]:
    """Print the problems of an InputError as ``file:line: [key] message`` on stderr: the first
    ``limits.MAX_PROBLEMS_SHOWN`` of them, long values quoted shortened."""
    flag = _Flag()
    try:
        yield flag
    except InputError as exc:
        flag.happened = True
        for problem in exc.problems[:limits.MAX_PROBLEMS_SHOWN]:
            click.echo(f"error: {limits.shorten_message(str(problem))}", err=True)
        if len(exc.problems) > limits.MAX_PROBLEMS_SHOWN:
            click.echo(f"error: ... and {len(exc.problems) - limits.MAX_PROBLEMS_SHOWN} more problems "
                       "(fix these first)", err=True)
        if exit_now:
            sys.exit(ExitCode.BAD_INPUT)


class CheckedText(click.ParamType):
    """A text option checked by *problem_of* (which returns what is wrong, or None); a bad
    value is a usage error, exit 2."""

    def __init__(self, name: str, problem_of: Callable[[str], str | None]) -> None:
        self.name = name
        self.problem_of = problem_of

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        problem = self.problem_of(text)
        if problem:
            self.fail(problem, param, ctx)
        return text


#: The parameter types every command uses for AE titles and hosts.
#: AE title: PS3.5 Table 6.2-1 (VR AE). Host: an IPv4/IPv6 literal or an RFC 1123 host name.
AE_TITLE = CheckedText("AE_TITLE", addresses.ae_title_problem)
HOST = CheckedText("HOST", addresses.host_problem)


def epilog(examples: list[str], codes: list[tuple[int, str]]) -> str:
    """``--help`` epilog: examples, then the command's own exit codes (click keeps the
    lines of a paragraph that starts with ``\\b`` as written)."""
    lines = ["\b", "Examples:", *[f"  {e}" for e in examples], "", "\b", "Exit codes:"]
    lines += [f"  {code:<3} {meaning}" for code, meaning in codes]
    return "\n".join(lines) + "\n"


# --- TLS (PS3.15 Annex B): the same options on run, discover, diff and listen ----------------

def tls_options(acceptor: bool = False) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """``--tls``, ``--tls-ca``, ``--tls-cert``, ``--tls-key`` (and ``--tls-server-name`` as
    requestor, ``--tls-require-client-cert`` as acceptor). The command receives them as
    ``tls``, ``tls_ca``, ``tls_cert``, ``tls_key``, ``tls_extra``; :func:`tls_setup` turns them
    into :class:`~conformance.wire.tls.TlsOptions` and the socket wrapper."""
    cert_help = ("The harness's certificate (PEM): the server certificate of the TLS acceptor." if acceptor
                 else "The harness's client certificate (PEM), for devices that require one.")
    opts = [
        click.option("--tls", is_flag=True, help="Speak DICOM over TLS (PS3.15 Annex B)."),
        click.option("--tls-ca", type=click.Path(dir_okay=False), metavar="PEM",
                     help=("CA certificates that sign client certificates (implies checking them)." if acceptor
                           else "CA certificates the device's certificate must chain to (default: the system's).")),
        click.option("--tls-cert", type=click.Path(dir_okay=False), metavar="PEM", help=cert_help),
        click.option("--tls-key", type=click.Path(dir_okay=False), metavar="PEM",
                     help="The private key of --tls-cert (PEM; default: inside the --tls-cert file)."),
    ]
    if acceptor:
        opts.append(click.option("--tls-require-client-cert", "tls_extra", is_flag=True,
                                 help="Refuse TLS clients without a certificate signed by --tls-ca."))
    else:
        opts.append(click.option("--tls-server-name", "tls_extra", metavar="NAME",
                                 help="The host name the device's certificate must name (default: --host)."))

    def decorate(fn: Callable[..., object]) -> Callable[..., object]:
        for option in reversed(opts):
            fn = option(fn)
        return fn
    return decorate


def tls_setup(tls: bool, ca: str | None, cert: str | None, key: str | None, extra: object = None,
              host: str | None = None, acceptor: bool = False
              ) -> tuple[wtls.TlsOptions | None, wtls.SocketWrapper | None]:
    """(TlsOptions, socket wrapper), or (None, None) without ``--tls``. A missing or unreadable
    certificate file, or a key that does not match, is a usage problem: the message names the
    file, exit 2."""
    if not tls:
        if ca or cert or key or extra:
            raise click.UsageError("--tls-ca, --tls-cert, --tls-key and the other --tls-* options need --tls")
        return None, None
    for flag, path in (("--tls-ca", ca), ("--tls-cert", cert), ("--tls-key", key)):
        if path is not None:
            if not os.path.isfile(path):
                raise click.UsageError(f"{flag} {path}: no such file")
    if key and not cert:
        raise click.UsageError("--tls-key needs --tls-cert")
    if acceptor:
        opts = wtls.TlsOptions(ca, cert, key, require_client_cert=bool(extra))
        try:
            return opts, wtls.acceptor_wrap(wtls.server_context(opts))
        except (OSError, ValueError) as exc:
            raise click.UsageError(f"TLS set-up: {exc}") from None
    opts = wtls.TlsOptions(ca, cert, key, server_name=str(extra) if extra else None)
    try:
        ctx = wtls.client_context(opts)
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"TLS set-up: {exc} (check --tls-ca, --tls-cert, --tls-key)") from None
    return opts, wtls.requestor_wrap(ctx, opts.server_name or host)
